"""Upsampling tails: the last layer of FSRCNN, which turns LR features into the HR image.

* ``deconv``       learnable ``ConvTranspose2d`` with stride = scale (FSRCNN's). Its kernel size k
                   must be a multiple of the stride: each output pixel then receives the same number
                   of kernel taps (k / s per axis). Otherwise the overlaps are uneven and the output
                   carries a checkerboard pattern with the period of the stride (Odena et al., 2016).
* ``pixelshuffle`` sub-pixel convolution: a conv producing s*s*C channels, then pixel shuffle.
* ``resize_conv``  nearest-neighbour upsampling, then a convolution.
* ``bed_of_nails`` zero insertion (each pixel at the top-left of its s x s block), then a convolution.

All tails map (N, c_in, H, W) features to (N, c_out, s*H, s*W), for any H, W >= 1.

Initialisations (``model.net.tail_init``, :data:`TAIL_INITS`):

* deconv ``smooth``: per-channel gains times :func:`overlap_kernel`, whose taps sum to 1 in every
  output phase, so a flat input upsamples flat, for any k >= s (k % s != 0 included);
  ``gaussian``: N(0, 0.001), the FSRCNN paper's.
* pixelshuffle ``plain`` (= ``smooth``, PyTorch's default conv init; its s*s phases start
  different, hence a checkerboard at step 0) or ``icnr`` (Aitken et al. 2017, "Checkerboard
  artifact free sub-pixel convolution": one sub-kernel per output channel, copied to all s*s
  phases, so the tail starts as a convolution followed by nearest-neighbour upsampling).
* resize_conv, bed_of_nails: ``plain`` (= ``smooth``), PyTorch's default conv init.
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from srnet.nets.subpixel import check_family, compact_index, subpixel_deconv

DEFAULT_KERNEL = {2: 8, 3: 9, 4: 12}
TAILS = ("deconv", "pixelshuffle", "resize_conv", "bed_of_nails")
TAIL_INITS = {"deconv": ("smooth", "gaussian"), "pixelshuffle": ("smooth", "plain", "icnr"),
              "resize_conv": ("smooth", "plain"), "bed_of_nails": ("smooth", "plain")}


class CheckerboardError(ValueError):
    """A transposed-convolution kernel that is not a multiple of its stride."""


def default_kernel(scale: int) -> int:
    """FSRCNN's tail kernel for a scale: 8 / 9 / 12 for x2 / x3 / x4, else 3 * scale."""
    return DEFAULT_KERNEL.get(scale, 3 * scale)


def deconv_padding(kernel: int, stride: int) -> tuple[int, int]:
    """(padding, output_padding) so ConvTranspose2d maps H -> stride * H exactly.

    Output = (H - 1) * s - 2p + k + op, so we need 2p - op = k - s. When k - s is even the kernel
    is centred on each LR pixel's footprint, (i + 1/2) * s - 1/2 in HR coordinates.
    """
    excess = kernel - stride
    if excess <= 0:
        return 0, -excess
    pad = (excess + 1) // 2
    return pad, 2 * pad - excess


def phase_normalise(taps: Tensor, stride: int) -> Tensor:
    """1-D ``taps`` divided, class by class of index mod ``stride``, by that class's sum: every
    output phase of a stride-``stride`` transposed convolution then receives a total weight of 1."""
    out = taps.clone().double()
    for c in range(stride):
        total = out[c::stride].sum()
        if total == 0:
            raise ValueError(f"taps {taps.tolist()}: phase {c} of stride {stride} has no weight")
        out[c::stride] /= total
    return out.to(taps.dtype)


def overlap_kernel(kernel: int, stride: int) -> Tensor:
    """A separable (k, k) kernel whose taps sum to 1 in every output phase, for any k >= s.

    It is a box of width s convolved with a box of width k - s + 1 (length k): convolving with a
    box of width s gives every residue class mod s the same total, whatever k, so a flat input
    gives a flat output (no checkerboard) even when k % s != 0; :func:`phase_normalise` then makes
    the phase sums exactly 1. Used to initialise the deconvolution (``tail_init=smooth``).
    """
    if kernel < stride:
        raise ValueError(f"a {kernel}x{kernel} kernel with stride {stride} leaves output phases "
                         f"without taps: no flat-in, flat-out init exists; use "
                         f"model.net.tail_init=gaussian")
    a = torch.ones(stride)
    b = torch.ones(kernel - stride + 1)
    g = torch.conv1d(a.view(1, 1, -1), b.flip(0).view(1, 1, -1), padding=kernel - stride)
    g = phase_normalise(g.flatten(), stride)
    return g[:, None] * g[None, :]


