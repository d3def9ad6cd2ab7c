"""Training throughput of the old and the new training forward, per scale, in one run.

Each row is a real Lightning fit (:func:`srnet.benchmarks.train_speed.run`) in a fresh Python
process: a fit never inherits another's allocator state, compiled kernels or warmed caches, and
the old row trains exactly as the old default did (eager ``ConvTranspose2d`` in NCHW, glibc's
malloc left as it is). Rounds are interleaved and each row's best is kept.

Run: ``python scripts/benchmark.py part=train`` (calls :func:`compare_forwards`).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path

from srnet.io.tables import markdown_table
from srnet.ops.precision import cpu_has_native_bf16
from srnet.train.throughput import KEEP_FREED_ENV

# The training forward before and after (srnet.train.throughput): the old default trained the
# ConvTranspose2d eagerly in NCHW; the new default trains its sub-pixel form (srnet.nets.subpixel)
# through torch.compile in NCHW (fits of >= 1000 steps on a CPU with a C++ compiler), or eagerly
# in NHWC where it cannot compile, and keeps freed buffers in glibc's malloc on a CPU.
FORWARDS = {"old: ConvTranspose2d, NCHW": {"subpixel": False, "channels_last": False,
                                           "compile": False, "keep_freed_memory": False},
            "new: sub-pixel, compiled, NCHW": {"subpixel": True, "channels_last": False,
                                               "compile": True, "keep_freed_memory": True},
            "new, eager: sub-pixel, NHWC": {"subpixel": True, "channels_last": True,
                                            "compile": False, "keep_freed_memory": True}}
OLD = next(iter(FORWARDS))
# Not a default (bf16's cost in accuracy: docs/training.md), timed where the CPU has bf16 in
# hardware; elsewhere PyTorch emulates bfloat16 and it is slower than fp32.
BF16 = {"new, bf16-mixed: sub-pixel, compiled, NCHW": {**FORWARDS["new: sub-pixel, compiled, NCHW"],
                                                       "precision": "bf16-mixed"}}


def forwards_for(device: str) -> dict[str, dict]:
    """The rows to time on ``device``: :data:`FORWARDS`, plus :data:`BF16` on a CPU with bf16
    in hardware."""
    native = device == "cpu" and cpu_has_native_bf16()
    return {**FORWARDS, **(BF16 if native else {})}


def fit_in_process(device: str, scale: int, batch_size: int, steps: int, warmup: int,
                   opts: dict, timeout_s: float = 900) -> dict:
    """One timed fit (DataLoader path; fp32 unless ``opts["precision"]`` says otherwise) in a
    fresh ``python -m srnet.benchmarks.train_speed``."""
    with tempfile.TemporaryDirectory(prefix="srnet-train-forward-") as tmp:
        out = Path(tmp) / "row.json"
        cmd = [sys.executable, "-m", "srnet.benchmarks.train_speed", json.dumps({
            "device": device, "scale": scale, "path": "dataloader",
            "precision": opts.get("precision", "32-true"), "batch_size": batch_size,
            "steps": steps, "warmup": warmup, "subpixel": opts["subpixel"],
            "channels_last": opts["channels_last"], "compile": opts["compile"], "json": str(out)})]
        env = {**os.environ, KEEP_FREED_ENV: "1" if opts["keep_freed_memory"] else "0"}
        done = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=timeout_s)
        if done.returncode != 0 or not out.exists():
            tail = "\n".join((done.stdout + done.stderr).strip().splitlines()[-15:])
            raise RuntimeError(f"benchmark fit failed (exit {done.returncode}): "
                               f"{' '.join(cmd)}\n{tail}")
        (row,) = json.loads(out.read_text())
    return {**row, "keep_freed_memory": opts["keep_freed_memory"]}


def compare_forwards(device: str = "cpu", scales: tuple[int, ...] = (2, 3, 4),
                     batch_size: int = 64, steps: int = 30, warmup: int = 5, rounds: int = 3,
                     fit: Callable[..., dict] = fit_in_process,
                     progress: Callable[[str], None] = print,
                     forwards: dict[str, dict] | None = None) -> list[dict]:
    """Old and new training forwards, per scale, interleaved ``rounds`` times (best kept).

    ``fit(device, scale, batch_size, steps, warmup, opts)`` times one row (default: a fresh
    process); compiling happens in its untimed warm-up steps. ``forwards``: name -> options
    (default :func:`forwards_for` ``device``; the old one first). Rows come per scale in the
    order of ``forwards``."""
    forwards = forwards or forwards_for(device)
    old = next(iter(forwards))
    got: dict[tuple[int, str], list[dict]] = {}
    runs = [(r, s, name) for r in range(rounds) for s in scales for name in forwards]
    for i, (r, s, name) in enumerate(runs, 1):
        row = fit(device, s, batch_size, steps, warmup, forwards[name])
        progress(f"[{i}/{len(runs)}] round {r + 1}, x{s}, {name}: "
                 f"{row['lr_pixels_per_s'] / 1e6:.3f} M LR px/s")
        got.setdefault((s, name), []).append(row)
    best = {key: max(rows, key=lambda row: row["lr_pixels_per_s"]) for key, rows in got.items()}
    rows = [{**best[key], "forward": key[1], "rounds": [row["lr_pixels_per_s"] for row in got[key]],
             "speedup_vs_old": best[key]["lr_pixels_per_s"] / best[(key[0], old)]["lr_pixels_per_s"]}
            for key in sorted(got, key=lambda k: (k[0], list(forwards).index(k[1])))]
    return rows


def forward_table(rows: list[dict]) -> str:
    """Markdown table of :func:`compare_forwards`' rows."""
    return markdown_table(
        ["scale", "training forward", "M LR pixels/s (best)", "every round", "step ms", "vs old"],
        [[f"x{r['scale']}", r["forward"], f"{r['lr_pixels_per_s'] / 1e6:.3f}",
          ", ".join(f"{v / 1e6:.3f}" for v in r["rounds"]), f"{r['step_ms']:.0f}",
          f"{r['speedup_vs_old']:.2f}x"] for r in rows])
