"""benchmarks/gpu_check.py --device cpu --tiny: every section of the GPU check runs and reports.

The numbers mean nothing on a CPU at tiny sizes; what is checked is that every code path the GPU run
takes (micro-batch search, eager and compiled steps, predict, bf16 vs fp32, the SDPA profile, a
1-process torchrun job, the sudoku MLP config through run_train) works and fills its record.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]


@pytest.mark.slow
def test_gpu_check_runs_every_section_on_a_cpu():
    path = os.pathsep.join(p for p in (str(REPO), os.environ.get("PYTHONPATH")) if p)
    env = {**os.environ, "PYTHONPATH": path, "OMP_NUM_THREADS": "1"}
    command = [sys.executable, str(REPO / "benchmarks" / "gpu_check.py"), "--device", "cpu", "--tiny"]
    done = subprocess.run(command, capture_output=True, text=True, env=env, timeout=600, cwd=REPO)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    record = json.loads(done.stdout.strip().splitlines()[-1])
    for section in ("sdpa_backend", "bf16_vs_fp32", "train", "loader", "predict", "torchrun", "sudoku"):
        assert "error" not in record[section], record[section]
    train = record["train"]
    assert train["micro_batch"] == 16  # the largest tiny candidate fits on any CPU
    for mode in ("eager", "compiled"):
        assert (
            train[mode]["ms_per_step"] > 0
            and train[mode]["tflops"] > 0
            and train[mode]["peak_memory_gib"] > 0
        )
    assert record["predict"]["views_per_s"] > 0
    assert record["loader"]["rows_per_s"] > 0 and record["loader"]["rows_vs_step"] > 0
    assert record["sdpa_backend"]["backend"] in ("flash", "efficient", "cudnn", "math")
    assert (
        0.8 < record["bf16_vs_fp32"]["argmax_agreement"] <= 1 and record["bf16_vs_fp32"]["relative_l2"] < 0.1
    )
    assert record["torchrun"] == {**record["torchrun"], "backend": "gloo", "all_reduce_ok": True}
    assert record["sudoku"]["steps"] == 3 and len(record["sudoku"]["lm_loss"]) == 3
