"""Product of experts over the TTA views: a candidate grid's score is its log-probability summed over views.

Each view v of a test input is the input under an augmentation a_v (dihedral map, colour map; at
offset (0, 0), which is how `arcsolve.predict.views` places every view). The model's last ACT step
gives, for every canvas cell, a distribution over the 12 tokens. A candidate grid c (original frame)
is, seen from view v, the canvas encoding of a_v(c) exactly as the dataset builder encodes an output
(`arcsolve.augment.encoding`): colour tokens after v's colour map at the cells v's dihedral map puts
them, EOS below and right of the grid, PAD elsewhere. Its score under v is the sum of the
log-probabilities of those tokens, and its product-of-experts score is the sum over the stored views:

    score(c) = sum_v sum_{p in P(c, v)} log p_v(p, token_v(c)[p])

P(c, v) is every cell whose token the training loss scores, i.e. every non-PAD cell of the encoding
(`arcsolve.model.losses.valid_label_mask`: PAD labels are ignored, so the model was never taught
to say PAD and its PAD probabilities carry no information; counting them would reward or punish a
shape by its number of PAD cells). `PoeScoring(count_pad=True)` scores every cell instead (the literal
reading).
The log-probabilities are those the model was trained under: log-stablemax or log-softmax per
`ModelConfig.loss` (`arcsolve.model.losses`).

`ViewStore` keeps them, float16 [canvas^2, 12] per view, for the first `max_views` views of each test
input: views are rank-major (`arcsolve.predict.views`), so these are its identity view and its first
random ones. Memory: at most max_views x canvas^2 x 12 x 2 bytes per test input (0.69 MB at 32 views
on a 30x30 canvas), all inputs at once, whatever --tta.

`argmax_candidates` adds, for a shape (h, w), the grid that maximises the score among all grids of
that shape: the score splits into one term per cell plus terms that depend on the shape only, so the
per-cell argmax (over colours, in the original frame) of the summed log-probabilities is it.
No single view need have produced that grid.
"""

from __future__ import annotations

from collections.abc import Hashable, Sequence
from dataclasses import dataclass

import numpy as np
import torch
import torch.nn.functional as F

from arcsolve.augment import dihedral_transform, encode_views, pack_grids
from arcsolve.constants import ARC_VOCAB_SIZE, COLOR_OFFSET, NUM_COLORS, PAD_TOKEN
from arcsolve.model.losses import log_stablemax
from arcsolve.predict.views import ViewPlan

# float16 keeps 11 significant bits: a cell's log-probability is off by at most 2^-11 of itself.
STORE_DTYPE = np.float16
# Log-probabilities are clipped here before the cast, so float16 never rounds one to -inf.
LOG_PROB_FLOOR = -60000.0


def view_log_probs(logits: torch.Tensor, loss: str = "stablemax") -> np.ndarray:
    """(B, L, V) logits -> (B, L, V) log-probabilities as the model was trained (`ModelConfig.loss`),
    float16 on the CPU."""
    if loss == "stablemax":
        logprobs = log_stablemax(logits.to(torch.float64))
    else:
        logprobs = F.log_softmax(logits.float(), dim=-1)
    return logprobs.clamp_min(LOG_PROB_FLOOR).to(torch.float16).cpu().numpy()


@dataclass(frozen=True)
class StoredViews:
    """The stored views of one test input, in view order (identity first)."""

    logprobs: np.ndarray  # float [m, L, V]
    dihedrals: np.ndarray  # int64 [m]
    colour_maps: np.ndarray  # uint8 [m, 10]

    def __len__(self) -> int:
        return int(self.dihedrals.shape[0])

    @property
    def canvas(self) -> int:
        side = int(round(self.logprobs.shape[1] ** 0.5))
        assert side * side == self.logprobs.shape[1], "a view's cells do not fill a square canvas"
        return side


