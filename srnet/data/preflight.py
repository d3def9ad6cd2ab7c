"""Pre-flight check of a data set before training or evaluation starts.

Every HR and LR file is decoded once (in a few threads); the check collects

* files that cannot be read (zero bytes, truncated, not an image, unsupported format), and
* HR/LR pairs whose sizes do not match the scale: the LR must be the HR, mod-cropped to a multiple
  of the scale, divided by the scale (``LR = floor(HR / s)`` on each side),

then raises one :class:`PreflightError` naming every bad file, so nothing is silently skipped. With
``skip_bad=True`` the bad records are left out instead, and the list is logged as a warning.

Run on a folder: ``python -m srnet.data.preflight <benchmark set or image folder> [scale]``.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Mapping
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from srnet.data.datasets import MARGIN
from srnet.data.sources import Record

log = logging.getLogger("srnet")


class PreflightError(ValueError):
    """Raised with the full list of bad files (``problems``: list of one-line messages)."""

    def __init__(self, problems: list[str]) -> None:
        self.problems = problems
        super().__init__(
            f"pre-flight data check failed: {len(problems)} problem(s); fix or remove these "
            "files (or set data.skip_bad=true to leave them out):\n  " + "\n  ".join(problems))


def check_record(rec: Record, scale: int) -> list[str]:
    """The problems of one record, each naming the file at fault (empty list: the record is fine)."""
    problems, hr_size = [], None
    try:
        hr = rec.load_hr()  # uint8 (H, W, 3)
        hr_size = (hr.shape[1], hr.shape[0])
    except OSError as e:
        problems.append(f"unreadable: {e}")
    if rec.lr is None:
        return problems
    try:
        lr = rec.load_lr()
    except OSError as e:
        return [*problems, f"unreadable: {e}"]
    if hr_size is not None:
        w, h = hr_size
        want = (w // scale, h // scale)
        got = (lr.shape[1], lr.shape[0])
        if got != want:
            problems.append(
                f"size mismatch: {rec.lr} is {got[0]}x{got[1]} but its HR {rec.hr} ({w}x{h}) at "
                f"x{scale} needs LR {want[0]}x{want[1]}")
    return problems


def preflight(sets: Mapping[str, list[Record]], scale: int, skip_bad: bool = False,
              workers: int | None = None) -> dict[str, list[Record]]:
    """Check every record of every named set; returns the sets (without bad records if skipping).

    Args:
        sets: set name (shown in messages, e.g. ``train``, ``val/Set5``) -> its records.
        scale: SR factor the HR/LR pairs must match.
        skip_bad: leave bad records out (logged) instead of raising.
        workers: decoding threads (default: CPU count, at most 8).

    Raises:
        PreflightError: listing every problem found, one per line, when ``skip_bad`` is false.
        ValueError: when skipping leaves a set without any image.
    """
    flat = [(name, rec) for name, recs in sets.items() for rec in recs]
    workers = workers or min(8, os.cpu_count() or 1)
    with ThreadPoolExecutor(max_workers=workers) as pool:
        found = list(pool.map(lambda item: check_record(item[1], scale), flat))
    problems = [f"[{name}] {msg}" for (name, _), msgs in zip(flat, found, strict=True)
                for msg in msgs]
    if problems and not skip_bad:
        raise PreflightError(problems)
    if problems:
        log.warning("pre-flight: leaving out %d bad file(s):\n  %s", len(problems),
                    "\n  ".join(problems))
    out: dict[str, list[Record]] = {name: [] for name in sets}
    for (name, rec), msgs in zip(flat, found, strict=True):
        if not msgs:
            out[name].append(rec)
    empty = [name for name, recs in out.items() if not recs]
    if empty:
        raise ValueError(f"pre-flight: no usable images in {empty}")
    return out


def min_side(record) -> int | None:
    """The shorter side of a record's HR image from its header (None when unreadable)."""
    if not isinstance(record.hr, (str, Path)):
        return int(min(record.hr.shape[:2]))  # uint8 (H, W, 3) in memory
    from PIL import Image

    try:
        with Image.open(record.hr) as im:
            return int(min(im.size))  # EXIF rotation swaps the sides, not the shorter one
    except (OSError, ValueError, SyntaxError):
        return None  # unreadable: reported by srnet.data.preflight


def crop_side(scale: int, patch_size: int, margin: int = MARGIN) -> int:
    """HR pixels a training crop needs: the LR patch plus its context margin, times the scale."""
    return (int(patch_size) + 2 * int(margin)) * int(scale)


def too_small(records: list, scale: int, patch_size: int, margin: int = MARGIN) -> list[str]:
    """``"<name> (<side> px)"`` for each training image too small for one patch."""
    need = crop_side(scale, patch_size, margin)
    sides = [(r, min_side(r)) for r in records]
    return [_label(r, side) for r, side in sides if side is not None and side < need]


def _label(record, side: int) -> str:
    return f"{record.hr if isinstance(record.hr, (str, Path)) else record.name} (shorter side {side} px)"


def drop_small(records: list, scale: int, patch_size: int, margin: int = MARGIN) -> list:
    """Training records without the images too small for one patch, listed in a warning.

    Raises:
        ValueError: when no image is left (never an empty epoch).
    """
    need = crop_side(scale, patch_size, margin)
    sides = [(r, min_side(r)) for r in records]  # each header read once
    keep = [r for r, side in sides if (side or need) >= need]
    small = [_label(r, side) for r, side in sides if side is not None and side < need]
    if small:
        log.warning("data.skip_bad: leaving out %d training image(s) smaller than %dx%d "
                    "(data.patch_size=%d at x%d plus context):\n  %s", len(small), need, need,
                    patch_size, scale, "\n  ".join(small))
    if not keep:
        raise ValueError(f"data.patch_size={patch_size}: no training image is at least "
                         f"{need}x{need} pixels at x{scale}; lower data.patch_size")
    return keep


if __name__ == "__main__":
    import sys
    from pathlib import Path

    from srnet.data.sources import ImageFolder, PairedBenchmark

    root, s = Path(sys.argv[1]), int(sys.argv[2]) if len(sys.argv) > 2 else 2
    paired = (root / f"X{s}").is_dir() or (root / "HR").is_dir()
    src = PairedBenchmark(root, s) if paired else ImageFolder(root)
    recs = preflight({root.name: src.records()}, s)[root.name]
    print(f"{root}: {len(recs)} image(s) OK at x{s}")
