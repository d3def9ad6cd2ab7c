"""The upsampler study's measurements and its table (``scripts/upsampler_study.py`` runs it).

For one trained network (or a fixed rule) on the report sets (Set5, Set14 with their MATLAB-made
LR files; reporting only, never used to choose a setting): Y-PSNR / SSIM (border = scale, the
validation protocol of ``srnet.ops.metrics``), the checkerboard on flat and ramp probes and on the
real images (``srnet.analysis.checkerboard``), the error views (``srnet.analysis.error_views``),
parameters and multiply-adds per output pixel. :func:`table` writes mean +- sd over seeds.
"""

from __future__ import annotations

import math
import statistics
from collections.abc import Callable, Sequence
from pathlib import Path

import torch
from torch import Tensor, nn
from torch.utils.flop_counter import FlopCounterMode

from srnet.analysis.checkerboard import baseline_checkerboard, image_checkerboard, net_checkerboard
from srnet.analysis.error_views import error_phase_means, error_spectrum, luma_sr, peak_ratio
from srnet.data.datasets import ValImages
from srnet.data.sources import PairedBenchmark
from srnet.io.tables import markdown_table
from srnet.ops.color import rgb_to_y
from srnet.ops.resize import upscale
from srnet.ops.scoring import score

Pair = tuple[str, Tensor, Tensor]  # (name, LR RGB (1, 3, h, w), HR RGB (1, 3, sh, sw)) in [0, 1]


def report_pairs(data_root: str | Path, sets: Sequence[str], scale: int) -> dict[str, list[Pair]]:
    """``benchmark/<set>`` under ``data_root`` as (name, LR, HR) float pairs, per set."""
    out = {}
    for name in sets:
        ds = ValImages(PairedBenchmark(Path(data_root) / "benchmark" / name, scale).records(),
                       scale)
        out[name] = [(ds[i]["name"], ds[i]["lr"][None].float() / 255,
                      ds[i]["hr"][None].float() / 255) for i in range(len(ds))]
    return out


def macs_per_pixel(net: nn.Module, size: int = 32) -> float:
    """Multiply-adds per output pixel of ``net`` as executed (FLOPs / 2 counted by
    ``torch.utils.flop_counter``: every conv the forward runs, the sub-pixel form of the deconv
    and the skip included), on a ``size`` x ``size`` LR input."""
    x = torch.rand(1, net.cfg.channels, size, size, device=next(net.parameters()).device)
    with FlopCounterMode(display=False) as counter, torch.no_grad():
        net(x)
    return counter.get_total_flops() / 2 / (size * net.cfg.scale) ** 2


@torch.no_grad()
def _scores(sr_of: Callable[[Tensor], Tensor], pairs: dict[str, list[Pair]],
            scale: int) -> tuple[dict, dict]:
    row: dict[str, float | None] = {}
    srs, errs = [], []
    for set_name, items in pairs.items():
        ps, ss = [], []
        for _, lr, hr in items:
            sr = sr_of(lr)  # (1, 1, sh, sw) luma in [0, 1]
            got = score(sr, lr, hr, scale, methods=())["model"]
            ps.append(float(got["psnr"][0]))
            ss.append(float(got["ssim"][0]))
            srs.append(sr)
            errs.append(sr.double() - rgb_to_y(hr.double()))
        row[f"{set_name}/psnr"], row[f"{set_name}/ssim"] = statistics.mean(ps), statistics.mean(ss)
    row["real"] = image_checkerboard(srs, scale, scale).amplitude
    spec = error_spectrum(errs, scale, scale)
    row["peak_ratio"] = peak_ratio(spec, scale)
    return row, {"errors": errs, "phase_means": error_phase_means(errs, scale, scale),
                 "spectrum": spec}


def measure_net(net: nn.Module, pairs: dict[str, list[Pair]]) -> tuple[dict, dict]:
    """Scores of a network on the report ``pairs``: ``(row, views)``.

    ``row`` holds plain numbers: ``<set>/psnr``, ``<set>/ssim``, ``flat``, ``ramp`` (probes),
    ``real`` (the SR images' own period-s pattern, pooled over every set), ``peak_ratio``,
    ``params``, ``macs``. ``views`` holds the figure's tensors over all the sets: ``errors``
    (per image, luma SR - HR), ``phase_means`` (s, s) and ``spectrum``, grey levels.
    """
    net.eval()
    scale = net.cfg.scale
    row, views = _scores(lambda lr: luma_sr(net, lr), pairs, scale)
    cb = net_checkerboard(net)
    row.update(flat=cb.flat, ramp=cb.smooth, params=sum(p.numel() for p in net.parameters()),
               macs=macs_per_pixel(net))
    return row, views


def measure_rule(method: str, pairs: dict[str, list[Pair]], scale: int) -> tuple[dict, dict]:
    """:func:`measure_net` for a fixed rule (``nearest``, ``bilinear``, ``bicubic``) on RGB."""
    row, views = _scores(lambda lr: rgb_to_y(upscale(lr, scale, method)), pairs, scale)
    cb = baseline_checkerboard(method, scale)
    row.update(flat=cb.flat, ramp=cb.smooth, params=0, macs=None)
    return row, views


def hr_floor(pairs: dict[str, list[Pair]], scale: int) -> float:
    """The real-image checkerboard of the ground truth itself: period-s content of natural images
    (aliasing), the level below which a network's ``real`` score says nothing."""
    hrs = [rgb_to_y(hr) for items in pairs.values() for _, _, hr in items]
    return image_checkerboard(hrs, scale, scale).amplitude


# ---------------------------------------------------------------- the table
def columns(sets: Sequence[str]) -> list[tuple[str, str, int]]:
    """(key in a row, header, decimals) of the table, for the report ``sets``."""
    cols = [(f"{n}/{m}", f"{n} {m.upper()}", 2 if m == "psnr" else 4)
            for n in sets for m in ("psnr", "ssim")]
    return cols + [("flat", "ckb flat", 3), ("ramp", "ckb ramp", 3), ("real", "ckb real", 3),
                   ("params", "params", 0), ("macs", "MACs/px", 0), ("steps", "steps", 0),
                   ("cpu_min", "train CPU min", 1), ("late_gain", "holdout dB, last 40 %", 3)]


def late_gain(curve: Sequence[tuple[int, float, float]], fraction: float = 0.4) -> float | None:
    """Holdout PSNR gained over the last ``fraction`` of training, from ``(step, time, dB)``
    points: how far from converged a run stopped (None without two points that far apart)."""
    if len(curve) < 2:
        return None
    last_step, _, last = curve[-1]
    earlier = [v for step, _, v in curve if step <= last_step * (1 - fraction)]
    return last - earlier[-1] if earlier else None


def cell(values: Sequence[float | None], decimals: int) -> str:
    """``mean +- sd`` (sample sd over seeds) of the values that are there; ``-`` if none."""
    vals = [v for v in values if v is not None and not (isinstance(v, float) and math.isnan(v))]
    if not vals:
        return "-"
    mean = statistics.mean(vals)
    text = f"{mean:,.{decimals}f}"
    if len(vals) > 1 and statistics.stdev(vals) > 0:
        text += f" ± {statistics.stdev(vals):,.{decimals}f}"
    return text


def table(rows: dict[str, list[dict]], cols: Sequence[tuple[str, str, int]]) -> str:
    """Markdown table: one line per method (its rows are its seeds), mean +- sd in each cell."""
    return markdown_table(["method", "n", *(h for _, h, _ in cols)],
                          [[method, len(runs), *(cell([r.get(k) for r in runs], d) for k, _, d in cols)]
                           for method, runs in rows.items()])
