"""Log the CPU time a run has spent, so learning curves can be drawn against CPU-hours.

:class:`CPUTime` logs ``time/cpu_hours`` (this process's user + system time, all threads, summed
over ranks) and ``time/wall_hours`` at every validation; both carry on across resumes (kept in
the checkpoint).
"""

from __future__ import annotations

import time

import lightning as L
import torch


class CPUTime(L.Callback):
    """Cumulative CPU and wall-clock hours of training, logged with the validation metrics."""

    def __init__(self) -> None:
        self.cpu_before = self.wall_before = 0.0  # from earlier runs of this training (resume)
        self._cpu0 = self._wall0 = None

    def on_fit_start(self, trainer: L.Trainer, pl_module: L.LightningModule) -> None:
        self._cpu0, self._wall0 = time.process_time(), time.time()

    def hours(self) -> tuple[float, float]:
        if self._cpu0 is None:
            return self.cpu_before / 3600, self.wall_before / 3600
        cpu = self.cpu_before + time.process_time() - self._cpu0
        return cpu / 3600, (self.wall_before + time.time() - self._wall0) / 3600

    def on_validation_epoch_end(self, trainer: L.Trainer, pl_module: L.LightningModule) -> None:
        if trainer.sanity_checking or self._cpu0 is None:
            return
        cpu, wall = self.hours()
        total = trainer.strategy.reduce(torch.tensor(cpu, dtype=torch.float64,
                                                     device=pl_module.device), reduce_op="sum")
        pl_module.log("time/cpu_hours", float(total), rank_zero_only=True)
        pl_module.log("time/wall_hours", wall, rank_zero_only=True)

    def state_dict(self) -> dict:
        cpu, wall = self.hours()
        return {"cpu_seconds": cpu * 3600, "wall_seconds": wall * 3600}

    def load_state_dict(self, state_dict: dict) -> None:
        self.cpu_before = float(state_dict.get("cpu_seconds", 0.0))
        self.wall_before = float(state_dict.get("wall_seconds", 0.0))
