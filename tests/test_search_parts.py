"""Steps added from the peer comparison on arc1:training: separators of each grid's own colour,
odd-one-out by symmetry, the priority overlay of parts (plain-Python twin, planted orders), and
recolouring by the nearest drawn cell, diagonal lines between pixels, band repetition, pattern
continuation, the unit cell, counts as lines, the one drawn part spread into every part and parts
filled with their drawing's colour, each colour's bounding box filled, and stripes by majority (twins)."""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st
from search_naive_regions import layout_naive
from test_search_regions import assert_same

from arcsolve.search import colours, denoise, fill, part_fitters, partition, patterns, rays, symmetry


def with_separators(parts: list[np.ndarray], colour: int) -> np.ndarray:
    """2x2 parts joined by one full row and one full column of `colour`."""
    (a, b), (c, d) = parts[:2], parts[2:]
    h, w = a.shape
    out = np.full((2 * h + 1, 2 * w + 1), colour, np.uint8)
    out[:h, :w], out[:h, w + 1 :], out[h + 1 :, :w], out[h + 1 :, w + 1 :] = a, b, c, d
    return out


def test_each_grid_is_cut_by_its_own_separator_colour():
    rng = np.random.default_rng(0)
    grids, odd = [], []
    for colour, bg in ((3, 8), (2, 4), (1, 5)):
        parts = [np.full((3, 3), bg, np.uint8) for _ in range(4)]
        k = int(rng.integers(4))
        parts[k][int(rng.integers(3)), int(rng.integers(3))] = 9 - colour
        grids.append(with_separators(parts, colour))
        odd.append(parts[k])
    assert [partition.own_separator_colour(g) for g in grids] == [3, 2, 1]
    for grid, part in zip(grids, odd, strict=True):
        chosen = partition.select_part(grid, ("lines", "any"), bg=0, rule="odd_one_out")
        assert np.array_equal(chosen, part)
    assert partition.own_separator_colour(np.arange(9, dtype=np.uint8).reshape(3, 3)) is None


def test_odd_symmetry_out_picks_the_only_asymmetric_part():
    symmetric = np.array([[1, 2, 1], [2, 2, 2], [1, 2, 1]], np.uint8)
    other = np.array([[3, 0, 3], [0, 3, 0], [3, 0, 3]], np.uint8)
    lopsided = np.array([[1, 1, 0], [2, 2, 2], [1, 0, 0]], np.uint8)
    grid = np.concatenate([symmetric, lopsided, other])
    assert np.array_equal(partition.select_part(grid, ("blocks", 3, 1), 0, "odd_symmetry_out"), lopsided)
    assert (
        partition.select_part(np.concatenate([symmetric, other]), ("blocks", 2, 1), 0, "odd_symmetry_out")
        is None
    )


def overlay_by_priority_naive(grid, splitter, order):
    parts = partition.split(grid, splitter)
    h, w = parts[0].shape
    out = np.zeros((h, w), np.uint8)
    for r in range(h):
        for c in range(w):
            here = [int(p[r, c]) for p in parts]
            if any(v not in order for v in here):
                return None
            out[r, c] = min(here, key=order.index)
    return out


@settings(max_examples=60, deadline=None)
@given(st.integers(0, 2**31))
def test_overlay_by_priority_matches_twin(seed):
    rng = np.random.default_rng(seed)
    rows, cols = int(rng.integers(1, 4)), int(rng.integers(1, 4))
    grid = rng.integers(
        0, 5, (rows * int(rng.integers(1, 4)), cols * int(rng.integers(1, 4))), dtype=np.uint8
    )
    order = tuple(int(c) for c in rng.permutation(5)[: int(rng.integers(3, 6))])
    made = part_fitters.overlay_by_priority(grid, ("blocks", rows, cols), order)
    naive = overlay_by_priority_naive(grid, ("blocks", rows, cols), order)
    assert_same(made, naive)


