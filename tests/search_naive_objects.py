"""Slow, obvious twins of the object, gravity and denoise primitives, written cell by cell from their
docstrings with plain Python lists and a breadth-first search. They share no code with
arcsolve.search, so comparing the two checks the definitions, not one implementation against itself.
"""

from __future__ import annotations

from collections import Counter, deque
from types import SimpleNamespace

import numpy as np


def commonest(grid) -> int:
    """The commonest colour, the lowest on ties."""
    counts = Counter(int(v) for v in np.asarray(grid).ravel())
    return min(counts, key=lambda colour: (-counts[colour], colour))


def neighbours(r, c, h, w, diagonal):
    for dr in (-1, 0, 1):
        for dc in (-1, 0, 1):
            if (dr, dc) == (0, 0) or (not diagonal and dr and dc):
                continue
            if 0 <= r + dr < h and 0 <= c + dc < w:
                yield r + dr, c + dc


def label_naive(grid, background, diagonal, multicolour):
    """Labels by breadth-first search from each unlabelled non-background cell in row-major order."""
    h, w = grid.shape
    labels = [[-1] * w for _ in range(h)]
    count = 0
    for r in range(h):
        for c in range(w):
            if grid[r, c] == background or labels[r][c] >= 0:
                continue
            labels[r][c] = count
            queue = deque([(r, c)])
            while queue:
                y, x = queue.popleft()
                for yy, xx in neighbours(y, x, h, w, diagonal):
                    joins = grid[yy, xx] != background and (multicolour or grid[yy, xx] == grid[y, x])
                    if joins and labels[yy][xx] < 0:
                        labels[yy][xx] = count
                        queue.append((yy, xx))
            count += 1
    return np.array(labels, dtype=np.int32).reshape(h, w), count


def background_naive(grid, reading) -> int:
    if reading.zero_background and 0 in grid.ravel().tolist():
        return 0
    return commonest(grid)


def commonest_reading(diagonal, multicolour):
    """A reading over the commonest colour (what gravity's objects use)."""
    return SimpleNamespace(diagonal=diagonal, multicolour=multicolour, zero_background=False)


def objects_naive(grid, reading):
    """A list of objects, each a dict of its cells (sorted), colours, box and border contact."""
    h, w = grid.shape
    labels, count = label_naive(grid, background_naive(grid, reading), reading.diagonal, reading.multicolour)
    found = []
    for k in range(count):
        cells = [(r, c) for r in range(h) for c in range(w) if labels[r, c] == k]
        rows = [r for r, _ in cells]
        cols = [c for _, c in cells]
        top, left = min(rows), min(cols)
        found.append(
            {
                "cells": cells,
                "colours": {int(grid[r, c]) for r, c in cells},
                "colour_of": {(r, c): int(grid[r, c]) for r, c in cells},
                "box": (top, left, max(rows) + 1, max(cols) + 1),
                "border": any(r in (0, h - 1) or c in (0, w - 1) for r, c in cells),
                "shape": (
                    max(rows) + 1 - top,
                    max(cols) + 1 - left,
                    frozenset((r - top, c - left) for r, c in cells),
                ),
            }
        )
    return found


def stats_naive(grid, reading):
    """Rows of (size, top, left, bottom, right, colour or -1, border) per object."""
    rows = []
    for obj in objects_naive(grid, reading):
        colour = next(iter(obj["colours"])) if len(obj["colours"]) == 1 else -1
        rows.append([len(obj["cells"]), *obj["box"], colour, int(obj["border"])])
    return np.array(rows, dtype=np.int64).reshape(-1, 7)


def _only(indices):
    return indices[0] if len(indices) == 1 else None


def _unique_best(values):
    if not values:
        return None
    return _only([k for k, v in enumerate(values) if v == max(values)])


def _unique_value(values, skip=None):
    counts = Counter(values)
    return _only([k for k, v in enumerate(values) if counts[v] == 1 and v != skip])


