"""What ``input=`` names: image, animated image and video files, and their output names.

A folder gives its image, GIF / APNG and video files (not recursive; srnet's temporary files are
never taken), a glob the same among its matches; a file named explicitly is taken whatever its
suffix. ``@list.txt`` reads paths from a file and ``-`` from standard input (one per line, or
NUL-separated as ``find -print0`` writes them), taken literally: any file name works there.
Listing is per entry: a symlink loop, a broken link or a folder that cannot be read is a
problem of that entry (:func:`scan_inputs` returns them), never the end of the run.
:func:`kind` sorts a path into ``image``, ``animation`` (GIF, APNG, animated WebP / PNG: every
frame kept) or ``video``.
"""

from __future__ import annotations

import errno
import glob
import os
import sys
from pathlib import Path

from omegaconf import ListConfig

from srnet.io.animation import frame_count
from srnet.io.files import is_temp_name
from srnet.io.images import (
    ALPHA_SUFFIXES,
    DEEP_SUFFIXES,
    FLOAT_SUFFIXES,
    IMAGE_SUFFIXES,
    is_image_file,
)
from srnet.io.pictures import Picture

VIDEO_SUFFIXES = (".mp4", ".m4v", ".mov", ".mkv", ".webm", ".avi", ".mpg", ".mpeg", ".ts",
                  ".m2ts", ".mts", ".wmv", ".flv", ".3gp", ".ogv")
ANIMATION_SUFFIXES = (".gif", ".apng")  # always through the frame-by-frame path
MEDIA_SUFFIXES = IMAGE_SUFFIXES + ANIMATION_SUFFIXES + VIDEO_SUFFIXES


class UsageError(ValueError):
    """A setting that cannot work (no inputs, no output folder, unknown mode, ...)."""


def is_media_file(path: str | Path) -> bool:
    return Path(path).suffix.lower() in MEDIA_SUFFIXES


def is_video_file(path: str | Path) -> bool:
    return Path(path).suffix.lower() in VIDEO_SUFFIXES


def kind(path: Path) -> str:
    """``'video'``, ``'animation'`` or ``'image'`` (a file Pillow cannot open is an image: its
    reader reports the error)."""
    suffix = path.suffix.lower()
    if suffix in VIDEO_SUFFIXES:
        return "video"
    if suffix in ANIMATION_SUFFIXES:
        return "animation"
    if suffix in (".png", ".webp") and path.is_file():
        try:
            return "animation" if frame_count(path) > 1 else "image"
        except OSError:
            return "image"
    return "image"


Problems = list[tuple[Path, str]]


def _resolved(path: Path, problems: Problems) -> Path | None:
    """``path`` resolved, or None with the reason added to ``problems``."""
    try:
        return path.resolve(strict=True)
    except (OSError, RuntimeError) as e:  # RuntimeError: a symlink loop (Python < 3.13)
        loop = isinstance(e, RuntimeError) or getattr(e, "errno", None) == errno.ELOOP
        why = "a symlink loop" if loop else (
            "a broken symlink" if path.is_symlink() else f"cannot be opened ({e})")
        problems.append((path, why))
        return None


def _folder(path: Path, problems: Problems) -> list[Path]:
    try:
        entries = sorted(path.iterdir())
    except OSError as e:
        problems.append((path, f"the folder cannot be listed ({e.strerror or e})"))
        return []
    return [p for p in entries if is_media_file(p) and not is_temp_name(p.name)]


def read_list(item: str, stdin=None) -> list[str]:
    """The paths of ``@file`` or ``-`` (standard input): one per line, or NUL-separated."""
    if item == "-":
        data = (stdin or sys.stdin.buffer).read()
    else:
        try:
            data = Path(item[1:]).expanduser().read_bytes()
        except OSError as e:
            raise UsageError(f"input={item}: cannot read the list file ({e})") from None
    sep = b"\0" if b"\0" in data else b"\n"
    return [os.fsdecode(p.removesuffix(b"\r")) for p in data.split(sep) if p.strip(b"\r")]


def scan_inputs(spec, stdin=None) -> tuple[list[Path], Problems]:
    """``input=``: a file, a folder, a glob, ``@list.txt``, ``-``, or a list of those -> (paths
    without duplicates, entries that could not be taken with the reason)."""
    items = list(spec) if isinstance(spec, (list, tuple, ListConfig)) else [spec]
    found, problems = [], []
    for item in map(str, items):
        literal = item == "-" or item.startswith("@")
        for name in read_list(item, stdin) if literal else [item]:
            path = Path(name) if literal else Path(name).expanduser()  # a list: names as they are
            if path.is_dir():
                found += _folder(path, problems)
            elif os.path.lexists(path):  # a file, or a link that _resolved reports
                found.append(path)
            elif literal:  # one line of a list: that entry fails, the others go on
                problems.append((path, "no such file or folder"))
            elif glob.has_magic(name):
                found += sorted(p for p in map(Path, glob.glob(str(path)))
                                if is_media_file(p) and not is_temp_name(p.name))
            else:
                raise UsageError(f"input={name}: no such file or folder")
    unique: dict[Path, Path] = {}
    for p in found:
        real = _resolved(p, problems)
        if real is not None:
            unique.setdefault(real, p)
    if not unique and not problems:
        raise UsageError(f"input={spec}: no image files or videos found (suffixes "
                         f"{', '.join(MEDIA_SUFFIXES)})")
    return list(unique.values()), problems


def list_inputs(spec) -> list[Path]:
    """The paths of :func:`scan_inputs` (entries that could not be taken left out)."""
    return scan_inputs(spec)[0]


def output_ext(src: Path, pic: Picture, ext: str | None) -> str:
    """The output suffix of an image: ``ext`` or the input's, switched to one that holds the
    picture (PNG for alpha / 16 bit, TIFF for float)."""
    ext = (ext or src.suffix).lower()
    ext = ext if ext.startswith(".") else f".{ext}"
    if pic.is_float:
        return ext if ext in FLOAT_SUFFIXES else ".tif"
    if not is_image_file(f"x{ext}") or (pic.alpha is not None and ext not in ALPHA_SUFFIXES) or (
            pic.bits > 8 and ext not in DEEP_SUFFIXES):
        return ".png"
    return ext
