"""The README's "Benchmark numbers" table from a benchmarks/run.py JSON record.

    python benchmarks/readme_table.py OUT.json [--text]

Prints the machine line and a markdown table (with --text, the plain table run.py prints at its end).
Projections are labelled as such; nothing here measures anything.
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

import orjson


def plural(n: int, word: str) -> str:
    return f"{n} {word}" + ("" if n == 1 else "s")


def machine_line(record: dict[str, Any]) -> str:
    m = record["machine"]
    load = "/".join(f"{x:.2f}" for x in m["load_average_start"])
    return (
        f"Machine: {m['cpu']}, {m['cores']} cores, {m['memory_gb']:.0f} GB; Python {m['python']}, "
        f"torch {m['torch']} ({plural(m['torch_threads'], 'thread')}), numba {m['numba']}; {m['date']}; "
        f"load average at start {load} (1/5/15 min); `benchmarks/run.py` mode {record['mode']}, "
        f"{record['total_seconds']:.0f} s."
    )


def rows(record: dict[str, Any]) -> list[tuple[str, str]]:
    """(what, number) pairs, in reading order."""
    kernels = record["augment_speedup_by_kernel"]
    out = [
        (
            "augment kernels, numba vs NumPy reference (slowest kernel)",
            f"**{record['augment_speedup']:.0f}x** ("
            + ", ".join(f"{name} {x:.0f}x" for name, x in kernels.items())
            + ")",
        )
    ]
    for build in record["arc1_builds"]:
        out.append(
            (
                f"data build arc {build['build_recipe']} --aug {build['build_aug']} (measured)",
                f"{build['build_wall_s']:.1f} s, peak RSS {build['build_peak_rss_mib']:.0f} MiB, "
                f"{build['build_puzzle_ids']:,} puzzle ids",
            )
        )
    if "arc1_aug1000_build_s_projected" in record:
        out.append(
            (
                "build --aug 1000, **projected** (line through the measured builds)",
                f"{record['arc1_aug1000_build_s_projected']:.0f} s",
            )
        )
    train = {r["key"]: r for r in record["train_bench"]["train_steps"]}
    for key, ms in record["train_step_ms"].items():
        r = train[key]
        out.append(
            (
                f"train step, {r['name']} ({plural(r['rows'], 'row')} x {r['seq_len']} tokens)",
                f"{ms:,.0f} ms, **{record['train_fraction_of_matmul_peak'][key]:.2f}** of the matmul peak",
            )
        )
    out.append(("fp32 matmul peak measured in the same run", f"{record['matmul_peak_gflops']:.0f} GFLOP/s"))
    tp = record["predict_throughput"]
    out.append(
        (
            f"predict, {tp['tasks']} tasks x --tta {tp['tta']} ({tp['checkpoint']})",
            f"{record['predict_views_per_s']:.1f} views/s, **{record['vote_overhead_fraction']:.2%}** "
            "of the view loop outside the model",
        )
    )
    rss = record["predict_peak_rss"]
    measured = rss["slices"][-1]
    out.append(
        (
            f"predict peak RSS, {rss['tasks']} tasks --tta {measured['tta']} ({rss['checkpoint']}), measured",
            f"{measured['peak_rss_mb']:.0f} MB ({measured['views']:,} views)",
        )
    )
    out.append(
        (
            f"predict peak RSS, same tasks at --tta 1000 ({rss['projected_views']:,} views), **projected**",
            f"{record['peak_rss_mb_tta1000_projected']:.0f} MB (+{rss['bytes_per_view']:.0f} bytes per view)",
        )
    )
    out.append(("sudoku generator, extreme", f"{record['sudoku_gen_per_s']:,.0f} puzzles/s"))
    out.append(("maze generator, 30x30, shortest path >= 110", f"{record['maze_gen_per_s']:,.0f} mazes/s"))
    for key, check in record["checks"].items():
        verdict = "PASS" if check["pass"] else "FAIL"
        out.append((f"target: {key} {check['target']}", f"{verdict} ({check['value']:.3g})"))
    return out


def markdown(record: dict[str, Any]) -> str:
    lines = [machine_line(record), "", "| what | number |", "|---|---|"]
    lines += [f"| {what} | {number} |" for what, number in rows(record)]
    return "\n".join(lines)


def text_table(record: dict[str, Any]) -> str:
    pairs = [(what.replace("**", ""), number.replace("**", "")) for what, number in rows(record)]
    width = max(len(what) for what, _ in pairs)
    return "\n".join([machine_line(record), ""] + [f"{what:<{width}}  {number}" for what, number in pairs])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("record", type=Path, help="a JSON record written by benchmarks/run.py")
    parser.add_argument("--text", action="store_true", help="the plain table instead of markdown")
    args = parser.parse_args()
    record = orjson.loads(args.record.read_bytes())
    print(text_table(record) if args.text else markdown(record))


if __name__ == "__main__":
    main()
