"""`predict_bench.py rank`: votes vs product of experts vs hybrid, side by side on the same views.

    python benchmarks/predict_bench.py rank CHECKPOINT [--tasks SRC] [--tta 1 8 32 100] [--poe-views 32]
        [--poe-candidates 10] [--adapt-steps 600 --adapt-model all --adapt-aug 99]

Nothing is trained (with --adapt-steps, the unknown tasks are adapted once, first). One plan at the
largest --tta is answered once, in its rank-major order (`arcsolve.predict.run.answer_views`, voting and
keeping the log-probabilities of each test input's first --poe-views views); when the views of rank
< t are done for a --tta t, the votes and views so far are ranked in every mode
(`arcsolve.predict.rank.rank_table`): votes, poe, hybrid, and four diagnostics: poe-voted (PoE order of
the voted grids only, no argmax grids), poe+pad (PAD cells scored too), poe-mean (the score per
scored cell) and poe-floor (no cell's log-probability below log(1/12), a uniform guess's, so a view
confidently wrong about a cell costs no more there than one that knows nothing). So the t views of
an input are its identity view and t - 1 versions drawn at random, as in `predict --tta t`, though not
the same draw (the numbers are a sample of the same distribution, not a replay of that command).

Each mode reports pass@1, pass@2 and "among candidates" (the answer anywhere in the mode's list of
candidates, fallbacks excluded) as the task mean (the reference evaluator's score) and the solved-task
count behind it (a task with two test outputs counts 0.5 for each), and the seconds of its ranking.
`overhead` is the time PoE adds to predict: keeping log-probabilities in the view loop plus the poe
ranking, over the rest of the view loop.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass

import torch

from arcsolve.constants import ARC_VOCAB_SIZE
from arcsolve.data.tasks import Task, load_tasks
from arcsolve.predict.adapt import start_adaptation
from arcsolve.predict.config import AdaptConfig, PredictConfig
from arcsolve.predict.model import load_predict_model
from arcsolve.predict.poe import PoeScoring, store_for_plan
from arcsolve.predict.rank import rank_table
from arcsolve.predict.run import answer_views
from arcsolve.predict.views import plan_views
from arcsolve.predict.vote import VoteTable, pass_at_k

ANY = 10**6  # "among candidates": pass@K with K above any candidate count
# (row name, --rank mode, rank_table options); "poe-all" scores with every stored view (--poe-views-max)
MODES = (
    ("votes", "votes", {}),
    ("poe", "poe", {}),
    ("hybrid", "hybrid", {}),
    ("poe-voted", "poe", {"argmax": False}),
    ("poe+pad", "poe", {"scoring": PoeScoring(count_pad=True)}),
    ("poe-mean", "poe", {"scoring": PoeScoring(per_cell=True)}),
    # no cell costs more than a uniform guess
    ("poe-floor", "poe", {"scoring": PoeScoring(floor=-math.log(ARC_VOCAB_SIZE))}),
    ("poe-all", "poe", {"views_limit": None}),
)


@dataclass
class RankOptions:
    poe_views: int = 32
    poe_candidates: int = 10
    poe_views_max: int = 0  # views kept per input (0 = poe_views); the poe-all row scores with them all
    adapt_steps: int = 0
    adapt_model: str = "none"
    adapt_aug: int = 8
    adapt_lr: float = 1e-2
    adapt_batch_size: int = 32


def scores(ranked, tasks: list[Task]) -> dict:
    """pass@1, pass@2 and among-candidates: task means and the solved-task counts behind them."""
    known = [t for t in tasks if t.test_outputs is not None]
    means = pass_at_k(ranked, known, (1, 2, ANY))
    out = {"tasks": len(known)}
    for name, k in (("pass@1", 1), ("pass@2", 2), ("any", ANY)):
        out[name] = round(means.get(k, 0.0), 4)
        out[f"{name}_tasks"] = round(means.get(k, 0.0) * len(known), 2)
    return out


def rank_sweep(opts, ropts: RankOptions, source: str) -> dict:
    """Every --tta of `opts` (predict_bench.Options): one view pass, then every mode's ranking."""
    tasks = load_tasks(source)
    device = torch.device(opts.device if opts.device != "auto" else "cpu")
    net = load_predict_model(opts.checkpoint, device)
    adapt_seconds = 0.0
    if ropts.adapt_steps:
        adapt = AdaptConfig(
            steps=ropts.adapt_steps,
            lr=ropts.adapt_lr,
            aug=ropts.adapt_aug,
            model=ropts.adapt_model,
            batch_size=ropts.adapt_batch_size,
        )
        cfg = PredictConfig(checkpoint=opts.checkpoint, tasks=source, out="-", seed=opts.seed, adapt=adapt)
        began = time.perf_counter()
        net, adapter = start_adaptation(net, tasks, cfg, opts.batch_size)
        if adapter is not None:
            adapter.run(ropts.adapt_steps, progress=opts.progress)
        adapt_seconds = time.perf_counter() - began
        print(f"adapted {len(tasks)} tasks: {ropts.adapt_steps} steps, {adapt_seconds:.0f} s")
    rows, done, loop, stored = [], 0, 0.0, 0.0
    ttas = sorted(set(opts.tta))
    plan = plan_views(
        tasks, ttas[-1], opts.seed, net.canvas, net.aug_table, net.task_ids, permute_black=net.permute_black
    )
    task_ids = [task.task_id for task in tasks]
    table = VoteTable()
    store = store_for_plan(plan, task_ids, max(ropts.poe_views, ropts.poe_views_max), net.canvas)
    for tta in ttas:
        end = int((plan.rank < tta).sum())  # rank-major: the views of rank < tta come first
        stats = answer_views(
            net,
            plan.subset(slice(done, end)),
            tasks,
            table,
            opts.batch_size,
            progress=opts.progress,
            store=store,
        )
        done, loop, stored = end, loop + stats.loop_seconds, stored + stats.store_seconds
        row = {
            "tta": tta,
            "views": done,
            "loop_seconds": round(loop, 2),
            "store_seconds": round(stored, 3),
            "store_mb": round(store.nbytes / 2**20, 2),
        }
        for name, mode, options in MODES:
            began = time.perf_counter()
            options = {"views_limit": ropts.poe_views, **options}
            ranked = rank_table(table, store, tasks, mode, ropts.poe_candidates, keep_views=True, **options)
            row[name] = {**scores(ranked, tasks), "seconds": round(time.perf_counter() - began, 3)}
        rest = loop - stored
        row["overhead"] = round((stored + row["poe"]["seconds"]) / rest, 4) if rest > 0 else None
        rows.append(row)
        print(line(row))
    print(markdown(rows))
    return {
        "tasks": len(tasks),
        "test_inputs": sum(len(t.test_inputs) for t in tasks),
        "poe_views": ropts.poe_views,
        "poe_candidates": ropts.poe_candidates,
        "adapt_steps": ropts.adapt_steps,
        "adapt_model": ropts.adapt_model,
        "adapt_aug": ropts.adapt_aug,
        "adapt_seconds": round(adapt_seconds, 1),
        "sweep": rows,
    }


