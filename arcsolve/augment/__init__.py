"""Invertible grid augmentation: dihedral maps, colour permutations, translation, token encoding.

- `transforms`: the `Augmentation` record (apply / invert / compose / inverse) and random sampling.
- `encoding`: one grid <-> C*C tokens (plain NumPy), and the rule for a valid decoded grid.
- `kernels`: numba batch kernels (many grids x many augmentations -> token rows, and back).
- `versions`: distinct augmented versions of a task (duplicates dropped).
"""

from arcsolve.augment.encoding import DEFAULT_CANVAS, check_placement, decode_grid, encode_grid
from arcsolve.augment.kernels import (
    PackedGrids,
    decode_views,
    encode_augmented,
    encode_views,
    pack_grids,
    transform_packed,
    unpack_views,
    view_shapes,
)
from arcsolve.augment.transforms import (
    DIHEDRAL_COMPOSE,
    IDENTITY_COLOURS,
    Augmentation,
    compose_dihedral,
    dihedral_shape,
    dihedral_transform,
    inverse_colour_map,
    inverse_dihedral,
    sample_augmentation_arrays,
    sample_augmentations,
    sample_colour_maps,
    sample_offsets,
)
from arcsolve.augment.versions import distinct_versions, version_keys

__all__ = [
    "DEFAULT_CANVAS",
    "DIHEDRAL_COMPOSE",
    "IDENTITY_COLOURS",
    "Augmentation",
    "PackedGrids",
    "check_placement",
    "compose_dihedral",
    "decode_grid",
    "decode_views",
    "dihedral_shape",
    "dihedral_transform",
    "distinct_versions",
    "encode_augmented",
    "encode_grid",
    "encode_views",
    "inverse_colour_map",
    "inverse_dihedral",
    "pack_grids",
    "sample_augmentation_arrays",
    "sample_augmentations",
    "sample_colour_maps",
    "sample_offsets",
    "transform_packed",
    "unpack_views",
    "version_keys",
    "view_shapes",
]
