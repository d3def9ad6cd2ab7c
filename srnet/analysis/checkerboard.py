"""Checkerboard analysis of upsamplers: overlap maps, a checkerboard score, and PIL figures.

* :func:`overlap_map` -- how many taps of a k x k transposed-convolution kernel with stride s reach
  each output pixel (away from the borders). Uniform (``(k // s) ** 2`` everywhere) when
  ``k % s == 0``; periodic with period s otherwise, which is what prints the checkerboard
  (Odena, Dumoulin and Olah, "Deconvolution and Checkerboard Artifacts", Distill 2016).
* :func:`checkerboard_score` -- upscale flat images (three grey levels) and a gentle ramp, subtract
  the bicubic upscaling of the same input, and measure the part of the difference that repeats with
  the stride's period: the RMS over the s x s output phases of the per-phase means, in 8-bit grey
  levels. Bicubic scores 0 by construction, bilinear ~0, nearest > 0 (its staircase on the ramp).
* Figures drawn with Pillow (no matplotlib): :func:`overlap_figure`, :func:`pattern_figure`,
  :func:`labelled_row`, :func:`stack`.

``python scripts/checkerboard.py`` writes the figures and scores a checkpoint.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
import torch
import torch.nn.functional as F
from PIL import Image, ImageDraw, ImageFont
from torch import Tensor, nn

from srnet.ops.degradation import upscale

FLAT_LEVELS = (0.25, 0.5, 0.75)


def overlap_map(kernel: int, stride: int, periods: int = 3) -> Tensor:
    """Taps reaching each output pixel of a (kernel x kernel, stride) transposed convolution.

    Returns an int64 (periods * stride, periods * stride) window of the interior of the output
    (where no tap falls off the input's border), starting at an output phase of 0.
    """
    if kernel < 1 or stride < 1:
        raise ValueError(f"kernel and stride must be >= 1, got kernel={kernel}, stride={stride}")
    y0 = stride * math.ceil(max(kernel - stride, 0) / stride)  # first interior output pixel
    n = y0 // stride + periods + 1  # input side long enough to hold the window
    ones = torch.ones(1, 1, n, n, dtype=torch.float64)
    taps = F.conv_transpose2d(ones, torch.ones(1, 1, kernel, kernel, dtype=torch.float64),
                              stride=stride)  # (1, 1, (n-1)s + k, (n-1)s + k)
    win = taps[0, 0, y0 : y0 + periods * stride, y0 : y0 + periods * stride]
    return win.round().long()


def phase_means(img: Tensor, stride: int) -> Tensor:
    """Mean of (N, C, H, W) over each of the stride x stride output phases -> (stride, stride)."""
    h, w = img.shape[-2:]
    img = img[..., : h - h % stride, : w - w % stride].double()
    return torch.stack([torch.stack([img[..., i::stride, j::stride].mean() for j in range(stride)])
                        for i in range(stride)])


def probe_inputs(channels: int, size: int) -> dict[str, list[Tensor]]:
    """Flat images at :data:`FLAT_LEVELS` and a diagonal ramp 0.3 -> 0.7, each (1, C, n, n)."""
    y, x = torch.meshgrid(torch.arange(size), torch.arange(size), indexing="ij")
    ramp = 0.3 + 0.4 * (x + y).double() / (2 * max(size - 1, 1))
    return {"flat": [torch.full((1, channels, size, size), v) for v in FLAT_LEVELS],
            "smooth": [ramp.float().expand(1, channels, size, size).contiguous()]}


@dataclass
class CheckerboardResult:
    """Scores in 8-bit grey levels (RMS of the stride-periodic part of SR - bicubic)."""

    score: float  # over all test inputs
    flat: float  # flat inputs only
    smooth: float  # the ramp only
    pattern: Tensor  # (s, s) mean periodic pattern on the flat inputs, grey levels

    def as_dict(self) -> dict[str, float]:
        return {"score": self.score, "flat": self.flat, "smooth": self.smooth}


@torch.no_grad()
def checkerboard_score(upsample: Callable[[Tensor], Tensor], scale: int, channels: int = 1,
                       margin: int = 4, size: int | None = None,
                       device: torch.device | str = "cpu") -> CheckerboardResult:
    """Energy at the stride's period in ``upsample``'s output, relative to bicubic.

    Args:
        upsample: maps (1, C, h, w) in [0, 1] to (1, C, scale*h, scale*w).
        scale: the stride / SR factor.
        channels: C of the inputs (1 for Y networks).
        margin: LR pixels dropped on every side before measuring (the receptive field).
        size: LR side of the test inputs; default ``2 * margin + 16``.
        device: where the inputs are made.
    """
    size = size or 2 * margin + 16
    m = margin * scale  # a multiple of the stride, so phases stay aligned after cropping
    sq: dict[str, list[float]] = {}
    patterns = []
    for kind, inputs in probe_inputs(channels, size).items():
        for x in inputs:
            x = x.to(device)
            diff = upsample(x).double() - upscale(x, scale, "bicubic").double()
            diff = diff[..., m : diff.shape[-2] - m, m : diff.shape[-1] - m]
            pm = phase_means(diff, scale)
            pattern = (pm - pm.mean()) * 255  # (s, s) grey levels
            sq.setdefault(kind, []).append(float(pattern.pow(2).mean()))
            if kind == "flat":
                patterns.append(pattern)
    allsq = sq["flat"] + sq["smooth"]
    return CheckerboardResult(score=math.sqrt(sum(allsq) / len(allsq)),
                              flat=math.sqrt(sum(sq["flat"]) / len(sq["flat"])),
                              smooth=math.sqrt(sum(sq["smooth"]) / len(sq["smooth"])),
                              pattern=torch.stack(patterns).mean(0).cpu())


def net_checkerboard(net: nn.Module) -> CheckerboardResult:
    """:func:`checkerboard_score` of an srnet network (``net.cfg``), in eval mode, on its device."""
    was_training = net.training
    net.eval()
    try:
        device = next(net.parameters()).device
        return checkerboard_score(net, net.cfg.scale, net.cfg.channels,
                                  margin=net.receptive_field, device=device)
    finally:
        net.train(was_training)


def baseline_checkerboard(method: str, scale: int) -> CheckerboardResult:
    """:func:`checkerboard_score` of a fixed rule (``nearest``, ``bilinear``, ``bicubic``)."""
    return checkerboard_score(lambda x: upscale(x, scale, method), scale, margin=3)


# ---------------------------------------------------------------- figures (Pillow only)
_VIRIDIS = [(68, 1, 84), (59, 82, 139), (33, 145, 140), (94, 201, 98), (253, 231, 37)]
_DIVERGING = [(33, 102, 172), (146, 197, 222), (247, 247, 247), (244, 165, 130), (178, 24, 43)]


def font(size: int = 12) -> ImageFont.ImageFont:
    try:
        return ImageFont.load_default(size=size)
    except (TypeError, OSError):  # Pillow without FreeType: the fixed bitmap font
        return ImageFont.load_default()


def colorize(values: Tensor, vmin: float, vmax: float, cmap: str = "viridis") -> np.ndarray:
    """(H, W) values -> uint8 (H, W, 3) through ``viridis`` or ``diverging`` (blue-white-red)."""
    anchors = np.array(_VIRIDIS if cmap == "viridis" else _DIVERGING, dtype=np.float64)
    t = (values.double().numpy() - vmin) / max(vmax - vmin, 1e-12)
    t = np.clip(t, 0, 1) * (len(anchors) - 1)
    lo = np.minimum(np.floor(t).astype(int), len(anchors) - 2)
    frac = (t - lo)[..., None]
    return (anchors[lo] * (1 - frac) + anchors[lo + 1] * frac).round().astype(np.uint8)


def grid_image(values: Tensor, cell: int = 28, cmap: str = "viridis", vmin: float | None = None,
               vmax: float | None = None, fmt: str | None = "{:.0f}") -> Image.Image:
    """(H, W) values as coloured cells of ``cell`` pixels, each annotated with ``fmt`` if given."""
    vmin = float(values.min()) if vmin is None else vmin
    vmax = float(values.max()) if vmax is None else vmax
    rgb = colorize(values, vmin, vmax if vmax > vmin else vmin + 1, cmap)
    img = Image.fromarray(rgb).resize((values.shape[1] * cell, values.shape[0] * cell),
                                      Image.NEAREST)
    if fmt is not None:
        draw, f = ImageDraw.Draw(img), font(min(max(8, cell // 3), 14))
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


def labelled_row(tiles: Sequence[Tensor], labels: Sequence[str], zoom: int = 1) -> Image.Image:
    """Image tensors (C, H, W) in [0, 1], each enlarged ``zoom`` x (nearest), titled, in a row."""
    ims = [to_pil(t) for t in tiles]
    ims = [im.resize((im.width * zoom, im.height * zoom), Image.NEAREST) for im in ims]
    return stack([titled(im, lab, size=12) for im, lab in zip(ims, labels, strict=True)], gap=4)


def pil_to_tensor(img: Image.Image) -> Tensor:
    """RGB PIL image -> float (3, H, W) in [0, 1] (what ``SummaryWriter.add_image`` takes)."""
    return torch.from_numpy(np.array(img.convert("RGB"))).permute(2, 0, 1).float() / 255


def overlap_figure(pairs: Sequence[tuple[int, int]], periods: int = 3,
                   panel: int = 168) -> Image.Image:
    """One panel (about ``panel`` pixels wide) per (kernel, stride): its :func:`overlap_map`."""
    panels = []
    for k, s in pairs:
        om = overlap_map(k, s, periods)
        cell = max(14, panel // (periods * s))
        lo, hi = int(om.min()), int(om.max())
        verdict = f"uniform: {lo} taps" if lo == hi else f"uneven: {lo}..{hi} taps"
        grid = grid_image(om.double(), cell, vmin=0, vmax=hi)
        panels.append(titled(grid, f"k={k}, s={s}\n{verdict}"))
    return titled(stack(panels, gap=16), "Kernel taps reaching each output pixel "
                  f"(transposed convolution, {periods} x {periods} periods)", size=14)


def pattern_figure(result: CheckerboardResult, name: str, cell: int = 56) -> Image.Image:
    """The (s, s) periodic pattern on flat inputs (grey levels) with the scores in the title."""
    p = result.pattern
    lim = max(float(p.abs().max()), 0.05)
    img = grid_image(p, cell, cmap="diverging", vmin=-lim, vmax=lim, fmt="{:+.1f}")
    return titled(img, f"{name}: checkerboard {result.score:.3f}\n"
                       f"flat {result.flat:.3f} / ramp {result.smooth:.3f} (8-bit levels)", size=12)
