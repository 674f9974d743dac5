"""Slow, obvious twins of the region search families (partition, symmetry, fill, rays, local rule),
written cell by cell from their docstrings. They share no code with arcsolve.search, so comparing the
two checks the definitions, not one implementation against itself."""

from __future__ import annotations

from collections import deque
from itertools import groupby, product

import numpy as np

SIDE_STEPS = ((-1, 0), (1, 0), (0, -1), (0, 1))
ALL_STEPS = SIDE_STEPS + ((-1, -1), (-1, 1), (1, -1), (1, 1))


def commonest(grid) -> int:
    values = grid.ravel().tolist()
    return max(range(10), key=lambda v: (values.count(v), -v))


def label_naive(mask, conn8):
    """Components numbered in row-major order of their first cell."""
    h, w = mask.shape
    labels = np.zeros((h, w), np.int32)
    steps = ALL_STEPS if conn8 else SIDE_STEPS
    count = 0
    for r, c in np.ndindex(h, w):
        if mask[r, c] and labels[r, c] == 0:
            count += 1
            labels[r, c] = count
            todo = deque([(r, c)])
            while todo:
                y, x = todo.popleft()
                for dr, dc in steps:
                    yy, xx = y + dr, x + dc
                    if 0 <= yy < h and 0 <= xx < w and mask[yy, xx] and labels[yy, xx] == 0:
                        labels[yy, xx] = count
                        todo.append((yy, xx))
    return labels, count


def reachable_naive(mask, conn8=False):
    """Mask cells whose component holds a border cell."""
    labels, _ = label_naive(mask, conn8)
    h, w = mask.shape
    border = {labels[r, c] for r, c in np.ndindex(h, w) if r in (0, h - 1) or c in (0, w - 1)}
    return np.isin(labels, list(border - {0}))


def rays_naive(grid, is_source, steps, bg, through, paint=None):
    h, w = grid.shape
    out = grid.copy()
    for r, c in zip(*np.nonzero(is_source), strict=True):
        for dr, dc in steps:
            y, x = r + dr, c + dc
            while 0 <= y < h and 0 <= x < w:
                if grid[y, x] == bg:
                    out[y, x] = grid[r, c] if paint is None else paint
                elif not through:
                    break
                y, x = y + dr, x + dc
    return out


def connect_rows_naive(grid, bg, paint=None):
    """Intervals between consecutive same-coloured cells painted in the order their right ends come."""
    out = grid.copy()
    for r in range(grid.shape[0]):
        intervals = []
        for colour in range(10):
            if colour == bg:
                continue
            cols = [c for c in range(grid.shape[1]) if grid[r, c] == colour]
            intervals += [(end, start, colour) for start, end in zip(cols[:-1], cols[1:], strict=True)]
        for end, start, colour in sorted(intervals):
            for c in range(start + 1, end):
                if grid[r, c] == bg:
                    out[r, c] = colour if paint is None else paint
    return out


def connect_pixels_naive(grid, axis, paint=None):
    bg = commonest(grid)
    by_row = connect_rows_naive(grid, bg, paint)
    by_column = connect_rows_naive(grid.T.copy(), bg, paint).T.copy()
    if axis in ("rows", "columns"):
        return by_row if axis == "rows" else by_column
    top, under = (by_row, by_column) if axis == "rows_on_top" else (by_column, by_row)
    out = under.copy()
    for r, c in np.ndindex(grid.shape):
        if top[r, c] != grid[r, c]:
            out[r, c] = top[r, c]
    return out


def fill_enclosed_naive(grid, colour):
    open_cells = grid == commonest(grid)
    outside = reachable_naive(open_cells)
    out = grid.copy()
    enclosed = [(r, c) for r, c in np.ndindex(grid.shape) if open_cells[r, c] and not outside[r, c]]
    for r, c in enclosed:
        out[r, c] = colour
    return out if enclosed else None


def fill_holes_with_own_colour_naive(grid):
    bg = commonest(grid)
    holes = []
    for colour in sorted(set(grid.ravel().tolist()) - {bg}):
        outside = reachable_naive(grid != colour)
        cells = [(r, c) for r, c in np.ndindex(grid.shape) if grid[r, c] == bg and not outside[r, c]]
        if cells:
            holes.append((-len(cells), colour, cells))
    out = grid.copy()
    for _, colour, cells in sorted(holes, key=lambda hole: hole[0]):
        for r, c in cells:
            out[r, c] = colour
    return out if holes else None


