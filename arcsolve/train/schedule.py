"""Learning-rate schedule: linear warm-up from 0, then cosine from base to base * min_ratio.

With min_ratio = 1.0 (the paper) the rate is constant after warm-up. Both optimizers use the same
shape, each from its own base rate.
"""

from __future__ import annotations

import math


def lr_at(step: int, base_lr: float, warmup_steps: int, total_steps: int, min_ratio: float = 1.0) -> float:
    """The rate for optimizer step `step` (0-based): base * step / warmup during warm-up, then cosine."""
    if step < warmup_steps:
        return base_lr * step / warmup_steps
    decay_steps = max(1, total_steps - warmup_steps)
    progress = min(1.0, (step - warmup_steps) / decay_steps)
    return base_lr * (min_ratio + (1 - min_ratio) * 0.5 * (1 + math.cos(math.pi * progress)))
