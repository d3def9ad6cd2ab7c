"""Training throughput of the old and the new training forward, per scale, in one run.

Run: ``python scripts/benchmark.py part=train`` (calls :func:`compare_forwards`).
"""

from __future__ import annotations

from srnet.benchmarks.train_speed import run
from srnet.io.tables import markdown_table

# The training forward before and after (srnet.train.throughput): the old default trained the
# ConvTranspose2d eagerly in NCHW; the new default trains its sub-pixel form (srnet.nets.subpixel)
# through torch.compile in NCHW (fits of >= 1000 steps on a CPU with a C++ compiler), or eagerly
# in NHWC where it cannot compile.
FORWARDS = {"old: ConvTranspose2d, NCHW": {"subpixel": False, "channels_last": False,
                                           "compile": False},
            "new: sub-pixel, compiled, NCHW": {"subpixel": True, "channels_last": False,
                                               "compile": True},
            "new, eager: sub-pixel, NHWC": {"subpixel": True, "channels_last": True,
                                            "compile": False}}


def compare_forwards(device: str = "cpu", scales: tuple[int, ...] = (2, 3, 4),
                     batch_size: int = 64, steps: int = 30, warmup: int = 5,
                     rounds: int = 2) -> list[dict]:
    """Old and new training forwards, per scale, interleaved ``rounds`` times (best kept), fp32.

    Compiling happens in the untimed warm-up steps."""
    best: dict[tuple[int, str], dict] = {}
    for _ in range(rounds):
        for s in scales:
            for name, opts in FORWARDS.items():
                (row,) = run(device, ["32-true"], batch_size, steps, warmup, s, paths=("dataloader",),
                             **opts)
                key = (s, name)
                if key not in best or row["lr_pixels_per_s"] > best[key]["lr_pixels_per_s"]:
                    best[key] = {**row, "forward": name}
    rows = [best[k] for k in sorted(best)]
    for r in rows:
        old = best[(r["scale"], next(iter(FORWARDS)))]["lr_pixels_per_s"]
        r["speedup_vs_old"] = r["lr_pixels_per_s"] / old
    return rows


def forward_table(rows: list[dict]) -> str:
    """Markdown table of :func:`compare_forwards`' rows."""
    return markdown_table(
        ["scale", "training forward", "M LR pixels/s", "step ms", "vs old"],
        [[f"x{r['scale']}", r["forward"], f"{r['lr_pixels_per_s'] / 1e6:.3f}", f"{r['step_ms']:.0f}",
          f"{r['speedup_vs_old']:.2f}x"] for r in rows])