def fill_bounding_boxes_naive(grid, conn8, paint=None):
    bg = commonest(grid)
    labels, count = label_naive(grid != bg, conn8)
    if count == 0:
        return None
    boxes = []
    for label in range(1, count + 1):
        cells = [(r, c) for r, c in np.ndindex(grid.shape) if labels[r, c] == label]
        colours = [int(grid[r, c]) for r, c in cells]
        colour = max(range(10), key=lambda k: (colours.count(k), -k))
        top, bottom = min(r for r, _ in cells), max(r for r, _ in cells)
        left, right = min(c for _, c in cells), max(c for _, c in cells)
        area = (bottom - top + 1) * (right - left + 1)
        boxes.append((area, top, left, bottom, right, colour if paint is None else paint))
    out = grid.copy()
    for _, top, left, bottom, right, colour in sorted(boxes, key=lambda box: -box[0]):
        for r, c in np.ndindex(bottom - top + 1, right - left + 1):
            if grid[top + r, left + c] == bg:
                out[top + r, left + c] = colour
    return out


def fill_regions_touching_naive(grid, colour):
    bg = commonest(grid)
    if colour == bg or not (grid == colour).any():
        return None
    labels, _ = label_naive(grid == bg, False)
    h, w = grid.shape
    touching = set()
    for (r, c), (dr, dc) in product(np.ndindex(h, w), SIDE_STEPS):
        if labels[r, c] and 0 <= r + dr < h and 0 <= c + dc < w and grid[r + dr, c + dc] == colour:
            touching.add(labels[r, c])
    out = grid.copy()
    for r, c in np.ndindex(grid.shape):
        if labels[r, c] in touching:
            out[r, c] = colour
    return out


def apply_stamps_naive(grid, bg, stamps):
    out = grid.copy()
    for colour, dr, dc, paint in stamps:
        for r, c in np.ndindex(grid.shape):
            y, x = r + dr, c + dc
            if (
                grid[r, c] == colour
                and 0 <= y < grid.shape[0]
                and 0 <= x < grid.shape[1]
                and grid[y, x] == bg
            ):
                out[y, x] = paint
    return out


def runs_naive(flags):
    """Index lists of the maximal runs of False flags."""
    runs, start = [], 0
    for is_separator, run in groupby(flags):
        length = len(list(run))
        if not is_separator:
            runs.append(list(range(start, start + length)))
        start += length
    return runs


def own_separator_naive(grid):
    """Of the colours whose full rows and columns cut the grid in two or more parts: one with no cell
    off its lines first, then the fewest cells, then the lowest colour."""
    h, w = grid.shape
    found = []
    for colour in sorted(set(grid.ravel().tolist())):
        full_rows = [r for r in range(h) if all(grid[r, c] == colour for c in range(w))]
        full_cols = [c for c in range(w) if all(grid[r, c] == colour for r in range(h))]
        rows = runs_naive([r in full_rows for r in range(h)])
        cols = runs_naive([c in full_cols for c in range(w)])
        if len(rows) * len(cols) >= 2:
            off_line = any(
                grid[r, c] == colour and r not in full_rows and c not in full_cols
                for r, c in np.ndindex(h, w)
            )
            found.append((off_line, int((grid == colour).sum()), colour))
    return min(found)[2] if found else None


