"""`encode_task_versions` encodes many tasks in one batch: the same versions, offsets and rows as one
call per task (each task drawing from its own generator), test labels all PAD where unknown."""

from __future__ import annotations

from dataclasses import fields, replace

import numpy as np
import pytest

from arcsolve.data.arc_builder import ArcBuildConfig, encode_task_versions
from arcsolve.data.tasks import load_tasks


@pytest.mark.parametrize(
    ("aug", "translate", "permute_black"), [(0, True, False), (4, True, True), (3, False, False)]
)
def test_one_batch_equals_one_call_per_task(aug, translate, permute_black):
    tasks = [t for t in load_tasks("arc1:training") if t.max_side() <= 10][:25]
    tasks = [replace(t, test_outputs=None) if i % 3 == 0 else t for i, t in enumerate(tasks)]
    cfg = ArcBuildConfig(source="-", aug=aug, canvas=10, translate=translate, permute_black=permute_black)

    def rngs(ids):
        return [np.random.default_rng([5, i]) for i in ids]

    batch = encode_task_versions(tasks, rngs(range(len(tasks))), cfg)
    singles = [encode_task_versions([t], rngs([i]), cfg) for i, t in enumerate(tasks)]
    for field in fields(batch):
        parts = [getattr(one, field.name) for one in singles]
        assert np.array_equal(getattr(batch, field.name), np.concatenate(parts)), field.name
    unknown = singles[0]  # task 0's test outputs were hidden: all PAD labels, real inputs
    assert not unknown.test_labels.any() and unknown.test_inputs.any()
    assert batch.versions.tolist() == [one.dihedrals.shape[0] for one in singles]
    empty = encode_task_versions([], [], cfg)
    assert empty.train_inputs.shape == (0, 100) and empty.colour_maps.shape == (0, 10)
