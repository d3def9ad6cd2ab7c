"""Kill-safe checkpoint files: write to a temporary file, flush it to disk, then rename.

``os.replace`` is atomic on POSIX and Windows, so whatever moment a run is killed at (SIGKILL, OOM
killer, pre-emption, power loss after the fsync), ``last.ckpt`` is either the previous complete
checkpoint or the new complete one, never a truncated file. The trainer uses it through
``configs/trainer/default.yaml``::

    plugins:
      - _target_: srnet.train.ckpt_io.AtomicCheckpointIO

Checkpoints are read back with ``torch.load(weights_only=True)`` (no pickled code runs).
Shown by ``tests/test_kill_resume.py``.
"""

from __future__ import annotations

import logging
import os
from pathlib import Path
from typing import Any

import torch
from lightning.fabric.plugins.io.torch_io import TorchCheckpointIO

log = logging.getLogger("srnet")
TMP_MARK = ".tmp-"


def _fsync_dir(folder: Path) -> None:
    """Make a rename durable (POSIX); a no-op where directories cannot be opened (Windows)."""
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def atomic_torch_save(obj: Any, path: str | os.PathLike) -> Path:
    """``torch.save(obj, path)`` so that ``path`` is never seen half-written.

    The data goes to ``.<name>.tmp-<pid>`` in the same folder (same file system, so the rename is
    atomic), is fsync'ed, then replaces ``path``. Temporary files left by a killed process are
    removed the next time the same checkpoint is written.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    for stale in path.parent.glob(f".{path.name}{TMP_MARK}*"):
        stale.unlink(missing_ok=True)
    tmp = path.with_name(f".{path.name}{TMP_MARK}{os.getpid()}")
    try:
        with open(tmp, "wb") as f:
            torch.save(obj, f)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    _fsync_dir(path.parent)
    return path


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
