"""The order of work of run.py; every step keeps a valid submission on disk.

1. settings (settings.py); choose the competition and the challenges file (challenges.py);
2. unreadable challenges: build the file from sample_submission.json and stop (exit 3; 4 without it);
3. a commit (non-rerun) run keeps the first `--commit-tasks` tasks; write the fallback submission;
   tasks that fail arcsolve's checks keep their fallbacks ("malformed task");
4. install what the notebook's Python lacks (install.py), ask predict which flags it has;
5. one predict per GPU (CPU when none), failed GPU shards retried on the CPU (shards.py);
6. merge, check, write; run_summary.json; ERROR block and exit 1 when the model answered nothing.

The deadline: with a budget T, shards are stopped at T - margin, margin = clamp(10% of T, 5 s, 60 s),
with a kill grace of min(10 s, 30% of the margin) before SIGKILL, so the file is written by T for
any T >= 30 s. Predict itself is given the time until the stop, less a second.
"""

from __future__ import annotations

import os
import shlex
import signal
import time
from collections import Counter
from pathlib import Path

from . import children, shards
from .challenges import (
    SAMPLE_FILE,
    check_submission,
    choose_challenges,
    choose_folder,
    fallback_submission,
    missing_challenges,
    read_challenges,
    score,
    submission_from_sample,
    task_problem,
)
from .common import (
    CLOCK,
    EXIT_BAD_SETTINGS,
    EXIT_CHALLENGES_UNREADABLE,
    EXIT_NO_MODEL_ANSWER,
    EXIT_NOTHING_WRITTEN,
    EXIT_OK,
    EXIT_SIGNAL_BASE,
    banner,
    elapsed,
    log,
    write_json_atomic,
)
from .install import install, predict_flags
from .settings import resolve


def deadline(budget: float) -> tuple[float | None, float]:
    """(monotonic time to stop the shards at, kill grace) for a budget counted from the start."""
    if budget <= 0:
        return None, 10.0
    margin = min(60.0, max(5.0, 0.1 * budget))
    return CLOCK["started"] + budget - margin, min(10.0, 0.3 * margin)


def left(kill_at: float | None, cap: float) -> float:
    return cap if kill_at is None else max(0.5, min(cap, kill_at - time.monotonic()))


def main(argv: list[str] | None = None) -> int:
    CLOCK["started"] = time.monotonic()
    children.STOP.signum = None
    previous = {s: signal.getsignal(s) for s in (signal.SIGINT, signal.SIGTERM)}
    children.STOP.install()
    try:
        return run(argv)
    finally:
        children.stop_all(2.0)  # nothing outlives run.py, whatever happened
        for signum, handler in previous.items():
            signal.signal(signum, handler)


def run(argv: list[str] | None) -> int:
    rerun = bool(os.environ.get("KAGGLE_IS_COMPETITION_RERUN"))
    args = resolve(argv, rerun)
    args.bad_settings = bool(args.problems)
    summary = {
        "rerun": rerun,
        "out": str(args.out),
        "time_budget": args.time_budget,
        "problems": args.problems,
    }
    for problem in args.problems:
        log(f"ERROR: {problem}")
    source, folder = find_source(args, rerun, summary)
    try:
        if source is None:
            raise ValueError(missing_challenges(args.input_root, folder, rerun))
        challenges, repeated = read_challenges(source)
    except ValueError as err:
        return from_sample(args, folder, str(err), summary)
    summary["repeated_task_ids"] = repeated
    if repeated:
        shown = ", ".join(repeated[:10]) + (f" and {len(repeated) - 10} more" if len(repeated) > 10 else "")
        banner("WARNING", [f"{source}: task ids given more than once: {shown}",
                           "each is answered once, from its first copy in the file"])  # fmt: skip
    if not rerun and args.commit_tasks and len(challenges) > args.commit_tasks:
        log(
            f"commit run: answering the first {args.commit_tasks} of {len(challenges)} tasks (--commit-tasks; 0 = all)"
        )
        challenges = dict(list(challenges.items())[: args.commit_tasks])
    fallback = fallback_submission(challenges)
    write_json_atomic(args.out, fallback)
    n_inputs = sum(len(v) for v in fallback.values())
    log(f"{source}: {len(challenges)} tasks, {n_inputs} test inputs; fallback written to {args.out}")
    reasons = {tid: "malformed task" for tid, task in challenges.items() if task_problem(task)}
    summary["malformed_tasks"] = [
        {"task": t, "problem": f"{source}: task {t} {task_problem(challenges[t])}"} for t in reasons
    ]
    for item in summary["malformed_tasks"]:
        log(f"ERROR: {item['problem']}; it keeps its fallbacks")
    ran = answer(args, challenges, [t for t in challenges if t not in reasons], reasons, summary)
    merged, outcomes = shards.merge(challenges, ran, fallback, reasons)
    if check_submission(merged, challenges):  # cannot happen by construction; never write a bad file
        log("ERROR: the merged submission failed its check; keeping the fallback")
        merged, outcomes = fallback, {t: ["merge failed"] * len(v) for t, v in fallback.items()}
    write_json_atomic(args.out, merged)
    summary["score"] = score(merged, Path(source))
    return finish(args, summary, outcomes, ran)


