"""Inference speed of network shapes per image on real photos, against the tiny-SR peers.

Every shape (``model.net`` overrides: the classic FSRCNN and the re-shaped ones of the body
study) runs with random weights (speed does not depend on the values) through the user path,
``Upscaler(net).upscale(uint8 RGB array)`` (what ``load_model(...).upscale`` and ``infer.py``
run), over a folder of photos twice: the first pass meets every size for the first time, the
second is warm. The peers (ECBSR-M4C16, ETDS-M5C16 from ``../shared/peers/tiny-sr``) run in plain
eager PyTorch from uint8 RGB to uint8 RGB, as their code does. Methods alternate image by image,
so they share whatever load the machine has. Run: ``python scripts/benchmark.py part=shapes``.
"""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
import torch

from srnet.benchmarks.peers import cpu_name, tiny_sr
from srnet.infer.upscaler import Upscaler
from srnet.io.images import read_rgb
from srnet.io.tables import markdown_table
from srnet.nets.fsrcnn import build_net

SHAPES = {
    "classic d56 s12 m4": {},
    "slim d16 m4": {"d": 16, "s": None, "m": 4, "first_kernel": 3, "shrink": False},
    "slim d16 m5": {"d": 16, "s": None, "m": 5, "first_kernel": 3, "shrink": False},
    "slim d16 m5 k6": {"d": 16, "s": None, "m": 5, "first_kernel": 3, "shrink": False,
                       "tail_kernel": 6, "scales": (2,)},  # the shipped x2
    "slim d16 m5 k2": {"d": 16, "s": None, "m": 5, "first_kernel": 3, "shrink": False,
                       "tail_kernel": 2, "scales": (2,)},  # a 1x1 phase tail (not shipped)
    "slim d24 m4": {"d": 24, "s": None, "m": 4, "first_kernel": 3, "shrink": False},
    "slim d32 m4": {"d": 32, "s": None, "m": 4, "first_kernel": 3, "shrink": False},
}


def shape_methods(scale: int, shapes: dict[str, dict] | None = None
                  ) -> dict[str, tuple[Callable[[np.ndarray], np.ndarray], dict]]:
    """name -> (uint8 RGB -> uint8 RGB, facts) for every shape and the peers found."""
    from srnet.analysis.study import macs_per_pixel

    out = {}
    torch.manual_seed(0)
    for name, over in (shapes or SHAPES).items():
        over = dict(over)
        if scale not in over.pop("scales", (scale,)):  # a shape raced at some scales only
            continue
        net = build_net({"scale": scale, "skip": "bicubic", **over}).eval()
        facts = {"params": sum(p.numel() for p in net.parameters()), "macs": macs_per_pixel(net)}
        out[f"srnet {name}"] = (Upscaler(net, "cpu").upscale, facts)
    for peer in ("ECBSR-M4C16", "ETDS-M5C16"):
        fn, facts = tiny_sr(peer, scale)
        if fn is not None:
            out[f"{peer} eager"] = (fn, facts)
    return out


def photos(folder: Path, limit: int | None = None) -> list[np.ndarray]:
    files = sorted(p for p in folder.iterdir() if p.suffix.lower() in (".png", ".jpg"))
    if not files:
        raise FileNotFoundError(f"{folder}: no .png / .jpg photos")
    return [read_rgb(p) for p in files[:limit]]


def race(methods: dict[str, tuple[Callable, dict]], images: list[np.ndarray],
         passes: int = 2) -> list[dict]:
    """Seconds per image of each method, pass by pass, alternating methods image by image."""
    times = {name: [[] for _ in range(passes)] for name in methods}
    with torch.inference_mode():
        for k in range(passes):
            for img in images:
                for name, (fn, _) in methods.items():
                    t = time.perf_counter()
                    fn(img)
                    times[name][k].append(time.perf_counter() - t)
    out_px = sum(img.shape[0] * img.shape[1] for img in images)
    rows = []
    for name, (_, facts) in methods.items():
        warm = times[name][-1]
        rows.append({"method": name, **facts, "first_pass_s": sum(times[name][0]),
                     "warm_pass_s": sum(warm), "median_ms": 1e3 * statistics.median(warm),
                     "images": len(images), "lr_pixels": out_px})
    return rows


def run(folder: Path, scale: int, limit: int | None = None, threads: int | None = None) -> dict:
    """The race on the photos of ``folder`` (LR inputs) at ``scale``; rows and the machine."""
    if threads:
        torch.set_num_threads(threads)
    images = photos(folder, limit)
    rows = race(shape_methods(scale), images)
    for r in rows:
        r["mp_per_s"] = r["lr_pixels"] * scale * scale / r["warm_pass_s"] / 1e6
    return {"part": "shapes", "folder": str(folder), "scale": scale, "rows": rows,
            "machine": f"{cpu_name()}, {torch.get_num_threads()} threads, torch {torch.__version__}"}


def table(result: dict) -> str:
    return markdown_table(
        ["method", "params", "MACs / HR px", "first pass s", "warm pass s", "median ms / image",
         "MP/s out (warm)"],
        [[r["method"], r.get("params", "-"), f"{r['macs']:.0f}" if r.get("macs") else "-",
          f"{r['first_pass_s']:.2f}", f"{r['warm_pass_s']:.2f}", f"{r['median_ms']:.1f}",
          f"{r['mp_per_s']:.1f}"] for r in result["rows"]])