def icnr_(conv: nn.Conv2d, scale: int) -> None:
    """ICNR (Aitken et al. 2017) in place: PyTorch's default init for a conv with one output per
    image channel, each kernel and bias copied to the s*s sub-pixel channels of that channel (in
    ``PixelShuffle``'s order, channel c * s*s + phase), so every phase starts identical."""
    n = scale * scale
    c_out = conv.out_channels // n
    w0 = torch.empty(c_out, *conv.weight.shape[1:])
    nn.init.kaiming_uniform_(w0, a=math.sqrt(5))  # nn.Conv2d's default (fan_in is unchanged)
    bound = 1 / math.sqrt(w0[0].numel())
    b0 = torch.empty(c_out).uniform_(-bound, bound)
    with torch.no_grad():
        conv.weight.copy_(w0.repeat_interleave(n, 0))
        conv.bias.copy_(b0.repeat_interleave(n, 0))


class DeconvTail(nn.Module):
    """``ConvTranspose2d`` upsampling by ``scale`` with output exactly ``scale`` x the input size.

    Args:
        c_in: feature channels in.
        c_out: image channels out (1 for Y, 3 for RGB).
        scale: the stride.
        kernel: kernel size; a multiple of ``scale`` unless ``allow_checkerboard``.
        allow_checkerboard: permit k % s != 0 (for demonstrations of the artifact).
        subpixel: compute the forward through the exact sub-pixel form (conv at LR resolution +
            pixel shuffle, :mod:`srnet.nets.subpixel`); the parameters stay the
            ``ConvTranspose2d``'s. Same values and gradients, s*s fewer multiply-adds.
        init: ``"smooth"`` (per-channel gains times :func:`overlap_kernel`, so a flat input upsamples
            flat; any k >= s) or ``"gaussian"`` (N(0, 0.001), the FSRCNN paper's).
    """

    def __init__(self, c_in: int, c_out: int, scale: int, kernel: int | None = None,
                 allow_checkerboard: bool = False, init: str = "smooth",
                 subpixel: bool = True) -> None:
        super().__init__()
        kernel = default_kernel(scale) if kernel is None else int(kernel)
        if kernel < 1:
            raise ValueError(f"model.net.tail_kernel must be >= 1, got {kernel}")
        if kernel % scale and not allow_checkerboard:
            raise CheckerboardError(
                f"model.net.tail_kernel={kernel} is not a multiple of the stride (scale={scale}). "
                f"A transposed convolution places one copy of its k x k kernel every {scale} pixels "
                f"and sums the overlaps; with k % s != 0 some output pixels receive more kernel taps "
                f"than others, which prints a checkerboard pattern of period {scale} on the image. "
                f"Use a multiple of {scale} (default {default_kernel(scale)}), or set "
                f"model.net.allow_checkerboard=true to build it anyway for a demonstration."
            )
        self.scale, self.kernel = scale, kernel
        pad, out_pad = deconv_padding(kernel, scale)
        self.deconv = nn.ConvTranspose2d(c_in, c_out, kernel, stride=scale, padding=pad,
                                         output_padding=out_pad)
        check_family(self.deconv.stride, self.deconv.kernel_size, self.deconv.padding,
                     self.deconv.output_padding)
        self.subpixel = subpixel
        self.plan = compact_index(kernel, kernel, scale, pad, pad)  # the sub-pixel re-indexing
        self.reset_parameters(init)

    @torch.no_grad()
    def reset_parameters(self, init: str = "smooth") -> None:
        w = self.deconv.weight  # (c_in, c_out, k, k)
        if init == "smooth":
            gains = torch.randn(w.shape[0], w.shape[1], 1, 1) * (1.0 / w.shape[0]) ** 0.5
            w.copy_(gains * overlap_kernel(self.kernel, self.scale))
        elif init == "gaussian":
            nn.init.normal_(w, std=1e-3)
        else:
            raise ValueError(f"model.net.tail_init={init!r} for the deconv tail: choose one of "
                             f"{TAIL_INITS['deconv']}")
        nn.init.zeros_(self.deconv.bias)

    def forward(self, x: Tensor) -> Tensor:
        if self.subpixel:  # (N, c_in, H, W) -> (N, c_out, s*H, s*W)
            return subpixel_deconv(x, self.deconv.weight, self.deconv.bias, self.scale,
                                   self.deconv.padding, self.plan)
        return self.deconv(x)


