"""Deploy-time inference module: the fastest exact way to run a trained FSRCNN.

``deploy(net, device, precision)`` returns a module mapping network-space (N, C, H, W) in [0, 1] to
(N, C, sH, sW), equal to ``net`` to float rounding in ``fp32``. What it does (measured on the
2-core CPU: docs/speed.md, ``python scripts/benchmark.py part=infer``):

* the ``ConvTranspose2d`` tail becomes conv + pixel shuffle (:mod:`srnet.nets.reparam`), its few
  output channels widened to fill the vector units (x2: 2 columns stacked into channels, a free
  view in channels_last; x3: zero channels up to 16);
* on CPU in float32, :mod:`srnet.deploy.banded`: all layers band by band over rows (activations
  stay in cache), pre-packed weights on channels_last tensors, the first 56-channel PReLU folded
  into its neighbours. The pre-packed oneDNN calls are private PyTorch APIs, used only behind
  the feature check of :mod:`srnet.deploy.ops` (public ``F.conv2d`` otherwise);
* executions (:data:`MODES`): ``banded`` cuts an image into T row parts (plus the network's reach
  as halo) on T threads with one intra-op thread each (robust when other processes load the
  cores; a batch of a multiple of T images runs whole images per thread); ``banded-intra`` runs
  whole images with every op on T intra-op threads (no halo); ``plain`` is the rewritten network
  on whole images (public ops). :mod:`srnet.deploy.plan` picks one (``DeployedNet.execution``);
* ``precision``: ``fp32`` (exact), ``bf16`` (CPU with native bf16, or CUDA), ``fp16`` (CUDA);
  ``auto``: :mod:`srnet.ops.precision` (fp32 on CPU, bf16 or fp16 on CUDA). Under ``torch.autocast`` the plain layers run.

:meth:`DeployedNet.upscale_rgb` and :func:`srnet.deploy.rgb.upscale_into` add the colour path
(RGB, grey, alpha; uint8 / 16-bit / float output) at LR resolution. On CPU the process's heap
is settled once (:mod:`srnet.deploy.heap`). Exactness is tested in ``tests/deploy``.
"""

from __future__ import annotations

import copy
import logging
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from functools import partial

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from srnet.deploy.banded import BandedNet
from srnet.deploy.heap import settle_heap
from srnet.deploy.ops import FastConv
from srnet.deploy.plan import MAX_PLAIN_PIXELS, MIN_PART_ROWS, Planner, rule, shape_class
from srnet.nets.reparam import PhaseConvTail, reparameterize
from srnet.nets.skip import RADIUS
from srnet.nets.tails import PixelShuffleTail
from srnet.ops.precision import DTYPES, NAMES, cpu_has_native_bf16, resolve

log = logging.getLogger(__name__)
PRECISIONS = NAMES  # srnet.ops.precision: the one vocabulary
BAND_ROWS = 32  # LR rows per band on CPU
# ``banded-intra`` band's widest activation, bytes: d=56 32k LR px, d=16 112k (part=modes)
INTRA_BAND_BYTES = (1 << 15) * 56 * 4
MODES = ("banded", "banded-intra", "plain")  # what DeployedNet.choose picks from
CL = torch.channels_last