def is_mirror_symmetric(obj) -> bool:
    top, left, bottom, right = obj["box"]
    cells = obj["colour_of"]
    return all(
        cells.get((r, c)) == cells.get((r, left + right - 1 - c))
        for r in range(top, bottom)
        for c in range(left, right)
    )


def _reached_from_outside(obj) -> set:
    """The cells of the object's box and its one-cell frame that a 4-connected flood from outside the
    box reaches through cells not in the object."""
    top, left, bottom, right = obj["box"]
    cells = set(obj["cells"])
    start = (top - 1, left - 1)
    reached, queue = {start}, deque([start])
    while queue:
        r, c = queue.popleft()
        for rr, cc in ((r + 1, c), (r - 1, c), (r, c + 1), (r, c - 1)):
            inside_frame = top - 1 <= rr <= bottom and left - 1 <= cc <= right
            if inside_frame and (rr, cc) not in cells and (rr, cc) not in reached:
                reached.add((rr, cc))
                queue.append((rr, cc))
    return reached


def has_hole(obj) -> bool:
    """Flood from outside the object's box, through cells not in the object; any such cell of the
    box left unreached is a hole."""
    top, left, bottom, right = obj["box"]
    cells, reached = set(obj["cells"]), _reached_from_outside(obj)
    return any(
        (r, c) not in cells and (r, c) not in reached for r in range(top, bottom) for c in range(left, right)
    )


def hole_count(obj) -> int:
    """Regions (4-connected) of the box's cells outside the object that the flood from outside the
    box does not reach."""
    top, left, bottom, right = obj["box"]
    free = {(r, c) for r in range(top, bottom) for c in range(left, right)} - set(obj["cells"])
    holes, regions = free - _reached_from_outside(obj), 0
    while holes:
        regions += 1
        queue = deque([holes.pop()])
        while queue:
            r, c = queue.popleft()
            for near in ((r + 1, c), (r - 1, c), (r, c + 1), (r, c - 1)):
                if near in holes:
                    holes.discard(near)
                    queue.append(near)
    return regions


def is_marked(obj, objs) -> bool:
    """Several cells, one of them next to a one-cell object."""
    markers = {o["cells"][0] for o in objs if o is not obj and len(o["cells"]) == 1}
    near = {(r + dr, c + dc) for r, c in obj["cells"] for dr in (-1, 0, 1) for dc in (-1, 0, 1)}
    return len(obj["cells"]) > 1 and bool(markers & near)


def _most_spots(objs):
    """Per object, its cells not of its commonest colour; the unique most, if any has one."""
    spots = []
    for o in objs:
        colours = Counter(o["colour_of"][cell] for cell in o["cells"])
        spots.append(len(o["cells"]) - max(colours.values()))
    return _unique_best(spots) if spots and max(spots) > 0 else None


