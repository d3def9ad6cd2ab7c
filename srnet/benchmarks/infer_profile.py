"""Where the time goes: per-layer CPU time of the deployed srnet path next to OpenCV's total.

One thread, CPU time of the calling thread (``time.thread_time``), so other processes on the
machine change the numbers little; each entry is the minimum over ``repeats`` whole-image runs
of the sum of that layer's calls over all bands. Rows: every convolution and PReLU of
:class:`srnet.deploy.banded.BandedNet` (layers with the same shape are summed), the colour head of
:mod:`srnet.deploy.rgb` (chroma convolution; Y add + clamp; writing the uint8 HR image), the input
conversion; the sums for the network and for the colour path; then srnet's whole
``load_model(...).upscale`` call (the user path) without the timers, and OpenCV's whole
``upsample`` call on the same image (process CPU time, ``cv2.setNumThreads(1)``).
Run through ``scripts/benchmark.py part=profile``.
"""

from __future__ import annotations

import time
from collections import defaultdict

import numpy as np
import torch

from srnet.benchmarks.infer_speed import load_nets, rgb_tensor
from srnet.benchmarks.peers import opencv_rgb, test_image
from srnet.deploy.engine import deploy
from srnet.deploy.rgb import HEAD_BYTES, head_for, write_rows
from srnet.infer.upscaler import Upscaler
from srnet.io.tables import markdown_table
from srnet.ops.color import rgb_to_y

COLOUR = "colour: "  # the colour path's rows start with this


class _Timed:
    """Stands in for a :class:`srnet.deploy.banded.Conv`, timing its convolution and its PReLU."""

    def __init__(self, layer, acc: dict) -> None:
        self.layer, self.acc, self.pad = layer, acc, layer.pad

    def __call__(self, x, pad_h):
        t = time.thread_time()
        y = self.layer.conv(x, pad_h)
        t2 = time.thread_time()
        self.acc[self.layer.name()] += t2 - t
        if self.layer.prelu is not None:
            y = self.layer.act(y)
            self.acc[f"PReLU {y.shape[1]}"] += time.thread_time() - t2
        return y


def _instrument(banded, acc: dict) -> None:
    for st in [*banded.stages, banded.tail_packed, banded.tail_plain]:
        st.pre = [layer if isinstance(layer, _Timed) else _Timed(layer, acc) for layer in st.pre]
        st.post = [layer if isinstance(layer, _Timed) else _Timed(layer, acc)
                   for layer in st.post]
        if not isinstance(st.conv, _Timed):
            st.conv = _Timed(st.conv, acc)


@torch.no_grad()  # not inference_mode: srnet.nets caches index tensors made on first use
def profile(scale: int, size: tuple[int, int] = (360, 640), repeats: int = 5,
            ckpt: str | None = None) -> dict:
    """Per-layer CPU ms for one LR image of ``size`` (H, W); see the module docstring."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        net, source = load_nets(scale, ckpt)
        fast = deploy(net)
        rgb = test_image(*size)
        best: dict[str, float] = {}
        for _ in range(repeats):
            acc: dict[str, float] = defaultdict(float)
            _instrument(fast.banded, acc)
            t = time.thread_time()
            x = rgb_tensor(rgb, torch.device("cpu"))
            net_in = rgb_to_y(x).contiguous(memory_format=torch.channels_last)
            acc["input uint8 -> Y"] += time.thread_time() - t
            phases = fast.banded.run(net_in)  # (1, K, H, W)
            _head_times(fast, phases, x, acc)
            for k, v in acc.items():
                best[k] = min(best.get(k, np.inf), v)
        cv_ms = _opencv_ms(scale, rgb, repeats)
        whole, user = [], Upscaler(net, device="cpu")  # the same work, uninstrumented
        user.upscale(rgb)  # the measured choice of execution for this shape, made once
        for _ in range(repeats):
            t = time.thread_time()
            user.upscale(rgb)
            whole.append(time.thread_time() - t)
    finally:
        torch.set_num_threads(threads)
    rows = [{"layer": k, "ms": 1e3 * v} for k, v in best.items()]
    total = sum(r["ms"] for r in rows)
    colour = sum(r["ms"] for r in rows if r["layer"].startswith(COLOUR))
    network = sum(r["ms"] for r in rows if not r["layer"].startswith(("input", COLOUR)))
    return {"scale": scale, "lr": f"{size[1]}x{size[0]}", "weights": source, "rows": rows,
            "srnet_total_ms": total, "network_ms": network, "colour_ms": colour,
            "srnet_whole_call_ms": 1e3 * min(whole), "opencv_total_ms": cv_ms,
            "execution": next(iter(user.runner.planner.choices.values()), "banded")}


def _head_times(fast, phases, x, acc: dict) -> None:
    s, (h, w) = fast.scale, x.shape[-2:]
    head = head_for(fast, 3, phases.shape[1], 255.0)
    out = torch.empty(s * h, s * w, 3, dtype=torch.uint8)
    step = max(8, HEAD_BYTES // (w * 12 * s * s))
    for q0 in range(0, h, step):
        q1 = min(q0 + step, h)
        t = time.thread_time()
        head.chroma(x, q0, q1)
        t2 = time.thread_time()
        vals = head(phases[:, :, q0:q1], x, q0, q1)  # chroma again + Y add + clamp
        t3 = time.thread_time()
        write_rows(out, vals, q0, q1)
        t4 = time.thread_time()
        acc[COLOUR + "bicubic chroma conv"] += t2 - t
        acc[COLOUR + "add Y (1x1 conv) + clamp"] += max(0.0, (t3 - t2) - (t2 - t))
        acc[COLOUR + "write uint8 HR image"] += t4 - t3


def _opencv_ms(scale: int, rgb: np.ndarray, repeats: int) -> float | None:
    fn, _ = opencv_rgb(scale, 1)
    if fn is None:
        return None
    fn(rgb)
    times = []
    for _ in range(repeats):
        t = time.process_time()
        fn(rgb)
        times.append(time.process_time() - t)
    return 1e3 * min(times)


def table(result: dict) -> str:
    total = result["srnet_total_ms"]
    rows = [[r["layer"], f"{r['ms']:.1f}", f"{100 * r['ms'] / total:.0f}%"]
            for r in sorted(result["rows"], key=lambda r: -r["ms"])]
    rows.append(["**srnet, sum of the above**", f"**{total:.1f}**", ""])
    net, colour = result["network_ms"], result["colour_ms"]
    rows.append([f"network layers / colour path ({COLOUR.strip()} rows)",
                 f"{net:.1f} / {colour:.1f}", f"colour = {colour / net:.2f}x network"])
    whole = result["srnet_whole_call_ms"]
    rows.append([f"srnet `load_model(...).upscale` whole call ({result['execution']}), "
                 "uninstrumented", f"{whole:.1f}", ""])
    if result["opencv_total_ms"] is not None:
        cv = result["opencv_total_ms"]
        rows.append(["OpenCV `upsample` whole call", f"{cv:.1f}", f"{cv / whole:.2f}x srnet"])
    return markdown_table(["srnet layer (CPU ms, 1 thread)", "ms", "share"], rows)
