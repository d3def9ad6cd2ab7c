"""First calls against warm ones: ``load_model(...).upscale`` over 20 photos of 20 sizes, twice.

A fresh process per scale loads the bundled weights and upscales 20 crops of real photographs
(uint8 RGB, sizes from 96x72 to 1280x720, each size once) in two passes: the first pass meets
every shape for the first time (what a folder of mixed sizes costs), the second is warm. OpenCV's
``dnn_superres`` FSRCNN runs the same images after each srnet pass (BGR in and out, 2 threads).
The table gives both passes and, for the "256x256 class" (LR area within 0.5x-2x of 256x256),
srnet against OpenCV; and the import time of ``load_model`` and of ``infer.py``'s application
(first thing in a fresh process). Run: ``python scripts/benchmark.py part=first``.
"""

from __future__ import annotations

import importlib
import json
import subprocess
import sys
import time

import numpy as np

from srnet.io.tables import markdown_table

SIZES = [(round(96 * (1280 / 96) ** (i / 19)), 0) for i in range(20)]
SIZES = [(w, round(w * (0.75, 0.5625, 0.667, 1.0)[i % 4])) for i, (w, _) in enumerate(SIZES)]
CLASS_256 = (0.5 * 256 * 256, 2 * 256 * 256)


def photos() -> list[np.ndarray]:
    """One crop of a real photograph (``infer_folder``'s mosaics) per size of :data:`SIZES`."""
    from srnet.benchmarks.infer_folder import mosaic, photo_pool

    pool = photo_pool()
    return [mosaic(pool, 7 * i, 3, 3)[:h, :w].copy() for i, (w, h) in enumerate(SIZES)]


def measure(scale: int, threads: int = 2) -> dict:
    """In this process: two passes of srnet, each followed by one of OpenCV (per-image seconds)."""
    t = time.perf_counter()
    from srnet.infer.models import load_model  # torch, the API, the deploy engine

    api_import = time.perf_counter() - t
    importlib.import_module("srnet.app.app")  # the rest of what infer.py imports

    app_import = time.perf_counter() - t
    import torch

    from srnet.benchmarks.peers import opencv_superres

    torch.set_num_threads(threads)
    images = photos()
    model = load_model(f"x{scale}", device="cpu")
    sr, _ = opencv_superres(scale, threads)
    rows = {"srnet_1": [], "srnet_2": [], "opencv_1": [], "opencv_2": []}
    for k in (1, 2):
        for img in images:
            t = time.perf_counter()
            model.upscale(img)
            rows[f"srnet_{k}"].append(time.perf_counter() - t)
        for img in images:
            if sr is not None:
                t = time.perf_counter()
                sr.upsample(np.ascontiguousarray(img[..., ::-1]))
                rows[f"opencv_{k}"].append(time.perf_counter() - t)
    return {"scale": scale, "sizes": SIZES, "api_import_s": api_import,
            "app_import_s": app_import, **rows}


def run(scales=(2, 3, 4)) -> list[dict]:
    """:func:`measure` for each scale, each in a fresh process."""
    from srnet.benchmarks.peers import cpu_name

    out = []
    for s in scales:
        res = subprocess.run([sys.executable, "-m", "srnet.benchmarks.first_pass", str(s)],
                             capture_output=True, text=True, check=True)
        out.append({**json.loads(res.stdout.splitlines()[-1]), "machine": cpu_name()})
    return out


def table(results: list[dict]) -> str:
    rows = []
    for r in results:
        cls = [i for i, (w, h) in enumerate(r["sizes"]) if CLASS_256[0] <= w * h <= CLASS_256[1]]
        s1, s2 = sum(r["srnet_1"]), sum(r["srnet_2"])
        cv = sum(r["opencv_2"]) if r["opencv_2"] else float("nan")
        c_sr = sum(r["srnet_1"][i] for i in cls)
        c_cv = sum(r["opencv_2"][i] for i in cls) if r["opencv_2"] else float("nan")
        rows.append([f"x{r['scale']}", f"{r['api_import_s']:.2f} / {r['app_import_s']:.2f}",
                     f"{s1:.2f}", f"{s2:.2f}", f"{s1 / s2:.2f}", f"{cv:.2f}",
                     f"{cv / s1:.2f}x", f"{c_cv / c_sr:.2f}x ({len(cls)} images)"])
    return markdown_table(["scale", "import s: load_model / infer.py app", "srnet pass 1 s", "srnet pass 2 s", "pass 1 / pass 2",
                           "OpenCV s (warm)", "OpenCV / srnet pass 1",
                           "256x256 class: OpenCV / srnet pass 1"], rows)


if __name__ == "__main__":
    print(json.dumps(measure(int(sys.argv[1]))))
