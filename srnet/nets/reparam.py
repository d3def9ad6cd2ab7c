"""Exact deploy-time rewrite of a transposed convolution as convolution + pixel shuffle.

:func:`deconv_to_conv` bakes the sub-pixel form of :mod:`srnet.nets.subpixel` (where the
re-indexing is derived) into a fixed ``Conv2d`` + ``PixelShuffle``; :func:`pack_columns` packs
adjacent columns into channels for few-output convolutions; :func:`reparameterize` rewrites every
deconv tail of a network in place.

Run ``python -m srnet.nets.reparam`` to check the rewrite of every scale on random data.
"""

from __future__ import annotations

import math

import torch
from torch import Tensor, nn

from srnet.nets.subpixel import check_family, phase_weight
from srnet.nets.tails import DeconvTail


class PhaseConvTail(nn.Module):
    """``Conv2d`` to s*s*C channels at LR resolution, crop if needed, then ``PixelShuffle(s)``.

    ``crop`` is the (row, column) offset of the wanted H x W window in the conv output, which is
    larger than H x W when the phases need more zeros on one side than on the other.

    Built by :func:`deconv_to_conv`; maps (N, c_in, H, W) -> (N, c_out, s*H, s*W) like the
    ``ConvTranspose2d`` it replaces.
    """

    def __init__(self, conv: nn.Conv2d, scale: int, crop: tuple[int, int]) -> None:
        super().__init__()
        self.conv, self.scale, self.crop = conv, scale, crop
        self.shuffle = nn.PixelShuffle(scale)

    def forward(self, x: Tensor) -> Tensor:
        h, w = x.shape[-2:]
        y = self.conv(x)  # (N, s*s*C, H + extra, W + extra)
        if y.shape[-2:] != (h, w):
            y = y[..., self.crop[0]: self.crop[0] + h, self.crop[1]: self.crop[1] + w]
        return self.shuffle(y)  # (N, C, s*H, s*W)


@torch.no_grad()
def deconv_to_conv(deconv: nn.ConvTranspose2d) -> PhaseConvTail:
    """The exact conv + pixel-shuffle equivalent of a stride-s ``ConvTranspose2d``.

    Supports equal strides on both axes, no groups, no dilation, and the padding that maps H to s*H
    (``kernel + output_padding - 2*padding == stride``, as :func:`deconv_padding` makes); any kernel
    size: one that is not a multiple of the stride is zero-padded to one. The weight is re-indexed
    by :func:`srnet.nets.subpixel.phase_weight`, the same map the training forward uses.

    Raises:
        ValueError: for a transposed convolution outside that family, naming the attribute.
    """
    if deconv.groups != 1 or deconv.dilation != (1, 1):
        raise ValueError("deconv_to_conv: groups and dilation must be 1")
    if deconv.padding_mode != "zeros":
        raise ValueError(f"deconv_to_conv: padding_mode={deconv.padding_mode!r}, need 'zeros'")
    s = check_family(deconv.stride, deconv.kernel_size, deconv.padding, deconv.output_padding)
    w, pads, crop = phase_weight(deconv.weight.detach(), s, deconv.padding)
    conv = nn.Conv2d(w.shape[1], w.shape[0], tuple(w.shape[2:]), padding=pads,
                     bias=deconv.bias is not None).to(device=w.device, dtype=w.dtype)
    conv.weight.copy_(w)
    if deconv.bias is not None:
        conv.bias.copy_(deconv.bias.detach().repeat_interleave(s * s))  # channel c*s*s + phase
    return PhaseConvTail(conv, s, crop)


@torch.no_grad()
def pack_columns(conv: nn.Conv2d, group: int) -> nn.Conv2d:
    """The same stride-1 convolution applied to an input whose ``group`` adjacent columns are stacked
    into channels (width W -> W/group, channels C -> group*C, column-major within the group).

    In channels_last memory a (N, H, W, C) tensor *is* a (N, H, W/group, group*C) tensor, so this
    packing costs nothing at run time; the output comes packed the same way and is a free view of
    the unpacked output. It trades a few more multiply-adds for ``group`` times more output
    channels, which keeps the vector units full when a layer has few outputs (x2's tail has 4).

    Returns a conv with ``group*C_out`` outputs, ``group*C_in`` inputs and kernel width
    ``2*ceil(pw / group) + 1``; the caller crops nothing (padding is symmetric).
    """
    if conv.stride != (1, 1) or conv.dilation != (1, 1) or conv.groups != 1:
        raise ValueError("pack_columns: needs a stride-1, dilation-1, groups-1 convolution")
    if group == 1:
        return conv
    w = conv.weight.detach()  # (c_out, c_in, kh, kw)
    c_out, c_in, kh, kw = w.shape
    pw = conv.padding[1]
    if kw != 2 * pw + 1:
        raise ValueError(f"pack_columns: kernel width {kw} needs padding {kw // 2}, got {pw}")
    reach = math.ceil(pw / group)  # packed columns needed on each side
    new = torch.zeros(group, c_out, group, c_in, kh, 2 * reach + 1, dtype=w.dtype, device=w.device)
    for u in range(group):  # output column within the group
        for v in range(group):  # input column within the group
            for t in range(-reach, reach + 1):  # packed column offset
                d = group * t + v - u  # offset in original columns
                if -pw <= d <= pw:
                    new[u, :, v, :, :, t + reach] = w[:, :, :, d + pw]
    out = nn.Conv2d(group * c_in, group * c_out, (kh, 2 * reach + 1),
                    padding=(conv.padding[0], reach), bias=conv.bias is not None)
    out = out.to(device=w.device, dtype=w.dtype)
    out.weight.copy_(new.reshape(group * c_out, group * c_in, kh, 2 * reach + 1))
    if conv.bias is not None:
        out.bias.copy_(conv.bias.detach().repeat(group))
    return out


def reparameterize(net: nn.Module) -> nn.Module:
    """Replace every :class:`DeconvTail` in ``net`` (in place) by its :class:`PhaseConvTail`.

    Returns ``net``. Other modules are untouched; a net without a deconv tail is returned as is.
    """
    for name, child in list(net.named_children()):
        if isinstance(child, DeconvTail):
            setattr(net, name, deconv_to_conv(child.deconv))
        elif isinstance(child, nn.ConvTranspose2d) and child.stride[0] > 1:
            setattr(net, name, deconv_to_conv(child))
        else:
            reparameterize(child)
    return net


def _self_check() -> None:
    from srnet.nets.tails import deconv_padding, default_kernel

    torch.manual_seed(0)
    for s in (2, 3, 4):
        k = default_kernel(s)
        pad, out_pad = deconv_padding(k, s)
        deconv = nn.ConvTranspose2d(56, 1, k, s, pad, out_pad).double()
        x = torch.randn(1, 56, 17, 23, dtype=torch.float64)  # (N, C, H, W), odd sizes
        err = (deconv_to_conv(deconv)(x) - deconv(x)).abs().max().item()
        conv = deconv_to_conv(deconv).conv
        print(f"x{s}: kernel {k} -> conv {tuple(conv.weight.shape)}, max |diff| {err:.2e}")


if __name__ == "__main__":
    _self_check()
