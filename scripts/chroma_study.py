"""Does smoothing the chroma of a JPEG input help? Cb/Cr PSNR of the enlarged chroma, with and
without a Gaussian blur of the LR chroma before the bicubic enlargement (the colour path every
srnet model uses: the network makes Y, Cb and Cr are enlarged by bicubic).

The LR is each holdout image (every 10th of T91 + BSDS500 train: no test set) bicubic-downscaled
by ``scale`` and saved as a JPEG (Pillow, 4:2:0, as phones and the web do) at each quality; the
score is the PSNR of Cb and Cr together against the HR's, a border of ``scale`` cropped.
``models`` adds a second table: the same score for srnet models through ``load_model(...)
.upscale`` (a luma model's chroma is its bicubic colour path; an RGB model makes its own).

    python scripts/chroma_study.py [scale=2] [qualities=[50,75,90,null]] [sigmas=[0,0.5,1,1.5]]
    python scripts/chroma_study.py sigmas=[] 'models=[x2-real,logs/bundle/weights/fsrcnn_x2_real_rgb.pt]'
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


def jpeg_lr(hr: Image.Image, scale: int, quality: int | None) -> tuple[Image.Image, Image.Image]:
    """(HR cropped to a multiple of ``scale``, its bicubic LR saved as a JPEG of ``quality``)."""
    w, h = hr.width - hr.width % scale, hr.height - hr.height % scale
    hr = hr.crop((0, 0, w, h))
    lr = hr.resize((w // scale, h // scale), Image.BICUBIC)
    if quality is not None:
        buf = io.BytesIO()
        lr.save(buf, "JPEG", quality=quality)
        lr = Image.open(buf).convert("RGB")
    return hr, lr


def cbcr_psnr(up: Image.Image, hr: Image.Image, border: int) -> float:
    """PSNR (dB, 8-bit) of ``up``'s Cb and Cr against ``hr``'s, ``border`` pixels cropped."""
    a, ref = (np.asarray(im.convert("YCbCr"), np.float64) for im in (up, hr))
    b = border
    mse = np.mean((a[b:-b, b:-b, 1:] - ref[b:-b, b:-b, 1:]) ** 2)  # (H, W, Cb/Cr)
    return float(10 * np.log10(255.0 ** 2 / mse))


def chroma_psnr(hr: Image.Image, scale: int, quality: int | None, sigma: float) -> float:
    """Cb/Cr PSNR (dB, 8-bit) of ``hr``'s chroma enlarged from its (JPEG) LR, blurred by sigma."""
    hr, lr = jpeg_lr(hr, scale, quality)
    y, cb, cr = lr.convert("YCbCr").split()
    if sigma:
        cb, cr = (c.filter(ImageFilter.GaussianBlur(sigma)) for c in (cb, cr))
    up = Image.merge("YCbCr", (y, cb, cr)).resize(hr.size, Image.BICUBIC)
    return cbcr_psnr(up, hr, scale)


def model_psnr(upscale, hr: Image.Image, scale: int, quality: int | None) -> float:
    """Cb/Cr PSNR of a model's output (``upscale``: uint8 RGB array -> uint8 RGB array)."""
    hr, lr = jpeg_lr(hr, scale, quality)
    return cbcr_psnr(Image.fromarray(upscale(np.asarray(lr))), hr, scale)


def main(argv: list[str]) -> None:
    a = parse_kv("chroma_study.py", {"scale": 2, "qualities": [50, 75, 90, None],
                                     "sigmas": [0, 0.5, 1.0, 1.5], "models": [],
                                     "data": str(DATA)}, argv)
    scale = int(a["scale"])
    records = dataset_source(a["data"], "holdout", scale).records()
    models = {}
    if a["models"]:
        from srnet.infer.models import load_model

        models = {str(m): load_model(str(m), "cpu").upscale for m in a["models"]}
    blurs = {f"blur σ {s}" if s else "no blur": float(s) for s in a["sigmas"]}
    cols = [*blurs, *models]
    scores = {(q, c): [] for q in a["qualities"] for c in cols}
    for rec in tqdm(records, desc="holdout images"):
        hr = Image.fromarray(rec.load_hr()).convert("RGB")
        for q in a["qualities"]:
            for col, sigma in blurs.items():
                scores[(q, col)].append(chroma_psnr(hr, scale, q, sigma))
            for name, upscale in models.items():
                scores[(q, name)].append(model_psnr(upscale, hr, scale, q))
    rows = [[f"JPEG q{q}" if q is not None else "lossless",
             *(f"{np.mean(scores[(q, c)]):.2f}" for c in cols)] for q in a["qualities"]]
    print(f"\nCb/Cr PSNR (dB), x{scale}, {len(records)} holdout images\n")
    print(markdown_table(["LR", *cols], rows))


if __name__ == "__main__":
    main(sys.argv[1:])
