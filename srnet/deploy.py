"""Deploy-time inference module: the fastest exact way to run a trained FSRCNN.

``deploy(net, device, precision)`` returns a module mapping network-space (N, C, H, W) in [0, 1] to
(N, C, sH, sW), equal to ``net`` to float rounding in ``fp32``. What it does (each choice measured
on the 2-core CPU, see the README's Speed section and ``python scripts/benchmark.py part=infer``):

* the ``ConvTranspose2d`` tail becomes conv + pixel shuffle (:mod:`srnet.nets.reparam`), and its
  few output channels are widened to fill the vector units: x2's 4 phases by stacking 2 columns
  into channels (a free view in channels_last), x3's 9 by zero channels up to 16;
* on CPU, the image runs in bands of rows through all layers (a wavefront; no recomputation
  except the 1x1 expanding layer's halo rows), so activations stay in cache and no 50 MB
  buffer is allocated and page-faulted per layer;
* convolutions go to oneDNN with pre-packed weights and channels_last activations (the 5x5
  first layer with its single input channel is 6x faster than ``F.conv2d``'s default there);
* ``precision``: ``fp32`` (exact), ``bf16`` (CPU with native bf16, or CUDA), ``fp16`` (CUDA).
  ``auto`` is fp32 on CPUs without native bf16 (bf16 measured 10x slower on this AVX2 CPU)
  and fp16 on CUDA. int8 was measured and is not offered (see the README).

:meth:`DeployedNet.upscale_rgb` adds the colour path of ``y`` models (see :mod:`srnet.fast_rgb`).

Run ``python -m srnet.deploy`` to check exactness and time one 640x360 frame per scale.
"""

from __future__ import annotations

import copy
import logging

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from srnet.nets.reparam import PhaseConvTail, pack_columns, reparameterize
from srnet.nets.tails import DeconvTail, PixelShuffleTail

log = logging.getLogger(__name__)
PRECISIONS = ("auto", "fp32", "bf16", "fp16")
BAND_ROWS = 32  # LR rows per band on CPU
CL = torch.channels_last


def cpu_has_native_bf16() -> bool:
    """True when oneDNN has native bf16 kernels on this CPU (AVX-512 BF16 or AMX)."""
    try:
        return bool(torch.ops.mkldnn._is_mkldnn_bf16_supported())
    except (AttributeError, RuntimeError):
        return False


def _mkldnn_conv_ok() -> bool:
    return torch.backends.mkldnn.is_available() and hasattr(torch.ops.mkldnn,
                                                            "_convolution_pointwise")


