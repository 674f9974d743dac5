"""Augmentation: dihedral maps, colour maps, the Augmentation group, sampling, kernels, duplicates."""

from __future__ import annotations

import itertools

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from naive import dihedral_naive

from arcsolve.augment import (
    DIHEDRAL_COMPOSE,
    IDENTITY_COLOURS,
    Augmentation,
    compose_dihedral,
    decode_views,
    dihedral_shape,
    dihedral_transform,
    distinct_versions,
    encode_augmented,
    encode_grid,
    encode_views,
    inverse_colour_map,
    pack_grids,
    sample_augmentation_arrays,
    sample_augmentations,
    sample_offsets,
    transform_packed,
    unpack_views,
    version_keys,
    view_shapes,
)
from arcsolve.augment.reference import (
    decode_views_reference,
    encode_views_reference,
    transform_packed_reference,
)
from arcsolve.constants import DIHEDRAL_INVERSE, NUM_DIHEDRAL
from arcsolve.errors import BadInputError

EDGE_SHAPES = [(1, 1), (1, 30), (30, 1), (30, 30), (2, 3), (3, 2)]
FEW = settings(max_examples=40, deadline=None)


@st.composite
def grids(draw, max_side: int = 30):
    h = draw(st.integers(1, max_side))
    w = draw(st.integers(1, max_side))
    seed = draw(st.integers(0, 2**32 - 1))
    return np.random.default_rng(seed).integers(0, 10, size=(h, w)).astype(np.uint8)


@st.composite
def colour_maps(draw, permute_black: bool):
    moved = draw(st.permutations(range(10) if permute_black else range(1, 10)))
    return tuple(moved) if permute_black else (0, *moved)


def random_grids(rng: np.random.Generator, shapes) -> list[np.ndarray]:
    return [rng.integers(0, 10, size=s).astype(np.uint8) for s in shapes]


@pytest.mark.parametrize("d", range(NUM_DIHEDRAL))
@pytest.mark.parametrize("shape", EDGE_SHAPES)
def test_dihedral_matches_the_definition(d, shape):
    grid = np.random.default_rng(d).integers(0, 10, size=shape).astype(np.uint8)
    assert np.array_equal(dihedral_transform(grid, d), dihedral_naive(grid, d))
    assert dihedral_transform(grid, d).shape == dihedral_shape(*shape, d)


@FEW
@given(grid=grids(), d=st.integers(0, 7), fixed=colour_maps(False), free=colour_maps(True))
def test_invert_undoes_apply(grid, d, fixed, free):
    for colours in (fixed, free):
        aug = Augmentation(d, colours)
        assert np.array_equal(aug.invert(aug.apply(grid)), grid)
        assert np.array_equal(aug.apply(aug.invert(grid)), grid)
        assert np.array_equal(aug.inverse().apply(aug.apply(grid)), grid)


def test_compose_table_is_the_dihedral_group():
    probe = np.arange(12).reshape(3, 4)
    for a, b in itertools.product(range(NUM_DIHEDRAL), repeat=2):
        both = dihedral_transform(dihedral_transform(probe, b), a)
        assert np.array_equal(dihedral_transform(probe, compose_dihedral(a, b)), both)
    for a in range(NUM_DIHEDRAL):
        assert DIHEDRAL_COMPOSE[a][0] == DIHEDRAL_COMPOSE[0][a] == a
        assert DIHEDRAL_COMPOSE[a][DIHEDRAL_INVERSE[a]] == 0
        assert DIHEDRAL_COMPOSE[DIHEDRAL_INVERSE[a]][a] == 0
    for a, b, c in itertools.product(range(NUM_DIHEDRAL), repeat=3):
        assert compose_dihedral(a, compose_dihedral(b, c)) == compose_dihedral(compose_dihedral(a, b), c)
    assert DIHEDRAL_COMPOSE[1][1] == 2 and DIHEDRAL_COMPOSE[4][1] == 7  # rot90 twice; fliplr(rot90)


@FEW
@given(
    grid=grids(12),
    da=st.integers(0, 7),
    db=st.integers(0, 7),
    ca=colour_maps(True),
    cb=colour_maps(False),
    oa=st.tuples(st.integers(-5, 5), st.integers(-5, 5)),
    ob=st.tuples(st.integers(-5, 5), st.integers(-5, 5)),
)
def test_augmentation_compose_and_inverse(grid, da, db, ca, cb, oa, ob):
    a, b = Augmentation(da, ca, oa), Augmentation(db, cb, ob)
    ab = a.compose(b)
    assert np.array_equal(ab.apply(grid), a.apply(b.apply(grid)))
    assert ab.offset == (oa[0] + ob[0], oa[1] + ob[1])
    assert a.compose(a.inverse()).is_identity and a.inverse().compose(a).is_identity
    assert a.inverse().inverse() == a
    assert Augmentation.from_table_row(a.table_row(7), offset=oa) == a


