"""The reference TRM run config (`all_config.yaml` or a JSON dict) -> arcsolve's ModelConfig / TrainConfig.

The reference (SamsungSAILMontreal/TinyRecursiveModels, `pretrain.py`) writes `all_config.yaml` with
`yaml.dump` of its PretrainConfig: block mappings and block lists of plain scalars. PyYAML is not an
arcsolve dependency, so `parse_yaml_config` reads exactly that subset; a JSON file (e.g. the dict
given to `pretrain.launch`) is read as JSON. The architecture comes from the `arch` table; its field
names are the reference model config's (`models/recursive_reasoning/trm.py`).
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, fields
from pathlib import Path
from typing import Any

from arcsolve.errors import BadInputError
from arcsolve.model.config import ModelConfig
from arcsolve.train.config import TrainConfig

TRM_ARCH = "recursive_reasoning.trm@TinyRecursiveReasoningModel_ACTV1"
_INT = re.compile(r"^[-+]?[0-9]+$")
_FLOAT = re.compile(r"^[-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?$")
_DTYPES = {"bfloat16": "auto", "float32": "float32", "float16": "float16"}  # auto = bf16 on GPU
_LOSSES = {"stablemax_cross_entropy": "stablemax", "softmax_cross_entropy": "softmax"}
_TRAIN_KEYS = (
    "global_batch_size", "epochs", "lr", "lr_min_ratio", "lr_warmup_steps", "beta1", "beta2",
    "weight_decay", "puzzle_emb_lr", "puzzle_emb_weight_decay", "ema", "ema_rate", "seed",
)  # fmt: skip


def _scalar(text: str) -> Any:
    if text in ("null", "~", ""):
        return None
    if text in ("true", "false"):
        return text == "true"
    if _INT.match(text):
        return int(text)
    if _FLOAT.match(text):
        return float(text)
    if text in (".inf", "-.inf", ".nan"):
        return float(text.replace(".", ""))
    if text.startswith("'") and text.endswith("'") and len(text) >= 2:
        return text[1:-1].replace("''", "'")
    if text.startswith('"'):
        return json.loads(text)
    if text == "[]":
        return []
    if text == "{}":
        return {}
    return text


def parse_yaml_config(text: str, where: str) -> dict[str, Any]:
    """A `yaml.dump` block document of mappings, lists and scalars -> dict."""
    lines = []
    for raw in text.splitlines():
        if raw.strip() and not raw.lstrip().startswith("#"):
            lines.append([len(raw) - len(raw.lstrip(" ")), raw.strip()])

    def block(i: int, indent: int) -> tuple[Any, int]:
        if lines[i][1].startswith("- ") or lines[i][1] == "-":
            items = []
            while i < len(lines) and lines[i][0] == indent and lines[i][1].startswith("-"):
                item = lines[i][1][1:].strip()
                if re.match(r"^[^'\"\[{]*:( |$)", item):  # "- key: value" opens a mapping
                    lines[i] = [indent + 2, item]
                    value, i = block(i, indent + 2)
                else:
                    value, i = _scalar(item), i + 1
                items.append(value)
            return items, i
        table: dict[str, Any] = {}
        while i < len(lines) and lines[i][0] == indent and not lines[i][1].startswith("- "):
            key, colon, rest = lines[i][1].partition(":")
            if not colon:
                raise BadInputError(where, f"line '{lines[i][1]}' is not 'key: value'")
            i += 1
            nested = i < len(lines) and (
                lines[i][0] > indent or (lines[i][0] == indent and lines[i][1].startswith("- "))
            )
            if rest.strip() == "" and nested:
                table[key.strip()], i = block(i, lines[i][0])
            else:
                table[key.strip()] = _scalar(rest.strip())
        return table, i

    if not lines:
        raise BadInputError(where, "empty config")
    document, end = block(0, lines[0][0])
    if end != len(lines) or not isinstance(document, dict):
        raise BadInputError(where, f"cannot read line '{lines[min(end, len(lines) - 1)][1]}'")
    return document


def read_reference_config(path: Path) -> dict[str, Any]:
    where = str(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise BadInputError(where, "no such config file (pass --config all_config.yaml)") from None
    except (OSError, UnicodeDecodeError) as err:
        raise BadInputError(where, f"cannot read: {err}") from None
    if text.lstrip().startswith("{"):
        try:
            config = json.loads(text)
        except ValueError as err:
            raise BadInputError(where, f"not valid JSON: {err}") from None
    else:
        config = parse_yaml_config(text, where)
    if not isinstance(config, dict) or not isinstance(config.get("arch"), dict):
        raise BadInputError(where, "holds no 'arch' table (is it the reference's all_config.yaml?)")
    return config


@dataclass(frozen=True)
class ReferenceArch:
    """What the importer needs beyond ModelConfig: the task vector width and the notes it made."""

    model: ModelConfig
    puzzle_emb_ndim: int
    notes: tuple[str, ...]


def _need(arch: dict[str, Any], key: str, kind: type, where: str) -> Any:
    value = arch.get(key)
    if value is None:
        raise BadInputError(where, f"arch.{key} is missing")
    if kind is float and isinstance(value, int) and not isinstance(value, bool):
        value = float(value)
    if not isinstance(value, kind) or (kind is int and isinstance(value, bool)):
        raise BadInputError(where, f"arch.{key} must be {kind.__name__}, got {value!r}")
    return value


def model_config(config: dict[str, Any], where: str) -> ReferenceArch:
    """Map the reference `arch` table onto ModelConfig; refuse what arcsolve's model cannot run."""
    arch = config["arch"]
    name = str(arch.get("name", ""))
    if "hrm@" in name.lower() or "Hierarchical" in name:
        raise BadInputError(where, f"arch.name {name!r} is an HRM model; only TRM ({TRM_ARCH}) imports")
    if name != TRM_ARCH:
        raise BadInputError(where, f"arch.name {name!r} is not {TRM_ARCH}")
    notes = []
    hidden = _need(arch, "hidden_size", int, where)
    ndim = _need(arch, "puzzle_emb_ndim", int, where)
    if not 0 < ndim <= hidden:
        raise BadInputError(
            where,
            f"arch.puzzle_emb_ndim {ndim}: arcsolve holds a task vector of 1..hidden_size ({hidden}) numbers",
        )
    emb_len = int(arch.get("puzzle_emb_len", 16))
    emb_len = emb_len if emb_len > 0 else -(-ndim // hidden)  # the reference's ceil division for 0
    mlp_t = bool(arch.get("mlp_t", False))
    pos = str(arch.get("pos_encodings", "rope"))
    pos = pos if pos in ("rope", "learned") else "none"
    if mlp_t and pos == "rope":
        pos = "none"  # the token-mixing block never reads the rotary tables
        notes.append("mlp_t with rope: the rotary tables are unused, imported as pos_encoding none")
    dtype = str(arch.get("forward_dtype", "bfloat16"))
    if dtype not in _DTYPES:
        raise BadInputError(where, f"arch.forward_dtype {dtype!r} is not bfloat16, float32 or float16")
    loss_type = str((arch.get("loss") or {}).get("loss_type", "stablemax_cross_entropy"))
    if loss_type not in _LOSSES:
        raise BadInputError(where, f"arch.loss.loss_type {loss_type!r} is not one arcsolve trains with")
    if arch.get("no_ACT_continue", True) is not True:
        notes.append(
            "no_ACT_continue false: eval halts at halt_max_steps either way; adaptation uses q_halt only"
        )
    model = ModelConfig(
        variant="mlp" if mlp_t else "attention",
        hidden_size=hidden,
        num_heads=_need(arch, "num_heads", int, where),
        expansion=_need(arch, "expansion", float, where),
        num_layers=_need(arch, "L_layers", int, where),
        H_cycles=_need(arch, "H_cycles", int, where),
        L_cycles=_need(arch, "L_cycles", int, where),
        halt_max_steps=_need(arch, "halt_max_steps", int, where),
        halt_exploration_prob=float(arch.get("halt_exploration_prob", 0.1)),
        puzzle_emb_len=emb_len,
        pos_encoding=pos,  # type: ignore[arg-type]
        rope_theta=float(arch.get("rope_theta", 10_000.0)),
        rms_eps=float(arch.get("rms_norm_eps", 1e-5)),
        forward_dtype=_DTYPES[dtype],  # type: ignore[arg-type]
        loss=_LOSSES[loss_type],  # type: ignore[arg-type]
    )
    model.validate(where)
    return ReferenceArch(model, ndim, tuple(notes))


def train_config(config: dict[str, Any]) -> TrainConfig:
    """The optimiser fields adaptation reuses (betas, decays, rates); the rest keep arcsolve's defaults."""
    types = {f.name: f.type for f in fields(TrainConfig)}
    values: dict[str, Any] = {}
    for key in _TRAIN_KEYS:
        value = config.get(key)
        if isinstance(value, bool) != (types[key] in (bool, "bool")) or value is None:
            continue
        values[key] = float(value) if types[key] in (float, "float") else value
    cfg = TrainConfig(**values)
    try:
        cfg.validate("reference config")
    except BadInputError:
        return TrainConfig()
    return cfg