class ViewStore:
    """Per test input (any hashable key), the log-probabilities of its first `max_views` views.

    With `keys` (every input that will get views) and `cells`, one zero-filled float16 buffer
    [inputs, max_views, cells, vocab] is reserved at once (`store_for_plan`): the OS maps its pages
    only as they are written, so it never holds more than the bound, and in one block. Keeping each
    batch's own array instead (a first version) interleaved long-lived blocks with the model's
    temporaries, and allocator fragmentation raised predict's peak RSS by 1.1 GB where the bound was
    0.29 GB (415 inputs, 32 views, 30x30 canvas; benchmarks/predict_bench.py rss). Without `keys`,
    each key gets a block of its own on its first view.
    """

    def __init__(
        self,
        max_views: int,
        keys: Sequence[Hashable] | None = None,
        cells: int = 0,
        vocab: int = ARC_VOCAB_SIZE,
    ) -> None:
        if max_views < 1:
            raise ValueError(f"max_views must be >= 1, got {max_views}")
        self.max_views = max_views
        self._blocks: dict[Hashable, np.ndarray] = {}  # key -> [max_views, cells, vocab]
        self._meta: dict[Hashable, list[tuple[int, np.ndarray]]] = {}  # key -> (dihedral, colour map)
        self._bytes = 0
        if keys is not None:
            keys = list(dict.fromkeys(keys))
            buffer = np.zeros((len(keys), max_views, cells, vocab), dtype=STORE_DTYPE)
            self._blocks = {key: buffer[i] for i, key in enumerate(keys)}

    def add(self, key: Hashable, logprobs: np.ndarray, dihedral: int, colour_map: np.ndarray) -> bool:
        """Keep (copy) one view of `key` unless it already has `max_views`; return whether it was kept."""
        meta = self._meta.setdefault(key, [])
        if len(meta) >= self.max_views:
            return False
        block = self._blocks.get(key)
        if block is None:
            block = self._blocks[key] = np.empty((self.max_views, *logprobs.shape), dtype=STORE_DTYPE)
        block[len(meta)] = logprobs
        meta.append((int(dihedral), np.asarray(colour_map, dtype=np.uint8)))
        self._bytes += block[0].nbytes
        return True

    def add_rows(
        self, keys: Sequence[Hashable], logprobs: np.ndarray, dihedrals: np.ndarray, colour_maps: np.ndarray
    ) -> int:
        """`add` row k of `logprobs` (float16 [n, L, V]) under keys[k], in order; return how many were kept."""
        kept = 0
        for k, key in enumerate(keys):
            kept += self.add(key, logprobs[k], int(dihedrals[k]), colour_maps[k])
        return kept

    def views(self, key: Hashable, limit: int | None = None) -> StoredViews | None:
        """The views stored for `key`, the first `limit` of them if given (None when it has none).
        The log-probabilities are the store's own memory, not a copy."""
        meta = self._meta.get(key, [])[:limit]
        if not meta:
            return None
        return StoredViews(
            logprobs=self._blocks[key][: len(meta)],
            dihedrals=np.array([d for d, _ in meta], dtype=np.int64),
            colour_maps=np.stack([m for _, m in meta]),
        )

    def count(self, key: Hashable) -> int:
        return len(self._meta.get(key, ()))

    def drop(self, key: Hashable) -> None:
        """Forget `key`'s views (after ranking it); a block of its own is freed."""
        meta = self._meta.pop(key, [])
        block = self._blocks.pop(key, None)
        if block is not None:
            self._bytes -= len(meta) * block[0].nbytes

    @property
    def nbytes(self) -> int:
        """Bytes of log-probabilities written and held now."""
        return self._bytes


def store_for_plan(plan: ViewPlan, task_ids: Sequence[str], max_views: int, canvas: int) -> ViewStore:
    """A store with one slot per test input that has views in `plan`, keyed (task id, test index)."""
    first = plan.rank == 0
    cells = zip(plan.task_index[first].tolist(), plan.test_index[first].tolist(), strict=True)
    keys = [(task_ids[t], i) for t, i in cells]
    return ViewStore(max_views, keys, canvas * canvas)


def bound_bytes(max_views: int, canvas: int, test_inputs: int) -> int:
    """The most a `ViewStore` can hold for `test_inputs` inputs: max_views x canvas^2 x 12 x 2 bytes each."""
    return max_views * canvas * canvas * ARC_VOCAB_SIZE * np.dtype(STORE_DTYPE).itemsize * test_inputs


@dataclass(frozen=True)
class PoeScoring:
    """How `score_candidates` turns a view's log-probabilities into a candidate's score.

    The default is the module docstring's score. `count_pad` scores the PAD cells too. `per_cell`
    divides each view's sum by the number of cells it scores (the same under every view): a mean
    log-probability per cell, so a larger grid is not penalised for having more cells to get wrong;
    grids of one shape keep their order, so the argmax grids are unchanged. `floor` raises each
    cell's log-probability to at least that value: a view confidently wrong about a cell then costs
    no more than `floor` there (a product of experts is not robust to such views).
    """

    count_pad: bool = False
    per_cell: bool = False
    floor: float | None = None


