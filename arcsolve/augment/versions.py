"""Distinct augmented versions of a task: random dihedral x colour maps, duplicates dropped.

Two augmentations give the same version when they transform every grid of the task identically
(a symmetric grid under a flip, a colour map that only moves colours the task never uses). Such a
version would be a second puzzle id for the very same puzzle, so it is dropped. Versions are
compared exactly: the transformed grids' bytes plus their shapes (`kernels.transform_packed`).
As in the TRM paper, candidates are drawn until `n` distinct versions exist or `tries_factor * n`
candidates have been tried; a task with few colours or many symmetries can fall short.
"""

from __future__ import annotations

import numpy as np

from arcsolve.augment.kernels import PackedGrids, transform_packed, view_shapes
from arcsolve.augment.transforms import sample_augmentation_arrays
from arcsolve.constants import NUM_COLORS
from arcsolve.errors import BadInputError


def version_keys(packed: PackedGrids, dihedrals: np.ndarray, colour_maps: np.ndarray) -> list[bytes]:
    """One bytes key per augmentation; equal keys <=> identical augmented tasks."""
    cells = transform_packed(packed, dihedrals, colour_maps)
    heights, _ = view_shapes(packed, dihedrals)
    # Heights fix the widths (each grid keeps its area), so bytes + heights identify the version.
    tails = heights.astype(np.uint8)
    return [row.tobytes() + tail.tobytes() for row, tail in zip(cells, tails, strict=True)]


def distinct_versions(
    rng: np.random.Generator,
    packed: PackedGrids,
    n: int,
    permute_black: bool = False,
    tries_factor: int = 5,
    dihedral: bool = True,
) -> tuple[np.ndarray, np.ndarray]:
    """The identity plus up to `n` distinct random versions: (dihedrals int64 [V], colour maps uint8 [V, 10]).

    Row 0 is always the identity (the original task); V - 1 <= n.
    """
    if n < 0 or tries_factor < 1:
        raise BadInputError("augment", f"need n >= 0 and tries_factor >= 1, got {n} and {tries_factor}")
    dihedrals = [np.zeros(1, dtype=np.int64)]
    maps = [np.arange(NUM_COLORS, dtype=np.uint8)[None, :]]
    if n == 0:  # the identity alone: nothing to compare it with
        return dihedrals[0], maps[0]
    seen = set(version_keys(packed, dihedrals[0], maps[0]))
    found, tried, budget = 0, 0, tries_factor * n
    while found < n and tried < budget:
        draw = min(n - found, budget - tried)
        cand_d, cand_m = sample_augmentation_arrays(rng, draw, permute_black=permute_black, dihedral=dihedral)
        keep = np.zeros(draw, dtype=np.bool_)
        for i, key in enumerate(version_keys(packed, cand_d, cand_m)):
            if key not in seen:
                seen.add(key)
                keep[i] = True
        dihedrals.append(cand_d[keep])
        maps.append(cand_m[keep])
        found += int(keep.sum())
        tried += draw
    return np.concatenate(dihedrals), np.concatenate(maps)
