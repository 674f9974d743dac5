"""The reference TRM code's augmentation names and dihedral ids, mapped onto `Augmentation`.

The reference dataset builder (SamsungSAILMontreal/TinyRecursiveModels, `dataset/build_arc_dataset.py`)
names an augmented task `<task>|||t<k>|||<perm>`: `perm` is ten digits, colour c becomes `perm[c]`,
then dihedral map `k` of its own numbering is applied. Its ids are defined below by what they do to
an array (out[i, j] in terms of the H x W input `a`), and matched to arcsolve's ids by applying both
to a probe grid with all-distinct cells, so the mapping is derived, never assumed.
"""

from __future__ import annotations

import numpy as np

from arcsolve.augment.transforms import Augmentation, check_colour_map, dihedral_transform
from arcsolve.constants import NUM_COLORS, NUM_DIHEDRAL
from arcsolve.errors import BadInputError

SEPARATOR = "|||"
BLANK_NAME = "<blank>"


def reference_dihedral(a: np.ndarray, k: int) -> np.ndarray:
    """The reference's dihedral map `k`, written as index arithmetic: out[i, j] = a[src(i, j)]."""
    h, w = a.shape
    if k in (1, 3, 6, 7):  # these swap the sides: out is W x H
        i, j = np.indices((w, h))
    else:
        i, j = np.indices((h, w))
    sources = {
        0: (i, j),
        1: (j, w - 1 - i),  # 90 degrees counter-clockwise
        2: (h - 1 - i, w - 1 - j),
        3: (h - 1 - j, i),  # 90 degrees clockwise
        4: (i, w - 1 - j),  # mirror left-right
        5: (h - 1 - i, j),  # mirror up-down
        6: (j, i),  # transpose
        7: (h - 1 - j, w - 1 - i),  # anti-diagonal reflection
    }
    rows, cols = sources[k]
    return a[rows, cols]


def _match_ids() -> tuple[int, ...]:
    probe = np.arange(12).reshape(3, 4)
    mapping = []
    for k in range(NUM_DIHEDRAL):
        image = reference_dihedral(probe, k)
        same = [
            d
            for d in range(NUM_DIHEDRAL)
            if dihedral_transform(probe, d).shape == image.shape
            and np.array_equal(dihedral_transform(probe, d), image)
        ]
        assert len(same) == 1, f"reference dihedral {k} matches {same}"
        mapping.append(same[0])
    return tuple(mapping)


# REFERENCE_TO_DIHEDRAL[k] = arcsolve's id of the reference's dihedral id k (and back).
REFERENCE_TO_DIHEDRAL = _match_ids()
DIHEDRAL_TO_REFERENCE = tuple(REFERENCE_TO_DIHEDRAL.index(d) for d in range(NUM_DIHEDRAL))


def parse_name(name: str, where: str) -> tuple[str, Augmentation]:
    """`task` or `task|||t<k>|||<perm>` -> (task id, the arcsolve augmentation it names)."""
    if not isinstance(name, str) or not name:
        raise BadInputError(where, f"identifier {name!r} is not a non-empty string")
    parts = name.split(SEPARATOR)
    if len(parts) == 1:
        return name, Augmentation()
    if len(parts) != 3:
        raise BadInputError(where, f"identifier {name!r} is not 'task|||t<k>|||<perm>'")
    task, trans, perm = parts
    if not (len(trans) == 2 and trans[0] == "t" and trans[1].isdigit() and int(trans[1]) < NUM_DIHEDRAL):
        raise BadInputError(where, f"identifier {name!r}: '{trans}' is not a dihedral id t0..t7")
    if len(perm) != NUM_COLORS or not perm.isdigit():
        raise BadInputError(where, f"identifier {name!r}: '{perm}' is not ten colour digits")
    try:
        colours = check_colour_map([int(c) for c in perm])
    except BadInputError:
        raise BadInputError(where, f"identifier {name!r}: '{perm}' is not a permutation of 0..9") from None
    return task, Augmentation(dihedral=REFERENCE_TO_DIHEDRAL[int(trans[1])], colours=colours)


def augmented_name(task: str, dihedral: int, colours: np.ndarray) -> str:
    """The reference's name of `task` under arcsolve dihedral id `dihedral` and colour map `colours`."""
    digits = "".join(str(int(c)) for c in colours)
    return f"{task}{SEPARATOR}t{DIHEDRAL_TO_REFERENCE[dihedral]}{SEPARATOR}{digits}"