def write_summary(args, summary: dict) -> None:
    summary["seconds"] = round(elapsed(), 1)
    write_json_atomic(args.working_dir / "run_summary.json", summary, indent=2)


def find_source(args, rerun: bool, summary: dict) -> tuple[Path | None, Path | None]:
    if args.challenges is not None:
        summary["challenges"] = str(args.challenges)
        return args.challenges, args.challenges.parent
    folder, warnings = choose_folder(args.input_root, args.competition, rerun)
    source, more = choose_challenges(folder, rerun) if folder is not None else (None, [])
    if warnings + more:
        banner("WARNING", warnings + more)
    summary.update(competition=folder.name if folder else None, challenges=str(source) if source else None)
    summary["warnings"] = warnings + more
    return source, folder


def from_sample(args, folder: Path | None, error: str, summary: dict) -> int:
    """The challenges cannot be used: a valid file from Kaggle's sample_submission.json."""
    summary["challenges_error"] = error
    try:
        if folder is None:
            raise ValueError(f"no folder under {args.input_root} holds {SAMPLE_FILE}")
        submission, sample = submission_from_sample(folder)
    except ValueError as err:
        banner("ERROR", [error, f"and no submission could be built from sample_submission.json: {err}",
                         f"NO {args.out} WAS WRITTEN (exit {EXIT_NOTHING_WRITTEN})"])  # fmt: skip
        summary["exit_code"] = EXIT_NOTHING_WRITTEN
        write_summary(args, summary)
        return EXIT_NOTHING_WRITTEN
    write_json_atomic(args.out, submission)
    n_inputs = sum(len(v) for v in submission.values())
    summary.update(tasks=len(submission), test_inputs=n_inputs, model_answered=0, search_answered=0)
    summary.update(fallback_inputs=n_inputs)
    summary.update(
        fallback_by_reason={"challenges unreadable": n_inputs}, exit_code=EXIT_CHALLENGES_UNREADABLE
    )
    summary["sample"] = str(sample)
    banner("ERROR", [error, f"{args.out} was built from {sample}: "
                     f"{len(submission)} tasks, {n_inputs} test inputs, fallbacks only (scores ~0)",
                     f"exit {EXIT_CHALLENGES_UNREADABLE}"])  # fmt: skip
    write_summary(args, summary)
    return EXIT_CHALLENGES_UNREADABLE


