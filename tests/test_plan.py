"""Step accounting: the reference's step formula, evaluation points, and `arcsolve info`'s plan lines.

Reference numbers (counts of the reference's own dataset builds, not of ours):
- the fixture build of tests' reference fixture (12 training + 6 evaluation + 4 ConceptARC tasks,
  8 augmentations): train split 22 groups, 198 puzzles, 855 examples; its run (40 epochs, batch 16)
  had total_steps = int(40 x 22 x 4.318 / 16) = 237;
- the paper's ARC-AGI-1 build (training + evaluation demos + ConceptARC, 1000 augmentations):
  960 groups, 876,405 puzzles, 3,633,410 examples, which the reference turns into 518,226 steps at
  100,000 epochs and batch 768. Cross-check with our own build (README, "Measured numbers"): without
  ConceptARC it has 800 groups, 730,809 puzzles (730,810 ids with the blank) and 2,810,397 examples;
  the 160 ConceptARC tasks with their 907 pairs (427 train + 480 test) then add 145,596 versions
  (910 per task, below 1001 because of duplicates) of 5.65 examples each (907 / 160 = 5.67).
"""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest
from typer.testing import CliRunner

from arcsolve.cli import app
from arcsolve.errors import ConfigError
from arcsolve.train.batches import reference_total_steps
from arcsolve.train.config import TrainConfig, load_run_config
from arcsolve.train.plan import TrainShape, step_plan

PAPER = TrainShape(groups=960, puzzles=876_405, examples=3_633_410)
FIXTURE = TrainShape(groups=22, puzzles=198, examples=855)
PAPER_CONFIG = Path(__file__).parent.parent / "configs" / "arc1-trm-att.toml"


def test_the_reference_formula_on_the_reference_fixture_and_the_paper_build():
    assert reference_total_steps(40, 22, 198, 855, 16) == 237
    assert reference_total_steps(100_000, 960, 876_405, 3_633_410, 768) == 518_226


def test_the_paper_config_plans_the_papers_steps_and_ten_evaluations():
    plan = step_plan(load_run_config(PAPER_CONFIG).train, PAPER)
    assert plan.total_steps == 518_226
    # every 10,000 epochs = 5.1823 steps per epoch x 10,000: 51,822 then every ~51,823 steps
    assert len(plan.eval_steps) == 10 and plan.eval_steps[0] == 51_822 and plan.eval_steps[-1] == 518_226
    assert all(51_822 <= b - a <= 51_823 for a, b in zip(plan.eval_steps, plan.eval_steps[1:], strict=False))
    whole = step_plan(
        dataclasses.replace(load_run_config(PAPER_CONFIG).train, step_accounting="whole_batches"), PAPER
    )
    assert whole.total_steps == 500_000  # 5 full batches per separately packed epoch: 3.5% fewer


def test_eval_every_counts_steps_and_max_steps_overrides_the_formula():
    tc = TrainConfig(global_batch_size=16, epochs=40, eval_every=100, max_steps=0)
    assert step_plan(tc, FIXTURE).eval_steps == (100, 200, 237)
    tc = dataclasses.replace(tc, max_steps=150, eval_every=0)
    assert step_plan(tc, FIXTURE).eval_steps == (150,)
    with pytest.raises(ConfigError, match="not both"):
        dataclasses.replace(tc, eval_every=5, eval_every_epochs=5).validate("cfg")


@pytest.mark.slow  # each `info` reads the bundled ARC-AGI-1 tasks for the puzzle-id estimate
def test_info_prints_the_papers_step_count_from_given_split_counts():
    runner = CliRunner()
    args = ["info", str(PAPER_CONFIG), "--world-size", "4", "--gpu", "H100", "--mfu", "0.4"]
    counts = ["--groups", "960", "--puzzles", "876405", "--examples", "3633410", "--test-rows", "385815"]
    done = runner.invoke(app, [*args, *counts])
    assert done.exit_code == 0, done.output
    assert "518,226 optimizer steps (reference" in done.output
    assert "10 evaluations" in done.output
    assert "on 4 x H100 at 40% of its 989 TFLOP/s" in done.output
    small = [
        "--set",
        "train.global_batch_size=16",
        "--set",
        "train.epochs=40",
        "--set",
        "train.eval_every_epochs=40",
    ]
    done = runner.invoke(app, [*args, *small, "--groups", "22", "--puzzles", "198", "--examples", "855"])
    assert done.exit_code == 0, done.output
    assert "237 optimizer steps" in done.output and "1 evaluations, at steps 237" in done.output
    done = runner.invoke(app, [*args, "--groups", "22"])
    assert done.exit_code == 2 and "give all three" in done.output


def test_info_estimates_the_papers_steps_within_one_percent_from_a_recipe_with_conceptarc(tmp_path):
    """Without the build: ARC-AGI-1 (bundled) plus a stand-in ConceptARC file with the real one's
    counts (160 tasks, 427 train and 480 test pairs). The recipe estimate assumes all 1001 versions of
    every task (the real build drops duplicates), which lands within 1% of the reference's 518,226."""
    import orjson

    from arcsolve.train.info import plan_lines, split_sizes

    grid = [[1]]
    challenges, solutions = {}, {}
    for i in range(160):
        train = [{"input": grid, "output": grid}] * (3 if i < 107 else 2)  # 107 x 3 + 53 x 2 = 427
        challenges[f"concept{i:03d}"] = {"train": train, "test": [{"input": grid}] * 3}  # 480
        solutions[f"concept{i:03d}"] = [grid] * 3
    (tmp_path / "concept_challenges.json").write_bytes(orjson.dumps(challenges))
    (tmp_path / "concept_solutions.json").write_bytes(orjson.dumps(solutions))
    extra = f"arc1:training,{tmp_path / 'concept_challenges.json'}"
    cfg = load_run_config(PAPER_CONFIG, [f"data.arc.extra_train='{extra}'", f"data.cache_dir='{tmp_path}'"])
    sizes = split_sizes(cfg)
    assert not sizes.exact and sizes.train.groups == 960
    plan, lines = plan_lines(cfg, sizes, gpus=4, mfu=0.4)
    assert abs(plan.total_steps - 518_226) / 518_226 < 0.01, plan.total_steps
    assert any("(estimated from the recipe)" in line for line in lines)
