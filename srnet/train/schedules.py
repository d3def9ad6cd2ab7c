"""Learning-rate schedules that need the run's total step count (passed by the system)."""

from __future__ import annotations

import math

from torch.optim import Optimizer
from torch.optim.lr_scheduler import LambdaLR


def cosine(optimizer: Optimizer, total_steps: int, warmup_steps: int = 0,
           final_ratio: float = 0.01) -> LambdaLR:
    """Linear warm-up over ``warmup_steps``, then cosine decay to ``final_ratio`` x the base LR."""

    def factor(step: int) -> float:
        if step < warmup_steps:
            return (step + 1) / warmup_steps
        t = min(1.0, (step - warmup_steps) / max(1, total_steps - warmup_steps))
        return final_ratio + (1 - final_ratio) * 0.5 * (1 + math.cos(math.pi * t))

    return LambdaLR(optimizer, factor)
