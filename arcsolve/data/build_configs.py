"""The dataset build recipes (ARC, sudoku, maze): typed, checked, every default once.

Kept apart from the builders (which compile numba kernels), so configs and the command line's help
can use them without importing numba.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Literal

from arcsolve.config import check_bounds
from arcsolve.constants import INT16_MAX, MAX_GRID
from arcsolve.errors import ConfigError


@dataclass(frozen=True)
class ArcBuildConfig:
    """A build recipe; a training config can name one. The rules: arcsolve/data/arc_builder.py."""

    source: str = "arc1:evaluation"
    aug: int = 1000
    seed: int = 0
    extra_train: str | None = None
    canvas: int = MAX_GRID
    max_grid: int | None = None
    translate: bool = True
    permute_black: bool = False
    tries_factor: int = 5

    def validate(self, where: str = "data.build") -> None:
        """Raise ConfigError naming the first bad field."""
        if not self.source.strip():
            raise ConfigError(where, "source: name at least one task source, e.g. arc1:evaluation")
        if self.extra_train is not None and not self.extra_train.strip():
            raise ConfigError(where, "extra_train: empty; leave it out or name a task source")
        check_bounds(self, where, "", ("aug",), low=0, high=INT16_MAX)
        check_bounds(self, where, "", ("seed",), low=0)
        check_bounds(self, where, "", ("canvas",), low=1, high=255)
        check_bounds(self, where, "", ("max_grid",), low=1, high=MAX_GRID)
        check_bounds(self, where, "", ("tries_factor",), low=1)

    def grid_limit(self) -> int:
        return min(self.canvas, self.max_grid or MAX_GRID)


@dataclass(frozen=True)
class SudokuBuildConfig:
    n_train: int = 1000
    n_test: int = 1000
    difficulty: Literal["easy", "medium", "hard", "extreme"] = "extreme"
    aug: int = 1000
    seed: int = 0

    def validate(self, where: str = "data.sudoku") -> None:
        check_bounds(self, where, "", ("n_train", "n_test"), low=1)
        check_bounds(self, where, "", ("aug", "seed"), low=0)


@dataclass(frozen=True)
class MazeBuildConfig:
    n_train: int = 1000
    n_test: int = 1000
    size: int = 30
    min_path: int = 110
    dihedral_aug: bool = False  # the paper's builder has an 8-way dihedral option, off by default
    seed: int = 0
    # Size curriculum (issue 25; not in the paper), off when empty: stages of (size, min_path, mazes),
    # smaller than `size`, stored before the n_train target-size mazes and read in stage order in the
    # first training epoch. Each small maze sits in the top-left corner of the size x size canvas with
    # walls elsewhere, so the sequence, the model and a cell's (row, column) are the same at every stage.
    curriculum: tuple[tuple[int, ...], ...] = ()

    def validate(self, where: str = "data.maze") -> None:
        check_bounds(self, where, "", ("n_train", "n_test"), low=1)
        check_bounds(self, where, "", ("seed",), low=0)
        check_bounds(self, where, "", ("size",), low=3, high=64)
        check_bounds(self, where, "", ("min_path",), low=1, high=self.size * self.size // 2)
        for i, stage in enumerate(self.curriculum):
            if len(stage) != 3:
                raise ConfigError(
                    where, f"curriculum[{i}]: a stage is [size, min_path, mazes], got {list(stage)}"
                )
            side, min_path, n = stage
            if not 3 <= side < self.size:
                raise ConfigError(where, f"curriculum[{i}]: size must be 3..{self.size - 1}, got {side}")
            if not 1 <= min_path <= side * side // 2:
                raise ConfigError(
                    where, f"curriculum[{i}]: min_path must be 1..{side * side // 2}, got {min_path}"
                )
            if n < 1:
                raise ConfigError(where, f"curriculum[{i}]: the number of mazes must be >= 1, got {n}")


def recipe_record(recipe: ArcBuildConfig | SudokuBuildConfig | MazeBuildConfig) -> dict:
    """The recipe's fields as stored in meta.json and hashed into the cache key. An empty maze
    curriculum is left out, so builds without one keep the meta.json and cache folder they had
    before the option existed."""
    record = asdict(recipe)
    if not record.get("curriculum", True):
        del record["curriculum"]
    return record