def select_naive(objs, rule):
    sizes = [len(o["cells"]) for o in objs]
    shapes = [o["shape"] for o in objs]
    if rule == "commonest_shape":
        counts = Counter(shapes)
        top = sorted(counts.values(), reverse=True)
        if not top or top[0] < 2 or (len(top) > 1 and top[1] == top[0]):
            return None
        return next(k for k, s in enumerate(shapes) if counts[s] == top[0])
    choices = {
        "largest": lambda: _unique_best(sizes),
        "smallest": lambda: _unique_best([-s for s in sizes]),
        "unique_colour": lambda: _unique_value(
            [min(o["colours"]) if len(o["colours"]) == 1 else -1 for o in objs], -1
        ),
        "unique_size": lambda: _unique_value(sizes),
        "unique_shape": lambda: _unique_value(shapes),
        "touching_border": lambda: _only([k for k, o in enumerate(objs) if o["border"]]),
        "inside": lambda: _only([k for k, o in enumerate(objs) if not o["border"]]),
        "topmost": lambda: _unique_best([-o["box"][0] for o in objs]),
        "leftmost": lambda: _unique_best([-o["box"][1] for o in objs]),
        "bottommost": lambda: _unique_best([o["box"][2] for o in objs]),
        "rightmost": lambda: _unique_best([o["box"][3] for o in objs]),
        "symmetric": lambda: _only([k for k, o in enumerate(objs) if is_mirror_symmetric(o)]),
        "asymmetric": lambda: _only([k for k, o in enumerate(objs) if not is_mirror_symmetric(o)]),
        "marked": lambda: _only([k for k, o in enumerate(objs) if is_marked(o, objs)]),
        "with_hole": lambda: _only([k for k, o in enumerate(objs) if has_hole(o)]),
        "most_colours": lambda: _unique_best([len(o["colours"]) for o in objs]),
        "fewest_colours": lambda: _unique_best([-len(o["colours"]) for o in objs]),
        "most_spots": lambda: _most_spots(objs),
        "largest_box": lambda: _unique_best(
            [(o["box"][2] - o["box"][0]) * (o["box"][3] - o["box"][1]) for o in objs]
        ),
    }
    return choices[rule]()


def object_action_naive(grid, reading, select, action, colour=0):
    """crop / crop_alone / crop_inside / keep / erase / recolour the picked object, cell by cell."""
    objs = objects_naive(grid, reading)
    k = select_naive(objs, select)
    if k is None:
        return None
    background = background_naive(grid, reading)
    cells = set(objs[k]["cells"])
    top, left, bottom, right = objs[k]["box"]
    h, w = grid.shape
    out = [[int(grid[r, c]) for c in range(w)] for r in range(h)]
    for r in range(h):
        for c in range(w):
            if action == "keep" and (r, c) not in cells:
                out[r][c] = background
            if action == "erase" and (r, c) in cells:
                out[r][c] = background
            if action == "recolour" and (r, c) in cells:
                out[r][c] = colour
            if action == "crop_alone" and (r, c) not in cells:
                out[r][c] = background
    if action in ("crop", "crop_alone"):
        out = [row[left:right] for row in out[top:bottom]]
    if action == "crop_inside":
        if bottom - top < 3 or right - left < 3:
            return None
        out = [row[left + 1 : right - 1] for row in out[top + 1 : bottom - 1]]
    return np.array(out, dtype=np.uint8)


def paint_naive(grid, reading, value_of):
    """0 everywhere, value_of(object, all objects) on each object's cells; None past 9."""
    objs = objects_naive(grid, reading)
    out = np.zeros(grid.shape, np.uint8)
    for obj in objs:
        value = value_of(obj, objs)
        if value > 9:
            return None
        for r, c in obj["cells"]:
            out[r, c] = value
    return out


def size_rank_naive(obj, objs):
    bigger = {len(o["cells"]) for o in objs if len(o["cells"]) > len(obj["cells"])}
    return len(bigger) + 1


def drop_small_naive(grid, reading, min_size):
    out = grid.copy()
    for obj in objects_naive(grid, reading):
        if len(obj["cells"]) < min_size:
            for r, c in obj["cells"]:
                out[r, c] = background_naive(grid, reading)
    return out


def fall_naive(grid, side):
    """Move cells one step toward the side while the next cell is background, until nothing moves."""
    background = commonest(grid)
    out = grid.copy()
    dr, dc = {"down": (1, 0), "up": (-1, 0), "left": (0, -1), "right": (0, 1)}[side]
    h, w = grid.shape
    moved = True
    while moved:
        moved = False
        for r in range(h):
            for c in range(w):
                rr, cc = r + dr, c + dc
                if 0 <= rr < h and 0 <= cc < w and out[r, c] != background and out[rr, cc] == background:
                    out[rr, cc], out[r, c] = out[r, c], background
                    moved = True
    return out


