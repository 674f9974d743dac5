"""The strict TOML config loader: unknown keys and wrong types are errors naming the key."""

from __future__ import annotations

import tomllib
from dataclasses import dataclass, field
from typing import Literal

import pytest

from arcsolve.config import apply_overrides, from_dict, load_config, to_dict, to_toml
from arcsolve.errors import ConfigError


@dataclass
class Inner:
    hidden: int = 64
    variant: Literal["attention", "mlp"] = "attention"
    lr: float = 1e-4

    def validate(self, where: str) -> None:
        if self.hidden <= 0:
            raise ConfigError(where, "model.hidden must be positive")


@dataclass
class Outer:
    name: str = "run"
    sources: list[str] = field(default_factory=list)
    max_grid: int | None = None
    ema: bool = True
    model: Inner = field(default_factory=Inner)


def test_defaults_and_nested_tables():
    cfg = from_dict(Outer, {"name": "x", "model": {"hidden": 128, "lr": 1}})
    assert cfg.model.hidden == 128 and cfg.model.lr == 1.0 and isinstance(cfg.model.lr, float)
    assert cfg.sources == [] and cfg.max_grid is None


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"nmae": "x"}, "unknown key 'nmae'"),
        ({"model": {"hiden": 3}}, "unknown key 'model.hiden'"),
        ({"model": {"hidden": "3"}}, "'model.hidden' must be an integer"),
        ({"model": {"hidden": True}}, "'model.hidden' must be an integer"),
        ({"model": {"hidden": 1.5}}, "'model.hidden' must be an integer"),
        ({"model": {"variant": "lstm"}}, "'model.variant' must be one of"),
        ({"ema": 1}, "'ema' must be true or false"),
        ({"sources": "arc1:training"}, "'sources' must be a list"),
        ({"sources": [1]}, r"'sources\[0\]' must be a string"),
        ({"model": 3}, "'model' must be a table"),
        ({"max_grid": "big"}, "'max_grid'"),
        ({"model": {"hidden": -1}}, "must be positive"),
    ],
)
def test_bad_values_name_the_key(data, message):
    with pytest.raises(ConfigError, match=message):
        from_dict(Outer, data, where="cfg.toml")


def test_overrides_parse_toml_values_and_create_tables():
    data = apply_overrides(
        {"model": {"hidden": 64}}, ["model.hidden=128", "model.variant=mlp", "sources=['a','b']", "ema=false"]
    )
    cfg = from_dict(Outer, data)
    assert (
        cfg.model.hidden == 128
        and cfg.model.variant == "mlp"
        and cfg.sources == ["a", "b"]
        and cfg.ema is False
    )
    with pytest.raises(ConfigError, match="key=value"):
        apply_overrides({}, ["model.hidden"])
    with pytest.raises(ConfigError, match="not a table"):
        apply_overrides({"name": "x"}, ["name.sub=1"])


def test_toml_round_trip(tmp_path):
    cfg = from_dict(Outer, {"name": 'q"uote', "sources": ["a"], "model": {"hidden": 32, "lr": 0.5}})
    text = to_toml(to_dict(cfg))
    path = tmp_path / "c.toml"
    path.write_text(text)
    assert load_config(Outer, path) == cfg
    assert tomllib.loads(text)["model"]["hidden"] == 32


def test_file_errors(tmp_path):
    with pytest.raises(ConfigError, match="no such file"):
        load_config(Outer, tmp_path / "missing.toml")
    bad = tmp_path / "bad.toml"
    bad.write_text("model = [")
    with pytest.raises(ConfigError, match="invalid TOML"):
        load_config(Outer, bad)
    binary = tmp_path / "bin.toml"
    binary.write_bytes(b"\xff\xfe\x00")
    with pytest.raises(ConfigError, match="not a UTF-8"):
        load_config(Outer, binary)
    with pytest.raises(ConfigError, match="is a directory"):
        load_config(Outer, tmp_path)


@dataclass
class Ranged:
    count: int = 1
    rate: float = 0.5
    cap: float | None = None


@pytest.mark.parametrize(
    ("values", "bounds", "message"),
    [
        ({"count": 0}, {"low": 1}, "x.count must be >= 1, got 0"),
        ({"rate": 0.0}, {"low": 0, "open_low": True}, "x.rate must be > 0, got 0.0"),
        ({"rate": 1.0}, {"low": 0, "high": 1, "open_high": True}, r"x.rate must lie in \[0, 1\), got 1.0"),
        ({"rate": float("nan")}, {"low": 0}, "x.rate must be >= 0, got nan"),
        ({"rate": 2.0}, {"high": 1}, "x.rate must be <= 1, got 2.0"),
    ],
)
def test_check_bounds_names_the_field_and_the_rule(values, bounds, message):
    from arcsolve.config import check_bounds

    names = tuple(values)
    with pytest.raises(ConfigError, match=message):
        check_bounds(Ranged(**values), "where", "x.", names, **bounds)


def test_check_bounds_passes_edges_and_none():
    from arcsolve.config import check_bounds

    check_bounds(Ranged(count=1, rate=0.0), "where", "", ("count", "rate"), low=0)
    check_bounds(Ranged(rate=1.0), "where", "", ("rate",), low=0, high=1)
    check_bounds(Ranged(cap=None), "where", "", ("cap",), low=5)


def test_checked_applies_from_dicts_type_checks_to_a_config_built_in_code():
    from arcsolve.config import checked
    from arcsolve.predict.config import PredictConfig

    good = PredictConfig(checkpoint="c.pt", tasks="t", out="s.json", tta=4)
    assert checked(good, "predict") == good
    with pytest.raises(ConfigError, match="'tta' must be an integer"):
        checked(PredictConfig(checkpoint="c.pt", tasks="t", out="s.json", tta="4"), "predict")  # type: ignore[arg-type]
    with pytest.raises(ConfigError, match="'rank' must be one of"):
        checked(PredictConfig(checkpoint="c.pt", tasks="t", out="s.json", rank="best"), "predict")  # type: ignore[arg-type]
    with pytest.raises(ConfigError, match="adapt.steps must be >= 0"):
        checked(PredictConfig(checkpoint="c.pt", tasks="t", out="s.json", adapt={"steps": -1}), "predict")  # type: ignore[arg-type]
