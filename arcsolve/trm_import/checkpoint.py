"""A reference TRM checkpoint -> arcsolve's TRM state dict, strictly.

The reference (SamsungSAILMontreal/TinyRecursiveModels, `pretrain.py` save_train_state) saves
`torch.save(model.state_dict())` of its loss head, so every key starts with `model.inner.`, and with
`_orig_mod.` in front when the model was `torch.compile`d. With EMA on, that is the EMA copy.
Every key maps to exactly one arcsolve tensor (`key_map`); a missing or unexpected key, an HRM
checkpoint or a shape the config or the dataset disagrees with is refused with one line naming it.

Memory: the file is memory-mapped (`torch.load(mmap=True)`) and tensors are passed on, not cloned,
so a paper-size task table (876k x 512 float32, 1.8 GB) exists once, as file pages, while the run
directory is written. Only H_init/L_init (stored in the forward dtype, e.g. bfloat16) are cast to
float32, which is exact: the reference promotes them the same way when its carry is float32.
"""

from __future__ import annotations

from pathlib import Path

import torch

from arcsolve.constants import ARC_VOCAB_SIZE, MAX_GRID
from arcsolve.errors import BadInputError
from arcsolve.model.layers import swiglu_width
from arcsolve.trm_import.config import ReferenceArch

PREFIX = "model.inner."
COMPILE_PREFIX = "_orig_mod."


def key_map(arch: ReferenceArch) -> dict[str, str]:
    """Reference key (after `model.inner.`) -> arcsolve key, for this architecture."""
    cfg = arch.model
    names = {
        "H_init": "y_init",  # the reference's z_H is the answer y
        "L_init": "z_init",  # its z_L is the latent z
        "embed_tokens.embedding_weight": "embed_tokens",
        "lm_head.weight": "lm_head.weight",
        "q_head.weight": "q_head.weight",  # row 0 halt, row 1 continue (unused)
        "q_head.bias": "q_head.bias",
        "puzzle_emb.weights": "puzzle_emb",
    }
    if cfg.pos_encoding == "learned":
        names["embed_pos.embedding_weight"] = "pos_embed"
    for i in range(cfg.num_layers):
        ref, ours = f"L_level.layers.{i}.", f"blocks.{i}."
        if cfg.variant == "mlp":
            names[ref + "mlp_t.gate_up_proj.weight"] = ours + "mixer.mlp.gate_up.weight"
            names[ref + "mlp_t.down_proj.weight"] = ours + "mixer.mlp.down.weight"
        else:
            names[ref + "self_attn.qkv_proj.weight"] = ours + "attn.qkv.weight"  # rows [q | k | v]
            names[ref + "self_attn.o_proj.weight"] = ours + "attn.out.weight"
        names[ref + "mlp.gate_up_proj.weight"] = ours + "mlp.gate_up.weight"  # rows [gate | up]
        names[ref + "mlp.down_proj.weight"] = ours + "mlp.down.weight"
    return names


def expected_shapes(arch: ReferenceArch, num_puzzle_ids: int) -> dict[str, tuple[int, ...]]:
    """Shape of every reference tensor (after padding the task table to hidden), from the config.

    Written out rather than read off a built model: building one costs seconds at paper size (its
    random init), and predict's strict `load_state_dict` checks the same shapes again anyway."""
    cfg = arch.model
    d, positions = cfg.hidden_size, MAX_GRID**2 + cfg.puzzle_emb_len
    channel = swiglu_width(d, cfg.expansion)
    shapes: dict[str, tuple[int, ...]] = {
        "H_init": (d,),
        "L_init": (d,),
        "embed_tokens.embedding_weight": (ARC_VOCAB_SIZE, d),
        "lm_head.weight": (ARC_VOCAB_SIZE, d),
        "q_head.weight": (2, d),
        "q_head.bias": (2,),
        "puzzle_emb.weights": (num_puzzle_ids, d),
        "embed_pos.embedding_weight": (positions, d),
    }
    for i in range(cfg.num_layers):
        ref = f"L_level.layers.{i}."
        mixing = swiglu_width(positions, cfg.expansion)
        shapes[ref + "mlp_t.gate_up_proj.weight"] = (2 * mixing, positions)
        shapes[ref + "mlp_t.down_proj.weight"] = (positions, mixing)
        shapes[ref + "self_attn.qkv_proj.weight"] = (3 * d, d)
        shapes[ref + "self_attn.o_proj.weight"] = (d, d)
        shapes[ref + "mlp.gate_up_proj.weight"] = (2 * channel, d)
        shapes[ref + "mlp.down_proj.weight"] = (d, channel)
    return shapes