class PixelShuffleTail(nn.Sequential):
    """Sub-pixel convolution: conv to s*s*c_out channels, then ``PixelShuffle(s)``; ``init``
    ``plain`` / ``smooth`` (PyTorch's default) or ``icnr`` (:func:`icnr_`)."""

    def __init__(self, c_in: int, c_out: int, scale: int, kernel: int = 3,
                 init: str = "plain") -> None:
        super().__init__(nn.Conv2d(c_in, c_out * scale * scale, kernel, padding=kernel // 2),
                         nn.PixelShuffle(scale))
        if init == "icnr":
            icnr_(self[0], scale)


class ResizeConvTail(nn.Module):
    """Nearest-neighbour upsampling by ``scale``, then a ``kernel`` x ``kernel`` convolution."""

    def __init__(self, c_in: int, c_out: int, scale: int, kernel: int = 9) -> None:
        super().__init__()
        self.scale = scale
        self.conv = nn.Conv2d(c_in, c_out, kernel, padding=kernel // 2)

    def forward(self, x: Tensor) -> Tensor:
        return self.conv(F.interpolate(x, scale_factor=self.scale, mode="nearest"))


class BedOfNailsTail(nn.Module):
    """Zero insertion (bed of nails) by ``scale``, then a convolution.

    Mathematically a transposed convolution in disguise: kept for the upsampler study. The
    parameters are the HR convolution's; the forward computes the same function at LR resolution
    (a convolution after zero insertion is a transposed convolution with the flipped kernel,
    stride ``scale``, padding ``kernel // 2``: its sub-pixel form), without multiplying zeros.
    """

    def __init__(self, c_in: int, c_out: int, scale: int, kernel: int = 9) -> None:
        super().__init__()
        if kernel % 2 == 0:
            raise ValueError(f"bed of nails: the convolution's kernel must be odd, got {kernel}")
        self.scale = scale
        self.conv = nn.Conv2d(c_in, c_out, kernel, padding=kernel // 2)
        self.plan = compact_index(kernel, kernel, scale, kernel // 2, kernel // 2)

    def forward(self, x: Tensor) -> Tensor:
        w = self.conv.weight.flip(-2, -1).transpose(0, 1)  # (c_in, c_out, k, k) deconv weight
        return subpixel_deconv(x, w, self.conv.bias, self.scale, self.conv.padding, self.plan)

    def forward_nails(self, x: Tensor) -> Tensor:
        """The literal computation: zeros inserted at HR resolution, then the convolution."""
        n, c, h, w = x.shape
        up = x.new_zeros(n, c, h * self.scale, w * self.scale)
        up[..., :: self.scale, :: self.scale] = x  # each value at the top-left of its block
        return self.conv(up)


def build_tail(name: str, c_in: int, c_out: int, scale: int, kernel: int | None = None,
               allow_checkerboard: bool = False, init: str = "smooth") -> nn.Module:
    """Construct a tail by name, initialised by ``init`` (see the module docstring)."""
    if name in TAIL_INITS and init not in TAIL_INITS[name]:
        raise ValueError(f"model.net.tail_init={init!r} does not apply to model.net.tail={name}; "
                         f"choose one of {TAIL_INITS[name]}")
    if name == "deconv":
        return DeconvTail(c_in, c_out, scale, kernel, allow_checkerboard, init)
    if name == "pixelshuffle":
        return PixelShuffleTail(c_in, c_out, scale, kernel or 3, init)
    if name == "resize_conv":
        return ResizeConvTail(c_in, c_out, scale, kernel or 9)
    if name == "bed_of_nails":
        return BedOfNailsTail(c_in, c_out, scale, kernel or 9)
    raise ValueError(f"model.net.tail={name!r} is not known; choose one of {TAILS}")
