"""Two views of a checkerboard a person recognises, as plain tensor functions plus figures.

* :func:`error_phase_means` -- the s x s table of mean(SR - HR) per output phase (y mod s,
  x mod s), in 8-bit grey levels: a checkerboard is a phase that is systematically brighter or
  darker than the others; without one the entries agree up to content noise (~0.05 levels).
* :func:`error_spectrum` -- the 2-D power spectrum of the SR error, averaged over Hann-windowed
  tiles whose side is a multiple of s, so that the frequencies (i/s, j/s) where any period-s
  pattern puts its energy fall exactly on bins (:func:`peak_bins`); :func:`spectrum_figure` marks
  them. :func:`peak_ratio` is the power on those bins over the median of the ring around them:
  ~1 when nothing is there, >> 1 for a checkerboard.
* :func:`error_views` -- both, plus :func:`srnet.analysis.checkerboard.image_checkerboard` of the
  SR output, for a network on (LR, HR) pairs: what the TensorBoard inspector and the study log.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import torch
from PIL import Image, ImageDraw
from torch import Tensor, nn

from srnet.analysis.checkerboard import ImageCheckerboard, hann2d, image_checkerboard
from srnet.analysis.figures import colorize, grid_image, titled, zoomed
from srnet.ops.color import rgb_to_y

TILE = 64  # nominal spectrum tile side, rounded up to a multiple of the scale


def _crop(img: Tensor, border: int) -> Tensor:
    return img[..., border : img.shape[-2] - border, border : img.shape[-1] - border]


def aligned_border(border: int, scale: int) -> int:
    """``border`` rounded up to a multiple of ``scale`` (keeps output phase 0 at the origin)."""
    return scale * math.ceil(border / scale)


def error_phase_means(errors: Sequence[Tensor], scale: int, border: int = 0) -> Tensor:
    """Mean of SR - HR ((1, 1, H, W) each, [0, 1] units) per output phase over all pixels of all
    images, ``border`` cut (rounded up to a multiple of ``scale``) -> (s, s) grey levels."""
    b = aligned_border(border, scale)
    total = torch.zeros(scale, scale, dtype=torch.float64)
    count = torch.zeros(scale, scale, dtype=torch.float64)
    for e in errors:
        e = _crop(e, b).double().cpu()
        h, w = e.shape[-2] - e.shape[-2] % scale, e.shape[-1] - e.shape[-1] % scale
        blocks = e[..., :h, :w].reshape(-1, h // scale, scale, w // scale, scale)
        total += blocks.sum((0, 1, 3))
        count += blocks.shape[0] * (h // scale) * (w // scale)
    return total / count.clamp(min=1) * 255


def spectrum_tile(scale: int, sides: Iterable[int], tile: int | None = None) -> int:
    """Tile side: a multiple of ``scale`` near :data:`TILE` (or ``tile``) that fits every side."""
    t = scale * math.ceil((tile or TILE) / scale)
    fit = scale * (min(sides) // scale)
    if fit < 2 * scale:
        raise ValueError(f"images of side {min(sides)} are too small for a x{scale} spectrum")
    return min(t, fit)


def error_spectrum(errors: Sequence[Tensor], scale: int, border: int = 0,
                   tile: int | None = None) -> Tensor:
    """Mean power spectrum (T, T) of SR - HR over Hann-windowed T x T tiles, DC at the centre
    (``fftshift``), in grey levels squared per bin: the bins of one tile sum to its windowed mean
    square. T is a multiple of ``scale`` (:func:`spectrum_tile`)."""
    b = aligned_border(border, scale)
    crops = [_crop(e, b).double().cpu() for e in errors]
    crops = [c.reshape(-1, *c.shape[-2:])[0] * 255 for c in crops]  # first plane, grey levels
    t = spectrum_tile(scale, [min(c.shape) for c in crops], tile)
    win = hann2d(t, t)
    power, n = torch.zeros(t, t, dtype=torch.float64), 0
    for c in crops:
        tiles = c.unfold(0, t, t).unfold(1, t, t).reshape(-1, t, t)  # (n, T, T)
        tiles = tiles - tiles.mean((-2, -1), keepdim=True)
        f = torch.fft.fft2(tiles * win)
        power += f.abs().pow(2).sum(0) / (t * t * win.pow(2).mean() * t * t)
        n += tiles.shape[0]
    return torch.fft.fftshift(power / max(n, 1))


def peak_bins(scale: int, tile: int) -> list[tuple[int, int]]:
    """(row, col) in a ``fftshift``-ed (T, T) spectrum of the frequencies (i/s, j/s), except 0."""
    if tile % scale:
        raise ValueError(f"tile {tile} is not a multiple of the scale {scale}")
    c, step = tile // 2, tile // scale
    offs = sorted({((i * step + c) % tile) for i in range(scale)})
    return [(r, q) for r in offs for q in offs if (r, q) != (c, c)]


def peak_ratio(spectrum: Tensor, scale: int, ring: tuple[int, int] = (2, 4)) -> float:
    """Mean power on :func:`peak_bins` over the median power 2..4 bins (Chebyshev) around them."""
    t = spectrum.shape[-1]
    peaks, around = [], []
    for r, q in peak_bins(scale, t):
        peaks.append(spectrum[r, q])
        for dr in range(-ring[1], ring[1] + 1):
            for dq in range(-ring[1], ring[1] + 1):
                if max(abs(dr), abs(dq)) >= ring[0]:
                    around.append(spectrum[(r + dr) % t, (q + dq) % t])
    return float(torch.stack(peaks).mean() / torch.stack(around).median().clamp(min=1e-30))


def luma_sr(net: nn.Module, lr_rgb: Tensor) -> Tensor:
    """The network's SR of RGB ``lr_rgb`` (1, 3, h, w) in [0, 1] as luma (1, 1, sh, sw), clamped."""
    x = lr_rgb.to(next(net.parameters()).device, torch.float32)
    out = net(rgb_to_y(x)) if net.cfg.channels == 1 else rgb_to_y(net(x))
    return out.float().clamp(0, 1).cpu()


