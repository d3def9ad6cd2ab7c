"""Deploy-time inference module: the fastest exact way to run a trained FSRCNN.

``deploy(net, device, precision)`` returns a module mapping network-space (N, C, H, W) in [0, 1] to
(N, C, sH, sW), equal to ``net`` to float rounding in ``fp32``. What it does (each choice measured
on the 2-core CPU, see the README's Speed section and ``python scripts/benchmark.py part=infer``):

* the ``ConvTranspose2d`` tail becomes conv + pixel shuffle (:mod:`srnet.nets.reparam`), and its
  few output channels are widened to fill the vector units: x2's 4 phases by stacking 2 columns
  into channels (a free view in channels_last), x3's 9 by zero channels up to 16;
* on CPU in float32, :mod:`srnet.deploy.banded`: all layers run band by band over rows (activations
  stay in cache), oneDNN convolutions with pre-packed weights on channels_last tensors, and the
  first layer's 56-channel PReLU folded into its neighbours (:class:`srnet.deploy.banded.SplitPReLU`);
* with T > 1 threads, an image is cut into T row parts (plus the network's reach as halo) run on
  T threads with one intra-op thread each: measured robust when other processes load the cores,
  where per-op OpenMP barriers stall;
* ``precision``: ``fp32`` (exact), ``bf16`` (CPU with native bf16, or CUDA), ``fp16`` (CUDA).
  ``auto`` is fp32 on CPU (bf16 measured about 10x slower on this AVX2 CPU without native bf16)
  and fp16 on CUDA. Under ``torch.autocast`` the plain layers run, so autocast applies.
  int8 is not offered (see the README's Speed section).

:meth:`DeployedNet.upscale_rgb` adds the colour path of ``y`` models (see :mod:`srnet.deploy.rgb`).

Run ``python -m srnet.deploy.engine`` to check exactness and time one 640x360 frame per scale.
"""

from __future__ import annotations

import copy
import logging
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from srnet.deploy.banded import BandedNet
from srnet.nets.reparam import PhaseConvTail, reparameterize
from srnet.nets.tails import PixelShuffleTail

log = logging.getLogger(__name__)
PRECISIONS = ("auto", "fp32", "bf16", "fp16")
BAND_ROWS = 32  # LR rows per band on CPU
MIN_PART_ROWS = 24  # an image is split into one part per thread when each gets this many rows
CL = torch.channels_last


def cpu_has_native_bf16() -> bool:
    """True when oneDNN has native bf16 kernels on this CPU (AVX-512 BF16 or AMX)."""
    try:
        return bool(torch.ops.mkldnn._is_mkldnn_bf16_supported())
    except (AttributeError, RuntimeError):
        return False


