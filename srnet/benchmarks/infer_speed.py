"""Inference speed: srnet's paths against OpenCV's dnn_superres FSRCNN and torch bicubic.

Every method upscales the same LR image (a crop of scikit-image's astronaut photograph, tiled to
size) at x2/x3/x4 and each LR size; methods run round-robin, one call each per repeat, so they
share whatever load the machine has; we report the median and the minimum time per image and
output megapixels per second (from the minimum: the least disturbed run). Methods:

* ``srnet deconv (plain)``: the trained FSRCNN as built (ConvTranspose2d tail), Y in -> Y out;
* ``srnet rewritten``: conv + pixel-shuffle tail (``srnet.nets.reparam``), channels_last;
* ``srnet deployed fp32`` / ``bf16``: :func:`srnet.deploy.engine.deploy` (bf16 only where asked or native);
* ``srnet onnxruntime``: the ONNX export (``scripts/export.py``) in onnxruntime's CPU provider;
* ``srnet deployed fp16`` / ``fp16 CUDA graph`` (CUDA only): half precision, and the same replayed
  as a CUDA graph (:mod:`srnet.deploy.cuda`);
* ``... RGB->RGB``: whole paths from a uint8 (H, W, 3) RGB array to the uint8 SR array: srnet's
  deployed net with its fast colour path (:mod:`srnet.deploy.rgb`), the reference path
  (``srnet.infer.upscaler.super_resolve`` on the plain net), **the user path**
  ``load_model(...).upscale(array)`` (:class:`srnet.infer.upscaler.Upscaler` on the same weights;
  what ``infer.py`` runs), and OpenCV's ``upsample`` call (which converts to YCrCb, runs the
  network on Y and resizes Cr/Cb itself);
* ``srnet RGB export: ...`` (CPU): the one-file RGB -> RGB export (``scripts/export.py``,
  :mod:`srnet.deploy.graph`) in onnxruntime, OpenCV ``cv2.dnn`` and ncnn, uint8 in and out
  (each skipped, with a note, when its package is missing);
* ``ECBSR-M4C16 eager`` / ``ETDS-M5C16 eager`` (CPU): the tiny-SR peers from
  ``../shared/peers/tiny-sr`` in plain eager PyTorch, uint8 RGB in and out (absent: a note);
* ``torch bicubic``: ``srnet.ops.resize.upscale`` on the float RGB tensor.

Every row also keeps its first call (the warm-up round: a new size for every method).
Tables: :mod:`srnet.benchmarks.infer_tables`.

Without trained weights the networks are random FSRCNN(d=56, s=12, m=4): speed does not depend
on the values. Run through ``scripts/benchmark.py part=infer``.
"""

from __future__ import annotations

import copy
import os
import statistics
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
import torch

from srnet.benchmarks.peers import (
    cpu_name,
    exported_rgb,
    onnxruntime_y,
    opencv_rgb,
    test_image,
    tiny_sr,
)
from srnet.deploy.cuda import graphed_phases
from srnet.deploy.engine import DeployedNet, deploy
from srnet.infer.upscaler import Upscaler
from srnet.nets.fsrcnn import FSRCNN
from srnet.nets.reparam import reparameterize
from srnet.ops.color import rgb_to_y
from srnet.ops.precision import cpu_has_native_bf16
from srnet.ops.reference import super_resolve
from srnet.ops.resize import upscale

CPU_SIZES = ((256, 256), (360, 640), (1080, 1920))  # LR (H, W)
GPU_SIZES = CPU_SIZES
USER, OPENCV = "srnet user path load_model().upscale", "opencv dnn_superres RGB->RGB"
PEERS = ("ECBSR-M4C16", "ETDS-M5C16")  # tiny-SR peers, rows "<peer> eager"


def load_nets(scale: int, ckpt: str | None) -> tuple[FSRCNN, str]:
    """(net, where its weights came from) for ``scale``: ckpt, bundled weights, or random."""
    from srnet.io.checkpoints import load_net

    for source in (ckpt, f"x{scale}"):
        if source is None:
            continue
        try:
            net = load_net(source)
        except FileNotFoundError:
            continue
        if net.cfg.scale == scale:
            return net.eval(), str(source)
    torch.manual_seed(0)
    return FSRCNN(scale=scale, d=56, s=12, m=4).eval(), "random FSRCNN(d=56, s=12, m=4)"


