"""Slow, obvious plain-Python references for the Sudoku and maze generators.

Nothing here imports the numba kernels: the tests check the kernels' outputs against these, and
benchmarks/generators_bench.py times the naive generators against the numba ones.
"""

from __future__ import annotations

import random
from collections import deque


def box_of(r: int, c: int) -> int:
    return (r // 3) * 3 + c // 3


UNITS = (
    [[r * 9 + c for c in range(9)] for r in range(9)]
    + [[r * 9 + c for r in range(9)] for c in range(9)]
    + [[r * 9 + c for r in range(9) for c in range(9) if box_of(r, c) == b] for b in range(9)]
)


def sudoku_is_valid_solution(grid: list[int]) -> bool:
    """Every row, column and box holds the digits 1..9 once."""
    if len(grid) != 81 or any(not 1 <= d <= 9 for d in grid):
        return False
    return all(sorted(grid[i] for i in unit) == list(range(1, 10)) for unit in UNITS)


def _candidates(grid: list[int], cell: int) -> set[int]:
    r, c = divmod(cell, 9)
    seen = set(grid[r * 9 : r * 9 + 9]) | set(grid[c::9])
    br, bc = r - r % 3, c - c % 3
    seen |= {grid[(br + i) * 9 + bc + j] for i in range(3) for j in range(3)}
    return set(range(1, 10)) - seen


def sudoku_count(puzzle, limit: int = 2, rng: random.Random | None = None) -> tuple[int, list[int] | None]:
    """(number of solutions capped at `limit`, the first one found): plain backtracking that fills the
    empty cell with the fewest candidates; digits in increasing order, or shuffled when `rng` is given."""
    grid = [int(d) for d in puzzle]
    for cell, d in enumerate(grid):
        if d:
            grid[cell] = 0
            if d not in _candidates(grid, cell):
                return 0, None
            grid[cell] = d
    found: list[list[int]] = []

    def search() -> None:
        empty = [cell for cell in range(81) if grid[cell] == 0]
        if not empty:
            found.append(list(grid))
            return
        options = {cell: _candidates(grid, cell) for cell in empty}
        cell = min(empty, key=lambda e: len(options[e]))
        digits = sorted(options[cell])
        if rng is not None:
            rng.shuffle(digits)
        for d in digits:
            grid[cell] = d
            search()
            if len(found) >= limit:
                break
        grid[cell] = 0

    search()
    return len(found), (found[0] if found else None)


def _singles(grid: list[int]) -> bool:
    """Fill naked and hidden singles until nothing changes; False on a contradiction."""
    changed = True
    while changed:
        changed = False
        for cell in range(81):
            if grid[cell] == 0:
                options = _candidates(grid, cell)
                if not options:
                    return False
                if len(options) == 1:
                    grid[cell] = options.pop()
                    changed = True
        for unit in UNITS:
            for d in range(1, 10):
                if any(grid[i] == d for i in unit):
                    continue
                places = [i for i in unit if grid[i] == 0 and d in _candidates(grid, i)]
                if not places:
                    return False
                if len(places) == 1:
                    grid[places[0]] = d
                    changed = True
    return True


def sudoku_rate(puzzle, limit: int = 2) -> tuple[int, int]:
    """(solutions capped at `limit`, guesses) with the documented rating strategy: singles to a fixed
    point, branch on the first empty cell with the fewest candidates, digits in increasing order,
    every digit tried at a branch counts as one guess."""
    grid = [int(d) for d in puzzle]
    for cell, d in enumerate(grid):
        if d:
            grid[cell] = 0
            if d not in _candidates(grid, cell):
                return 0, 0
            grid[cell] = d
    tally = {"count": 0, "guesses": 0}

    def search(grid: list[int]) -> None:
        if not _singles(grid):
            return
        empty = [cell for cell in range(81) if grid[cell] == 0]
        if not empty:
            tally["count"] += 1
            return
        cell = min(empty, key=lambda e: len(_candidates(grid, e)))
        for d in sorted(_candidates(grid, cell)):
            if tally["count"] >= limit:
                return
            tally["guesses"] += 1
            child = list(grid)
            child[cell] = d
            search(child)

    search(grid)
    return tally["count"], tally["guesses"]


def naive_sudoku_attempt(rng: random.Random, dig_target: int) -> tuple[list[int], list[int], int]:
    """One generation attempt: a random complete grid, then cells blanked in random order while the
    solution stays unique, up to `dig_target` blanks. Returns (puzzle, solution, blanks)."""
    _, solution = sudoku_count([0] * 81, limit=1, rng=rng)
    puzzle = list(solution)
    blanks = 0
    order = list(range(81))
    rng.shuffle(order)
    for cell in order:
        if blanks >= dig_target:
            break
        digit, puzzle[cell] = puzzle[cell], 0
        if sudoku_count(puzzle, limit=2)[0] == 1:
            blanks += 1
        else:
            puzzle[cell] = digit
    return puzzle, solution, blanks


def maze_bfs(grid: list[list[int]], start: tuple[int, int], wall: int = 1) -> dict[tuple[int, int], int]:
    """Shortest number of moves from `start` to every reachable non-wall cell (4-neighbour)."""
    dist = {start: 0}
    queue = deque([start])
    while queue:
        r, c = queue.popleft()
        for rr, cc in ((r - 1, c), (r + 1, c), (r, c - 1), (r, c + 1)):
            inside = 0 <= rr < len(grid) and 0 <= cc < len(grid[0])
            if inside and grid[rr][cc] != wall and (rr, cc) not in dist:
                dist[(rr, cc)] = dist[(r, c)] + 1
                queue.append((rr, cc))
    return dist


def maze_shortest_path_counts(grid: list[list[int]], start, wall: int = 1) -> dict[tuple[int, int], int]:
    """How many distinct shortest paths lead from `start` to each reachable cell."""
    dist = maze_bfs(grid, start, wall)
    ways = {start: 1}
    for cell in sorted(dist, key=dist.get)[1:]:
        r, c = cell
        ways[cell] = sum(
            ways.get(nb, 0)
            for nb in ((r - 1, c), (r + 1, c), (r, c - 1), (r, c + 1))
            if dist.get(nb, -2) == dist[cell] - 1
        )
    return ways


def naive_generate_maze(rng: random.Random, size: int, min_path: int) -> tuple[list[list[str]], int]:
    """A maze as rows of '# SG' characters plus its shortest path length, the same recipe as the
    kernel in plain Python: depth-first perfect maze on a node lattice, a few extra openings, S random,
    G random among cells at distance >= min_path with a unique shortest path."""
    while True:
        rows = [["#"] * size for _ in range(size)]
        off_r = rng.randint(0, 1) if size % 2 == 0 else 0
        off_c = rng.randint(0, 1) if size % 2 == 0 else 0
        nr, nc = (size - off_r + 1) // 2, (size - off_c + 1) // 2
        node = (rng.randrange(nr), rng.randrange(nc))
        visited, stack = {node}, [node]
        rows[off_r + 2 * node[0]][off_c + 2 * node[1]] = " "
        while stack:
            r, c = stack[-1]
            options = [
                (dr, dc)
                for dr, dc in ((-1, 0), (1, 0), (0, -1), (0, 1))
                if 0 <= r + dr < nr and 0 <= c + dc < nc and (r + dr, c + dc) not in visited
            ]
            if not options:
                stack.pop()
                continue
            dr, dc = rng.choice(options)
            visited.add((r + dr, c + dc))
            stack.append((r + dr, c + dc))
            rows[off_r + 2 * r + dr][off_c + 2 * c + dc] = " "
            rows[off_r + 2 * (r + dr)][off_c + 2 * (c + dc)] = " "
        for _ in range(rng.randint(0, int(0.05 * nr * nc))):
            r, c = rng.randrange(nr), rng.randrange(nc)
            dr, dc = rng.choice(((-1, 0), (1, 0), (0, -1), (0, 1)))
            if 0 <= r + dr < nr and 0 <= c + dc < nc:
                rows[off_r + 2 * r + dr][off_c + 2 * c + dc] = " "
        grid = [[1 if ch == "#" else 2 for ch in row] for row in rows]
        open_cells = [(r, c) for r in range(size) for c in range(size) if grid[r][c] != 1]
        start = rng.choice(open_cells)
        dist = maze_bfs(grid, start)
        ways = maze_shortest_path_counts(grid, start)
        goals = [cell for cell, d in dist.items() if d >= min_path and ways[cell] == 1]
        if goals:
            goal = rng.choice(goals)
            rows[start[0]][start[1]] = "S"
            rows[goal[0]][goal[1]] = "G"
            return rows, dist[goal]
