"""Product of experts over the views (arcsolve.predict.poe) and the --rank modes (arcsolve.predict.rank).

References are computed independently: the canvas encoding by the per-grid NumPy encoder
(`Augmentation.apply` + `encode_grid`), the log-probabilities by torch.log_softmax / log_stablemax
on a model's own logits, the sums by plain loops.
"""

from __future__ import annotations

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from arcsolve.augment import Augmentation, decode_views, encode_grid
from arcsolve.constants import ARC_VOCAB_SIZE, PAD_TOKEN
from arcsolve.data.tasks import Task
from arcsolve.model.act import evaluate_batch
from arcsolve.model.config import ModelConfig
from arcsolve.model.losses import log_stablemax
from arcsolve.model.trm import TRM
from arcsolve.predict.poe import (
    PoeScoring,
    StoredViews,
    ViewStore,
    argmax_candidates,
    bound_bytes,
    score_candidates,
    view_log_probs,
)
from arcsolve.predict.rank import rank_candidates, rank_table, ranked_records
from arcsolve.predict.vote import VoteTable, pass_at_k, vote_attempts

CANVAS = 6
FEW = settings(max_examples=40, deadline=None)


def aug(d: int, colours) -> Augmentation:
    return Augmentation(int(d), tuple(int(c) for c in colours))


def reference_tokens(grid: np.ndarray, d: int, colours) -> np.ndarray:
    """The dataset encoding of `grid` seen through view (d, colours), by the per-grid NumPy encoder."""
    return encode_grid(aug(d, colours).apply(grid), CANVAS)


def reference_score(logprobs: np.ndarray, views, grid: np.ndarray, count_pad: bool = False) -> float:
    """sum_v sum_p log p_v(p, token) over the scored cells, one cell at a time."""
    total = 0.0
    for v, (d, colours) in enumerate(views):
        tokens = reference_tokens(grid, d, colours)
        for p, token in enumerate(tokens.tolist()):
            if count_pad or token != PAD_TOKEN:
                total += float(logprobs[v, p, token])
    return total


def random_map(rng: np.random.Generator) -> np.ndarray:
    return np.concatenate([[0], rng.permutation(np.arange(1, 10))]).astype(np.uint8)


def stored(logprobs: np.ndarray, views) -> StoredViews:
    return StoredViews(
        logprobs=logprobs,
        dihedrals=np.array([d for d, _ in views], dtype=np.int64),
        colour_maps=np.array([list(c) for _, c in views], dtype=np.uint8),
    )


@pytest.fixture(scope="module", params=["softmax", "stablemax"])
def model_logits(request):
    """(loss kind, logits [4, L, V] of a tiny random TRM on 4 views of one input, the views)."""
    torch.manual_seed(0)
    cfg = ModelConfig(
        hidden_size=32,
        num_heads=2,
        num_layers=1,
        H_cycles=1,
        L_cycles=1,
        halt_max_steps=2,
        puzzle_emb_len=1,
        loss=request.param,
    )
    model = TRM(cfg, CANVAS * CANVAS, ARC_VOCAB_SIZE, 2).eval()
    rng = np.random.default_rng(1)
    grid = rng.integers(0, 10, (3, 4)).astype(np.uint8)
    views = [(0, np.arange(10)), (1, random_map(rng)), (6, random_map(rng)), (7, random_map(rng))]
    inputs = np.stack([reference_tokens(grid, d, c) for d, c in views]).astype(np.int64)
    batch = {
        "inputs": torch.from_numpy(inputs),
        "labels": torch.zeros(len(views), CANVAS * CANVAS, dtype=torch.int64),
        "puzzle_ids": torch.ones(len(views), dtype=torch.int64),
    }
    return request.param, evaluate_batch(model, batch).logits, views


def candidates(rng: np.random.Generator) -> list[np.ndarray]:
    shapes = [(1, 1), (3, 4), (4, 3), (6, 6), (2, 5), (3, 4)]
    return [rng.integers(0, 10, s).astype(np.uint8) for s in shapes]