class DeployedNet(nn.Module):
    """A trained FSRCNN rearranged for speed; same outputs. Built by :func:`deploy`.

    ``forward`` maps (N, C, H, W) float32 in [0, 1] to (N, C, sH, sW) float32.
    ``forward_phases`` returns the tail output before pixel shuffle, (N, >= s*s*C, H, W).
    """

    def __init__(self, net: nn.Module, device: torch.device, dtype: torch.dtype,
                 band_rows: int = BAND_ROWS) -> None:
        super().__init__()
        self.cfg, self.scale = net.cfg, net.cfg.scale
        self.channels = 1 if net.cfg.color_mode == "y" else 3
        self.device, self.dtype = device, dtype
        self._pool: ThreadPoolExecutor | None = None
        fast = copy.deepcopy(net).eval().float()
        reparameterize(fast)
        self.net = fast.to(device=device, dtype=dtype, memory_format=CL)  # the simple path
        # Other tails (resize-conv, bed of nails) run as they are, in channels_last.
        self.phase_tail = isinstance(fast.tail, (PhaseConvTail, PixelShuffleTail))
        centred = False
        if self.phase_tail:
            tail = fast.tail.conv if isinstance(fast.tail, PhaseConvTail) else fast.tail[0]
            centred = all(k == 2 * p + 1 for k, p in zip(tail.kernel_size, tail.padding,
                                                         strict=True))
        self.banded = None  # the CPU float32 fast path, see srnet.deploy.banded
        if device.type == "cpu" and dtype == torch.float32 and centred:
            self.banded = BandedNet(fast, band_rows)

    @torch.no_grad()
    def forward_phases(self, x: Tensor) -> Tensor:
        """(N, C, H, W) -> output phases (N, K, H, W), K >= s*s*C (extra channels are zero):
        the tail's, plus the skip's (``model.net.skip``) added before the one pixel shuffle."""
        y = self.tail_phases(x)
        skip = self.net.skip
        if skip is not None:
            k = self.scale * self.scale * self.channels
            y[:, :k] += skip.phases(x.to(y.device, y.dtype).contiguous(memory_format=CL))
        return y

    def tail_phases(self, x: Tensor) -> Tensor:
        """(N, C, H, W) -> the tail's output before pixel shuffle (N, K, H, W)."""
        if self.banded is None or torch.is_autocast_enabled(self.device.type):  # autocast: as asked
            t, (h, w) = self.net.tail, x.shape[-2:]
            y = self.net.body(x.to(self.device, self.dtype).contiguous(memory_format=CL))
            if not self.phase_tail:  # the HR output, rearranged into phases
                return F.pixel_unshuffle(t(y), self.scale)
            if isinstance(t, PixelShuffleTail):
                return t[0](y)
            return t.conv(y)[..., t.crop[0]:t.crop[0] + h, t.crop[1]:t.crop[1] + w]
        x = x.to(self.device, torch.float32).contiguous(memory_format=CL)
        parts = self.map_parts(x.shape[0], x.shape[2], lambda i, r0, r1: self.banded.rows(
            x, i, r0, r1))
        return torch.cat([torch.cat(p, 2) for p in parts])

    def map_parts(self, n: int, h: int, fn: Callable[[int, int, int], Tensor]) -> list[list]:
        """``fn(i, r0, r1)`` over images i < n and row ranges covering [0, h), one per thread.

        With T = ``torch.get_num_threads()`` > 1 the parts run on T threads with one intra-op
        thread each (measured: OpenMP barriers after every small op stall when another process
        holds a core). Returns per image the list of results in row order.
        """
        workers = torch.get_num_threads()
        parts = max(1, min(workers, h // MIN_PART_ROWS))
        bounds = [(h * j // parts, h * (j + 1) // parts) for j in range(parts)]
        jobs = [(i, r0, r1) for i in range(n) for r0, r1 in bounds]
        if workers == 1 or len(jobs) == 1:
            out = [fn(*job) for job in jobs]
        else:
            if self._pool is None:
                self._pool = ThreadPoolExecutor(workers, thread_name_prefix="srnet-deploy")

            inference, grad = torch.is_inference_mode_enabled(), torch.is_grad_enabled()

            def one(job: tuple[int, int, int]) -> Tensor:  # with the caller's autograd modes
                torch.set_num_threads(1)
                with torch.inference_mode(inference), torch.set_grad_enabled(grad):
                    return fn(*job)

            torch.set_num_threads(1)
            try:
                out = list(self._pool.map(one, jobs))
            finally:
                torch.set_num_threads(workers)
        return [out[i * parts:(i + 1) * parts] for i in range(n)]

    def forward(self, x: Tensor) -> Tensor:
        """(N, C, H, W) -> (N, C, sH, sW) float32, like the original network."""
        k = self.scale * self.scale * self.channels
        return F.pixel_shuffle(self.forward_phases(x)[:, :k], self.scale).float()

    def upscale_rgb(self, lr_rgb: Tensor, as_uint8: bool = False) -> Tensor:
        """RGB (N, 3, H, W) in [0, 1] -> SR RGB; see :func:`srnet.deploy.rgb.upscale_rgb`."""
        from srnet.deploy.rgb import upscale_rgb

        return upscale_rgb(self, lr_rgb, as_uint8)


def resolve_precision(precision: str, device: torch.device) -> torch.dtype:
    """The dtype for ``precision`` on ``device`` (``auto``: fp16 on CUDA, fp32 on CPU)."""
    if precision not in PRECISIONS:
        raise ValueError(f"precision={precision!r}: choose one of {PRECISIONS}")
    if precision == "auto":
        return torch.float16 if device.type == "cuda" else torch.float32  # measured fastest
    if precision == "fp16" and device.type != "cuda":
        raise ValueError(f"precision=fp16 needs a CUDA device (device is {device}); use fp32")
    if precision == "bf16" and device.type == "cpu" and not cpu_has_native_bf16():
        log.warning("precision=bf16: this CPU has no native bf16 (AVX-512 BF16/AMX); it runs "
                    "about 10x slower than fp32 here")
    return {"fp32": torch.float32, "bf16": torch.bfloat16, "fp16": torch.float16}[precision]


def deploy(net: nn.Module, device: str | torch.device = "cpu",
           precision: str = "fp32") -> DeployedNet:
    """The fastest inference module for ``net`` on ``device`` (see the module docstring).

    Args:
        net: an FSRCNN (``srnet.nets.FSRCNN``) with a deconv or pixel-shuffle tail. Not modified.
        device: ``cpu``, ``cuda`` or ``cuda:<n>``.
        precision: one of :data:`PRECISIONS`.
    """
    device = torch.device(device)
    return DeployedNet(net, device, resolve_precision(precision, device)).eval()


def _self_check() -> None:
    import time

    from srnet.nets import FSRCNN

    torch.manual_seed(0)
    for s in (2, 3, 4):
        net = FSRCNN(scale=s).eval()
        fast = deploy(net)
        x = torch.rand(1, 1, 360, 640)  # (N, 1, H, W) Y in [0, 1]
        with torch.no_grad():
            err = (fast(x) - net(x)).abs().max().item()
            times = []
            for _ in range(3):
                t = time.perf_counter()
                fast(x)
                times.append(time.perf_counter() - t)
        print(f"x{s}: max |deployed - net| {err:.2e}, {min(times) * 1e3:.0f} ms per 640x360 frame")


if __name__ == "__main__":
    _self_check()