def layout_naive(grid, splitter):
    """(row runs, column runs) of the parts, or None."""
    h, w = grid.shape
    if splitter[0] == "tiles":
        if h % splitter[1] or w % splitter[2] or (h, w) == splitter[1:]:
            return None
        splitter = ("blocks", h // splitter[1], w // splitter[2])
    if splitter[0] == "blocks":
        rows, cols = splitter[1], splitter[2]
        if h % rows or w % cols:
            return None
        bh, bw = h // rows, w // cols
        row_runs = [list(range(k * bh, (k + 1) * bh)) for k in range(rows)]
        col_runs = [list(range(k * bw, (k + 1) * bw)) for k in range(cols)]
    else:
        colour = own_separator_naive(grid) if splitter[1] == "any" else splitter[1]
        row_runs = runs_naive([all(grid[r, c] == colour for c in range(w)) for r in range(h)])
        col_runs = runs_naive([all(grid[r, c] == colour for r in range(h)) for c in range(w)])
        if len(row_runs) * len(col_runs) < 2:
            return None
    return row_runs, col_runs


def split_naive(grid, splitter):
    layout = layout_naive(grid, splitter)
    if layout is None:
        return None
    return [grid[np.ix_(rr, cc)] for rr in layout[0] for cc in layout[1]]


def fold_parts_naive(grid, splitter, bg):
    layout = layout_naive(grid, splitter)
    if layout is None or len(layout[0]) * len(layout[1]) != 2:
        return None
    first, second = split_naive(grid, splitter)
    if first.shape != second.shape:
        return None
    out = first.copy()
    for r, c in np.ndindex(first.shape):
        if first[r, c] == bg:
            out[r, c] = second[r, -1 - c] if len(layout[0]) == 1 else second[-1 - r, c]
    return out


def summarise_parts_naive(grid, splitter, bg, how):
    layout = layout_naive(grid, splitter)
    if layout is None:
        return None
    parts = split_naive(grid, splitter)
    out = np.zeros((len(layout[0]), len(layout[1])), np.uint8)
    for k, part in enumerate(parts):
        values = part.ravel().tolist()
        drawn = [v for v in values if v != bg]
        if how == "count":
            value = min(len(drawn), 9)
        elif how == "commonest":
            value = max(range(10), key=lambda v: (values.count(v), -v))
        else:
            value = max(range(10), key=lambda v: (drawn.count(v), -v)) if drawn else bg
        out[k // len(layout[1]), k % len(layout[1])] = value
    return out


def combine_masks_naive(grid, splitter, bg, rule):
    parts = split_naive(grid, splitter)
    if parts is None or any(p.shape != parts[0].shape for p in parts):
        return None
    out = np.zeros(parts[0].shape, np.uint8)
    for r, c in np.ndindex(out.shape):
        shows = [bool(p[r, c] != bg) for p in parts]
        out[r, c] = {
            "and": all(shows),
            "or": any(shows),
            "xor": shows.count(True) == 1,
            "nor": not any(shows),
            "first_only": shows[0] and shows.count(True) == 1,
            "last_only": shows[-1] and shows.count(True) == 1,
        }[rule]
    return out


def overlay_parts_naive(grid, splitter, bg, last_on_top):
    parts = split_naive(grid, splitter)
    if parts is None or any(p.shape != parts[0].shape for p in parts):
        return None
    order = parts[::-1] if last_on_top else parts
    out = np.full(parts[0].shape, bg, np.uint8)
    for r, c in np.ndindex(out.shape):
        for part in order:
            if part[r, c] != bg:
                out[r, c] = part[r, c]
                break
    return out


def select_part_naive(grid, splitter, bg, rule):
    parts = split_naive(grid, splitter)
    if parts is None:
        return None
    cells = [int((p != bg).sum()) for p in parts]
    colours = [len(set(p.ravel().tolist())) for p in parts]
    if rule == "first":
        return parts[0].copy()
    if rule.startswith("odd_"):
        keys = {
            "odd_one_out": [(p.shape, p.tolist()) for p in parts],
            "odd_mask_out": [(p.shape, (p != bg).tolist()) for p in parts],
            "odd_colours_out": [sorted(set(p.ravel().tolist())) for p in parts],
            "odd_symmetry_out": [
                (
                    p.tolist() == p[::-1].tolist(),
                    p.tolist() == p[:, ::-1].tolist(),
                    p.shape[0] == p.shape[1] and p.tolist() == p.T.tolist(),
                )
                for p in parts
            ],
        }[rule]
        unique = [k for k in range(len(parts)) if keys.count(keys[k]) == 1]
        return parts[unique[0]].copy() if len(unique) == 1 else None
    score = {"most_cells": cells, "most_colours": colours}.get(rule)
    score = score or [-x for x in (cells if rule == "fewest_cells" else colours)]
    best = [k for k in range(len(parts)) if score[k] == max(score)]
    return parts[best[0]].copy() if len(best) == 1 else None


def mirror_half_naive(grid, side):
    h, w = grid.shape
    out = grid.copy()
    for r, c in np.ndindex(grid.shape):
        if (side == "left" and c >= w - w // 2) or (side == "right" and c < w // 2):
            out[r, c] = grid[r, w - 1 - c]
        if (side == "top" and r >= h - h // 2) or (side == "bottom" and r < h // 2):
            out[r, c] = grid[h - 1 - r, c]
    return out


def mirror_sum_naive(grid, hidden):
    h, w = grid.shape
    scores = {}
    for s in range(2 * w - 1):
        cells = [(r, c) for r, c in np.ndindex(h, w) if c < s - c < w]
        cells = [(r, c) for r, c in cells if not hidden[r, c] and not hidden[r, s - c]]
        if cells and all(grid[r, c] == grid[r, s - c] for r, c in cells):
            scores[s] = (len(cells), -abs(s - (w - 1)), -s)
    return max(scores, key=scores.get) if scores else None


def smallest_period_naive(grid, hidden):
    for p in range(1, grid.shape[0]):
        pairs = np.ndindex(grid.shape[0] - p, grid.shape[1])
        if all(hidden[r, c] or hidden[r + p, c] or grid[r, c] == grid[r + p, c] for r, c in pairs):
            return p
    return grid.shape[0]


def complete_tiling_naive(grid, mask_colour, patch_only):
    hidden = grid == mask_colour
    if not hidden.any():
        return None
    pr, pc = smallest_period_naive(grid, hidden), smallest_period_naive(grid.T, hidden.T)
    seen: dict[tuple[int, int], set[int]] = {}
    for r, c in zip(*np.nonzero(~hidden), strict=True):
        seen.setdefault((r % pr, c % pc), set()).add(int(grid[r, c]))
    out = grid.copy()
    for r, c in zip(*np.nonzero(hidden), strict=True):
        shown = seen.get((r % pr, c % pc), set())
        if len(shown) != 1:
            return None
        out[r, c] = next(iter(shown))
    if any(len(s) > 1 for s in seen.values()):
        return None
    if not patch_only:
        return out
    rows, cols = np.nonzero(hidden)
    return out[rows.min() : rows.max() + 1, cols.min() : cols.max() + 1]


def neighbourhood_keys_naive(grid, keying, bg):
    """Exact: the neighbourhood's colours (10 outside) as base-11 digits; "_count": the cell's colour
    then how many neighbours are inside the grid and not background."""
    padded = np.pad(grid.astype(int), 1, constant_values=10)
    square = [(0, 0), (-1, 0), (1, 0), (0, -1), (0, 1), (-1, -1), (-1, 1), (1, -1), (1, 1)]
    size = {"cell": 1, "cross": 5, "square": 9}[keying.removesuffix("_count")]
    keys = []
    for r, c in np.ndindex(grid.shape):
        around = [int(padded[r + 1 + dr, c + 1 + dc]) for dr, dc in square[:size]]
        if keying.endswith("_count"):
            keys.append(around[0] * 11 + sum(1 for v in around[1:] if v not in (bg, 10)))
        else:
            keys.append(sum(v * 11 ** (size - 1 - k) for k, v in enumerate(around)))
    return np.array(keys, np.int64)


GROUP_IMAGES = {"lr": "lr", "ud": "ud", "lr_ud": "lr ud half", "rot180": "half", "transpose": "diagonal"}
GROUP_IMAGES["rot90"] = "quarter half three_quarter"
GROUP_IMAGES["dihedral"] = "lr ud half quarter three_quarter diagonal anti_diagonal"


# Each symmetry as the matrix (a, b, c, d) taking an offset (dr, dc) from the centre to
# (a dr + b dc, c dr + d dc); quarter turns are clockwise.
MATRICES = {"lr": (1, 0, 0, -1), "ud": (-1, 0, 0, 1), "half": (-1, 0, 0, -1), "quarter": (0, 1, -1, 0)}
MATRICES |= {"three_quarter": (0, -1, 1, 0), "diagonal": (0, 1, 1, 0), "anti_diagonal": (0, -1, -1, 0)}


def image_naive(kind, r, c, cr, cc):
    a, b, e, f = MATRICES[kind]
    return cr + a * (r - cr) + b * (c - cc), cc + e * (r - cr) + f * (c - cc)


def overlay_mirror_images_naive(grid, group):
    bg = commonest(grid)
    h, w = grid.shape
    cr, cc = (h - 1) / 2, (w - 1) / 2
    out = grid.copy()
    for kind in GROUP_IMAGES[group].split():
        for r, c in np.ndindex(grid.shape):
            y, x = image_naive(kind, r, c, cr, cc)
            if y != int(y) or x != int(x):
                return None
            y, x = int(y), int(x)
            if out[r, c] == bg and 0 <= y < h and 0 <= x < w and grid[y, x] != bg:
                out[r, c] = grid[y, x]
    return out