def specks_naive(grid, diagonal, to_majority):
    background = commonest(grid)
    h, w = grid.shape
    out = grid.copy()
    for r in range(h):
        for c in range(w):
            around = [int(grid[y, x]) for y, x in neighbours(r, c, h, w, diagonal)]
            if int(grid[r, c]) in around:
                continue
            if to_majority and around:
                counts = Counter(around)
                out[r, c] = min(counts, key=lambda colour: (-counts[colour], colour))
            elif not to_majority:
                out[r, c] = background
    return out


def keep_blocks_naive(grid):
    h, w = grid.shape
    out = np.full(grid.shape, commonest(grid), np.uint8)
    for r in range(h - 1):
        for c in range(w - 1):
            if grid[r, c] == grid[r + 1, c] == grid[r, c + 1] == grid[r + 1, c + 1]:
                for y, x in ((r, c), (r + 1, c), (r, c + 1), (r + 1, c + 1)):
                    out[y, x] = grid[y, x]
    return out


def gaps_naive(mask):
    h, w = mask.shape
    gaps = np.full((4, h, w), h + w, np.int64)
    for r in range(h):
        for c in range(w):
            for d, (dr, dc) in enumerate(((1, 0), (-1, 0), (0, -1), (0, 1))):
                step = 1
                while 0 <= r + dr * step < h and 0 <= c + dc * step < w:
                    if mask[r + dr * step, c + dc * step]:
                        gaps[d, r, c] = step - 1
                        break
                    step += 1
    return gaps


def restore_pattern_naive(grid, noise):
    """Try periods by area then height; the first on which the non-noise cells agree and that
    covers every residue class fills the noise cells."""
    h, w = grid.shape
    for area in range(1, h * w):
        for rows in range(1, h + 1):
            if area % rows or area // rows > w:
                continue
            cols = area // rows
            values = {}
            ok = True
            for r in range(h):
                for c in range(w):
                    if (
                        grid[r, c] != noise
                        and values.setdefault((r % rows, c % cols), grid[r, c]) != grid[r, c]
                    ):
                        ok = False
            if ok and len(values) == rows * cols:
                return np.array(
                    [[values[(r % rows, c % cols)] for c in range(w)] for r in range(h)], np.uint8
                )
    return None


def drop_down_naive(grid, diagonal, multicolour):
    """Objects, lowest bottom row first (ties in labelling order), each stepped down one row at a
    time while every cell's next place is inside the grid and not taken by a settled object."""
    background = commonest(grid)
    h, w = grid.shape
    objs = objects_naive(grid, commonest_reading(diagonal, multicolour))
    order = sorted(range(len(objs)), key=lambda k: -objs[k]["box"][2])
    settled = set()
    out = np.full(grid.shape, background, np.uint8)
    for k in order:
        cells = objs[k]["cells"]
        shift = 0
        while all(r + shift + 1 < h and (r + shift + 1, c) not in settled for r, c in cells):
            shift += 1
        for r, c in cells:
            out[r + shift, c] = grid[r, c]
            settled.add((r + shift, c))
    return out


def slide_to_anchor_naive(grid, anchors):
    colours = grid.ravel().tolist()
    if not any(a in colours for a in anchors):
        return None
    background = commonest(grid)
    moving = np.array([[background if v in anchors else v for v in row] for row in grid.tolist()], np.uint8)
    h, w = grid.shape
    labels, count = label_naive(moving, background, True, True)
    out = grid.copy()
    for r in range(h):
        for c in range(w):
            if labels[r, c] >= 0:
                out[r, c] = background
    for k in range(count):
        cells = [(r, c) for r in range(h) for c in range(w) if labels[r, c] == k]
        reach = []
        for dr, dc in ((1, 0), (-1, 0), (0, -1), (0, 1)):
            steps = None
            for step in range(h + w):
                hit = any(
                    0 <= r + dr * (step + 1) < h
                    and 0 <= c + dc * (step + 1) < w
                    and grid[r + dr * (step + 1), c + dc * (step + 1)] in anchors
                    for r, c in cells
                )
                if hit:
                    steps = step
                    break
            reach.append((steps, dr, dc))
        found = [item for item in reach if item[0] is not None]
        if not found:
            for r, c in cells:
                out[r, c] = grid[r, c]
            continue
        best = min(item[0] for item in found)
        if sum(item[0] == best for item in found) > 1:
            return None
        _, dr, dc = next(item for item in found if item[0] == best)
        for r, c in cells:
            out[r + dr * best, c + dc * best] = grid[r, c]
    return out


