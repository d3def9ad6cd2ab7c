"""The tables of ``scripts/benchmark.py part=infer`` from :func:`srnet.benchmarks.infer_speed.run`'s
result: every method per scale and size, and the user path against OpenCV and ECBSR-M4C16."""

from __future__ import annotations

from srnet.benchmarks.infer_speed import OPENCV, PEERS, USER
from srnet.io.tables import markdown_table


def table(result: dict) -> str:
    """Markdown: one row per method, columns scale x LR size, cells ``MP/s (ms)``."""
    rows = result["rows"]
    cols = list(dict.fromkeys((r["scale"], r["lr"]) for r in rows))  # run order: scale, size
    names = list(dict.fromkeys(r["method"] for r in rows))
    cell = {(r["method"], r["scale"], r["lr"]): f"{r['mp_per_s']:.1f} ({r['ms_min']:.0f})"
            for r in rows}
    return markdown_table(["method", *(f"x{s} {lr}" for s, lr in cols)],
                          [[n, *(cell.get((n, s, lr)) for s, lr in cols)] for n in names])


def side_by_side(result: dict) -> str:
    """Markdown: per scale and LR size, the user path's first and best call against OpenCV's
    and ECBSR-M4C16's best (ms per image), and their time over srnet's."""
    cell = {(r["method"], r["scale"], r["lr"]): r for r in result["rows"]}
    rows = []
    for s, lr in dict.fromkeys((r["scale"], r["lr"]) for r in result["rows"]):
        a = cell.get((USER, s, lr))
        if a is None:
            continue
        row = [f"x{s}", lr, f"{a['ms_first']:.1f}", f"{a['ms_min']:.1f}"]
        for other in (OPENCV, f"{PEERS[0]} eager"):
            b = cell.get((other, s, lr))
            row += [f"{b['ms_min']:.1f}", f"**{b['ms_min'] / a['ms_min']:.2f}x**"] if b else ["-"] * 2
        rows.append(row)
    return markdown_table(["scale", "LR size", "srnet `load_model(...).upscale` first call ms",
                           "srnet best ms", "OpenCV `dnn_superres` ms", "OpenCV / srnet",
                           f"{PEERS[0]} eager ms", f"{PEERS[0]} / srnet"], rows)