class DeployedNet(nn.Module):
    """A trained FSRCNN rearranged for speed; same outputs. Built by :func:`deploy`.

    ``forward`` maps (N, C, H, W) float32 in [0, 1] to (N, C, sH, sW) float32.
    ``forward_phases`` returns the tail output before pixel shuffle, (N, >= s*s*C, H, W).

    Attributes:
        execution: ``auto`` (the rule of :func:`srnet.deploy.plan.rule`, nothing timed),
            ``measure`` (per shape class, the fastest of :data:`MODES` measured once:
            :mod:`srnet.deploy.plan`), or one of them: ``banded`` (row parts on T threads, one
            intra-op thread each), ``banded-intra`` (whole images, each op on T intra-op threads),
            ``plain`` (the rewritten network on whole images).
        planner: the measured choices.
    """

    def __init__(self, net: nn.Module, device: torch.device, dtype: torch.dtype,
                 band_rows: int = BAND_ROWS) -> None:
        super().__init__()
        self.cfg, self.scale = net.cfg, net.cfg.scale
        self.channels = 1 if net.cfg.color_mode == "y" else 3
        self.device, self.dtype = device, dtype
        self.execution, self.planner = "auto", Planner()
        self.heads: dict[tuple, object] = {}  # colour heads by kind (srnet.deploy.rgb)
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
        self.width = max(m.out_channels for m in fast.body.modules()  # for the rule
                         if isinstance(m, nn.Conv2d))
        self.banded = self.skip_conv = None  # the CPU float32 fast path, see srnet.deploy.banded
        if device.type == "cpu" and dtype == torch.float32 and centred:
            self.banded = BandedNet(fast, band_rows)
            if fast.skip is not None and self.channels == 1:  # pre-packed, its add fused
                self.skip_conv = FastConv(fast.skip.weight, None, (0, 0))
        if device.type == "cpu":  # no page faults per call on small images: srnet.deploy.heap
            settle_heap()

    def choose(self, kind: str, x: Tensor, run: Callable[[str], object]) -> str:
        """The execution for input x (N, C, H, W): one of :data:`MODES`, or ``plain`` where
        there is no banded engine; ``run(mode)`` does the whole call (timed by the planner)."""
        if self.banded is None or torch.is_autocast_enabled(self.device.type):
            return "plain"
        n, _, h, w = x.shape
        if self.execution == "auto":  # no timing on the user's images: srnet.deploy.plan.rule
            return rule(n, h, w, torch.get_num_threads(), self.width)
        if self.execution != "measure":
            return self.execution
        if n * h * w > MAX_PLAIN_PIXELS:  # plain holds (N, 56, H, W) activations: not tried
            return "banded"
        modes = MODES if torch.get_num_threads() > 1 else ("banded", "plain")
        key = shape_class(kind, n, h, w)
        return self.planner.choose(key, {m: partial(run, m) for m in modes})

    def intra_rows(self, w: int) -> int:
        """Band rows of ``banded-intra`` (whole images, intra-op threads): the widest activation
        of a band is about :data:`INTRA_BAND_BYTES` (7 MB)."""
        return max(self.banded.band_rows, INTRA_BAND_BYTES // (4 * self.width * max(w, 1)))

    @torch.no_grad()
    def forward_phases(self, x: Tensor, mode: str | None = None) -> Tensor:
        """(N, C, H, W) -> output phases (N, K, H, W), K >= s*s*C (extra channels are zero):
        the tail's, plus the skip's (``model.net.skip``) added before the one pixel shuffle."""
        mode = mode or self.choose("phases", x, partial(self.forward_phases, x))
        if mode == "plain":
            return self.add_skip(self.tail_phases(x), x)
        x = x.to(self.device, torch.float32).contiguous(memory_format=CL)
        rows = self.intra_rows(x.shape[3]) if mode == "banded-intra" else None
        parts = self.map_parts(x.shape[0], x.shape[2], partial(self.phase_rows, x, band_rows=rows),
                               split=mode != "banded-intra")
        return torch.cat([torch.cat(p, 2) for p in parts])

    def add_skip(self, y: Tensor, x: Tensor, pad: tuple[int, int] = (RADIUS, RADIUS)) -> Tensor:
        """y (N, K, h, W) += the skip's phases of x (N, C, h + 4 - sum(pad), W), whose rows are
        edge-replicated by ``pad`` (top, bottom) and columns by 2."""
        skip = self.net.skip
        if skip is None:
            return y
        k = self.scale * self.scale * self.channels
        x = F.pad(x.to(y.device, y.dtype), (RADIUS, RADIUS, *pad), mode="replicate")
        if (self.skip_conv is not None and y.dtype == torch.float32 and y.shape[1] == k
                and y.is_contiguous(memory_format=CL)):  # x2's phases: one call, no temporary
            return self.skip_conv.add_into(y, x)
        y[:, :k] += F.conv2d(x, skip.weight.to(y.dtype), groups=self.channels)
        return y

    def phase_rows(self, x: Tensor, i: int, r0: int, r1: int,
                   band_rows: int | None = None) -> Tensor:
        """Phases of rows [r0, r1) of image ``i`` by the banded engine, (1, K, r1 - r0, W)."""
        y = self.banded.rows(x, i, r0, r1, band_rows)
        if self.net.skip is None:
            return y
        a, b = max(r0 - RADIUS, 0), min(r1 + RADIUS, x.shape[2])
        return self.add_skip(y, x[i:i + 1, :, a:b], (RADIUS - (r0 - a), RADIUS - (b - r1)))

    def stream_rows(self, source: Callable[[int, int], Tensor], h: int, w: int, r0: int,
                    r1: int, sink: Callable[[Tensor, int, int], None],
                    band_rows: int | None = None) -> None:
        """Tail phases of rows [r0, r1) of one image of ``h`` x ``w`` by the banded engine, its
        input rows [a, b) read through ``source(a, b)`` as needed; ``sink(phases, p0, p1)``
        gets each band of phases (1, K, p1 - p0, W), in order, without the skip (see
        :meth:`add_skip`). No whole-image tensor is made."""
        a, b = max(r0 - self.banded.reach, 0), min(r1 + self.banded.reach, h)

        def crop(y: Tensor, r: int) -> None:  # rows [a + r, ...) -> the part of [r0, r1)
            lo, hi = max(a + r, r0), min(a + r + y.shape[2], r1)
            if hi > lo:
                sink(y[:, :, lo - a - r:hi - a - r], lo, hi)

        self.banded.stream(lambda p, q: source(a + p, a + q), b - a, w, crop, band_rows)

    def tail_phases(self, x: Tensor) -> Tensor:
        """(N, C, H, W) -> the plain network's tail output before pixel shuffle (N, K, H, W)."""
        t, (h, w) = self.net.tail, x.shape[-2:]
        y = self.net.body(x.to(self.device, self.dtype).contiguous(memory_format=CL))
        if not self.phase_tail:  # the HR output, rearranged into phases
            return F.pixel_unshuffle(t(y), self.scale)
        if isinstance(t, PixelShuffleTail):
            return t[0](y)
        return t.conv(y)[..., t.crop[0]:t.crop[0] + h, t.crop[1]:t.crop[1] + w]

    def map_parts(self, n: int, h: int, fn: Callable[[int, int, int], Tensor],
                  split: bool = True) -> list[list]:
        """``fn(i, r0, r1)`` over images i < n and row ranges covering [0, h), on T threads
        (``split=False``: whole images in this thread, each op on the intra-op threads).

        With T = ``torch.get_num_threads()`` > 1 the jobs run on T threads with one intra-op
        thread each (measured: OpenMP barriers after every small op stall when another process
        holds a core). A batch of a multiple of T images runs whole images per job; otherwise
        each image is cut into up to T row parts. On a GPU: one job per image, in this thread.
        Returns per image the results in row order.
        """
        workers = torch.get_num_threads() if self.device.type == "cpu" and split else 1
        parts = 1 if n % workers == 0 else max(1, min(workers, h // MIN_PART_ROWS))
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
    """The dtype for ``precision`` on ``device`` (names and ``auto``: :mod:`srnet.ops.precision`)."""
    name = resolve(precision, device)
    if name == "bf16" and device.type == "cpu" and not cpu_has_native_bf16():
        log.warning("precision=bf16: this CPU has no native bf16 (AVX-512 BF16/AMX); it runs "
                    "about 10x slower than fp32 here")
    return DTYPES[name]


def deploy(net: nn.Module, device: str | torch.device = "cpu",
           precision: str = "fp32") -> DeployedNet:
    """The fastest inference module for ``net`` on ``device`` (see the module docstring).

    Args:
        net: an FSRCNN (``srnet.nets.fsrcnn.FSRCNN``) with a deconv or pixel-shuffle tail. Not modified.
        device: ``cpu``, ``cuda`` or ``cuda:<n>``.
        precision: one of :data:`PRECISIONS`.
    """
    device = torch.device(device)
    return DeployedNet(net, device, resolve_precision(precision, device)).eval()