class _Conv:
    """One convolution (+ optional PReLU) on channels_last CPU tensors, weights pre-packed."""

    def __init__(self, conv: nn.Conv2d, prelu: nn.PReLU | None, group: int = 1) -> None:
        self.group = group
        conv = pack_columns(conv, group)
        self.weight = conv.weight.detach().float().contiguous(memory_format=CL)
        self.bias = None if conv.bias is None else conv.bias.detach().float()
        self.pad = (conv.padding[0], conv.padding[1])
        self.prelu = None if prelu is None else prelu.weight.detach().float()
        self.packed = None
        if _mkldnn_conv_ok():
            shape = [1, self.weight.shape[1], 64, 256]
            self.packed = torch._C._nn.mkldnn_reorder_conv2d_weight(
                self.weight.to_mkldnn(), list(self.pad), [1, 1], [1, 1], 1, shape)

    def __call__(self, x: Tensor, pad_h: int) -> Tensor:
        """x (1, C, rows, W) channels_last -> (1, C', rows + 2*pad_h - kh + 1, W)."""
        n, c, h, w = x.shape
        g = self.group
        if g > 1:  # (1, C, h, W) -> (1, g*C, h, W/g): the same memory
            x = x.permute(0, 2, 3, 1).reshape(n, h, w // g, g * c).permute(0, 3, 1, 2)
        pad = [pad_h, self.pad[1]]
        if self.packed is not None:
            y = torch.ops.mkldnn._convolution_pointwise(x, self.packed, self.bias, pad, [1, 1],
                                                        [1, 1], 1, "none", [None], "")
        else:
            y = F.conv2d(x.contiguous(memory_format=CL), self.weight, self.bias, padding=pad)
        if g > 1:  # back to (1, C'/g, rows, W)
            y = y.permute(0, 2, 3, 1).reshape(n, y.shape[2], w, -1).permute(0, 3, 1, 2)
        return y if self.prelu is None else F.prelu(y, self.prelu)


class _Stage:
    """1x1 layers applied to the band as read, one k x k conv with row padding, 1x1 layers after."""

    def __init__(self, pre: list[_Conv], conv: _Conv, post: list[_Conv]) -> None:
        self.pre, self.conv, self.post = pre, conv, post
        self.reach = conv.pad[0]  # rows of context needed on each side

    def __call__(self, x: Tensor, pad_h: int) -> Tensor:
        for layer in self.pre:
            x = layer(x, 0)
        x = self.conv(x, pad_h)
        for layer in self.post:
            x = layer(x, 0)
        return x


def _pairs(seq: nn.Sequential) -> list[tuple[nn.Conv2d, nn.PReLU | None]]:
    mods, out = list(seq), []
    for i, m in enumerate(mods):
        if isinstance(m, nn.Conv2d):
            nxt = mods[i + 1] if i + 1 < len(mods) else None
            out.append((m, nxt if isinstance(nxt, nn.PReLU) else None))
        elif not isinstance(m, nn.PReLU):
            raise ValueError(f"deploy: unsupported layer {type(m).__name__} in the body")
    return out


def _widen_tail(conv: nn.Conv2d, width_ok: bool) -> tuple[nn.Conv2d, int]:
    """(conv, column group): few-output tails get 2 packed columns or zero output channels."""
    oc = conv.out_channels
    if oc % 8 == 0:
        return conv, 1
    if (2 * oc) % 8 == 0 and width_ok:
        return conv, 2
    wide = nn.Conv2d(conv.in_channels, -(-oc // 8) * 8, conv.kernel_size, padding=conv.padding)
    with torch.no_grad():
        wide.weight.zero_()
        wide.bias.zero_()
        wide.weight[:oc] = conv.weight
        if conv.bias is not None:
            wide.bias[:oc] = conv.bias
    return wide, 1


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
        self.device, self.dtype, self.band_rows = device, dtype, band_rows
        fast = copy.deepcopy(net).eval().float()
        reparameterize(fast)
        if not isinstance(fast.tail, (PhaseConvTail, PixelShuffleTail)):
            raise ValueError(f"deploy: tail {type(fast.tail).__name__} has no fast form; "
                             f"supported: {DeconvTail.__name__}, {PixelShuffleTail.__name__}")
        self.net = fast.to(device=device, dtype=dtype, memory_format=CL)  # the simple path
        crop = fast.tail.crop if isinstance(fast.tail, PhaseConvTail) else (0, 0)
        self.banded = device.type == "cpu" and dtype == torch.float32 and crop == (0, 0)
        if self.banded:
            self._build_stages(fast)

    def _build_stages(self, net: nn.Module) -> None:
        tail = net.tail.conv if isinstance(net.tail, PhaseConvTail) else net.tail[0]
        stages, pending = [], []
        for conv, prelu in _pairs(net.body):
            if conv.kernel_size == (1, 1) and stages and conv.out_channels <= conv.in_channels:
                stages[-1].post.append(_Conv(conv, prelu))
            elif conv.kernel_size == (1, 1):
                pending.append(_Conv(conv, prelu))
            else:
                stages.append(_Stage(pending, _Conv(conv, prelu), []))
                pending = []
        wide, self.tail_group = _widen_tail(tail, True)
        self.tail_packed = _Stage(pending, _Conv(wide, None, self.tail_group), [])
        self.tail_plain = self.tail_packed  # for widths that are not a multiple of the group
        if self.tail_group > 1:
            self.tail_plain = _Stage(pending, _Conv(_widen_tail(tail, False)[0], None), [])
        self.stages = stages

    @torch.no_grad()
    def forward_phases(self, x: Tensor) -> Tensor:
        """(N, C, H, W) -> tail output (N, K, H, W), K >= s*s*C (extra channels are zero)."""
        if not self.banded:
            t, (h, w) = self.net.tail, x.shape[-2:]
            y = self.net.body(x.to(self.device, self.dtype).contiguous(memory_format=CL))
            if isinstance(t, PixelShuffleTail):
                return t[0](y)
            return t.conv(y)[..., t.crop[0]:t.crop[0] + h, t.crop[1]:t.crop[1] + w]
        x = x.to(self.device, torch.float32).contiguous(memory_format=CL)
        return torch.cat([self._bands(x[i:i + 1]) for i in range(x.shape[0])])

    def _bands(self, x: Tensor) -> Tensor:
        """One image (1, C, H, W), band by band through every stage (see the module docstring)."""
        h, w = x.shape[-2:]
        tail = self.tail_packed if w % self.tail_group == 0 else self.tail_plain
        stages = [*self.stages, tail]
        pads = [st.reach for st in stages]
        ahead = [sum(pads[i + 1:]) for i in range(len(stages))]  # rows stage i runs ahead
        done, held, start, outs = [0] * len(stages), [x] * len(stages), [0] * len(stages), []
        step = 0
        while done[-1] < h:
            step += 1
            for i, st in enumerate(stages):
                target = min(h, step * self.band_rows + ahead[i])
                if target <= done[i]:
                    continue
                p = pads[i]
                src, s0 = (x, 0) if i == 0 else (held[i - 1], start[i - 1])
                a, b = max(done[i] - p, 0), min(target + p, h)  # input rows read
                pad_h = max(p - (done[i] - a), target + p - b)  # zero rows past the image
                y = st(src[:, :, a - s0:b - s0], pad_h)
                first = done[i] - (a - pad_h + p)  # row of y holding output row done[i]
                y = y[:, :, first:first + target - done[i]]
                if i == len(stages) - 1:
                    outs.append(y)
                else:  # keep what the next stage still needs, then the new rows
                    keep = max(done[i + 1] - pads[i + 1], 0)
                    if done[i] > keep:
                        y = torch.cat([held[i][:, :, keep - start[i]:done[i] - start[i]], y], 2)
                    held[i], start[i] = y, min(keep, done[i])
                done[i] = target
        return torch.cat(outs, 2) if len(outs) > 1 else outs[0]

    def forward(self, x: Tensor) -> Tensor:
        """(N, C, H, W) -> (N, C, sH, sW) float32, like the original network."""
        k = self.scale * self.scale * self.channels
        return F.pixel_shuffle(self.forward_phases(x)[:, :k], self.scale).float()

    def upscale_rgb(self, lr_rgb: Tensor, as_uint8: bool = False) -> Tensor:
        """RGB (N, 3, H, W) in [0, 1] -> SR RGB; see :func:`srnet.fast_rgb.upscale_rgb`."""
        from srnet.fast_rgb import upscale_rgb

        return upscale_rgb(self, lr_rgb, as_uint8)


def resolve_precision(precision: str, device: torch.device) -> torch.dtype:
    """The dtype for ``precision`` on ``device`` (``auto``: fp16 on CUDA, else fp32 or bf16)."""
    if precision not in PRECISIONS:
        raise ValueError(f"precision={precision!r}: choose one of {PRECISIONS}")
    if precision == "auto":
        return torch.float16 if device.type == "cuda" else torch.float32
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