@pytest.mark.parametrize("bad", [8, -1, 100, 2.0, True, "1"])
def test_unknown_dihedral_ids_raise(bad):
    grid = np.zeros((2, 2), np.uint8)
    with pytest.raises(BadInputError, match="dihedral"):
        Augmentation(bad)
    with pytest.raises(BadInputError, match="dihedral"):
        dihedral_transform(grid, bad)
    with pytest.raises(BadInputError, match="dihedral"):
        compose_dihedral(0, bad)


def test_unknown_dihedral_ids_raise_in_kernels_and_table_rows():
    packed = pack_grids([np.zeros((2, 2), np.uint8)])
    identity = np.arange(10, dtype=np.uint8)[None]
    with pytest.raises(BadInputError, match="dihedral"):
        encode_views(packed, np.array([8]), identity, np.array([0]), np.array([0]), np.zeros((1, 2)), 5)
    with pytest.raises(BadInputError, match="dihedral"):
        transform_packed(packed, np.array([-1]), identity)
    with pytest.raises(BadInputError, match="dihedral"):
        decode_views(np.zeros((1, 25), np.uint8), 5, np.array([9]), identity)
    with pytest.raises(BadInputError, match="dihedral"):
        Augmentation.from_table_row([0, 8, *range(10)])


def test_colour_maps_must_be_permutations():
    with pytest.raises(BadInputError, match="permutation"):
        Augmentation(0, (0, 0, 2, 3, 4, 5, 6, 7, 8, 9))
    with pytest.raises(BadInputError, match="permutation"):
        Augmentation(0, tuple(range(9)))
    with pytest.raises(BadInputError, match="permutation"):
        encode_augmented(pack_grids([np.zeros((1, 1))]), np.array([0]), np.zeros((1, 10), np.uint8), 3)
    assert inverse_colour_map((0, 2, 3, 1, 4, 5, 6, 7, 8, 9)) == (0, 3, 1, 2, 4, 5, 6, 7, 8, 9)


def test_sampling_is_seeded_and_keeps_black_unless_asked():
    a = sample_augmentations(np.random.default_rng(5), 200)
    b = sample_augmentations(np.random.default_rng(5), 200)
    assert a == b
    assert all(x.colours[0] == 0 for x in a)
    assert {x.dihedral for x in a} == set(range(8))
    assert len({x.colours for x in a}) > 150
    _, maps = sample_augmentation_arrays(np.random.default_rng(5), 200, permute_black=True)
    assert (maps[:, 0] != 0).any()
    assert (np.sort(maps, axis=1) == np.arange(10)).all()
    d, _ = sample_augmentation_arrays(np.random.default_rng(5), 50, dihedral=False)
    assert (d == 0).all()


def test_offsets_stay_on_the_canvas_and_cover_it():
    rng = np.random.default_rng(0)
    heights = np.array([1, 30, 5, 29] * 200)
    widths = np.array([30, 1, 5, 3] * 200)
    offsets = sample_offsets(rng, heights, widths, 30)
    assert (offsets >= 0).all()
    assert (offsets[:, 0] + heights <= 30).all() and (offsets[:, 1] + widths <= 30).all()
    assert offsets[heights == 5, 0].max() == 25 and offsets[heights == 5, 0].min() == 0
    with pytest.raises(BadInputError):
        sample_offsets(rng, np.array([31]), np.array([1]), 30)


def _table(rng, n, permute_black=True):
    dihedrals = np.concatenate([np.arange(8), rng.integers(0, 8, n)])
    _, maps = sample_augmentation_arrays(rng, len(dihedrals), permute_black=permute_black)
    return dihedrals, maps


@pytest.mark.parametrize("seed", [0, 1])
def test_transform_kernel_equals_reference(seed):
    rng = np.random.default_rng(seed)
    shapes = EDGE_SHAPES + [tuple(rng.integers(1, 31, 2)) for _ in range(6)]
    packed = pack_grids(random_grids(rng, shapes))
    dihedrals, maps = _table(rng, 8)
    assert np.array_equal(
        transform_packed(packed, dihedrals, maps), transform_packed_reference(packed, dihedrals, maps)
    )


@pytest.mark.parametrize("canvas", [30, 31, 12])
def test_encode_kernel_equals_reference(canvas):
    rng = np.random.default_rng(canvas)
    shapes = [s for s in EDGE_SHAPES if max(s) <= canvas] + [tuple(rng.integers(1, 13, 2)) for _ in range(6)]
    packed = pack_grids(random_grids(rng, shapes))
    dihedrals, maps = _table(rng, 8)
    k = 300
    grid_index, aug_index = rng.integers(0, len(shapes), k), rng.integers(0, len(dihedrals), k)
    heights, widths = view_shapes(packed, dihedrals)
    offsets = sample_offsets(rng, heights[aug_index, grid_index], widths[aug_index, grid_index], canvas)
    offsets[:10] = 0
    got = encode_views(packed, dihedrals, maps, grid_index, aug_index, offsets, canvas)
    want = encode_views_reference(packed, dihedrals, maps, grid_index, aug_index, offsets, canvas)
    assert np.array_equal(got, want)


