"""The body study's report: network shapes compared at equal CPU time, on the holdout only.

Each run is a training from scratch of one shape (``scripts/body_study.py``); its curve is the
holdout Y-PSNR (``val/holdout/psnr``) against the CPU-minutes spent so far (``time/cpu_hours``,
:class:`srnet.train.cputime.CPUTime`). Runs are compared at the same CPU-minutes by linear
interpolation along their curves, never at the same step, and never on a test set.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import torch

from srnet.analysis.curves import line_chart, read_scalars
from srnet.analysis.study import macs_per_pixel
from srnet.io.tables import markdown_table
from srnet.nets.fsrcnn import build_net

Curve = list[tuple[float, float]]  # (CPU-minutes, holdout PSNR)


def holdout_curve(run: str | Path) -> Curve:
    """(CPU-minutes, holdout PSNR) at each validation of ``run`` (steps matched by step)."""
    cpu = cpu_seconds(run)
    psnr = read_scalars(run, ["val/holdout/psnr"])["val/holdout/psnr"]
    curve = [(cpu[step] / 60, v) for step, _, v in psnr if step in cpu]
    if not curve:
        raise ValueError(f"{run}: no validation with both val/holdout/psnr and time/cpu_hours")
    return sorted(curve)


def cpu_seconds(run: str | Path) -> dict[int, float]:
    """Step -> CPU seconds spent by then, at each validation of ``run``."""
    return {step: v * 3600 for step, _, v in read_scalars(run, ["time/cpu_hours"])["time/cpu_hours"]}


def value_at(curve: Curve, minutes: float) -> float | None:
    """The curve's PSNR at ``minutes`` by linear interpolation; None outside the curve."""
    if not curve or minutes < curve[0][0] or minutes > curve[-1][0] + 1e-9:
        return None
    for (x0, y0), (x1, y1) in zip(curve, curve[1:], strict=False):
        if x0 <= minutes <= x1:
            return y0 if x1 == x0 else y0 + (y1 - y0) * (minutes - x0) / (x1 - x0)
    return curve[-1][1]


def shape_cost(net_cfg: dict) -> tuple[int, float]:
    """(parameters of the deployed network, multiply-adds per output pixel as executed)."""
    net = build_net(net_cfg)
    return sum(p.numel() for p in net.parameters()), macs_per_pixel(net)


def report(runs: dict[str, dict], marks: Sequence[float]) -> str:
    """Markdown table: one row per run (``{name: {"dir", "net", "steps"}}``), holdout PSNR at
    each CPU-minute mark and at the end, the best row of each scale in bold."""
    rows, finals = [], {}
    for name, r in runs.items():
        curve = holdout_curve(r["dir"])
        params, macs = shape_cost(r["net"])
        at = [value_at(curve, m) for m in marks]
        finals[name] = (r["net"]["scale"], curve[-1][1])
        rows.append([name, params, f"{macs:.0f}", r.get("steps", "-"), f"{curve[-1][0]:.1f}",
                     *("-" if v is None else f"{v:.3f}" for v in at), f"{curve[-1][1]:.3f}"])
    best = {}
    for name, (scale, v) in finals.items():
        if scale not in best or v > finals[best[scale]][1]:
            best[scale] = name
    for row in rows:
        if row[0] in best.values():
            row[-1] = f"**{row[-1]}**"
    head = ["run", "params", "MACs / HR px", "steps", "CPU-min", *(f"@{m:g} min" for m in marks),
            "holdout at end"]
    return markdown_table(head, rows)


def figure(runs: dict[str, dict], path: str | Path) -> Path:
    """Holdout PSNR against CPU-minutes, one panel per scale."""
    panels: dict[int, dict] = {}
    for name, r in runs.items():
        scale = r["net"]["scale"]
        p = panels.setdefault(scale, {"title": f"x{scale}: holdout Y-PSNR (dB) vs CPU-minutes",
                                      "xlabel": "CPU-minutes", "ylabel": "dB", "curves": []})
        curve = holdout_curve(r["dir"])
        p["curves"].append((name, [c for c, _ in curve], [v for _, v in curve]))
    with torch.no_grad():
        return line_chart([panels[s] for s in sorted(panels)], path, size=(520, 360))
