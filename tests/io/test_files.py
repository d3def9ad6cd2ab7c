"""The one atomic writer (srnet.io.files): temporary names no lister takes, an exclusive final
step that never replaces a file that appeared meanwhile (hard link, renameat2, O_EXCL copy),
nothing left after an error, and only dead writers' temporary files removed."""

from __future__ import annotations

import errno
import os
import subprocess
import sys
from pathlib import Path

import pytest

from srnet.io import files
from srnet.io.files import TargetExists, is_temp_name, remove_stale, temp_path, write_atomic
from srnet.io.images import IMAGE_SUFFIXES


def dead_pid() -> int:
    proc = subprocess.Popen([sys.executable, "-c", "pass"])
    proc.wait()
    return proc.pid  # reaped: no process has it (pids are not reused at once)


def test_temporary_names_are_hidden_not_media_and_name_the_writer(tmp_path):
    tmp = temp_path(tmp_path / "photo.png")
    assert tmp.parent == tmp_path and tmp.name.startswith(".photo.png.srnet-tmp-")
    assert f"-{os.getpid()}-" in tmp.name and tmp.suffix.lower() not in IMAGE_SUFFIXES
    assert is_temp_name(tmp.name) and is_temp_name(".im04.png.tmp-abcd.png")  # older srnet's
    assert not is_temp_name("photo.png") and not is_temp_name(".hidden.png")


def test_a_file_that_appears_during_the_write_is_kept(tmp_path):
    target = tmp_path / "out.bin"

    def write(tmp: str) -> None:
        Path(tmp).write_bytes(b"new")
        target.write_bytes(b"the user's own file")  # appears while we encode

    with pytest.raises(TargetExists, match="appeared while it was being written"):
        write_atomic(write, target, overwrite=False)
    assert target.read_bytes() == b"the user's own file"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out.bin"]  # no temporary file left
    with pytest.raises(TargetExists, match="exists; pass overwrite=true"):  # checked before too
        write_atomic(lambda tmp: Path(tmp).write_bytes(b"x"), target, overwrite=False)
    write_atomic(lambda tmp: Path(tmp).write_bytes(b"replaced"), target, overwrite=True)
    assert target.read_bytes() == b"replaced"


@pytest.mark.parametrize("fallback", ["renameat2", "copy"])
def test_exclusive_without_hard_links(tmp_path, monkeypatch, fallback):
    def no_link(src, dst):
        raise OSError(errno.EPERM, "Operation not permitted")  # as on FAT or some network FS

    monkeypatch.setattr(files.os, "link", no_link)
    if fallback == "copy":
        monkeypatch.setattr(files, "_rename_noreplace", lambda src, dst: False)
    target = tmp_path / "a.txt"
    write_atomic(lambda tmp: Path(tmp).write_text("first"), target, overwrite=False)
    assert target.read_text() == "first"

    def racing(tmp: str) -> None:
        Path(tmp).write_text("second")
        target.write_text("appeared")

    target.unlink()
    with pytest.raises(TargetExists):
        write_atomic(racing, target, overwrite=False)
    assert target.read_text() == "appeared" and [p.name for p in tmp_path.iterdir()] == ["a.txt"]


def test_an_interrupted_write_leaves_nothing(tmp_path):
    def killed(tmp: str) -> None:
        Path(tmp).write_bytes(b"half")
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        write_atomic(killed, tmp_path / "x.png", overwrite=False)
    assert list(tmp_path.iterdir()) == []


def test_only_dead_writers_temporary_files_are_removed(tmp_path):
    dead = temp_path(tmp_path / "a.png", pid=dead_pid())
    alive = temp_path(tmp_path / "b.png")  # this process: a live run
    foreign = tmp_path / f".c.png{files.TMP_MARK}{dead_pid()}-otherhost-0000"  # another machine
    legacy = tmp_path / ".d.png.tmp-abcd.png"  # older srnet: no pid, never guessed at
    for p in (dead, alive, foreign, legacy):
        p.write_bytes(b"partial")
    assert remove_stale(tmp_path, every=True) == [dead]
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(
        p.name for p in (alive, foreign, legacy))
    other = temp_path(tmp_path / "e.png", pid=dead_pid())
    other.write_bytes(b"x")
    assert remove_stale(tmp_path / "e.png") == [other]  # one target's only