@settings(max_examples=40, deadline=None)
@given(st.integers(0, 2**31))
def test_priority_fitter_recovers_a_planted_order(seed):
    """Four quadrants, each drawing one colour on 0: the fitter's step reproduces every train pair,
    and every precedence a cell shows holds in both the learned and the planted order."""
    rng = np.random.default_rng(seed)
    order = (*(int(c) for c in rng.permutation([1, 2, 3, 4])), 0)
    grids = []
    for _ in range(4):
        quads = [np.where(rng.random((4, 4)) < 0.5, colour, 0).astype(np.uint8) for colour in (1, 2, 3, 4)]
        grids.append(np.block([[quads[0], quads[1]], [quads[2], quads[3]]]))
    targets = [overlay_by_priority_naive(g, ("blocks", 2, 2), order) for g in grids]
    op = part_fitters.fit_parts(grids[:3], targets[:3], grids[3:])
    assert op is not None
    assert all(np.array_equal(op(g), t) for g, t in zip(grids[:3], targets[:3], strict=True))
    learned = dict(op.args)["order"]
    decided = set()  # (winner, loser): some cell shows the winner while the loser is present
    for g, t in zip(grids[:3], targets[:3], strict=True):
        stack = np.stack(partition.split(g, ("blocks", 2, 2)))
        for r, c in np.ndindex(t.shape):
            decided |= {(int(t[r, c]), int(v)) for v in stack[:, r, c] if v != t[r, c]}
    for winner, loser in decided:
        assert learned.index(winner) < learned.index(loser) and order.index(winner) < order.index(loser)


def test_priority_fitter_refuses_a_cycle_and_a_colour_no_part_has():
    a = np.array([[1, 2], [2, 1]], np.uint8)  # parts (columns) [1, 2] and [2, 1]: 1 wins both cells
    b = np.array([[2, 1], [1, 2]], np.uint8)  # here 2 wins both: no order, and no part is the target
    one, two = np.ones((2, 1), np.uint8), np.full((2, 1), 2, np.uint8)
    assert part_fitters.fit_parts([a], [one], [b]) is not None
    assert part_fitters.fit_parts([a, b], [one, two], [a]) is None
    assert part_fitters.fit_parts([a], [np.full((2, 1), 5, np.uint8)], [a]) is None


def recolour_by_nearest_naive(grid, colour):
    flat = grid.ravel().tolist()
    bg = max(sorted(set(flat)), key=flat.count)
    sources = [(r, c, int(grid[r, c])) for r, c in np.ndindex(grid.shape) if grid[r, c] not in (colour, bg)]
    if colour == bg or colour not in flat or not sources:
        return None
    out = grid.copy()
    for r, c in np.ndindex(grid.shape):
        if grid[r, c] == colour:
            out[r, c] = min((abs(r - sr) + abs(c - sc), v) for sr, sc, v in sources)[1]
    return out


@settings(max_examples=80, deadline=None)
@given(st.integers(0, 2**31))
def test_recolour_by_nearest_matches_twin(seed):
    rng = np.random.default_rng(seed)
    shape = (int(rng.integers(1, 9)), int(rng.integers(1, 9)))
    grid = rng.choice(np.array([0, 0, 0, 1, 2, 3, 5, 5], np.uint8), size=shape)
    made = colours.recolour_by_nearest(grid, 5)
    naive = recolour_by_nearest_naive(grid, 5)
    assert_same(made, naive)


