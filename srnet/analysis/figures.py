"""Figures drawn with Pillow only (no matplotlib): colour maps, annotated grids, titles, rows.

Shared by the checkerboard figures (:mod:`srnet.analysis.checkerboard`), the error views
(:mod:`srnet.analysis.error_views`), the TensorBoard inspector and the study's figure.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import torch
from PIL import Image, ImageDraw, ImageFont
from torch import Tensor
from torchvision.transforms.v2 import functional as TF

VIRIDIS = [(68, 1, 84), (59, 82, 139), (33, 145, 140), (94, 201, 98), (253, 231, 37)]
DIVERGING = [(33, 102, 172), (146, 197, 222), (247, 247, 247), (244, 165, 130), (178, 24, 43)]


def font(size: int = 12) -> ImageFont.ImageFont:
    """Pillow's default font at ``size`` (the fixed bitmap font without FreeType)."""
    try:
        return ImageFont.load_default(size=size)
    except (TypeError, OSError):
        return ImageFont.load_default()


def colorize(values: Tensor, vmin: float, vmax: float, cmap: str = "viridis") -> np.ndarray:
    """(H, W) values -> uint8 (H, W, 3) through ``viridis`` or ``diverging`` (blue-white-red)."""
    anchors = np.array(VIRIDIS if cmap == "viridis" else DIVERGING, dtype=np.float64)
    t = (values.detach().double().cpu().numpy() - vmin) / max(vmax - vmin, 1e-12)
    t = np.clip(t, 0, 1) * (len(anchors) - 1)
    lo = np.minimum(np.floor(t).astype(int), len(anchors) - 2)
    frac = (t - lo)[..., None]
    return (anchors[lo] * (1 - frac) + anchors[lo + 1] * frac).round().astype(np.uint8)


def fitting_font(texts: Sequence[str], width: float, largest: int, smallest: int = 10
                 ) -> ImageFont.ImageFont:
    """The largest default font (``smallest``..``largest`` px) in which every text fits ``width``."""
    size = largest
    while size > smallest and max(font(size).getlength(t) for t in texts) > width:
        size -= 1
    return font(size)


def grid_image(values: Tensor, cell: int = 28, cmap: str = "viridis", vmin: float | None = None,
               vmax: float | None = None, fmt: str | None = "{:.0f}") -> Image.Image:
    """(H, W) values as coloured cells of ``cell`` pixels, each annotated with ``fmt`` if given
    (in the largest font up to 22 px, at least 10, that fits the cell: readable at 100 %)."""
    vmin = float(values.min()) if vmin is None else vmin
    vmax = float(values.max()) if vmax is None else vmax
    rgb = colorize(values, vmin, vmax if vmax > vmin else vmin + 1, cmap)
    img = Image.fromarray(rgb).resize((values.shape[1] * cell, values.shape[0] * cell),
                                      Image.NEAREST)
    if fmt is not None:
        texts = [fmt.format(float(v)) for v in values.flatten()]
        draw, f = ImageDraw.Draw(img), fitting_font(texts, cell - 4, min(22, int(cell * 0.55)))
        for i in range(values.shape[0]):
            for j in range(values.shape[1]):
                r, g, b = rgb[i, j].tolist()
                ink = (0, 0, 0) if 0.299 * r + 0.587 * g + 0.114 * b > 128 else (255, 255, 255)
                draw.text(((j + 0.5) * cell, (i + 0.5) * cell), fmt.format(float(values[i, j])),
                          fill=ink, font=f, anchor="mm")
    return img


def titled(img: Image.Image, title: str, size: int = 13, pad: int = 4) -> Image.Image:
    """``img`` with ``title`` (one or more lines) written above it on white."""
    lines, f = title.split("\n"), font(size)
    top = len(lines) * (size + 3) + pad
    width = max(img.width, int(max(f.getlength(line) for line in lines)) + 2 * pad)
    out = Image.new("RGB", (width, img.height + top), "white")
    draw = ImageDraw.Draw(out)
    for n, line in enumerate(lines):
        draw.text((pad, pad + n * (size + 3)), line, fill="black", font=f)
    out.paste(img.convert("RGB"), (0, top))
    return out


def stack(images: Sequence[Image.Image], axis: int = 1, gap: int = 6) -> Image.Image:
    """Images side by side (axis=1) or one above the other (axis=0), on white, top/left aligned."""
    ws, hs = [im.width for im in images], [im.height for im in images]
    size = ((sum(ws) + gap * (len(ws) - 1), max(hs)) if axis == 1
            else (max(ws), sum(hs) + gap * (len(hs) - 1)))
    out, pos = Image.new("RGB", size, "white"), 0
    for im in images:
        out.paste(im.convert("RGB"), (pos, 0) if axis == 1 else (0, pos))
        pos += (im.width if axis == 1 else im.height) + gap
    return out


def to_pil(img: Tensor) -> Image.Image:
    """(C, H, W) or (1, C, H, W) in [0, 1], C in {1, 3} -> RGB PIL image."""
    img = img.detach().float().cpu().clamp(0, 1)
    img = img[0] if img.dim() == 4 else img
    img = img.expand(3, -1, -1) if img.shape[0] == 1 else img
    return Image.fromarray((img.permute(1, 2, 0).numpy() * 255).round().astype(np.uint8))


def pil_to_tensor(img: Image.Image) -> Tensor:
    """RGB PIL image -> float (3, H, W) in [0, 1] (what ``SummaryWriter.add_image`` takes)."""
    return TF.to_dtype(TF.pil_to_tensor(img.convert("RGB")), torch.float32, scale=True)


def zoomed(img: Image.Image, zoom: int) -> Image.Image:
    """``img`` enlarged ``zoom`` x by pixel repetition."""
    return img.resize((img.width * zoom, img.height * zoom), Image.NEAREST) if zoom > 1 else img