def test_encode_augmented_orders_rows_by_augmentation_then_grid():
    rng = np.random.default_rng(3)
    grids_ = random_grids(rng, EDGE_SHAPES)
    dihedrals, maps = _table(rng, 0)
    rows = encode_augmented(pack_grids(grids_), dihedrals, maps, 30)
    for a, g in itertools.product(range(len(dihedrals)), range(len(grids_))):
        aug = Augmentation(int(dihedrals[a]), tuple(maps[a]))
        assert np.array_equal(rows[a * len(grids_) + g], encode_grid(aug.apply(grids_[g]), 30))


def test_decode_kernel_equals_reference_on_valid_and_broken_rows():
    rng = np.random.default_rng(11)
    canvas = 30
    shapes = EDGE_SHAPES + [tuple(rng.integers(1, 31, 2)) for _ in range(10)]
    packed = pack_grids(random_grids(rng, shapes))
    dihedrals, maps = _table(rng, 8)
    k = 400
    grid_index, aug_index = rng.integers(0, len(shapes), k), rng.integers(0, len(dihedrals), k)
    heights, widths = view_shapes(packed, dihedrals)
    offsets = sample_offsets(rng, heights[aug_index, grid_index], widths[aug_index, grid_index], canvas)
    tokens = encode_views(packed, dihedrals, maps, grid_index, aug_index, offsets, canvas)
    broken = tokens[k // 2 :]  # a few random token changes, mostly inside or next to the grid
    cells = rng.integers(0, 60, size=(len(broken), 3))
    broken[np.arange(len(broken))[:, None], cells] = rng.integers(0, 12, size=cells.shape)
    tokens[-20:] = rng.integers(0, 12, size=(20, canvas * canvas))
    d, m = dihedrals[aug_index], maps[aug_index]
    got_grids, got_shapes = decode_views(tokens, canvas, d, m, offsets)
    want_grids, want_shapes = decode_views_reference(tokens, canvas, d, m, offsets)
    assert np.array_equal(got_shapes, want_shapes) and np.array_equal(got_grids, want_grids)
    assert (got_shapes[: k // 2] > 0).all() and (got_shapes[k // 2 :, 0] == 0).any()
    for j, grid in enumerate(unpack_views(got_grids, got_shapes)[: k // 2]):
        assert np.array_equal(grid, packed.grid(int(grid_index[j])))


def test_pack_grids_rejects_bad_grids():
    with pytest.raises(BadInputError):
        pack_grids([])
    with pytest.raises(BadInputError):
        pack_grids([np.array([[10]])])
    with pytest.raises(BadInputError):
        pack_grids([np.zeros((0, 3))])


def test_a_blank_one_cell_task_has_one_version():
    packed = pack_grids([np.zeros((1, 1), np.uint8)] * 4)
    dihedrals, maps = distinct_versions(np.random.default_rng(0), packed, 1000)
    assert len(dihedrals) == 1 and dihedrals[0] == 0 and tuple(maps[0]) == IDENTITY_COLOURS
    dihedrals, _ = distinct_versions(np.random.default_rng(0), packed, 1000, permute_black=True)
    assert len(dihedrals) == 10  # now colour 0 can become any of 10 colours


def test_versions_are_distinct_and_counted_exactly():
    # Zeros on the diagonal and two colours off it: 2 zero patterns x 9*8 ordered colour pairs.
    packed = pack_grids([np.array([[0, 1], [2, 0]], np.uint8)])
    dihedrals, maps = distinct_versions(np.random.default_rng(1), packed, 1000)
    assert len(dihedrals) == 144
    keys = version_keys(packed, dihedrals, maps)
    assert len(set(keys)) == len(keys)
    asymmetric = pack_grids(random_grids(np.random.default_rng(2), [(3, 4), (4, 3)]))
    dihedrals, maps = distinct_versions(np.random.default_rng(1), asymmetric, 50)
    assert len(dihedrals) == 51 and dihedrals[0] == 0 and tuple(maps[0]) == IDENTITY_COLOURS
    again = distinct_versions(np.random.default_rng(1), asymmetric, 50)
    assert np.array_equal(again[0], dihedrals) and np.array_equal(again[1], maps)


def test_transposed_shapes_are_not_confused_with_the_original():
    # A 1x2 grid and its transpose have the same bytes; they are still different versions.
    packed = pack_grids([np.array([[3, 3]], np.uint8)])
    dihedrals, _ = distinct_versions(np.random.default_rng(0), packed, 100, tries_factor=50)
    view_heights = {int(view_shapes(packed, np.array([d]))[0][0, 0]) for d in dihedrals}
    assert view_heights == {1, 2}
