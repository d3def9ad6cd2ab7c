"""What ``input=`` names: image, animated image and video files, and their output names.

A folder gives its image, GIF / APNG and video files (not recursive), a glob the same among its
matches; a file named explicitly is taken whatever its suffix. :func:`kind` sorts a path into
``image``, ``animation`` (GIF, APNG, animated WebP / PNG: every frame kept) or ``video``.
"""

from __future__ import annotations

import glob
from pathlib import Path

from omegaconf import ListConfig

from srnet.io.animation import frame_count
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


def list_inputs(spec) -> list[Path]:
    """``input=``: a file, a folder, a glob, or a list of those -> paths, without duplicates."""
    items = list(spec) if isinstance(spec, (list, tuple, ListConfig)) else [spec]
    found: list[Path] = []
    for item in map(str, items):
        path = Path(item).expanduser()
        if path.is_dir():
            found += sorted(p for p in path.iterdir() if is_media_file(p))
        elif path.exists():
            found.append(path)
        elif glob.has_magic(item):
            found += sorted(Path(p) for p in glob.glob(str(path)) if is_media_file(p))
        else:
            raise UsageError(f"input={item}: no such file or folder")
    unique = list({p.resolve(): p for p in found}.values())
    if not unique:
        raise UsageError(f"input={spec}: no image files or videos found (suffixes "
                         f"{', '.join(MEDIA_SUFFIXES)})")
    return unique


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