# (a) one view: the PoE score is the model's own log-probability of the candidate's encoding.
def test_one_view_score_is_the_models_log_probability(model_logits):
    loss, logits, views = model_logits
    own = own_log_probs(logits[:1], loss)  # float64, straight from torch
    grids = candidates(np.random.default_rng(2))
    exact = score_candidates(stored(own, views[:1]), grids)
    expected = [reference_score(own, views[:1], g) for g in grids]
    np.testing.assert_allclose(exact, expected, rtol=1e-12)
    with_pad = score_candidates(stored(own, views[:1]), grids, PoeScoring(count_pad=True))
    np.testing.assert_allclose(
        with_pad, [reference_score(own, views[:1], g, True) for g in grids], rtol=1e-12
    )
    has_pad = np.array([g.shape != (CANVAS, CANVAS) for g in grids])  # a full-canvas grid has none
    assert (with_pad[has_pad] < exact[has_pad]).all() and (with_pad[~has_pad] == exact[~has_pad]).all()
    # per cell: the same sum over every view, divided by the cells it scored (every view scores as many)
    every = own_log_probs(logits, loss)
    per_cell = score_candidates(stored(every, views), grids, PoeScoring(per_cell=True))
    cells = [int((reference_tokens(g, 0, np.arange(10)) != PAD_TOKEN).sum()) for g in grids]
    summed = [reference_score(every, views, g) for g in grids]
    np.testing.assert_allclose(per_cell, np.array(summed) / cells, rtol=1e-12)
    floored = score_candidates(stored(every, views), grids, PoeScoring(floor=-1.0))  # each cell at least -1
    expected_floored = [reference_score(np.maximum(every, -1.0), views, g) for g in grids]
    np.testing.assert_allclose(floored, expected_floored, rtol=1e-12)
    assert (floored >= np.array(summed)).all() and (floored >= -np.array(cells) * len(views)).all()
    # Through the store (float16): each cell is off by at most 2^-11 of its value, plus the floor.
    store = ViewStore(1)
    store.add(("t", 0), view_log_probs(logits[:1], loss)[0], views[0][0], views[0][1])
    halved = score_candidates(store.views(("t", 0)), grids)
    bound = np.abs(expected) * 2.0**-11 + 1e-4
    assert (np.abs(halved - np.array(expected)) <= bound).all()


def own_log_probs(logits: torch.Tensor, loss: str) -> np.ndarray:
    x = logits.double()
    return (log_stablemax(x) if loss == "stablemax" else torch.log_softmax(x, dim=-1)).numpy()


# (b) the score does not depend on the order of the views.
def test_score_is_invariant_to_view_order(model_logits):
    loss, logits, views = model_logits
    own = own_log_probs(logits, loss)
    grids = candidates(np.random.default_rng(3))
    base = score_candidates(stored(own, views), grids)
    np.testing.assert_allclose(base, [reference_score(own, views, g) for g in grids], rtol=1e-12)
    for order in ([3, 2, 1, 0], [1, 3, 0, 2]):
        moved = score_candidates(stored(own[order], [views[i] for i in order]), grids)
        np.testing.assert_allclose(moved, base, rtol=1e-12)


# (c) placement under every dihedral map x colour map matches the NumPy reference encoder.
@FEW
@given(
    h=st.integers(1, CANVAS),
    w=st.integers(1, CANVAS),
    seed=st.integers(0, 2**32 - 1),
    d=st.integers(0, 7),
    colours=st.permutations(range(10)),
)
def test_placement_matches_the_reference_encoder(h, w, seed, d, colours):
    rng = np.random.default_rng(seed)
    grid = rng.integers(0, 10, (h, w)).astype(np.uint8)
    ref = reference_tokens(grid, d, colours)
    # log p = 0 for the reference token of every cell, -1 for every other token: a candidate scores
    # minus the number of cells where its encoding differs from the reference.
    logprobs = np.full((1, CANVAS * CANVAS, ARC_VOCAB_SIZE), -1.0)
    logprobs[0, np.arange(CANVAS * CANVAS), ref] = 0.0
    views = stored(logprobs, [(d, colours)])
    flipped = grid.copy()
    y, x = rng.integers(h), rng.integers(w)
    flipped[y, x] = (grid[y, x] + 1) % 10
    scores = score_candidates(views, [grid, flipped], PoeScoring(count_pad=True))
    assert scores.tolist() == [0.0, -1.0]
    # and back: the argmax grid of the shape reads every cell through the inverse maps
    (best,) = argmax_candidates(views, [(h, w)])
    np.testing.assert_array_equal(best, grid)


