"""What the PNG settings cost: time and size of srnet's PNG writer at levels 1 / 3 / 6 with the
adaptive row filters, and at level 1 with the Sub filter and zlib's run-length strategy
(``png_filter=sub``, what OpenCV writes by default, and infer.py's default).

Every image of a folder (real photos; default Set14's HR images) is written once per setting,
settings alternating image by image; the table gives the total time and bytes per setting, and
the ratio to level 6 adaptive (Pillow's default, and srnet's before ``png_level=``).
Run: ``python scripts/benchmark.py part=encode``.
"""

from __future__ import annotations

import io
import time
from pathlib import Path

from srnet.benchmarks.peers import cpu_name
from srnet.io.images import read_rgb
from srnet.io.pngwrite import write_png
from srnet.io.tables import markdown_table

SETTINGS = ((1, "sub"), (1, "adaptive"), (3, "adaptive"), (6, "adaptive"))  # (level, filters)
BASE = (6, "adaptive")


def run(folder: Path, settings: tuple[tuple[int, str], ...] = SETTINGS, repeats: int = 2) -> dict:
    files = sorted(p for p in folder.iterdir() if p.suffix.lower() in (".png", ".jpg"))
    if not files:
        raise FileNotFoundError(f"{folder}: no .png / .jpg images")
    images = [read_rgb(p) for p in files]
    secs, size = dict.fromkeys(settings, 0.0), dict.fromkeys(settings, 0)
    for k in range(repeats):
        for img in images:
            for level, filters in settings:
                buf = io.BytesIO()
                t = time.perf_counter()
                write_png(buf, img, compress_level=level, filters=filters)
                secs[level, filters] += (time.perf_counter() - t) / repeats
                size[level, filters] += len(buf.getvalue()) if k == 0 else 0
    px = sum(i.shape[0] * i.shape[1] for i in images)
    return {"part": "encode", "folder": str(folder), "images": len(images), "mp": px / 1e6,
            "rows": [{"level": lv, "filters": fl, "seconds": secs[lv, fl],
                      "bytes": size[lv, fl], "ms_per_mp": 1e3 * secs[lv, fl] / (px / 1e6),
                      "time_vs_6": secs[lv, fl] / secs[BASE] if BASE in secs else None,
                      "size_vs_6": size[lv, fl] / size[BASE] if BASE in size else None}
                     for lv, fl in settings],
            "machine": cpu_name()}


def table(result: dict) -> str:
    return markdown_table(["PNG level", "filters", "ms per MP", "MB", "time vs level 6 adaptive",
                           "size vs level 6 adaptive"],
                          [[r["level"], r["filters"], f"{r['ms_per_mp']:.0f}",
                            f"{r['bytes'] / 1e6:.1f}", f"{r['time_vs_6']:.2f}",
                            f"{r['size_vs_6']:.3f}"] for r in result["rows"]])
