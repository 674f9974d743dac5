"""Stablemax / softmax cross-entropy, ignored labels, the q-halt loss and the step metrics."""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F

from arcsolve.model.act import StepOutputs
from arcsolve.model.losses import act_loss, finalize_metrics, log_stablemax, token_cross_entropy


def outputs(logits, labels, q_halt=None, halted=None, steps=None) -> StepOutputs:
    B = logits.shape[0]
    return StepOutputs(
        logits=logits,
        q_halt_logits=torch.zeros(B) if q_halt is None else q_halt,
        inputs=torch.zeros_like(labels),
        labels=labels,
        puzzle_ids=torch.zeros(B, dtype=torch.long),
        steps=torch.ones(B, dtype=torch.int32) if steps is None else steps,
        halted=torch.ones(B, dtype=torch.bool) if halted is None else halted,
        puzzle_rows=torch.zeros(B, 4),
    )


def stablemax_ce_direct(row: list[float], label: int) -> float:
    s = [x + 1 if x >= 0 else 1 / (1 - x) for x in row]
    return -math.log(s[label] / sum(s))


def test_log_stablemax_matches_the_formula():
    g = torch.Generator().manual_seed(0)
    logits = torch.randn(5, 7, generator=g, dtype=torch.float64) * 3
    got = log_stablemax(logits)
    for i in range(5):
        for j in range(7):
            assert math.isclose(-got[i, j].item(), stablemax_ce_direct(logits[i].tolist(), j), rel_tol=1e-12)


def test_stablemax_gradient_is_finite_where_the_unused_branch_blows_up():
    x = torch.tensor([[1.0, -2.0, 0.0, 3.0]], dtype=torch.float64, requires_grad=True)
    log_stablemax(x)[0, 0].backward()
    assert torch.isfinite(x.grad).all()


def test_token_cross_entropy_stablemax_in_float64_and_softmax():
    g = torch.Generator().manual_seed(1)
    logits = torch.randn(2, 3, 5, generator=g)
    labels = torch.tensor([[1, 2, 3], [4, 0, 2]])
    valid = torch.ones_like(labels, dtype=torch.bool)
    stable = token_cross_entropy(logits, labels, valid, "stablemax")
    for b in range(2):
        for t in range(3):
            want = stablemax_ce_direct(logits[b, t].double().tolist(), int(labels[b, t]))
            assert math.isclose(stable[b, t].item(), want, rel_tol=1e-6)
    soft = token_cross_entropy(logits, labels, valid, "softmax")
    torch.testing.assert_close(soft, F.cross_entropy(logits.transpose(1, 2), labels, reduction="none"))


def test_ignored_labels_carry_no_loss_and_sequences_are_normalised():
    g = torch.Generator().manual_seed(2)
    logits = torch.randn(2, 4, 6, generator=g, requires_grad=True)
    labels = torch.tensor([[3, 0, 0, 5], [2, 4, -100, 1]])  # 0 = PAD and -100 are both ignored
    for kind in ("stablemax", "softmax"):
        loss, metrics = act_loss(outputs(logits, labels), kind)
        per_token = token_cross_entropy(logits, labels, labels > 0, kind)
        want = per_token[0, [0, 3]].mean() + per_token[1, [0, 1, 3]].mean()
        torch.testing.assert_close(metrics["lm_loss"], want)
        (grad,) = torch.autograd.grad(loss, logits)
        assert torch.count_nonzero(grad[0, 1:3]) == 0 and torch.count_nonzero(grad[1, 2]) == 0
        assert torch.count_nonzero(grad[0, 0]) > 0


def test_q_halt_loss_total_and_metrics():
    V = 4
    labels = torch.tensor([[1, 2, 0], [3, 3, 3], [2, 2, 2], [0, 0, 0]])
    preds = torch.tensor([[1, 2, 3], [3, 1, 3], [2, 2, 2], [1, 1, 1]])
    logits = F.one_hot(preds, V).float() * 5  # argmax = preds
    # row 0: correct (PAD ignored); row 1: 2/3 correct; row 2: correct but not halted; row 3: no labels
    q = torch.tensor([1.0, 2.0, -1.0, 0.5])
    halted = torch.tensor([True, True, False, True])
    steps = torch.tensor([3, 16, 2, 5], dtype=torch.int32)
    loss, m = act_loss(outputs(logits, labels, q, halted, steps))
    seq_correct = torch.tensor([1.0, 0.0, 1.0, 1.0])  # a row with no labels counts as correct
    q_loss = F.binary_cross_entropy_with_logits(q, seq_correct, reduction="sum")
    torch.testing.assert_close(m["q_halt_loss"], q_loss)
    torch.testing.assert_close(loss, m["lm_loss"] + 0.5 * q_loss)
    assert m["count"].item() == 2  # rows 0 and 1
    assert math.isclose(m["accuracy"].item(), 1.0 + 2 / 3, rel_tol=1e-6)
    assert m["exact_accuracy"].item() == 1
    assert m["q_halt_accuracy"].item() == 1  # row 0 right (q >= 0, correct); row 1 wrong
    assert m["steps"].item() == 19
    final = finalize_metrics(m, batch_size=4)
    assert math.isclose(final["accuracy"].item(), (1 + 2 / 3) / 2, rel_tol=1e-6)
    assert final["steps"].item() == 9.5
    torch.testing.assert_close(final["q_halt_loss"], q_loss / 4)


def test_metrics_of_an_empty_step_are_zero_not_nan():
    labels = torch.tensor([[1, 2]])
    _, m = act_loss(outputs(torch.zeros(1, 2, 3), labels, halted=torch.tensor([False])))
    final = finalize_metrics(m, batch_size=1)
    assert all(torch.isfinite(v) for v in final.values()) and final["count"].item() == 0
