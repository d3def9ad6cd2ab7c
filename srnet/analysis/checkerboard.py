"""Checkerboard analysis of upsamplers: overlap maps, the checkerboard score, and its figures.

What the score measures, in 8-bit grey levels: the *period-s pattern* of an image (s = the scale)
is the s x s table of its phase means (the mean over every output pixel at phase (y mod s,
x mod s)) minus their overall mean; its *amplitude* is the RMS of that table. An additive pattern p
repeated over the image is reported as rms(p - mean p): a +-a checkerboard as a, one phase of s*s
raised by a as a * sqrt(s*s - 1) / (s*s). The phase means are exactly the image's 2-D DFT at the
frequencies (i/s, j/s), so this is the energy of those spectral peaks
(:mod:`srnet.analysis.error_views` shows the spectrum itself).

* :func:`checkerboard_score` -- synthetic probes: upscale flat images (three grey levels) and a
  gentle ramp, subtract the bicubic upscaling of the same input (exactly pattern-free) and measure
  the amplitude of the difference, away from the borders. Bicubic scores 0, bilinear ~0, nearest > 0
  (its staircase on the ramp); an injected pattern is recovered exactly.
* :func:`image_checkerboard` -- real images (an SR output, or SR - HR): the same amplitude with
  Hann-weighted phase means. The weighting matters: on real content the plain phase means of a
  pattern-free bicubic output differ by up to 0.4 grey levels at x3 (the image's edges leak into
  the 1/s frequencies); weighted they agree to < 0.001. What remains on real images is real
  period-s content (HR itself scores ~0.05-0.09 per image at x2 / x3: aliasing); the pattern is
  averaged over the images, so a systematic checkerboard adds up and content averages out.
* :func:`overlap_map` -- how many taps of a k x k transposed-convolution kernel with stride s reach
  each output pixel (away from the borders): uniform when ``k % s == 0``, periodic otherwise, which
  is what prints the checkerboard of an untrained tail (Odena, Dumoulin and Olah, Distill 2016).

``python scripts/checkerboard.py`` writes the figures and scores a checkpoint; the validation of the
score is ``tests/analysis/test_checkerboard.py``.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import torch
import torch.nn.functional as F
from PIL import Image
from torch import Tensor, nn

from srnet.analysis.figures import grid_image, stack, titled
from srnet.ops.resize import upscale

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


def hann2d(h: int, w: int, dtype: torch.dtype = torch.float64,
           device: torch.device | str = "cpu") -> Tensor:
    """Separable (h, w) Hann window, zero at the edges (symmetric)."""
    wy = torch.hann_window(h, periodic=False, dtype=dtype, device=device) if h > 2 else \
        torch.ones(h, dtype=dtype, device=device)
    wx = torch.hann_window(w, periodic=False, dtype=dtype, device=device) if w > 2 else \
        torch.ones(w, dtype=dtype, device=device)
    return wy[:, None] * wx[None, :]


def phase_means(img: Tensor, stride: int, window: str | None = None) -> Tensor:
    """Mean of (..., H, W) over each of the stride x stride output phases -> (stride, stride).

    Phase (i, j) holds the pixels (i + stride * a, j + stride * b): ``img`` must start at phase
    (0, 0). ``window="hann"`` weights every pixel by a 2-D Hann window (normalised per phase).
    """
    h, w = img.shape[-2:]
    h, w = h - h % stride, w - w % stride
    img = img[..., :h, :w].double()
    flat = img.reshape(-1, h // stride, stride, w // stride, stride)  # (B, H/s, s, W/s, s)
    if window is None:
        return flat.mean((0, 1, 3))
    if window != "hann":
        raise ValueError(f"window={window!r}: choose None or 'hann'")
    wt = hann2d(h, w, device=img.device).reshape(h // stride, stride, w // stride, stride)
    return (flat * wt).sum((0, 1, 3)) / (wt.sum((0, 2)) * flat.shape[0])


def periodic_pattern(img: Tensor, stride: int, window: str | None = None) -> Tensor:
    """The zero-mean (stride, stride) period-``stride`` pattern of ``img`` (in [0, 1] units) in
    8-bit grey levels: :func:`phase_means` minus their mean, times 255."""
    pm = phase_means(img, stride, window)
    return (pm - pm.mean()) * 255


def amplitude(pattern: Tensor) -> float:
    """RMS of a zero-mean pattern (grey levels in, grey levels out)."""
    return float(pattern.double().pow(2).mean().sqrt())


def probe_inputs(channels: int, size: int) -> dict[str, list[Tensor]]:
    """Flat images at :data:`FLAT_LEVELS` and a diagonal ramp 0.3 -> 0.7, each (1, C, n, n)."""
    y, x = torch.meshgrid(torch.arange(size), torch.arange(size), indexing="ij")
    ramp = 0.3 + 0.4 * (x + y).double() / (2 * max(size - 1, 1))
    return {"flat": [torch.full((1, channels, size, size), v) for v in FLAT_LEVELS],
            "smooth": [ramp.float().expand(1, channels, size, size).contiguous()]}


@dataclass
class CheckerboardResult:
    """Amplitudes in 8-bit grey levels of the period-s part of SR - bicubic on the probes."""

    score: float  # over all probes (RMS of the per-probe amplitudes)
    flat: float  # flat inputs only
    smooth: float  # the ramp only
    pattern: Tensor  # (s, s) mean periodic pattern on the flat inputs, grey levels

    def as_dict(self) -> dict[str, float]:
        return {"score": self.score, "flat": self.flat, "smooth": self.smooth}


@torch.no_grad()
def checkerboard_score(upsample: Callable[[Tensor], Tensor], scale: int, channels: int = 1,
                       margin: int = 4, size: int | None = None,
                       device: torch.device | str = "cpu") -> CheckerboardResult:
    """Amplitude of the period-``scale`` pattern in ``upsample``'s output, relative to bicubic.

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
            pattern = periodic_pattern(diff[..., m : diff.shape[-2] - m, m : diff.shape[-1] - m],
                                       scale)
            sq.setdefault(kind, []).append(amplitude(pattern) ** 2)
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


