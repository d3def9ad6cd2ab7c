"""Does smoothing the chroma of a JPEG input help? Cb/Cr PSNR of the enlarged chroma, with and
without a Gaussian blur of the LR chroma before the bicubic enlargement (the colour path every
srnet model uses: the network makes Y, Cb and Cr are enlarged by bicubic).

The LR is each holdout image (every 10th of T91 + BSDS500 train: no test set) bicubic-downscaled
by ``scale`` and saved as a JPEG (Pillow, 4:2:0, as phones and the web do) at each quality; the
score is the PSNR of Cb and Cr together against the HR's, a border of ``scale`` cropped.

    python scripts/chroma_study.py [scale=2] [qualities=[50,75,90,null]] [sigmas=[0,0.5,1,1.5]]
"""

from __future__ import annotations

import io
import sys
from pathlib import Path

import numpy as np
from kvargs import parse_kv
from PIL import Image, ImageFilter
from tqdm import tqdm

from srnet.analysis.evaluation import dataset_source
from srnet.io.tables import markdown_table

DATA = Path(__file__).resolve().parents[1].parent / "shared" / "datasets"


def chroma_psnr(hr: Image.Image, scale: int, quality: int | None, sigma: float) -> float:
    """Cb/Cr PSNR (dB, 8-bit) of ``hr``'s chroma enlarged from its (JPEG) LR, blurred by sigma."""
    w, h = hr.width - hr.width % scale, hr.height - hr.height % scale
    hr = hr.crop((0, 0, w, h))
    lr = hr.resize((w // scale, h // scale), Image.BICUBIC)
    if quality is not None:
        buf = io.BytesIO()
        lr.save(buf, "JPEG", quality=quality)
        lr = Image.open(buf).convert("RGB")
    y, cb, cr = lr.convert("YCbCr").split()
    if sigma:
        cb, cr = (c.filter(ImageFilter.GaussianBlur(sigma)) for c in (cb, cr))
    up = np.asarray(Image.merge("YCbCr", (y, cb, cr)).resize((w, h), Image.BICUBIC), np.float64)
    ref = np.asarray(hr.convert("YCbCr"), np.float64)
    b = scale
    mse = np.mean((up[b:-b, b:-b, 1:] - ref[b:-b, b:-b, 1:]) ** 2)  # (H, W, Cb/Cr)
    return float(10 * np.log10(255.0 ** 2 / mse))


def main(argv: list[str]) -> None:
    a = parse_kv("chroma_study.py", {"scale": 2, "qualities": [50, 75, 90, None],
                                     "sigmas": [0, 0.5, 1.0, 1.5], "data": str(DATA)}, argv)
    scale = int(a["scale"])
    records = dataset_source(a["data"], "holdout", scale).records()
    scores = {(q, s): [] for q in a["qualities"] for s in a["sigmas"]}
    for rec in tqdm(records, desc="holdout images"):
        hr = Image.fromarray(rec.load_hr()).convert("RGB")
        for q, s in scores:
            scores[(q, s)].append(chroma_psnr(hr, scale, q, float(s)))
    rows = [[f"JPEG q{q}" if q is not None else "lossless",
             *(f"{np.mean(scores[(q, s)]):.2f}" for s in a["sigmas"])] for q in a["qualities"]]
    print(f"\nCb/Cr PSNR (dB), x{scale}, {len(records)} holdout images\n")
    print(markdown_table(["LR", *(f"blur σ {s}" if s else "no blur" for s in a["sigmas"])], rows))


if __name__ == "__main__":
    main(sys.argv[1:])
