"""benchmarks/run.py end to end in its micro mode: every benchmark function runs on tiny sizes, the
JSON record is written (atomically) with every headline key, and the README table renders from it.
The numbers themselves mean nothing at these sizes; only the machinery and the record's shape do."""

from __future__ import annotations

import math
import sys
from pathlib import Path

import numpy as np
import orjson
import pytest

BENCHMARKS = Path(__file__).resolve().parents[1] / "benchmarks"


@pytest.fixture(scope="module")
def bench_modules():
    sys.path.insert(0, str(BENCHMARKS))
    try:
        import readme_table
        import run

        yield run, readme_table
    finally:
        sys.path.remove(str(BENCHMARKS))


def positive(value) -> bool:
    return isinstance(value, float) and math.isfinite(value) and value > 0


@pytest.mark.slow
def test_micro_run_writes_every_key(bench_modules, tmp_path, monkeypatch, capsys):
    run, readme_table = bench_modules
    out = tmp_path / "bench.json"
    monkeypatch.setattr(sys, "argv", ["run.py", "--micro", "--json", str(out), "--markdown"])
    run.main()
    printed = capsys.readouterr().out
    record = orjson.loads(out.read_bytes())
    assert [p.name for p in tmp_path.iterdir()] == ["bench.json"]  # no temporary file left

    assert record["mode"] == "micro"
    for key in ("augment_speedup", "predict_views_per_s", "peak_rss_mb_tta1000_projected"):
        assert positive(record[key]), (key, record[key])
    for key in ("sudoku_gen_per_s", "maze_gen_per_s", "matmul_peak_gflops"):
        assert positive(record[key]), (key, record[key])
    assert set(record["augment_speedup_by_kernel"]) == {"encode", "decode", "transform"}
    assert record["augment_speedup"] == min(record["augment_speedup_by_kernel"].values())
    for aug in run.SIZES["micro"].build_augs:
        assert positive(record[f"arc1_aug{aug}_build_s"])
    projected = record["arc1_aug1000_build_s_projected"]
    assert isinstance(projected, float) and math.isfinite(projected)  # noise at micro sizes: any sign
    for key in ("train_step_ms", "train_fraction_of_matmul_peak"):
        assert set(record[key]) == {"tiny", "paper"} and all(positive(v) for v in record[key].values())
    assert isinstance(record["vote_overhead_fraction"], float) and 0 <= record["vote_overhead_fraction"] < 1
    rss = record["predict_peak_rss"]
    assert (
        rss["slices"][-1]["views"] > 0
        and record["peak_rss_mb_tta1000_projected"] >= rss["slices"][-1]["peak_rss_mb"]
    )

    machine = record["machine"]
    for key in ("cpu", "torch", "numba", "date", "python"):
        assert isinstance(machine[key], str) and machine[key], key
    assert isinstance(machine["cores"], int) and isinstance(machine["torch_threads"], int)
    assert len(machine["load_average_start"]) == 3 and len(machine["load_average_end"]) == 3
    assert set(record["checks"]) == {
        "augment_speedup",
        "train_fraction_of_matmul_peak",
        "vote_overhead_fraction",
    }
    assert all(isinstance(c["pass"], bool) for c in record["checks"].values())

    markdown = readme_table.markdown(record)
    assert markdown.startswith("Machine: ") and "| what | number |" in markdown
    assert "**projected**" in markdown and markdown in printed
    for verdict in ("PASS", "FAIL"):
        assert printed.count(f"{verdict}  ") == sum(
            c["pass"] == (verdict == "PASS") for c in record["checks"].values()
        )


def _rank_result(counts: list[float], tasks: int = 4, ttas=(1, 8)) -> dict:
    """A predict_bench rank result whose every mode solved counts[i] tasks at ttas[i]."""
    sweep = []
    for tta, solved in zip(ttas, counts, strict=True):
        score = {"tasks": tasks}
        for metric in ("pass@1", "pass@2", "any"):
            score |= {metric: solved / tasks, f"{metric}_tasks": solved}
        sweep.append({"tta": tta, "overhead": 0.01 * solved, **{m: score for m in ("votes", "poe")}})
    return {"test_inputs": 5, "sweep": sweep}


def test_rank_seeds_averages_scores_and_keeps_each_seeds_count(tmp_path):
    sys.path.insert(0, str(BENCHMARKS))
    try:
        import rank_seeds
    finally:
        sys.path.remove(str(BENCHMARKS))
    logs = []
    for seed, counts in enumerate(([0, 1], [0, 3], [1, 0.5])):
        logs.append(tmp_path / f"s{seed}.log")
        logs[-1].write_bytes(b"noise line\n" + orjson.dumps(_rank_result(counts)) + b"\n")
    table = rank_seeds.combine([rank_seeds.read_result(p) for p in logs], ["votes", "poe"])
    assert table.startswith("3 seeds, 4 tasks, 5 test inputs")
    assert "| votes | pass@2 | 0.083 (0 / 0 / 1) | 0.375 (1 / 3 / 0.5) |" in table
    assert "| | PoE time added (max over seeds) | 1.0% | 3.0% |" in table
    assert "poe-mean" not in rank_seeds.combine(
        [_rank_result([0, 1])], ["votes", "poe-mean"]
    )  # absent: left out
    with pytest.raises(SystemExit, match="no mode"):
        rank_seeds.combine([_rank_result([0, 1])], ["poe-mean"])
    with pytest.raises(SystemExit, match="different --tta"):
        rank_seeds.combine([_rank_result([0, 1]), _rank_result([0, 1], ttas=(1, 32))], ["votes"])


def test_rule_tasks_are_valid_arc_tasks_whose_outputs_follow_their_rule(tmp_path):
    sys.path.insert(0, str(BENCHMARKS))
    try:
        import rule_tasks
    finally:
        sys.path.remove(str(BENCHMARKS))
    from arcsolve.data.tasks import scan_source

    counts = rule_tasks.write_tasks(tmp_path / "a", 60, seed=3)
    assert sum(counts.values()) == 60 and all(counts.values())  # every rule drawn
    tasks, problems = scan_source(str(tmp_path / "a"))
    assert len(tasks) == 60 and not problems  # the strict loader accepts every file
    for task in tasks:
        pairs = [*task.train_pairs, *zip(task.test_inputs, task.test_outputs, strict=True)]
        assert len(pairs) == 4 and max(max(g.shape) for p in pairs for g in p) <= rule_tasks.SIDE_MAX
    rule_tasks.write_tasks(tmp_path / "b", 60, seed=3)
    same = [(tmp_path / d / "rule0042.json").read_bytes() for d in ("a", "b")]
    assert same[0] == same[1]  # deterministic for a seed
    rule_tasks.write_tasks(tmp_path / "c", 2, seed=3, prefix="unseen")
    assert sorted(p.name for p in (tmp_path / "c").iterdir()) == ["unseen0000.json", "unseen0001.json"]
    grid = np.arange(12, dtype=np.uint8).reshape(3, 4) % 10
    # the 8 dihedral transforms are distinct and k=4 is the transpose
    images = [rule_tasks.dihedral(grid, k) for k in range(8)]
    assert len({(g.shape, g.tobytes()) for g in images}) == 8
    assert np.array_equal(rule_tasks.dihedral(grid, 4), grid.T)
    swapped = rule_tasks.swap_colours(grid, 1, 2)
    assert np.array_equal(rule_tasks.swap_colours(swapped, 1, 2), grid)
    assert (swapped == 1).sum() == (grid == 2).sum()
    assert rule_tasks.apply_rule("tile", {"axis": 1}, grid).shape == (3, 8)
