"""Writing a file so that it is never seen half-written: the one atomic writer of srnet.

The data goes to a temporary file in the target's folder (same file system), named
``.<name>.srnet-tmp-<pid>-<host>-<random>``: hidden, with no media suffix (no input lister takes
it for an image or a video; writers are told the format explicitly), and naming the process that
writes it. Then:

* ``overwrite=True``: ``os.replace`` onto the target (atomic);
* ``overwrite=False``: an *exclusive* final step: ``os.link`` (fails if the target exists, even
  if it appeared a moment ago), or where hard links are not supported ``renameat2`` with
  ``RENAME_NOREPLACE`` (Linux), else an ``O_EXCL`` create and a copy. A target that exists is
  never replaced: :class:`TargetExists` is raised and the temporary file removed.

Whatever moment the process is killed at, the target is absent, the previous complete file or
the new complete one. A killed writer's temporary file is removed by :func:`remove_stale` once
its process is gone (never another live run's). With ``durable=True`` the data and the final
name are also fsync'ed (checkpoints: a power loss right after the write keeps the file).
"""

from __future__ import annotations

import errno
import hashlib
import os
import secrets
import shutil
import socket
from collections.abc import Callable
from pathlib import Path

TMP_MARK = ".srnet-tmp-"  # ".<name>.srnet-tmp-<pid>-<host>-<random>" next to the target
LEGACY_MARK = ".tmp-"  # older srnet: ".<name>.tmp-<random><suffix>" (no pid: never removed)
HOST = hashlib.sha1(socket.gethostname().encode()).hexdigest()[:6]  # shared folders: per host


class TargetExists(FileExistsError):
    """The target of an exclusive write exists (it was not replaced)."""


def is_temp_name(name: str) -> bool:
    """Whether ``name`` is a temporary file of srnet's writer (this one's or an older one's)."""
    return name.startswith(".") and (TMP_MARK in name or LEGACY_MARK in name)


def temp_path(path: Path, pid: int | None = None) -> Path:
    """A fresh temporary name next to ``path`` for process ``pid`` (default: this one)."""
    pid = os.getpid() if pid is None else pid
    return path.with_name(f".{path.name}{TMP_MARK}{pid}-{HOST}-{secrets.token_hex(4)}")


def _writer_alive(name: str) -> bool:
    """Whether the process that writes temporary file ``name`` may still run (unknown: yes)."""
    fields = name.split(TMP_MARK, 1)[1].split("-")
    if not fields[0].isdigit() or (len(fields) > 1 and fields[1] != HOST):
        return True  # not ours to judge: another host's or a foreign name
    try:
        os.kill(int(fields[0]), 0)
    except ProcessLookupError:
        return False
    except OSError:  # EPERM: alive, another user's
        return True
    return True


def remove_stale(path: str | Path, every: bool = False) -> list[Path]:
    """Delete temporary files of dead writers next to ``path`` (of ``path`` itself, or of any
    file in its folder with ``every``, when ``path`` is the folder); returns what was removed."""
    path = Path(path)
    folder, pattern = (path, f".*{TMP_MARK}*") if every else (
        path.parent, f".{path.name}{TMP_MARK}*")
    removed = []
    try:
        candidates = list(folder.glob(pattern))
    except OSError:
        return removed
    for stale in candidates:
        if not _writer_alive(stale.name):
            try:
                stale.unlink()
                removed.append(stale)
            except OSError:
                pass  # gone meanwhile, or not ours to delete
    return removed


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


def _rename_noreplace(src: Path, dst: Path) -> bool:
    """``renameat2(RENAME_NOREPLACE)``: True when done, False where unsupported."""
    try:
        import ctypes

        libc = ctypes.CDLL(None, use_errno=True)
        fn = libc.renameat2
    except (OSError, AttributeError):
        return False
    at_fdcwd, noreplace = -100, 1
    if fn(at_fdcwd, os.fsencode(src), at_fdcwd, os.fsencode(dst), noreplace) == 0:
        return True
    err = ctypes.get_errno()
    if err == errno.EEXIST:
        raise FileExistsError(err, os.strerror(err), str(dst))
    if err in (errno.ENOSYS, errno.EINVAL, errno.ENOTSUP, errno.EOPNOTSUPP):
        return False
    raise OSError(err, os.strerror(err), str(dst))


def _copy_exclusive(src: Path, dst: Path) -> None:
    """Last resort: create ``dst`` with O_EXCL and copy (a kill mid-copy leaves it partial)."""
    fd = os.open(dst, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666)
    try:
        with open(src, "rb") as f, os.fdopen(fd, "wb") as out:
            shutil.copyfileobj(f, out, 1 << 20)
    except BaseException:
        dst.unlink(missing_ok=True)
        raise


def place_exclusive(tmp: Path, path: Path) -> None:
    """Give complete file ``tmp`` the name ``path`` unless ``path`` exists (then
    ``FileExistsError``); ``tmp`` is gone afterwards either way."""
    try:
        try:
            os.link(tmp, path)  # EEXIST is atomic: a file that appeared meanwhile is kept
        except FileExistsError:
            raise
        except OSError as e:  # no hard links here (FAT, some network file systems)
            if e.errno not in (errno.EPERM, errno.ENOTSUP, errno.EOPNOTSUPP, errno.EMLINK,
                               errno.ENOSYS, errno.EXDEV, errno.EACCES):
                raise
            if not _rename_noreplace(tmp, path):
                _copy_exclusive(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)


def write_atomic(write: Callable[[str], object], path: str | Path, overwrite: bool = True,
                 durable: bool = False) -> Path:
    """Call ``write(tmp_path)`` on a temporary file next to ``path`` (a name without a media
    suffix: ``write`` must give the format itself), then move it to ``path`` (see the module).

    Raises:
        TargetExists: ``path`` exists and ``overwrite`` is false, before writing or at the final
            step (a file that appeared meanwhile); it is left as it was.
    """
    path = Path(path)
    if path.exists() and not overwrite:
        raise TargetExists(f"{path} exists; pass overwrite=true to replace it")
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = temp_path(path)
    try:
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666)  # umask applies
        os.close(fd)
        write(str(tmp))
        if durable:
            with open(tmp, "rb+") as f:
                os.fsync(f.fileno())
        if overwrite:
            os.replace(tmp, path)
        else:
            try:
                place_exclusive(tmp, path)
            except FileExistsError:
                raise TargetExists(f"{path} appeared while it was being written (another run, "
                                   f"or another program); it was kept, not replaced") from None
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    if durable:
        _fsync_dir(path.parent)
    return path