def methods(net: FSRCNN, device: torch.device, bf16: bool, folder: Path,
            only: list[str] | None = None, exported: tuple[dict, list] | None = None
            ) -> tuple[dict, list]:
    """name -> (kind, fn) for one scale; kind 'y' (net only) or 'rgb' (whole path). ``only``:
    keep the methods whose name contains one of these words. ``exported``: what
    :func:`exports` made for this scale (default: made here, after OpenCV's superres)."""
    s, notes, out, keep = net.cfg.scale, [], {}, keeper(only)

    def add(name: str, kind: str, make: Callable[[], Callable | None]) -> None:
        if keep(name) and (fn := make()) is not None:
            out[name] = (kind, fn)

    plain = copy.deepcopy(net).to(device)
    fast = deploy(net, device, "fp32")
    add("srnet deconv (plain)", "y", lambda: plain)
    rewritten = reparameterize(copy.deepcopy(net)).to(device, memory_format=torch.channels_last)
    add("srnet rewritten", "y", lambda: lambda y: rewritten(y.contiguous(
        memory_format=torch.channels_last)))
    add("srnet deployed fp32", "y", lambda: fast)
    if bf16:
        add("srnet deployed bf16", "y", lambda: DeployedNet(net, device, torch.bfloat16))
    if device.type == "cuda":
        half = DeployedNet(net, device, torch.float16)
        add("srnet deployed fp16", "y", lambda: half)
        add("srnet deployed fp16 CUDA graph", "y", lambda: graphed_phases(half))
    if device.type == "cpu" and keep("srnet onnxruntime"):
        fn, note = onnxruntime_y(net, folder, torch.get_num_threads())
        add("srnet onnxruntime", "y_np", lambda: fn)
        notes += [note] if note else []
    add("srnet deployed RGB->RGB", "rgb", lambda: lambda rgb: fast.upscale_rgb(
        rgb_tensor(rgb, device), as_uint8=True)[0].cpu().numpy())
    add("srnet reference RGB->RGB", "rgb", lambda: lambda rgb: super_resolve(
        plain, rgb_tensor(rgb, device)).mul(255).round().byte()[0].permute(1, 2, 0).cpu().numpy())
    add(USER, "rgb", lambda: Upscaler(net, device=device, progress=False).upscale)
    if keep(OPENCV):
        fn, note = opencv_rgb(s, torch.get_num_threads())
        add(OPENCV, "rgb", lambda: fn)
        notes += [note] if note else []
    if device.type == "cpu":
        fns, note = exported or exported_rgb(net, folder, torch.get_num_threads(), keep)
        for name, fn in fns.items():
            add(name, "rgb", lambda fn=fn: fn)
        notes += note
        for peer in (p for p in PEERS if keep(f"{p} eager")):
            fn = tiny_sr(peer, s)[0]
            add(f"{peer} eager", "rgb", lambda fn=fn: fn)
            notes += [] if fn else [f"{peer} skipped: ../shared/peers/tiny-sr not there"]
    add("torch bicubic", "rgb_t", lambda: lambda x: upscale(x, s, "bicubic"))
    return out, notes


def rgb_tensor(rgb: np.ndarray, device: torch.device) -> torch.Tensor:
    """uint8 (H, W, 3) -> float (1, 3, H, W) in [0, 1] on ``device``."""
    return torch.from_numpy(rgb).to(device).permute(2, 0, 1)[None].float().div_(255)


