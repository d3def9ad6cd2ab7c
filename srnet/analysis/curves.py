"""Learning curves from TensorBoard event files, and a small line chart drawn with PIL.

:func:`read_scalars` reads (step, wall time, value) of tags from a run's event files (all of
them, in time order: a resumed run appends a file); :func:`line_chart` draws panels of curves
with labelled horizontal reference lines (bicubic, a paper's figure).
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from PIL import Image, ImageDraw, ImageFont

COLOURS = [(31, 119, 180), (214, 39, 40), (44, 160, 44), (148, 103, 189), (255, 127, 14)]


def read_scalars(run: str | Path, tags: Sequence[str]) -> dict[str, list[tuple[int, float, float]]]:
    """tag -> [(step, wall_time, value)] over every events file under ``run``, sorted by step
    (a step logged twice, as after a resume, keeps its last value)."""
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    files = sorted(Path(run).rglob("events.out.tfevents.*"))
    if not files:
        raise FileNotFoundError(f"{run}: no TensorBoard event files")
    out: dict[str, dict[int, tuple[int, float, float]]] = {t: {} for t in tags}
    for f in files:
        acc = EventAccumulator(str(f), size_guidance={"scalars": 0})
        acc.Reload()
        for t in tags:
            if t in acc.Tags()["scalars"]:
                for e in acc.Scalars(t):
                    out[t][e.step] = (e.step, e.wall_time, e.value)
    return {t: [v[s] for s in sorted(v)] for t, v in out.items()}


def line_chart(panels: Sequence[dict], path: str | Path, size: tuple[int, int] = (420, 300),
               cols: int | None = None) -> Path:
    """Draw panels in a grid of ``cols`` columns (default: one row) and save a PNG.

    Each panel: ``{"title": str, "xlabel": str, "ylabel": str, "curves": [(label, xs, ys)],
    "lines": [(label, y)]}`` (horizontal dashed reference lines).
    """
    w, h = size
    cols = cols or len(panels)
    rows = -(-len(panels) // cols)
    img = Image.new("RGB", (w * cols, h * rows), "white")
    font = ImageFont.load_default()
    left, right, top, bottom = 48, 12, 22, 34
    for i, p in enumerate(panels):
        x0, tile = 0, Image.new("RGB", (w, h), "white")
        draw = ImageDraw.Draw(tile)
        xs = [x for _, cx, _ in p["curves"] for x in cx] or [0, 1]
        ys = [y for _, _, cy in p["curves"] for y in cy] + [y for _, y in p.get("lines", [])]
        xmin, xmax = 0.0, max(xs) * 1.05 or 1.0
        ymin, ymax = min(ys) - 0.2, max(ys) + 0.2

        frame = (x0 + left, top, w - left - right, h - top - bottom, xmin, xmax, ymin, ymax)

        def px(x: float, y: float, f: tuple = frame) -> tuple[float, float]:
            return f[0] + (x - f[4]) / (f[5] - f[4]) * f[2], f[1] + (f[7] - y) / (f[7] - f[6]) * f[3]

        draw.rectangle([x0 + left, top, x0 + w - right, h - bottom], outline="black")
        draw.text((x0 + left, 4), p["title"], fill="black", font=font)
        draw.text((x0 + left, h - 14), p["xlabel"], fill="black", font=font)
        draw.text((x0 + 2, top), p["ylabel"], fill="black", font=font)
        for k in range(5):  # y ticks
            y = ymin + (ymax - ymin) * k / 4
            draw.text((x0 + 4, px(0, y)[1] - 5), f"{y:.1f}", fill="gray", font=font)
            x = xmin + (xmax - xmin) * k / 4
            draw.text((px(x, ymin)[0] - 8, h - bottom + 3), f"{x:.2f}", fill="gray", font=font)
        for j, (label, y) in enumerate(p.get("lines", [])):
            a, b = px(xmin, y), px(xmax, y)
            for s in range(int(a[0]), int(b[0]), 8):  # dashed
                draw.line([(s, a[1]), (min(s + 4, b[0]), a[1])], fill="gray")
            draw.text((a[0] + 4 + 90 * j, a[1] - 11), f"{label} {y:.2f}", fill="gray", font=font)
        for j, (label, cx, cy) in enumerate(p["curves"]):
            colour = COLOURS[j % len(COLOURS)]
            pts = [px(x, y) for x, y in zip(cx, cy, strict=True)]
            if len(pts) > 1:
                draw.line(pts, fill=colour, width=2)
            draw.text((x0 + w - right - 70, h - bottom - 14 - 12 * j), label, fill=colour, font=font)
        img.paste(tile, ((i % cols) * w, (i // cols) * h))
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    img.save(path)
    return path
