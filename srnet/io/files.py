"""Writing a file so that it is never seen half-written: the one atomic writer of srnet.

The data goes to a temporary file in the same folder (same file system, so the rename is
atomic), then replaces the target with ``os.replace``. Whatever moment the process is killed at,
the target is either the previous complete file or the new complete one. With ``durable=True``
the data and the rename are also fsync'ed (checkpoints: a power loss right after the write keeps
the file).
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Callable
from pathlib import Path

TMP_MARK = ".tmp-"  # temporary files are ".<name>.tmp-<random><suffix>" next to the target


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


def remove_stale(path: str | Path) -> None:
    """Delete temporary files a killed writer of ``path`` left behind."""
    path = Path(path)
    for stale in path.parent.glob(f".{path.name}{TMP_MARK}*"):
        stale.unlink(missing_ok=True)


def write_atomic(write: Callable[[str], object], path: str | Path, overwrite: bool = True,
                 durable: bool = False) -> Path:
    """Call ``write(tmp_path)`` on a temporary file next to ``path``, then rename it to ``path``.

    Raises:
        FileExistsError: ``path`` exists and ``overwrite`` is false (nothing is written).
    """
    path = Path(path)
    if path.exists() and not overwrite:
        raise FileExistsError(f"{path} exists; pass overwrite=true to replace it")
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}{TMP_MARK}", suffix=path.suffix,
                               dir=path.parent)  # the suffix: writers pick the format by it
    os.close(fd)
    try:
        write(tmp)
        if durable:
            with open(tmp, "rb+") as f:
                os.fsync(f.fileno())
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(tmp, 0o666 & ~umask)  # mkstemp makes 0600; give the usual permissions
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    if durable:
        _fsync_dir(path.parent)
    return path