def answer(args, challenges: dict, good: list[str], reasons: dict, summary: dict) -> list[shards.Shard]:
    """Install, plan and run the shards; tasks that never reach one get their reason in `reasons`."""
    kill_at, grace = deadline(args.time_budget)
    for tid in good:
        reasons[tid] = "out of time"  # until a shard takes it
    if not good:
        return []
    if not args.skip_install:
        summary["problems"] += install(args.bundle_dir, args.manifest, args.wheel, left(kill_at, 1800))
    if halted(kill_at, good, reasons):
        return []
    command = shlex.split(args.predict_command)
    flags, error = predict_flags(command, left(kill_at, 300))
    if halted(kill_at, good, reasons):
        return []
    if error:
        summary["problems"].append(f"arcsolve predict cannot start: {error}")
        log(f"ERROR: arcsolve predict --help failed: {error}")
    gpus = pick_devices(args, kill_at)
    if halted(kill_at, good, reasons):
        return []
    planned = shards.plan(challenges, good, gpus, args.shards, args.working_dir / shards.SHARDS_DIR)
    base = command + [str(args.checkpoint), "--tta", str(args.tta), "--seed", str(args.seed)]
    threads = max(1, (os.cpu_count() or 1) // len(planned))
    for shard in planned:
        shards.launch(shard, base, args.predict_args, flags, kill_at, threads)

    def relaunch(failed: shards.Shard) -> shards.Shard:
        log(f"shard {failed.name} failed on GPU {failed.gpu} without answering anything; "
            f"retrying its {len(failed.task_ids)} tasks on the CPU")  # fmt: skip
        retry = shards.Shard(
            f"{failed.name}-cpu", failed.task_ids, failed.folder.with_name(failed.folder.name + "_cpu"), "cpu"
        )
        retry.retry_of = failed.name
        shards.launch(shards.prepare(retry, challenges), base, args.predict_args, flags, kill_at, threads)
        return retry

    ran = shards.supervise(planned, relaunch, kill_at, grace)
    for shard in ran:
        for tid in shard.task_ids:
            reasons[tid] = "not run"
    return ran


def halted(kill_at: float | None, good: list[str], reasons: dict) -> bool:
    """Whether a stop request or the deadline came: then no further step starts, and every task
    not yet run gets that reason."""
    stopped = children.STOP.signum is not None
    if not stopped and (kill_at is None or time.monotonic() < kill_at):
        return False
    for tid in good:
        reasons[tid] = "interrupted" if stopped else "out of time"
    return True


def pick_devices(args, kill_at: float | None) -> list:
    if args.device == "cpu":
        return []
    try:
        gpus = shards.parse_gpus(args.gpus) if args.gpus else shards.detect_gpus(left(kill_at, 180))
    except ValueError as err:
        args.problems.append(str(err))
        gpus = shards.detect_gpus(left(kill_at, 180))
    if not gpus:
        banner("WARNING", ["no GPU is visible: running on the CPU, which is far slower.",
                           "Is the notebook's accelerator off? (Settings > Accelerator: a GPU)"])  # fmt: skip
    return gpus


def finish(args, summary: dict, outcomes: dict, ran: list[shards.Shard]) -> int:
    counts = Counter(reason for row in outcomes.values() for reason in row)
    model, search = counts.pop(shards.MODEL, 0), counts.pop(shards.SEARCH, 0)
    n_inputs = model + search + sum(counts.values())
    summary.update(tasks=len(outcomes), test_inputs=n_inputs, model_answered=model, search_answered=search)
    summary.update(fallback_inputs=n_inputs - model - search)
    summary.update(
        fallback_by_reason=dict(counts.most_common()), tta=args.tta, predict_args=args.predict_args
    )
    summary.update(shards=[s.report() for s in ran], interrupted=children.STOP.name)
    crashed = [f"shard {s.name}: {s.status}: {s.last_error}" for s in ran if s.last_error]
    why = [f"{n} {reason}" for reason, n in counts.most_common()]
    log(f"{args.out}: {len(outcomes)} tasks; {model}/{n_inputs} test inputs answered by the model, {search} by the search"
        + (f"; fallbacks: {', '.join(why)}" if why else ""))  # fmt: skip
    if summary.get("score"):
        log(f"score: {summary['score']}")
    if children.STOP.signum is not None:
        code = EXIT_SIGNAL_BASE + children.STOP.signum
        banner(
            "ERROR",
            [f"stopped by {children.STOP.name}: {args.out} holds {model} model answers, the rest fallbacks"],
        )
    elif n_inputs and not model:
        code = EXIT_NO_MODEL_ANSWER
        banner("ERROR", [f"NO TEST INPUT WAS ANSWERED BY THE MODEL: {args.out} holds fallbacks only (scores ~0)",
                         *(f"fallback: {line}" for line in why), *crashed, *summary["problems"],
                         f"details: {args.working_dir / 'run_summary.json'} and the shard logs; exit {EXIT_NO_MODEL_ANSWER}"])  # fmt: skip
    else:
        code = EXIT_BAD_SETTINGS if args.bad_settings else EXIT_OK
        if crashed or summary["problems"] or counts:
            banner("WARNING", [f"{n_inputs - model} of {n_inputs} test inputs hold fallbacks: {', '.join(why)}",
                               *crashed, *summary["problems"]])  # fmt: skip
    summary["exit_code"] = code
    write_summary(args, summary)
    return code
