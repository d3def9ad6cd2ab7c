"""The upsampler study's figure: per method and scale, SR - HR on one crop, the per-phase error
means and the error spectrum, side by side (``scripts/upsampler_study.py`` draws it)."""

from __future__ import annotations

from collections.abc import Sequence

import torch.nn.functional as F
from PIL import Image
from torch import Tensor

from srnet.analysis.error_views import aligned_border, spectrum_image
from srnet.analysis.figures import grid_image, stack, titled, to_pil, zoomed
from srnet.ops.color import rgb_to_y
from srnet.ops.resize import upscale


def worst_crop(pairs: Sequence[tuple[str, Tensor, Tensor]], scale: int,
               size: int) -> tuple[int, int, int]:
    """(image index, top, left) of the ``size`` x ``size`` HR window, on a multiple of the scale,
    where bicubic's mean |error| is largest: where a tail has the most to get right."""
    best = (-1.0, 0, 0, 0)
    for i, (_, lr, hr) in enumerate(pairs):
        err = (rgb_to_y(upscale(lr, scale, "bicubic")) - rgb_to_y(hr)).abs()
        b = aligned_border(scale, scale)
        err = err[..., b : err.shape[-2] - b, b : err.shape[-1] - b]
        if min(err.shape[-2:]) < size:
            continue
        mean = F.avg_pool2d(err, size, stride=scale)[0, 0]  # (n, m) window means
        k = int(mean.argmax())
        r, c = divmod(k, mean.shape[-1])
        if float(mean.max()) > best[0]:
            best = (float(mean.max()), i, b + scale * r, b + scale * c)
    if best[0] < 0:
        raise ValueError(f"no report image holds a {size} x {size} crop")
    return best[1], best[2], best[3]


def method_row(name: str, row: dict, views: dict, crop: tuple[int, int, int], size: int,
               scale: int, err_lim: float, pm_lim: float, vmax: float, zoom: int = 2) -> Image.Image:
    """One method at one scale: error crop | phase means | spectrum, with its numbers on top."""
    i, top, left = crop
    err = views["errors"][i][0, 0, top : top + size, left : left + size] * 255
    tiles = [grid_image(err, zoom, "diverging", -err_lim, err_lim, fmt=None),
             grid_image(views["phase_means"], max(16, size * zoom // scale), "diverging",
                        -pm_lim, pm_lim, fmt="{:+.2f}"),
             spectrum_image(views["spectrum"], scale, zoom=zoom, vmax=vmax)]
    psnrs = ", ".join(f"{k.split('/')[0]} {v:.2f}" for k, v in row.items() if k.endswith("/psnr"))
    return titled(stack(tiles, gap=4), f"{name}: {psnrs} dB; ckb real {row['real']:.3f}, "
                                       f"peak/ring {row['peak_ratio']:.1f}", size=11)


def scale_block(scale: int, methods: dict[str, tuple[dict, dict]],
                pairs: Sequence[tuple[str, Tensor, Tensor]], size: int, err_lim: float = 24.0,
                zoom: int = 2) -> Image.Image:
    """Every method at one ``scale``; ``methods`` maps a name to ``(row, views)`` of
    ``srnet.analysis.study.measure_net`` (pairs in the order of ``pairs``)."""
    crop = worst_crop(pairs, scale, size)
    i, top, left = crop
    hr = pairs[i][2][..., top : top + size, left : left + size]
    pm_lim = max(0.05, max(float(v["phase_means"].abs().max()) for _, v in methods.values()))
    vmax = max(float(v["spectrum"].clamp(min=1e-12).log10().max()) for _, v in methods.values())
    rows = [titled(zoomed(to_pil(hr), zoom), f"HR: {pairs[i][0]} at ({top}, {left})", size=11)]
    rows += [method_row(n, r, v, crop, size, scale, err_lim, pm_lim, vmax, zoom)
             for n, (r, v) in methods.items()]
    return titled(stack(rows, axis=0, gap=8),
                  f"x{scale}: SR - HR on the crop (+-{err_lim:g} levels) | mean(SR - HR) per "
                  f"phase (+-{pm_lim:.2f}) |\nerror spectrum, log power over 4 decades, "
                  f"(i/{scale}, j/{scale}) circled", size=13)


def study_figure(blocks: Sequence[Image.Image]) -> Image.Image:
    """The per-scale blocks side by side, titled."""
    return titled(stack(list(blocks), gap=24), "Upsampler study: where each tail's error is, "
                  "and whether it repeats with the stride (seed 0 of every tail)", size=14)