@dataclass
class ErrorViews:
    """What :func:`error_views` returns (grey levels): ``phase_means`` (s, s) of SR - HR,
    ``spectrum`` (T, T) of SR - HR, its ``peak_ratio``, and ``real`` the SR's own pattern."""

    phase_means: Tensor
    spectrum: Tensor
    peak_ratio: float
    real: ImageCheckerboard
    images: int


@torch.no_grad()
def error_views(net: nn.Module, pairs: Iterable[tuple[Tensor, Tensor]], scale: int,
                border: int | None = None) -> ErrorViews:
    """The views on RGB (LR (1, 3, h, w), HR (1, 3, sh, sw)) pairs in [0, 1], on luma, ``border``
    (default: the scale) cut from every side; ``net`` in eval mode."""
    srs, errs = [], []
    for lr, hr in pairs:
        sr = luma_sr(net, lr)
        srs.append(sr)
        errs.append(sr.double() - rgb_to_y(hr.double().cpu()))
    if not errs:
        raise ValueError("error_views needs at least one (LR, HR) pair")
    b = scale if border is None else border
    spec = error_spectrum(errs, scale, b)
    return ErrorViews(error_phase_means(errs, scale, b), spec, peak_ratio(spec, scale),
                      image_checkerboard(srs, scale, b), len(errs))


# ---------------------------------------------------------------- figures
def phase_means_figure(pm: Tensor, title: str = "mean(SR - HR) per phase", cell: int = 48,
                       lim: float | None = None) -> Image.Image:
    """The (s, s) table as blue (darker than HR) / red (brighter) cells, values in grey levels."""
    lim = lim or max(float(pm.abs().max()), 0.05)
    zero_mean = pm - pm.mean()
    sub = f"mean {float(pm.mean()):+.3f}, periodic rms {float(zero_mean.pow(2).mean().sqrt()):.3f}"
    img = grid_image(pm, cell, "diverging", -lim, lim, fmt="{:+.2f}")
    return titled(img, f"{title}\n{sub} (8-bit levels)", size=14)


def spectrum_image(spectrum: Tensor, scale: int, zoom: int = 3, decades: float = 4.0,
                   vmax: float | None = None) -> Image.Image:
    """log10 power (viridis, ``decades`` below ``vmax``, default the maximum), DC at the centre,
    the frequencies (i/s, j/s) circled in white."""
    logp = spectrum.clamp(min=1e-12).log10()
    top = float(logp.max()) if vmax is None else vmax
    img = zoomed(Image.fromarray(colorize(logp, top - decades, top)), zoom)
    draw, r = ImageDraw.Draw(img), max(3, 2 * zoom)
    for row, col in peak_bins(scale, spectrum.shape[-1]):
        cy, cx = (row + 0.5) * zoom, (col + 0.5) * zoom
        draw.ellipse((cx - r, cy - r, cx + r, cy + r), outline=(255, 255, 255))
    return img


def spectrum_figure(spectrum: Tensor, scale: int, title: str = "spectrum of SR - HR",
                    **kwargs) -> Image.Image:
    """:func:`spectrum_image` titled, with its :func:`peak_ratio`."""
    ratio = peak_ratio(spectrum, scale)
    return titled(spectrum_image(spectrum, scale, **kwargs),
                  f"{title}\n(i/s, j/s) circled; peak/ring {ratio:.1f}", size=14)
