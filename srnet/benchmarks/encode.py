"""What the PNG compression level costs: time and size of srnet's PNG writer at levels 1 / 3 / 6.

Every image of a folder (real photos; default Set14's HR images) is written once at each level,
levels alternating image by image; the table gives the total time and bytes per level, and the
ratio to level 6 (Pillow's default, and srnet's before ``png_level=``). OpenCV writes level 1
unless told otherwise. Run: ``python scripts/benchmark.py part=encode``.
"""

from __future__ import annotations

import io
import time
from pathlib import Path

from srnet.benchmarks.peers import cpu_name
from srnet.io.images import read_rgb
from srnet.io.pngwrite import write_png
from srnet.io.tables import markdown_table

LEVELS = (1, 3, 6)


def run(folder: Path, levels: tuple[int, ...] = LEVELS, repeats: int = 2) -> dict:
    files = sorted(p for p in folder.iterdir() if p.suffix.lower() in (".png", ".jpg"))
    if not files:
        raise FileNotFoundError(f"{folder}: no .png / .jpg images")
    images = [read_rgb(p) for p in files]
    secs, size = dict.fromkeys(levels, 0.0), dict.fromkeys(levels, 0)
    for k in range(repeats):
        for img in images:
            for level in levels:
                buf = io.BytesIO()
                t = time.perf_counter()
                write_png(buf, img, compress_level=level)
                secs[level] += (time.perf_counter() - t) / repeats
                size[level] += len(buf.getvalue()) if k == 0 else 0
    px = sum(i.shape[0] * i.shape[1] for i in images)
    return {"part": "encode", "folder": str(folder), "images": len(images), "mp": px / 1e6,
            "rows": [{"level": lv, "seconds": secs[lv], "bytes": size[lv],
                      "ms_per_mp": 1e3 * secs[lv] / (px / 1e6),
                      "time_vs_6": secs[lv] / secs[6] if 6 in secs else None,
                      "size_vs_6": size[lv] / size[6] if 6 in size else None} for lv in levels],
            "machine": cpu_name()}


def table(result: dict) -> str:
    return markdown_table(["PNG level", "ms per MP", "MB", "time vs level 6", "size vs level 6"],
                          [[r["level"], f"{r['ms_per_mp']:.0f}", f"{r['bytes'] / 1e6:.1f}",
                            f"{r['time_vs_6']:.2f}", f"{r['size_vs_6']:.3f}"]
                           for r in result["rows"]])
