"""``weights=auto`` on files that were JPEGs once: how often the pixels give the quality back, what
it costs, and what the choice is worth.

Each image of a set is bicubic-downscaled by ``scale`` (Pillow), saved as a JPEG at each quality
(4:2:0, as phones and the web do), decoded, and cropped by a few pixels (a different offset per
image, so the 8x8 grid is not at the corner): what a PNG screenshot of a web photo holds.
:func:`srnet.io.jpeginfo.quality_from_pixels` reads it; the table gives how many it found (any
quality, and within 2 of the true one), its median time, and the Y-PSNR of the clean weights
(what ``auto`` gave such a file before: no quantisation tables) against the weights ``auto`` now
picks from the pixels (:func:`srnet.infer.models.auto_strength` of the estimate), through
``load_model(...).upscale``.

    python scripts/jpeg_pixels.py [scale=2] [datasets=[holdout,Set14,BSD100]]
        [qualities=[null,95,90,75,50,30]]
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

import numpy as np
import torch
from chroma_study import jpeg_lr
from kvargs import parse_kv
from PIL import Image
from tqdm import tqdm

from srnet.analysis.evaluation import dataset_source
from srnet.benchmarks.peers import cpu_name
from srnet.infer.models import auto_strength, load_model
from srnet.io.jpeginfo import quality_from_pixels
from srnet.io.pictures import to_tensor
from srnet.io.tables import markdown_table
from srnet.ops.metrics import psnr

DATA = Path(__file__).resolve().parents[1].parent / "shared" / "datasets"


def y_psnr(sr: np.ndarray, hr: np.ndarray, scale: int) -> float:
    return float(psnr(to_tensor(np.array(sr)), to_tensor(np.array(hr)), border=scale)[0])


def study(name: str, scale: int, qualities: list, models: dict) -> list[list]:
    """One table row per quality of set ``name``."""
    recs = dataset_source(DATA, name, scale).records()
    stats = {q: {"found": 0, "close": 0, "ms": [], "clean": [], "auto": []} for q in qualities}
    for i, rec in enumerate(tqdm(recs, desc=name, leave=False)):
        hr_full = Image.fromarray(rec.load_hr()).convert("RGB")
        oy, ox = i % 8, (3 * i + 1) % 8  # the grid moved off the corner
        for q in qualities:
            hr, lr = jpeg_lr(hr_full, scale, q)
            lr = np.asarray(lr)[oy:, ox:]
            hr = np.asarray(hr)[oy * scale:, ox * scale:]
            t = time.perf_counter()
            est = quality_from_pixels(lr)
            s = stats[q]
            s["ms"].append(1e3 * (time.perf_counter() - t))
            s["found"] += est is not None
            s["close"] += est is not None and q is not None and abs(est - q) <= 2
            strength = auto_strength(est)
            s["clean"].append(y_psnr(models[0.0].upscale(lr), hr, scale))
            s["auto"].append(y_psnr(models[strength].upscale(lr), hr, scale))
    rows = []
    for q, s in stats.items():
        n = len(s["ms"])
        rows.append([name, "lossless" if q is None else q, f"{s['found']}/{n}",
                     "-" if q is None else f"{s['close']}/{n}", f"{np.median(s['ms']):.1f}",
                     f"{np.mean(s['clean']):.2f}", f"{np.mean(s['auto']):.2f}",
                     f"{np.mean(s['auto']) - np.mean(s['clean']):+.2f}"])
    return rows


def main(argv: list[str]) -> None:
    a = parse_kv("jpeg_pixels.py", {"scale": 2, "datasets": ["holdout", "Set14", "BSD100"],
                                    "qualities": [None, 95, 90, 75, 50, 30]}, argv)
    scale = int(a["scale"])
    torch.set_num_threads(2)
    models = {t: load_model(f"x{scale}" if t < 1 else f"x{scale}-real", "cpu",
                            denoise=t if 0 < t < 1 else None) for t in (0.0, 0.25, 0.5, 0.75, 1.0)}
    rows = [r for name in a["datasets"] for r in study(name, scale, list(a["qualities"]), models)]
    print(markdown_table(["set", "JPEG quality", "found", "within 2", "ms (median)",
                          f"x{scale} clean dB", f"x{scale} auto dB", "auto - clean"], rows))
    print(f"\n{cpu_name()}, 2 threads; {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}")


if __name__ == "__main__":
    main(sys.argv[1:])