def load_reference_state(path: Path) -> dict[str, torch.Tensor]:
    """The checkpoint's tensors by reference key (prefixes stripped), memory-mapped."""
    where = str(path)
    if not path.is_file():
        raise BadInputError(where, "no such checkpoint file")
    try:
        raw = torch.load(path, map_location="cpu", weights_only=True, mmap=True)
    except Exception as err:  # noqa: BLE001 - torch raises many types for a corrupt or truncated file
        detail = str(err).splitlines()[0][:120] if str(err) else type(err).__name__
        raise BadInputError(
            where, f"not a readable PyTorch checkpoint (truncated or corrupt?): {detail}"
        ) from None
    if not isinstance(raw, dict) or not raw:
        raise BadInputError(where, "expected a state dict (name -> tensor), as the reference saves")
    state: dict[str, torch.Tensor] = {}
    for key, value in raw.items():
        name = str(key).replace(COMPILE_PREFIX, "")
        if not isinstance(value, torch.Tensor):
            raise BadInputError(where, f"entry {key!r} is not a tensor")
        if "H_level." in name:
            raise BadInputError(where, f"key {key!r}: this is an HRM checkpoint (H_level); only TRM imports")
        if not name.startswith(PREFIX):
            raise BadInputError(where, f"unexpected key {key!r} (reference keys start with {PREFIX!r})")
        state[name[len(PREFIX) :]] = value
    return state


def convert_state(
    state: dict[str, torch.Tensor], arch: ReferenceArch, num_puzzle_ids: int, where: str, dataset: str
) -> dict[str, torch.Tensor]:
    """arcsolve's TRM state dict from the reference tensors; every check names the reference key."""
    names = key_map(arch)
    unexpected = [k for k in state if k not in names]
    if unexpected:
        raise BadInputError(where, f"unexpected key {PREFIX}{unexpected[0]} for the config's architecture")
    missing = [k for k in names if k not in state]
    if missing:
        raise BadInputError(where, f"missing key {PREFIX}{missing[0]} that the config's architecture needs")
    table = state["puzzle_emb.weights"]
    if table.ndim != 2 or table.shape[1] != arch.puzzle_emb_ndim:
        raise BadInputError(
            where, f"{PREFIX}puzzle_emb.weights has shape {tuple(table.shape)}, "
            f"the config says {arch.puzzle_emb_ndim} numbers per task"
        )  # fmt: skip
    if table.shape[0] != num_puzzle_ids:
        raise BadInputError(
            where, f"{PREFIX}puzzle_emb.weights has {table.shape[0]} rows, but {dataset} has "
            f"{num_puzzle_ids} identifiers: the checkpoint was trained on another dataset build"
        )  # fmt: skip
    shapes = expected_shapes(arch, num_puzzle_ids)
    converted: dict[str, torch.Tensor] = {}
    for ref, ours in names.items():
        tensor = state[ref]
        shape = shapes[ref]
        if not tensor.is_floating_point():
            raise BadInputError(where, f"{PREFIX}{ref} holds {tensor.dtype}, expected floating point")
        if ref == "puzzle_emb.weights" and arch.puzzle_emb_ndim < arch.model.hidden_size:
            # The reference pads the vector with zeros to the prefix width; position 0 then holds it.
            tensor = torch.nn.functional.pad(
                tensor.float(), (0, arch.model.hidden_size - arch.puzzle_emb_ndim)
            )
        if tuple(tensor.shape) != shape:
            raise BadInputError(
                where, f"{PREFIX}{ref} has shape {tuple(tensor.shape)}, the config asks for {shape}"
            )
        if tensor.dtype != torch.float32:
            tensor = tensor.float()  # exact for bfloat16 / float16
        if ref != "puzzle_emb.weights" and not torch.isfinite(tensor).all():
            raise BadInputError(where, f"{PREFIX}{ref} holds NaN or infinite values")
        converted[ours] = tensor
    return converted