# (d) votes split 2:1 for a grid the views are unsure of; the grid one view is sure of wins under PoE.
def test_more_probable_grid_wins_under_poe_when_votes_split():
    rng = np.random.default_rng(4)
    a = np.array([[1, 2, 3], [4, 5, 6]], dtype=np.uint8)
    b = a.copy()
    b[1, 2] = 7
    views = [(0, np.arange(10)), (3, random_map(rng)), (5, random_map(rng))]
    p_a = [0.51, 0.51, 0.01]  # per view: probability of a's token at the cell where a and b differ
    p_b = [0.47, 0.47, 0.97]
    logprobs = np.zeros((3, CANVAS * CANVAS, ARC_VOCAB_SIZE))
    for v, (d, colours) in enumerate(views):
        ta, tb = reference_tokens(a, d, colours), reference_tokens(b, d, colours)
        probs = np.full((CANVAS * CANVAS, ARC_VOCAB_SIZE), 0.1 / (ARC_VOCAB_SIZE - 1))
        probs[np.arange(CANVAS * CANVAS), ta] = 0.9
        (differ,) = np.flatnonzero(ta != tb)
        probs[differ] = 0.02 / (ARC_VOCAB_SIZE - 2)
        probs[differ, ta[differ]], probs[differ, tb[differ]] = p_a[v], p_b[v]
        logprobs[v] = np.log(probs)
    # the votes are what the views decode to
    predicted = logprobs.argmax(-1).astype(np.uint8)
    dihedrals = np.array([d for d, _ in views])
    maps = np.array([list(c) for _, c in views], dtype=np.uint8)
    grids, shapes = decode_views(predicted, CANVAS, dihedrals, maps)
    table, store = VoteTable(), ViewStore(8)
    for v in range(3):
        h, w = shapes[v]
        table.add("t", 0, grids[v, :h, :w], 0.5)
        store.add(("t", 0), logprobs[v], dihedrals[v], maps[v])
    assert [votes for _, votes, _ in table.ranked("t", 0)] == [2, 1]
    task = Task("t", ((a, a),), (a,), (b,), "test")
    by_votes = vote_attempts(table, [task], k=2)["t"][0]
    np.testing.assert_array_equal(by_votes[0], a)
    for mode in ("poe", "hybrid"):
        ranked = rank_table(table, store, [task], mode, top_k=10, keep_views=True)
        top = ranked.candidates("t", 0)
        np.testing.assert_array_equal(top[0].grid, b)
        np.testing.assert_array_equal(top[1].grid, a)
        assert top[0].poe_score > top[1].poe_score and top[0].votes == 1
        assert pass_at_k(ranked, [task], [1]) == {1: 1.0}
    assert pass_at_k(table, [task], [1]) == {1: 0.0}
    expected = reference_score(logprobs.astype(np.float16).astype(np.float64), views, b)  # as stored
    assert ranked.candidates("t", 0)[0].poe_score == pytest.approx(expected, rel=1e-12)


# (e) with one view, the argmax candidate of a shape is that view's decoded grid when it is valid.
@FEW
@given(
    h=st.integers(1, CANVAS),
    w=st.integers(1, CANVAS),
    seed=st.integers(0, 2**32 - 1),
    d=st.integers(0, 7),
    colours=st.permutations(range(10)),
    loss=st.sampled_from(["softmax", "stablemax"]),
)
def test_argmax_of_one_view_is_its_decoded_grid(h, w, seed, d, colours, loss):
    rng = np.random.default_rng(seed)
    grid = rng.integers(0, 10, (h, w)).astype(np.uint8)
    tokens = reference_tokens(grid, d, colours)
    logits = rng.uniform(-1, 1, (1, CANVAS * CANVAS, ARC_VOCAB_SIZE))
    planted = np.flatnonzero(tokens != PAD_TOKEN)
    logits[0, planted, tokens[planted]] += 4.0  # the view decodes to `grid` (other cells: noise)
    predicted = logits.argmax(-1).astype(np.uint8)
    decoded, shapes = decode_views(predicted, CANVAS, np.array([d]), np.array([colours], dtype=np.uint8))
    assert tuple(shapes[0]) == (h, w)
    store = ViewStore(4)
    store.add(("t", 0), view_log_probs(torch.from_numpy(logits).float(), loss)[0], d, np.array(colours))
    (best,) = argmax_candidates(store.views(("t", 0)), [(h, w)])
    np.testing.assert_array_equal(best, decoded[0, :h, :w])