@dataclass
class ImageCheckerboard:
    """Period-s pattern of real images, grey levels: ``pattern`` (s, s) averaged over the images,
    ``amplitude`` its RMS, ``per_image`` each image's own amplitude."""

    pattern: Tensor
    amplitude: float
    per_image: list[float]


def image_checkerboard(images: Sequence[Tensor], scale: int, border: int = 0) -> ImageCheckerboard:
    """Hann-weighted period-``scale`` pattern of (1, C, H, W) images in [0, 1] (an SR output, or
    SR - HR), ``border`` pixels (rounded up to a multiple of ``scale``) cut from every side."""
    if not images:
        raise ValueError("image_checkerboard needs at least one image")
    b = scale * math.ceil(border / scale)
    pats = [periodic_pattern(im[..., b : im.shape[-2] - b, b : im.shape[-1] - b], scale, "hann")
            for im in images]
    mean = torch.stack(pats).mean(0).cpu()
    return ImageCheckerboard(mean, amplitude(mean), [amplitude(p) for p in pats])


# ---------------------------------------------------------------- figures
def overlap_figure(pairs: Sequence[tuple[int, int]], periods: int = 3,
                   panel: int = 336) -> Image.Image:
    """One panel (about ``panel`` pixels wide: cells of 36 px or more, numbers of 19 px or more)
    per (kernel, stride): its :func:`overlap_map`."""
    panels = []
    for k, s in pairs:
        om = overlap_map(k, s, periods)
        cell = max(36, panel // (periods * s))
        lo, hi = int(om.min()), int(om.max())
        verdict = f"uniform: {lo} taps" if lo == hi else f"uneven: {lo}..{hi} taps"
        grid = grid_image(om.double(), cell, vmin=0, vmax=hi)
        panels.append(titled(grid, f"k={k}, s={s}\n{verdict}", size=16))
    return titled(stack(panels, gap=16), "Kernel taps reaching each output pixel\n"
                  f"(transposed convolution, {periods} x {periods} periods)", size=16)


def pattern_figure(result: CheckerboardResult, name: str, cell: int = 56) -> Image.Image:
    """The (s, s) periodic pattern on flat inputs (grey levels) with the scores in the title."""
    p = result.pattern
    lim = max(float(p.abs().max()), 0.05)
    img = grid_image(p, cell, cmap="diverging", vmin=-lim, vmax=lim, fmt="{:+.1f}")
    return titled(img, f"{name}: checkerboard {result.score:.3f}\n"
                       f"flat {result.flat:.3f} / ramp {result.smooth:.3f} (8-bit levels)", size=15)