DEFAULT_SCORING = PoeScoring()  # what predict --rank poe|hybrid uses


def score_candidates(
    views: StoredViews, candidates: Sequence[np.ndarray], scoring: PoeScoring = DEFAULT_SCORING
) -> np.ndarray:
    """Product-of-experts score (float64 [K]) of each candidate grid (original frame) over `views`,
    computed as `scoring` says.

    Each (candidate, view) target is encoded by the augmentation kernel the dataset builder uses, and
    its tokens' log-probabilities are gathered from the view's. A candidate that does not fit the
    canvas under some view scores -inf; a NaN sum scores -inf too.
    """
    scores = np.full(len(candidates), -np.inf)
    if not len(candidates) or not len(views):
        return scores
    canvas = views.canvas
    fits = [k for k, c in enumerate(candidates) if max(np.shape(c)) <= canvas]
    if not fits:
        return scores
    m, cells, vocab = views.logprobs.shape
    packed = pack_grids([candidates[k] for k in fits])
    grid_index = np.repeat(np.arange(len(fits), dtype=np.int64), m)
    view_index = np.tile(np.arange(m, dtype=np.int64), len(fits))
    tokens = encode_views(
        packed,
        views.dihedrals,
        views.colour_maps,
        grid_index,
        view_index,
        np.zeros((len(grid_index), 2), dtype=np.int64),
        canvas,
    )  # [F*m, L]
    flat = np.ascontiguousarray(views.logprobs).reshape(-1)
    where = (view_index[:, None] * cells + np.arange(cells)) * vocab + tokens
    picked = flat[where].astype(np.float64)
    scored = np.ones(tokens.shape, dtype=bool) if scoring.count_pad else tokens != PAD_TOKEN
    if scoring.floor is not None:
        picked = np.maximum(picked, scoring.floor)
    picked[~scored] = 0.0
    per_view = picked.sum(axis=1)
    if scoring.per_cell:
        per_view = per_view / np.maximum(scored.sum(axis=1), 1)
    sums = per_view.reshape(len(fits), m).sum(axis=1)
    scores[fits] = np.where(np.isnan(sums), -np.inf, sums)
    return scores


def cell_positions(height: int, width: int, dihedral: int, canvas: int) -> np.ndarray:
    """int64 [height*width]: the canvas cell (row-major index) where cell k (row-major) of an
    (height, width) grid lands under `dihedral` at offset (0, 0)."""
    index = dihedral_transform(np.arange(height * width).reshape(height, width), dihedral)
    rows, cols = np.indices(index.shape)
    positions = np.empty(height * width, dtype=np.int64)
    positions[index.reshape(-1)] = (rows * canvas + cols).reshape(-1)
    return positions


def colour_log_probs(views: StoredViews, height: int, width: int) -> np.ndarray:
    """float64 [height, width, 10]: per cell of an (height, width) grid in the original frame and per
    original colour, the log-probability summed over `views` (each view's canvas mapped back through
    its inverse dihedral map, its colour tokens through its inverse colour map)."""
    canvas = views.canvas
    by_dihedral = {d: cell_positions(height, width, d, canvas) for d in np.unique(views.dihedrals).tolist()}
    positions = np.stack([by_dihedral[d] for d in views.dihedrals.tolist()])  # [m, h*w]
    # original colour c is token COLOR_OFFSET + colour_map[c] in view v
    tokens = COLOR_OFFSET + views.colour_maps.astype(np.int64)  # [m, 10]
    view = np.arange(len(views))[:, None, None]
    picked = views.logprobs[view, positions[:, :, None], tokens[:, None, :]]  # [m, h*w, 10]
    total = picked.astype(np.float64).sum(axis=0)
    return total.reshape(height, width, NUM_COLORS)


def argmax_candidates(views: StoredViews, shapes: Sequence[tuple[int, int]]) -> list[np.ndarray]:
    """For each (h, w) in `shapes`, the grid of that shape with the highest `score_candidates` score:
    the per-cell argmax over colours of `colour_log_probs` (lowest colour on ties). Shapes that do
    not fit the canvas are skipped."""
    canvas = views.canvas
    grids = []
    for h, w in shapes:
        if not len(views) or max(h, w) > canvas or min(h, w) < 1:
            continue
        grids.append(colour_log_probs(views, h, w).argmax(axis=-1).astype(np.uint8))
    return grids