def paint_cells_naive(grid, colour, chosen):
    """The grid with the cells chosen(r, c) picks in the colour; None when it picks none."""
    h, w = grid.shape
    cells = [(r, c) for r in range(h) for c in range(w) if chosen(r, c)]
    out = grid.copy()
    for r, c in cells:
        out[r, c] = colour
    return out if cells else None


def fill_enclosed_naive(grid, colour, reading):
    """Flood the background from every border cell (4-connected); the background cells not reached
    take the colour."""
    background = background_naive(grid, reading)
    h, w = grid.shape
    queue = deque(
        (r, c)
        for r in range(h)
        for c in range(w)
        if (r in (0, h - 1) or c in (0, w - 1)) and grid[r, c] == background
    )
    reached = set(queue)
    while queue:
        r, c = queue.popleft()
        for y, x in neighbours(r, c, h, w, False):
            if grid[y, x] == background and (y, x) not in reached:
                reached.add((y, x))
                queue.append((y, x))
    return paint_cells_naive(grid, colour, lambda r, c: grid[r, c] == background and (r, c) not in reached)


def inner_naive(grid, colour, reading):
    """Non-background cells with a full set of neighbours, all of their own colour."""
    background = background_naive(grid, reading)
    h, w = grid.shape

    def inner(r, c):
        around = list(neighbours(r, c, h, w, reading.diagonal))
        full = len(around) == (8 if reading.diagonal else 4)
        return grid[r, c] != background and full and all(grid[y, x] == grid[r, c] for y, x in around)

    return paint_cells_naive(grid, colour, inner)


def surround_naive(grid, colour, reading):
    """Background cells with a non-background neighbour."""
    background = background_naive(grid, reading)
    h, w = grid.shape
    return paint_cells_naive(
        grid,
        colour,
        lambda r, c: (
            grid[r, c] == background
            and any(grid[y, x] != background for y, x in neighbours(r, c, h, w, reading.diagonal))
        ),
    )


def restore_symmetry_naive(grid, noise):
    """Try each mirror (left-right and top-bottom about axes near the middle, both diagonals of a
    square grid) whose image covers at least half the grid: if every non-noise cell with a
    non-noise image equals it (and there is one), fill still-hidden noise cells from it."""
    h, w = grid.shape
    if noise not in grid.ravel().tolist():
        return None
    mirrors = [lambda r, c, a=a: (r, a - c) for a in range(w - 1 - w // 2, w + w // 2)]
    mirrors += [lambda r, c, b=b: (b - r, c) for b in range(h - 1 - h // 2, h + h // 2)]
    if h == w:
        mirrors += [lambda r, c: (c, r), lambda r, c: (h - 1 - c, w - 1 - r)]
    out = grid.copy()
    for mirror in mirrors:
        images = {}
        for r in range(h):
            for c in range(w):
                rr, cc = mirror(r, c)
                if 0 <= rr < h and 0 <= cc < w:
                    images[(r, c)] = int(grid[rr, cc])
        if 2 * len(images) < h * w:
            continue
        pairs = [(int(grid[r, c]), v) for (r, c), v in images.items() if grid[r, c] != noise and v != noise]
        if not pairs or any(a != b for a, b in pairs):
            continue
        for (r, c), v in images.items():
            if out[r, c] == noise and v != noise:
                out[r, c] = v
    return None if noise in out.ravel().tolist() else out