def line(row: dict) -> str:
    parts = [f"tta {row['tta']:4d}: {row['views']:6d} views, loop {row['loop_seconds']:.1f} s"]
    for name, _, _ in MODES:
        r = row[name]
        parts.append(
            f"{name} p@1 {r['pass@1']:.3f} ({r['pass@1_tasks']:g}) p@2 {r['pass@2']:.3f} "
            f"({r['pass@2_tasks']:g}) any {r['any']:.3f} ({r['any_tasks']:g})"
        )
    overhead = "n/a" if row["overhead"] is None else f"{row['overhead']:.1%}"
    return " | ".join(parts) + f" | PoE overhead {overhead}"


def markdown(rows: list[dict]) -> str:
    """The sweep as a README table: value (solved tasks / tasks) per mode and --tta."""
    head = "| mode | metric | " + " | ".join(f"{r['tta']} views" for r in rows) + " |"
    out = [head, "|---|---|" + "---|" * len(rows)]
    for name, _, _ in MODES:
        for metric in ("pass@1", "pass@2", "any"):
            cells = [
                f"{r[name][metric]:.3f} ({r[name][metric + '_tasks']:g}/{r[name]['tasks']})" for r in rows
            ]
            out.append(f"| {name} | {metric} | " + " | ".join(cells) + " |")
    out.append("| | PoE overhead | " + " | ".join(f"{r['overhead']:.1%}" for r in rows) + " |")
    return "\n".join(out)