def test_store_keeps_the_first_views_and_states_its_bound():
    store = ViewStore(2)
    rows = np.zeros((3, CANVAS * CANVAS, ARC_VOCAB_SIZE), dtype=np.float16)
    rows[:, 0, 0] = [-1, -2, -3]
    maps = np.tile(np.arange(10, dtype=np.uint8), (3, 1))
    assert store.add_rows([("t", 0)] * 3, rows, np.array([0, 1, 2]), maps) == 2
    views = store.views(("t", 0))
    assert views.dihedrals.tolist() == [0, 1] and views.logprobs[:, 0, 0].tolist() == [-1, -2]
    assert store.views(("t", 0), limit=1).dihedrals.tolist() == [0]
    assert store.nbytes == 2 * rows[0].nbytes == bound_bytes(2, CANVAS, 1)
    store.drop(("t", 0))
    assert store.nbytes == 0 and store.views(("t", 0)) is None
    assert bound_bytes(32, 30, 1) == 32 * 900 * 12 * 2  # 0.69 MB per test input
    # reserved up front (one buffer for every input, as predict does): same behaviour
    reserved = ViewStore(2, keys=[("t", 0), ("u", 0)], cells=CANVAS * CANVAS)
    assert reserved.add_rows([("u", 0)] * 3, rows, np.array([0, 1, 2]), maps) == 2
    assert reserved.views(("u", 0)).logprobs[:, 0, 0].tolist() == [-1, -2]
    assert reserved.views(("t", 0)) is None and reserved.nbytes == 2 * rows[0].nbytes


def test_modes_keep_every_voted_candidate_and_record_scores():
    rng = np.random.default_rng(5)
    grids = [rng.integers(0, 10, (2, 2)).astype(np.uint8) for _ in range(4)]
    table = VoteTable()
    for votes, grid in zip([4, 3, 2, 1], grids, strict=True):
        for _ in range(votes):
            table.add("t", 0, grid, 0.5)
    logprobs = np.log(rng.dirichlet(np.ones(ARC_VOCAB_SIZE), (2, CANVAS * CANVAS)))
    views = stored(logprobs, [(0, np.arange(10)), (2, random_map(rng))])
    voted = [c for c in rank_table(table, None, [], "votes", 2).candidates("t", 0)]
    keys = {g.tobytes() for g in grids}
    for mode in ("poe", "hybrid"):
        ranked = rank_candidates(voted, views, mode, top_k=2)
        assert keys <= {c.grid.tobytes() for c in ranked}  # nothing voted is lost
        assert [c.grid.tobytes() for c in ranked[-2:]] == [grids[2].tobytes(), grids[3].tobytes()]
        assert all(c.poe_score is None for c in ranked[-2:])  # below the top K: unscored, vote order
        scored = ranked[:-2]
        assert all(c.poe_score is not None for c in scored)
        assert all((c.source == "argmax") == (c.grid.tobytes() not in keys) for c in scored)
    (best,) = argmax_candidates(views, [(2, 2)])  # every candidate is 2x2: the argmax grid wins
    poe = rank_candidates(voted, views, "poe", top_k=2)
    assert poe[0].grid.tobytes() == best.tobytes()
    assert [c.poe_score for c in poe[:-2]] == sorted((c.poe_score for c in poe[:-2]), reverse=True)
    np.testing.assert_allclose(
        [c.poe_score for c in poe[:-2]],
        [
            reference_score(logprobs, [(0, np.arange(10)), (2, views.colour_maps[1])], c.grid)
            for c in poe[:-2]
        ],
        rtol=1e-12,
    )
    hybrid = rank_candidates(voted, views, "hybrid", top_k=2)
    assert hybrid[0].grid.tobytes() == best.tobytes()
    second = grids[0] if best.tobytes() != grids[0].tobytes() else grids[1]
    assert hybrid[1].grid.tobytes() == second.tobytes()  # the most voted of the others
    task = Task("t", ((grids[0], grids[0]),), (grids[0],), (grids[3],), "test")
    store = ViewStore(4)
    for v in range(2):
        store.add(("t", 0), logprobs[v], views.dihedrals[v], views.colour_maps[v])
    (record,) = ranked_records(rank_table(table, store, [task], "poe", 2), [task])
    assert record["rank"] == "poe" and record["poe_views"] == 2 and record["votes"] == 10
    assert record["solution_rank"] == len(record["candidates"]) - 1
    assert all(isinstance(c["poe_score"], float) for c in record["candidates"][:-2])
    assert store.nbytes == 0  # ranked inputs leave the store


def test_ranking_past_its_deadline_keeps_the_vote_order():
    rng = np.random.default_rng(6)
    table, store = VoteTable(), ViewStore(2)
    grid = rng.integers(0, 10, (2, 3)).astype(np.uint8)
    table.add("t", 0, grid, 0.5)
    store.add(("t", 0), np.log(rng.dirichlet(np.ones(12), CANVAS * CANVAS)), 0, np.arange(10))
    task = Task("t", ((grid, grid),), (grid,), None, "test")
    late = rank_table(table, store, [task], "poe", 10, until=0.0)  # monotonic time is > 0
    assert late.scored_inputs == 0 and late.candidates("t", 0)[0].poe_score is None
    assert rank_table(table, store, [task], "poe", 10).scored_inputs == 1