def _sync(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize(device)


@torch.no_grad()  # not inference_mode: srnet.nets caches index tensors made on first use
def run(device: str = "cpu", scales=(2, 3, 4), sizes=None, repeats: int = 7,
        threads: int | None = None, ckpt: str | None = None, bf16: bool | None = None,
        only: list[str] | None = None) -> dict:
    """Time every method; returns ``{"machine": ..., "rows": [...], "notes": [...]}``.

    Args:
        device: ``cpu`` or ``cuda``.
        scales: SR factors.
        sizes: LR (H, W) pairs; default 256x256, 640x360 and 1920x1080.
        repeats: timed calls per method (after one warm-up call).
        threads: CPU threads for torch, OpenCV and onnxruntime (default: all cores).
        ckpt: a checkpoint to time instead of the bundled / random weights.
        bf16: include ``srnet deployed bf16`` (default: on CUDA or with native CPU bf16).
        only: the methods whose names contain one of these words (default: all).
    """
    dev = torch.device(device)
    torch.set_num_threads(threads or os.cpu_count() or 1)
    sizes = sizes or (GPU_SIZES if dev.type == "cuda" else CPU_SIZES)
    bf16 = (dev.type == "cuda" or cpu_has_native_bf16()) if bf16 is None else bf16
    rows, notes = [], []
    load_before = os.getloadavg()
    nets = {s: load_nets(s, ckpt) for s in scales}  # scale -> (net, source)
    with tempfile.TemporaryDirectory() as tmp:
        exported = exports({s: net for s, (net, _) in nets.items()}, dev, Path(tmp), only)
        for s, (net, source) in nets.items():
            table, extra = methods(net, dev, bf16, Path(tmp), only, exported.get(s))
            notes += [n for n in extra if n not in notes]
            for h, w in sizes:
                rows += _time_size(table, test_image(h, w), s, dev, repeats, source)
    return {"machine": machine_info(dev), "threads": torch.get_num_threads(),
            "load_average_before": load_before, "load_average_after": os.getloadavg(),
            "repeats": repeats, "rows": rows, "notes": notes}


def keeper(only: list[str] | None) -> Callable[[str], bool]:
    """Whether a method name contains one of the words of ``only`` (all names without it)."""
    return lambda name: not only or any(w.lower() in name.lower() for w in only)


def exports(nets: dict[int, FSRCNN], dev: torch.device, folder: Path,
            only: list[str] | None) -> dict[int, tuple[dict, list]]:
    """The RGB export's runners per scale (CPU), all made before any OpenCV ``DnnSuperResImpl``:
    the first one in a process puts its own ``DepthToSpace`` layer over OpenCV's, and a
    ``cv2.dnn`` net read after that computes the export's pixel shuffle wrongly
    (docs/export.md)."""
    if dev.type != "cpu":
        return {}
    threads = torch.get_num_threads()
    return {s: exported_rgb(net, folder, threads, keeper(only)) for s, net in nets.items()}


def _time_size(table: dict, rgb: np.ndarray, s: int, dev: torch.device, repeats: int,
               source: str) -> list[dict]:
    h, w = rgb.shape[:2]
    x = rgb_tensor(rgb, dev)  # (1, 3, H, W)
    inputs = {"y": rgb_to_y(x), "rgb": rgb, "rgb_t": x}
    inputs["y_np"] = inputs["y"].cpu().numpy()
    times = {name: [] for name in table}
    for _ in range(repeats + 1):  # round-robin; the first round is the warm-up (first calls)
        for name, (kind, fn) in table.items():
            _sync(dev)
            t = time.perf_counter()
            fn(inputs[kind])
            _sync(dev)
            times[name].append(time.perf_counter() - t)
    out_mp = s * s * h * w / 1e6
    return [{"scale": s, "lr": f"{w}x{h}", "method": name, "weights": source,
             "ms_first": 1e3 * t[0], "ms_median": 1e3 * statistics.median(t[1:]),
             "ms_min": 1e3 * min(t[1:]), "mp_per_s": out_mp / min(t[1:]),
             "mp_per_s_median": out_mp / statistics.median(t[1:])}
            for name, t in times.items()]


def machine_info(dev: torch.device) -> str:
    if dev.type == "cuda":
        return f"{torch.cuda.get_device_name(dev)}, torch {torch.__version__}"
    return (f"{cpu_name()}, {os.cpu_count()} cores, {torch.backends.cpu.get_cpu_capability()}, "
            f"native bf16: {cpu_has_native_bf16()}, torch {torch.__version__}")
