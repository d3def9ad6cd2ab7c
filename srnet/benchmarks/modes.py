"""The deployed path's executions side by side per LR size: what the no-timing rule is made of.

For each size, every execution of :data:`srnet.deploy.engine.MODES` upscales the same photo crop
(uint8 RGB in, uint8 RGB out, through :func:`srnet.deploy.rgb.upscale_into`) a few times after a
warm-up; the least time per mode is kept, with the minor page faults per call (memory the C
library handed back to the system after a call and the next one touched again: about a
microsecond each, and how many depends on the process's allocation history, which is much of the
spread of small calls). :func:`srnet.deploy.plan.rule`, which picks an
execution from the shape and the thread count without timing anything, is checked against the
fastest here. Run: ``python scripts/benchmark.py part=modes``.
"""

from __future__ import annotations

import time

try:
    import resource  # Unix
except ImportError:  # Windows: no page-fault counts
    resource = None
import numpy as np
import torch

from srnet.benchmarks.peers import cpu_name, test_image
from srnet.deploy.engine import MODES, deploy
from srnet.deploy.plan import rule
from srnet.deploy.rgb import upscale_into
from srnet.io.tables import markdown_table
from srnet.nets.fsrcnn import build_net

SIZES = ((48, 64), (90, 120), (128, 128), (180, 240), (256, 256), (240, 320), (360, 480),
         (480, 640), (720, 1280))


def minor_faults() -> int:
    """Minor page faults of this process so far (0 where the OS does not count them)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_minflt if resource else 0


def time_modes(net_cfg: dict, sizes=SIZES, repeats: int = 5) -> list[dict]:
    """Per LR size: ms of each mode (least of ``repeats``), its page faults per call, and the
    rule's pick."""
    dn = deploy(build_net(net_cfg).eval(), "cpu")
    rows = []
    for h, w in sizes:
        img = torch.from_numpy(test_image(h, w)).permute(2, 0, 1)[None].float().div(255)
        out = torch.empty(1, h * dn.scale, w * dn.scale, 3, dtype=torch.uint8)
        best, faults = {}, dict.fromkeys(MODES, 0)
        for mode in MODES:
            upscale_into(dn, img, out, mode=mode)  # warm-up: oneDNN builds kernels per shape
        for _ in range(repeats):
            for mode in MODES:
                f, t = minor_faults(), time.perf_counter()
                upscale_into(dn, img, out, mode=mode)
                best[mode] = min(best.get(mode, np.inf), time.perf_counter() - t)
                faults[mode] += minor_faults() - f
        fastest = min(best, key=best.get)
        pick = rule(1, h, w, torch.get_num_threads(), dn.width)
        rows.append({"lr": f"{w}x{h}", **{m: 1e3 * v for m, v in best.items()},
                     **{f"{m} faults": faults[m] / repeats for m in MODES},
                     "fastest": fastest, "rule": pick, "rule_vs_best": best[pick] / best[fastest]})
    return rows


def run(net_cfg: dict | None = None, threads: int | None = None) -> dict:
    if threads:
        torch.set_num_threads(threads)
    cfg = {"scale": 2, "skip": "bicubic", **(net_cfg or {})}
    return {"part": "modes", "net": cfg, "rows": time_modes(cfg),
            "machine": f"{cpu_name()}, {torch.get_num_threads()} threads"}


def table(result: dict) -> str:
    """ms per mode (faults per call in brackets), the fastest, the rule's pick."""
    return markdown_table(["LR", *(f"{m} ms (faults)" for m in MODES), "fastest", "rule",
                           "rule / best"],
                          [[r["lr"], *(f"{r[m]:.2f} ({r.get(f'{m} faults', 0):.0f})"
                                       for m in MODES),
                            r["fastest"], r["rule"], f"{r['rule_vs_best']:.2f}"]
                           for r in result["rows"]])