def test_take_part_fitter_finds_the_planted_quarter():
    rng = np.random.default_rng(5)
    grids = [rng.integers(0, 5, (2 * h, 2 * w), dtype=np.uint8) for h, w in ((2, 3), (3, 3), (4, 2), (1, 2))]
    targets = [g[g.shape[0] // 2 :, : g.shape[1] // 2] for g in grids]  # bottom-left: part 2 of 2x2
    op = part_fitters.fit_parts(grids[:3], targets[:3], grids[3:])
    assert op is not None and dict(op.args) == {"split": ("blocks", 2, 2), "index": 2}
    assert np.array_equal(op(grids[3]), targets[3])
    assert part_fitters.fit_parts(grids[:3], [t[::-1] for t in targets[:3]], grids[3:]) is None


def repeat_band_naive(grid, axis):
    g = grid if axis == "rows" else grid.T
    flat = grid.ravel().tolist()
    bg = max(sorted(set(flat)), key=flat.count)
    drawn = [r for r in range(g.shape[0]) if any(v != bg for v in g[r])]
    if not drawn or (drawn[0] == 0 and drawn[-1] == g.shape[0] - 1):
        return None
    top, height = drawn[0], drawn[-1] - drawn[0] + 1
    out = np.array([g[top + (r - top) % height] for r in range(g.shape[0])], np.uint8)
    return out if axis == "rows" else out.T


@settings(max_examples=80, deadline=None)
@given(st.integers(0, 2**31), st.sampled_from(["rows", "columns"]))
def test_repeat_band_matches_twin(seed, axis):
    rng = np.random.default_rng(seed)
    grid = np.zeros((int(rng.integers(1, 12)), int(rng.integers(1, 12))), np.uint8)
    top, height = int(rng.integers(0, grid.shape[0])), int(rng.integers(1, 4))
    band = slice(top, top + height)
    if axis == "rows":
        grid[band] = rng.integers(0, 3, grid[band].shape) * (rng.random(grid[band].shape) < 0.4)
    else:
        grid[:, band] = rng.integers(0, 3, grid[:, band].shape) * (rng.random(grid[:, band].shape) < 0.4)
    made = patterns.repeat_band(grid, axis)
    naive = repeat_band_naive(grid, axis)
    assert_same(made, naive)


@settings(max_examples=60, deadline=None)
@given(st.integers(0, 2**31), st.sampled_from(["row", "column"]), st.integers(0, 2))
def test_counting_lines_match_twins(seed, axis, bg):
    rng = np.random.default_rng(seed)
    grid = rng.choice(
        np.array([0, 0, 0, 0, 2, 2, 4, 7], np.uint8), size=(int(rng.integers(1, 6)), int(rng.integers(1, 6)))
    )
    values = grid.ravel().tolist()
    drawn = [v for v in values if v != bg]
    line = colours.drawn_cells_as_line(grid, axis, bg)
    if not drawn:
        assert line is None
    else:
        colour = max(sorted(set(drawn)), key=drawn.count)
        assert line.tolist() == ([[colour] * len(drawn)] if axis == "row" else [[colour]] * len(drawn))
    commonest = max(sorted(set(values)), key=values.count)
    ranked = sorted((c for c in set(values) if c != commonest), key=lambda c: (-values.count(c), c))
    for drop in (0, 1):
        made = colours.colours_by_count(grid, axis, drop)
        if not ranked[drop:]:
            assert made is None
        else:
            assert made.ravel().tolist() == ranked[drop:] and made.shape[0 if axis == "row" else 1] == 1


def spread_part_naive(grid, splitter, bg):
    layout = layout_naive(grid, splitter)
    if layout is None:
        return None
    boxes = [(rr, cc) for rr in layout[0] for cc in layout[1]]
    drawn = [(rr, cc) for rr, cc in boxes if any(grid[r, c] != bg for r in rr for c in cc)]
    if len(drawn) != 1 or any((len(rr), len(cc)) != (len(drawn[0][0]), len(drawn[0][1])) for rr, cc in boxes):
        return None
    out = grid.copy()
    src_rows, src_cols = drawn[0]
    for rr, cc in boxes:
        for i, r in enumerate(rr):
            for j, c in enumerate(cc):
                out[r, c] = grid[src_rows[i], src_cols[j]]
    return out


@settings(max_examples=80, deadline=None)
@given(st.integers(0, 2**31), st.sampled_from([("lines", 4), ("lines", "any"), ("blocks", 2, 3)]))
def test_spread_part_matches_twin(seed, splitter):
    """Parts of random sizes with one drawn (and sometimes a second, or none): copied everywhere
    exactly as the cell-by-cell twin does, or refused alike."""
    rng = np.random.default_rng(seed)
    h, w, rows, cols = (int(v) for v in rng.integers(1, 4, 4))
    grid = np.full((rows * h + rows - 1, cols * w + cols - 1), 4, np.uint8)
    for r in range(rows):
        for c in range(cols):
            grid[r * (h + 1) : r * (h + 1) + h, c * (w + 1) : c * (w + 1) + w] = 0
    for _ in range(int(rng.integers(0, 3))):
        r, c = int(rng.integers(rows)), int(rng.integers(cols))
        block = grid[r * (h + 1) : r * (h + 1) + h, c * (w + 1) : c * (w + 1) + w]
        block[...] = rng.integers(0, 3, block.shape) * (rng.random(block.shape) < 0.6)
    made = partition.spread_part(grid, splitter, 0)
    naive = spread_part_naive(grid, splitter, 0)
    assert_same(made, naive)


def continue_pattern_naive(grid, axis):
    g = grid.T if axis == "columns" else grid
    flat = grid.ravel().tolist()
    bg = max(sorted(set(flat)), key=flat.count)
    drawn = [r for r in range(g.shape[0]) if any(v != bg for v in g[r])]
    if not drawn or drawn[-1] == g.shape[0] - 1:
        return None
    n = drawn[-1] + 1
    period = next(p for p in range(1, n + 1) if all((g[r] == g[r + p]).all() for r in range(n - p)))
    if period == n:
        return None
    out = np.array([g[r % period] for r in range(g.shape[0])], np.uint8)
    return out.T if axis == "columns" else out


@settings(max_examples=80, deadline=None)
@given(st.integers(0, 2**31), st.sampled_from(["rows", "columns"]))
def test_continue_pattern_matches_twin(seed, axis):
    rng = np.random.default_rng(seed)
    tile = rng.integers(0, 3, (int(rng.integers(1, 4)), int(rng.integers(1, 4))), dtype=np.uint8)
    reps = int(rng.integers(1, 4))
    drawn = np.tile(tile, (reps, 1) if axis == "rows" else (1, reps))
    extra = int(rng.integers(0, 6))
    grid = np.zeros(
        (drawn.shape[0] + extra, drawn.shape[1])
        if axis == "rows"
        else (drawn.shape[0], drawn.shape[1] + extra),
        np.uint8,
    )
    grid[: drawn.shape[0], : drawn.shape[1]] = drawn
    made = patterns.continue_pattern(grid, axis)
    naive = continue_pattern_naive(grid, axis)
    assert_same(made, naive)


@settings(max_examples=80, deadline=None)
@given(st.integers(0, 2**31))
def test_unit_cell_recovers_a_planted_tile(seed):
    """A tile repeated (the last copy cut short): the unit cell is a tile the grid repeats, no larger
    than the planted one, and it rebuilds the grid; a grid that does not repeat has none."""
    rng = np.random.default_rng(seed)
    tile = rng.integers(0, 4, (int(rng.integers(1, 4)), int(rng.integers(1, 4))), dtype=np.uint8)
    shape = (
        tile.shape[0] * int(rng.integers(1, 4)) + int(rng.integers(0, tile.shape[0])),
        tile.shape[1] * int(rng.integers(1, 4)) + int(rng.integers(0, tile.shape[1])),
    )
    grid = np.tile(tile, (4, 4))[: shape[0], : shape[1]]
    cell = patterns.unit_cell(grid)
    if cell is None:
        assert (
            tile.shape[0] >= grid.shape[0]
            and tile.shape[1] >= grid.shape[1]
            or all(
                not np.array_equal(grid, np.tile(grid[:p, :q], (30, 30))[: grid.shape[0], : grid.shape[1]])
                for p in range(1, grid.shape[0] + 1)
                for q in range(1, grid.shape[1] + 1)
                if (p, q) != grid.shape
            )
        )
    else:
        assert cell.shape[0] <= tile.shape[0] and cell.shape[1] <= tile.shape[1]
        assert np.array_equal(np.tile(cell, (30, 30))[: grid.shape[0], : grid.shape[1]], grid)


def connect_diagonals_naive(grid, colour):
    flat = grid.ravel().tolist()
    bg = max(sorted(set(flat)), key=flat.count)
    h, w = grid.shape
    painted = [grid.copy(), grid.copy()]
    for k, (dr, dc) in enumerate(((1, 1), (1, -1))):
        starts = [(0, c) for c in range(w)] + [(r, 0 if dc == 1 else w - 1) for r in range(1, h)]
        for r0, c0 in starts:
            cells = []
            r, c = r0, c0
            while 0 <= r < h and 0 <= c < w:
                cells.append((r, c))
                r, c = r + dr, c + dc
            last = {}
            for i, (r, c) in enumerate(cells):
                v = int(grid[r, c])
                if v == bg:
                    continue
                if v in last:
                    for rr, cc in cells[last[v] + 1 : i]:
                        if grid[rr, cc] == bg:
                            painted[k][rr, cc] = v if colour is None else colour
                last[v] = i
    down_right, down_left = painted
    return np.where(down_right != grid, down_right, down_left).astype(np.uint8)


@settings(max_examples=80, deadline=None)
@given(st.integers(0, 2**31), st.sampled_from([None, 6]))
def test_connect_diagonals_matches_twin(seed, colour):
    rng = np.random.default_rng(seed)
    grid = rng.choice(
        np.array([0] * 8 + [1, 2, 3], np.uint8), size=(int(rng.integers(1, 10)), int(rng.integers(1, 10)))
    )
    assert np.array_equal(rays.connect_diagonals(grid, colour), connect_diagonals_naive(grid, colour))


def sparse_grid_maybe_cut(rng):
    """A sparse grid of colours 0-3, most times cut by one full row and one full column of 5."""
    grid = rng.choice(
        np.array([0] * 6 + [1, 2, 3], np.uint8), size=(int(rng.integers(2, 10)), int(rng.integers(2, 10)))
    )
    if rng.random() < 0.7:
        grid[int(rng.integers(grid.shape[0]))] = 5
        grid[:, int(rng.integers(grid.shape[1]))] = 5
    return grid


def fill_parts_naive(grid, splitter, bg):
    layout = layout_naive(grid, splitter)
    if layout is None:
        return None
    out = grid.copy()
    for rr in layout[0]:
        for cc in layout[1]:
            values = [int(grid[r, c]) for r in rr for c in cc if grid[r, c] != bg]
            if values:
                colour = max(sorted(set(values)), key=values.count)
                for r in rr:
                    for c in cc:
                        out[r, c] = colour
    return out


@settings(max_examples=60, deadline=None)
@given(
    st.integers(0, 2**31),
    st.sampled_from([("lines", 5), ("lines", "any"), ("blocks", 2, 2), ("tiles", 2, 3)]),
)
def test_fill_parts_matches_twin(seed, splitter):
    grid = sparse_grid_maybe_cut(np.random.default_rng(seed))
    made = partition.fill_parts(grid, splitter, 0)
    naive = fill_parts_naive(grid, splitter, 0)
    assert_same(made, naive)


def keep_part_naive(grid, splitter, bg, rule):
    layout = layout_naive(grid, splitter)
    if layout is None:
        return None
    cells = [[(r, c) for r in rr for c in cc] for rr in layout[0] for cc in layout[1]]
    if rule in ("most_cells", "fewest_cells"):
        scores = [sum(grid[r, c] != bg for r, c in part) for part in cells]
    else:
        scores = [len({int(grid[r, c]) for r, c in part}) for part in cells]
    scores = [-s for s in scores] if rule.startswith("fewest") else scores
    if min(scores) == max(scores):
        return None
    out = grid.copy()
    for part, score in zip(cells, scores, strict=True):
        for r, c in part if score != max(scores) else ():
            out[r, c] = bg
    return out


@settings(max_examples=60, deadline=None)
@given(
    st.integers(0, 2**31),
    st.sampled_from([("lines", 5), ("blocks", 2, 2), ("tiles", 2, 3)]),
    st.sampled_from(["most_cells", "fewest_cells", "most_colours", "fewest_colours"]),
)
def test_keep_part_matches_twin(seed, splitter, rule):
    """The parts with the best score stay in place (ties all stay), the rest are cleared."""
    grid = sparse_grid_maybe_cut(np.random.default_rng(seed))
    # "colours" counts every colour a part holds, background included, as select_part does
    assert_same(partition.keep_part(grid, splitter, 0, rule), keep_part_naive(grid, splitter, 0, rule))


def fill_colour_boxes_naive(grid, colour):
    flat = grid.ravel().tolist()
    bg = max(sorted(set(flat)), key=flat.count)
    boxes = []
    for c in sorted(set(flat) - {bg}):
        rows = [r for r, cc in np.ndindex(grid.shape) if grid[r, cc] == c]
        cols = [cc for r, cc in np.ndindex(grid.shape) if grid[r, cc] == c]
        boxes.append(
            (
                (max(rows) - min(rows) + 1) * (max(cols) - min(cols) + 1),
                c,
                min(rows),
                max(rows),
                min(cols),
                max(cols),
            )
        )
    if not boxes:
        return None
    out = grid.copy()
    for _, c, top, bottom, left, right in sorted(boxes, key=lambda b: -b[0]):  # stable: colour order on ties
        for r in range(top, bottom + 1):
            for cc in range(left, right + 1):
                if grid[r, cc] == bg:
                    out[r, cc] = c if colour is None else colour
    return out


@settings(max_examples=60, deadline=None)
@given(st.integers(0, 2**31), st.sampled_from([None, 8]))
def test_fill_colour_boxes_matches_twin(seed, colour):
    rng = np.random.default_rng(seed)
    grid = rng.choice(
        np.array([0] * 12 + [1, 2, 3], np.uint8), size=(int(rng.integers(1, 9)), int(rng.integers(1, 9)))
    )
    made = fill.fill_colour_boxes(grid, colour)
    naive = fill_colour_boxes_naive(grid, colour)
    assert_same(made, naive)


def stripes_naive(grid, axis):
    if axis == "either":
        rows, cols = stripes_naive(grid, "rows"), stripes_naive(grid, "columns")
        return rows if (rows != grid).sum() <= (cols != grid).sum() else cols
    lines = grid if axis == "rows" else grid.T
    out = np.array(
        [[max(range(10), key=lambda v: (list(line).count(v), -v))] * len(line) for line in lines], np.uint8
    )
    return out if axis == "rows" else out.T


@settings(max_examples=60, deadline=None)
@given(st.integers(0, 2**31), st.sampled_from(["rows", "columns", "either"]))
def test_stripes_by_majority_matches_twin(seed, axis):
    rng = np.random.default_rng(seed)
    grid = rng.integers(0, 4, (int(rng.integers(1, 9)), int(rng.integers(1, 9))), dtype=np.uint8)
    assert np.array_equal(denoise.stripes_by_majority(grid, axis), stripes_naive(grid, axis))


@settings(max_examples=60, deadline=None)
@given(st.integers(0, 2**31))
def test_taxicab_distance_matches_brute_force(seed):
    rng = np.random.default_rng(seed)
    sources = rng.random((int(rng.integers(1, 12)), int(rng.integers(1, 12)))) < rng.uniform(0, 0.3)
    h, w = sources.shape
    points = list(zip(*np.nonzero(sources), strict=True))
    expected = [
        [min((abs(r - a) + abs(c - b) for a, b in points), default=h + w + 1) for c in range(w)]
        for r in range(h)
    ]
    assert colours.taxicab_distance(sources).tolist() == expected


def colours_in_order_naive(grid, axis):
    h, w = grid.shape
    cells = {}
    for r in range(h):
        for c in range(w):
            cells.setdefault(int(grid[r, c]), []).append((r, c))
    if len(cells) < 2:
        return None
    mean = {k: (sum(r for r, _ in v) / len(v), sum(c for _, c in v) / len(v)) for k, v in cells.items()}
    if axis == "auto":
        spread = [max(m[i] for m in mean.values()) - min(m[i] for m in mean.values()) for i in (0, 1)]
        axis = "row" if spread[1] >= spread[0] else "column"
    key = 1 if axis == "row" else 0
    values = [mean[k][key] for k in mean]
    if any(abs(a - b) < 1e-12 for i, a in enumerate(values) for b in values[i + 1 :]):
        return None
    ordered = sorted(mean, key=lambda k: mean[k][key])
    line = np.array(ordered, np.uint8)
    return line[None, :] if axis == "row" else line[:, None]


@settings(max_examples=80, deadline=None)
@given(st.integers(0, 2**31), st.sampled_from(["row", "column", "auto"]))
def test_colours_in_order_matches_twin(seed, axis):
    """Colour bands read off by their mean position (jagged bands, or scattered colours)."""
    rng = np.random.default_rng(seed)
    h, w = int(rng.integers(1, 10)), int(rng.integers(1, 10))
    if rng.random() < 0.5:  # vertical bands with jagged edges
        cuts = np.sort(rng.integers(0, w + 1, size=int(rng.integers(1, 4))))
        grid = np.zeros((h, w), np.uint8)
        palette = rng.permutation(10)
        for r in range(h):
            edges = np.clip(cuts + rng.integers(-1, 2, size=len(cuts)), 0, w)
            grid[r] = palette[np.searchsorted(np.sort(edges), np.arange(w), side="right")]
    else:
        grid = rng.integers(0, 4, size=(h, w)).astype(np.uint8)
    assert_same(colours.colours_in_order(grid, axis), colours_in_order_naive(grid, axis))


def recolor_in_box_naive(grid, box_colour, mapping):
    cells = [(r, c) for r in range(grid.shape[0]) for c in range(grid.shape[1]) if grid[r, c] == box_colour]
    if not cells:
        return None
    top, bottom = min(r for r, _ in cells), max(r for r, _ in cells)
    left, right = min(c for _, c in cells), max(c for _, c in cells)
    out = grid.copy()
    for r in range(top, bottom + 1):
        for c in range(left, right + 1):
            out[r, c] = mapping.get(int(grid[r, c]), int(grid[r, c]))
    return out


@settings(max_examples=60, deadline=None)
@given(st.integers(0, 2**31))
def test_recolor_in_box_matches_twin_and_its_fitter_finds_a_planted_map(seed):
    rng = np.random.default_rng(seed)
    grids = []
    for _ in range(4):
        grid = rng.choice(
            np.array([0] * 5 + [1, 2], np.uint8), size=(int(rng.integers(4, 10)), int(rng.integers(4, 10)))
        )
        r, c = int(rng.integers(grid.shape[0] - 1)), int(rng.integers(grid.shape[1] - 1))
        grid[r, c] = grid[r + 1, c + 1] = 8  # the box's two corners
        grids.append(grid)
    mapping = {1: 3}
    outputs = [recolor_in_box_naive(g, 8, mapping) for g in grids]
    for grid, out in zip(grids, outputs, strict=True):
        assert_same(colours.recolor_in_box(grid, 8, mapping), out)
    assert colours.recolor_in_box(np.zeros((2, 2), np.uint8), 8, mapping) is None
    op = colours.fit_colour_map_in_box(grids[:3], outputs[:3], grids[3:])
    if colours.learn_colour_map(grids[:3], outputs[:3]) is not None:
        assert op is None  # a map that holds everywhere is fit_colour_map's
    else:  # the 8s' box explains the pairs (another colour's box may too: its claim must hold)
        assert op is not None
        assert all(np.array_equal(op(g), o) for g, o in zip(grids[:3], outputs[:3], strict=True))
        if dict(op.args)["box_colour"] == 8:
            assert np.array_equal(op(grids[3]), outputs[3])


def paint_parts_by_position_naive(grid, splitter, table):
    layout = layout_naive(grid, splitter)
    if layout is None or (len(layout[0]), len(layout[1])) != (len(table), len(table[0])):
        return None
    out = grid.copy()
    for i, rr in enumerate(layout[0]):
        for j, cc in enumerate(layout[1]):
            for r in rr:
                for c in cc:
                    if table[i][j] >= 0:
                        out[r, c] = table[i][j]
    return out


@settings(max_examples=60, deadline=None)
@given(st.integers(0, 2**31))
def test_paint_parts_by_position_matches_twin_and_is_fitted(seed):
    rng = np.random.default_rng(seed)
    table = tuple(tuple(int(v) for v in row) for row in rng.choice([-1, -1, 2, 3, 4], size=(2, 2)))
    grids = []
    for colour in (5, 6, 7, 5):
        parts = [rng.choice(np.array([0, 0, 1], np.uint8), size=(3, 4)) for _ in range(4)]
        grids.append(with_separators(parts, colour))
    made = [part_fitters.paint_parts_by_position(g, ("lines", "any"), table) for g in grids]
    for grid, out in zip(grids, made, strict=True):
        assert_same(out, paint_parts_by_position_naive(grid, ("lines", "any"), table))
    op = part_fitters.fit_paint_parts_by_position(grids[:3], made[:3], grids[3:])
    if all(v < 0 for row in table for v in row):
        assert op is None  # nothing is painted
    else:
        assert op is not None and np.array_equal(op(grids[3]), made[3])


LINES = {"horizontal": ((0, -1), (0, 1)), "vertical": ((-1, 0), (1, 0)), "up": ((-1, 0),), "right": ((0, 1),)}


def rays_by_colour_naive(grid, plan):
    flat = grid.ravel().tolist()
    bg = max(sorted(set(flat)), key=flat.count)
    h, w = grid.shape
    out = grid.copy()
    for colour, directions in plan:
        sources = [(r, c) for r in range(h) for c in range(w) if grid[r, c] == colour]
        if colour == bg or not sources:
            return None
        for r, c in sources:
            for dr, dc in LINES[directions]:
                rr, cc = r + dr, c + dc
                while 0 <= rr < h and 0 <= cc < w:
                    if grid[rr, cc] == bg:
                        out[rr, cc] = colour
                    rr, cc = rr + dr, cc + dc
    return out


@settings(max_examples=60, deadline=None)
@given(st.integers(0, 2**31))
def test_rays_by_colour_matches_twin_and_is_fitted(seed):
    """Each colour its own lines across the grid, later colours on top; the fitter finds a planted
    plan's directions from three pairs and answers the fourth input as the plan does."""
    rng = np.random.default_rng(seed)
    plan = tuple(
        (int(k), str(d))
        for k, d in zip(rng.permutation([1, 2, 3])[:2], rng.choice(list(LINES), 2), strict=True)
    )
    grids = []
    for _ in range(4):
        grid = np.zeros((int(rng.integers(5, 10)), int(rng.integers(5, 10))), np.uint8)
        for colour, _ in plan:
            for _ in range(int(rng.integers(1, 3))):
                grid[int(rng.integers(grid.shape[0])), int(rng.integers(grid.shape[1]))] = colour
        grids.append(grid)
    made = [rays.rays_by_colour(g, plan) for g in grids]
    for grid, out in zip(grids, made, strict=True):
        assert_same(out, rays_by_colour_naive(grid, plan))
    if any(o is None for o in made) or any(d in ("up", "right") for _, d in plan):
        return  # the fitter learns full lines only (one-way rays are shoot_rays' ops)
    op = rays.fit_rays_by_colour(grids[:3], made[:3], grids[3:])
    assert op is not None
    assert all(np.array_equal(op(g), o) for g, o in zip(grids[:3], made[:3], strict=True))


def rays_to_obstacles_naive(grid, steps, target):
    flat = grid.ravel().tolist()
    bg = max(sorted(set(flat)), key=flat.count)
    h, w = grid.shape

    def drawn(r, c):
        return 0 <= r < h and 0 <= c < w and grid[r, c] != bg

    out = grid.copy()
    lone = [
        (r, c)
        for r in range(h)
        for c in range(w)
        if drawn(r, c) and not any(drawn(r + dr, c + dc) for dr, dc in ((0, 1), (1, 0), (0, -1), (-1, 0)))
    ]
    if not lone:
        return None
    for r, c in lone:
        for dr, dc in steps:
            walk, rr, cc = [], r + dr, c + dc
            while 0 <= rr < h and 0 <= cc < w and grid[rr, cc] == bg:
                walk.append((rr, cc))
                rr, cc = rr + dr, cc + dc
            if 0 <= rr < h and 0 <= cc < w and (target is None or grid[rr, cc] == target):
                for cell in walk:
                    out[cell] = grid[r, c]
    return out


@settings(max_examples=80, deadline=None)
@given(st.integers(0, 2**31), st.sampled_from(["cross", "star"]), st.sampled_from([None, 3]))
def test_rays_to_obstacles_match_twin(seed, directions, target):
    rng = np.random.default_rng(seed)
    grid = rng.choice(
        np.array([0] * 12 + [1, 2, 3], np.uint8), size=(int(rng.integers(1, 12)), int(rng.integers(1, 12)))
    )
    steps = [tuple(s) for s in rays.STEPS[directions].tolist()]
    assert_same(
        rays.rays_to_obstacles(grid, directions, target), rays_to_obstacles_naive(grid, steps, target)
    )


def reverse_rings_naive(grid):
    h, w = grid.shape
    ring = {(r, c): min(r, c, h - 1 - r, w - 1 - c) for r in range(h) for c in range(w)}
    colours = {}
    for cell, k in ring.items():
        colours.setdefault(k, set()).add(int(grid[cell]))
    if len(colours) < 2 or any(len(v) != 1 for v in colours.values()):
        return None
    n = len(colours)
    out = grid.copy()
    for cell, k in ring.items():
        out[cell] = next(iter(colours[n - 1 - k]))
    return out


@settings(max_examples=80, deadline=None)
@given(st.integers(0, 2**31), st.booleans())
def test_reverse_rings_matches_twin(seed, ringed):
    """Ringed grids (each ring one colour) reversed; other grids refused alike."""
    rng = np.random.default_rng(seed)
    h, w = int(rng.integers(1, 12)), int(rng.integers(1, 12))
    if ringed:
        rows, cols = np.indices((h, w))
        ring = np.minimum(np.minimum(rows, h - 1 - rows), np.minimum(cols, w - 1 - cols))
        grid = rng.integers(0, 10, size=int(ring.max()) + 1).astype(np.uint8)[ring]
    else:
        grid = rng.integers(0, 3, size=(h, w)).astype(np.uint8)
    assert_same(colours.reverse_rings(grid), reverse_rings_naive(grid))


def mirror_about_colour_naive(grid, colour, group):
    cells = [(r, c) for r in range(grid.shape[0]) for c in range(grid.shape[1]) if grid[r, c] == colour]
    if not cells:
        return None
    rs = min(r for r, _ in cells) + max(r for r, _ in cells)  # twice the centre's row
    cs = min(c for _, c in cells) + max(c for _, c in cells)
    if group == "rot90" and (rs - cs) % 2:
        return None

    def images(r, c):
        if group == "lr_ud":
            return [(r, cs - c), (rs - r, c), (rs - r, cs - c)]
        big_r, big_c = 2 * r - rs, 2 * c - cs  # doubled offsets from the centre, turned a quarter
        quarter = ((big_c + rs) // 2, (cs - big_r) // 2)
        three = ((rs - big_c) // 2, (big_r + cs) // 2)
        return [quarter, (rs - r, cs - c), three]

    flat = grid.ravel().tolist()
    bg = max(sorted(set(flat)), key=flat.count)
    out = grid.copy()
    for r in range(grid.shape[0]):
        for c in range(grid.shape[1]):
            if grid[r, c] != bg:
                continue
            for rr, cc in images(r, c):
                if 0 <= rr < grid.shape[0] and 0 <= cc < grid.shape[1] and grid[rr, cc] != bg:
                    out[r, c] = grid[rr, cc]
                    break
    return out


@settings(max_examples=80, deadline=None)
@given(st.integers(0, 2**31), st.sampled_from(["lr_ud", "rot90"]))
def test_mirror_about_colour_matches_twin(seed, group):
    rng = np.random.default_rng(seed)
    grid = rng.choice(
        np.array([0] * 10 + [1, 2, 3], np.uint8), size=(int(rng.integers(1, 11)), int(rng.integers(1, 11)))
    )
    assert_same(symmetry.mirror_about_colour(grid, 3, group), mirror_about_colour_naive(grid, 3, group))
