"""oneDNN convolutions with pre-packed weights, behind a feature check, and their public fallback.

The CPU fast path calls three private PyTorch APIs: ``torch._C._nn.mkldnn_reorder_conv2d_weight``
(pack a weight once), ``torch.ops.mkldnn._convolution_pointwise`` (convolution, optionally with a
fused ReLU) and its in-place ``_convolution_pointwise_.binary`` form (``out += conv(x)``). Any
release may rename, re-sign or drop them, so :class:`FastConv` uses them only when

* they are not switched off: :func:`set_private_ops` (``False``), or the environment variable
  ``SRNET_PUBLIC_OPS=1`` read when a network is deployed; and
* a probe on first use (:func:`private_ops_available`) passes: it runs each of them on a small input and compares the result with
  ``F.conv2d``. Any exception or difference means "not available".

Otherwise every convolution runs as ``F.conv2d`` on the same weights (public API, same result to
float rounding); nothing here can fail at import time. Tests run the suite both ways.
"""

from __future__ import annotations

import functools
import logging
import os

import torch
import torch.nn.functional as F
from torch import Tensor

log = logging.getLogger(__name__)
ENV = "SRNET_PUBLIC_OPS"
CL = torch.channels_last
_forced: dict[str, bool | None] = {"private": None}


def set_private_ops(enabled: bool | None) -> None:
    """``False``: public ``F.conv2d`` only; ``True``: the private ops where the probe passes,
    whatever ``SRNET_PUBLIC_OPS`` says; ``None``: back to automatic. Affects what is deployed
    (or called) after this."""
    _forced["private"] = enabled


def private_ops_enabled() -> bool:
    """Whether :class:`FastConv` built now uses the private oneDNN ops (switch, then probe)."""
    forced = _forced["private"]
    if forced is False or (forced is None and os.environ.get(ENV, "") not in ("", "0")):
        return False
    return private_ops_available()


def _pack(w: Tensor, pad: tuple[int, int]) -> Tensor:
    return torch._C._nn.mkldnn_reorder_conv2d_weight(
        w.contiguous(memory_format=CL).to_mkldnn(), list(pad), [1, 1], [1, 1], 1,
        [1, w.shape[1], 64, 256])


def _conv(x: Tensor, packed: Tensor, bias: Tensor | None, pad: list[int], relu: bool) -> Tensor:
    return torch.ops.mkldnn._convolution_pointwise(x, packed, bias, pad, [1, 1], [1, 1], 1,
                                                   "relu" if relu else "none", [], "")


def _conv_add(out: Tensor, x: Tensor, packed: Tensor, bias: Tensor | None, pad: list[int]) -> Tensor:
    return torch.ops.mkldnn._convolution_pointwise_.binary(
        out, x, packed, bias, pad, [1, 1], [1, 1], 1, "add", 1.0, None, [], None)


@functools.lru_cache(maxsize=1)
def private_ops_available() -> bool:
    """Whether the private ops exist and work here: each runs once on a small input against
    ``F.conv2d`` (cached; ``private_ops_available.cache_clear()`` probes again)."""
    try:
        if not torch.backends.mkldnn.is_available():
            return False
        g = torch.Generator().manual_seed(0)
        x = torch.rand(1, 5, 6, 7, generator=g).contiguous(memory_format=CL)
        w = torch.rand(8, 5, 3, 3, generator=g).contiguous(memory_format=CL) - 0.5
        b = torch.rand(8, generator=g)
        ref = F.conv2d(x, w, b, padding=1)
        packed = _pack(w, (1, 1))
        ok = torch.allclose(_conv(x, packed, b, [1, 1], True), ref.relu(), atol=1e-5)
        ok &= torch.allclose(_conv(x, packed, None, [1, 1], False), ref - b.view(1, -1, 1, 1),
                             atol=1e-5)
        out = torch.rand(1, 8, 6, 7, generator=g).contiguous(memory_format=CL)
        want = out + ref
        _conv_add(out, x, packed, b, [1, 1])
        ok &= torch.allclose(out, want, atol=1e-5)
    except Exception as e:  # renamed, re-signed or removed in this PyTorch: use the fallback
        log.info("oneDNN private convolution ops unavailable (%s: %s); using F.conv2d",
                 type(e).__name__, e)
        return False
    if not ok:
        log.warning("oneDNN private convolution ops give wrong results here; using F.conv2d")
    return bool(ok)


class FastConv:
    """A stride-1 convolution of channels_last float32 CPU tensors: oneDNN with a pre-packed
    weight where :func:`private_ops_enabled`, else ``F.conv2d``.

    Args:
        weight: (C_out, C_in, kh, kw); bias: (C_out,) or None; pad: (rows, columns) of zeros.
        private: use the private ops (default: :func:`private_ops_enabled` now).
    """

    def __init__(self, weight: Tensor, bias: Tensor | None, pad: tuple[int, int],
                 private: bool | None = None) -> None:
        self.weight = weight.detach().float().contiguous(memory_format=CL)
        self.bias = None if bias is None else bias.detach().float().contiguous()
        self.pad = (int(pad[0]), int(pad[1]))
        use = private_ops_enabled() if private is None else private
        on_cpu = self.weight.device.type == "cpu"
        self.packed = _pack(self.weight, self.pad) if use and on_cpu else None

    def __call__(self, x: Tensor, pad_h: int | None = None, relu: bool = False) -> Tensor:
        """conv(x) (+ ReLU), with ``pad_h`` zero rows (default: the weight's padding)."""
        pad = [self.pad[0] if pad_h is None else pad_h, self.pad[1]]
        if self.packed is not None:
            return _conv(x, self.packed, self.bias, pad, relu)
        y = F.conv2d(x.contiguous(memory_format=CL), self.weight, self.bias, padding=pad)
        return F.relu(y) if relu else y

    def add_into(self, out: Tensor, x: Tensor, pad_h: int | None = None) -> Tensor:
        """``out += conv(x)`` in place (same shapes as :meth:`__call__`); returns ``out``."""
        pad = [self.pad[0] if pad_h is None else pad_h, self.pad[1]]
        if self.packed is not None:
            return _conv_add(out, x, self.packed, self.bias, pad)
        return out.add_(F.conv2d(x.contiguous(memory_format=CL), self.weight, self.bias,
                                 padding=pad))
