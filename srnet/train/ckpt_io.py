"""Kill-safe checkpoint files: write to a temporary file, flush it to disk, then rename.

``os.replace`` is atomic on POSIX and Windows, so whatever moment a run is killed at (SIGKILL, OOM
killer, pre-emption, power loss after the fsync), ``last.ckpt`` is either the previous complete
checkpoint or the new complete one, never a truncated file. The trainer uses it through
``configs/trainer/default.yaml``::

    plugins:
      - _target_: srnet.train.ckpt_io.AtomicCheckpointIO

Checkpoints are read back with ``torch.load(weights_only=True)`` (no pickled code runs).
Shown by ``tests/train/test_kill_resume.py``.
"""

from __future__ import annotations

import logging
import os
from pathlib import Path
from typing import Any

import torch
from lightning.fabric.plugins.io.torch_io import TorchCheckpointIO

from srnet.io.files import remove_stale, write_atomic

log = logging.getLogger("srnet")


def atomic_torch_save(obj: Any, path: str | os.PathLike) -> Path:
    """``torch.save(obj, path)`` so that ``path`` is never seen half-written
    (:func:`srnet.io.files.write_atomic`, fsync'ed). Temporary files left by a killed process are
    removed the next time the same checkpoint is written."""
    def save(tmp: str) -> None:
        with open(tmp, "wb") as f:
            torch.save(obj, f)

    remove_stale(path)
    return write_atomic(save, path, durable=True)


class AtomicCheckpointIO(TorchCheckpointIO):
    """Lightning ``CheckpointIO`` writing local checkpoints with :func:`atomic_torch_save`.

    Remote URLs (``s3://``, ...) fall back to Lightning's own writer. Loading defaults to
    ``weights_only=True``.
    """

    def save_checkpoint(self, checkpoint: dict[str, Any], path, storage_options: Any = None) -> None:
        if storage_options is not None or "://" in str(path):
            return super().save_checkpoint(checkpoint, path, storage_options)
        atomic_torch_save(checkpoint, path)
        log.debug("checkpoint written atomically: %s", path)

    def load_checkpoint(self, path, map_location: Any = None, weights_only: bool | None = None
                        ) -> dict[str, Any]:
        if map_location is None:
            map_location = lambda storage, loc: storage  # noqa: E731 (Lightning's default)
        return super().load_checkpoint(path, map_location=map_location,
                                       weights_only=True if weights_only is None else weights_only)
