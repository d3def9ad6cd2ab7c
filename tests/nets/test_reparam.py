"""The deploy-time rewrites of srnet.nets.reparam are exact (to float rounding)."""

from __future__ import annotations

import pytest
import torch
from torch import nn

from srnet.nets.fsrcnn import FSRCNN
from srnet.nets.reparam import PhaseConvTail, deconv_to_conv, pack_columns, reparameterize
from srnet.nets.tails import deconv_padding, default_kernel

SIZES = [(1, 1), (7, 5), (17, 23), (4, 32)]


def _deconv(kernel: int, stride: int, c_in: int = 6, c_out: int = 1) -> nn.ConvTranspose2d:
    pad, out_pad = deconv_padding(kernel, stride)
    return nn.ConvTranspose2d(c_in, c_out, kernel, stride, pad, out_pad)


@pytest.mark.parametrize("scale", [2, 3, 4])
@pytest.mark.parametrize("size", SIZES)
def test_rewrite_matches_deconv_fsrcnn_kernels(scale: int, size: tuple[int, int]) -> None:
    torch.manual_seed(scale)
    deconv = _deconv(default_kernel(scale), scale, c_in=56)
    x = torch.randn(2, 56, *size)  # (N, C, H, W), odd sizes included
    with torch.no_grad():
        ref, out = deconv(x), deconv_to_conv(deconv)(x)
    assert out.shape == ref.shape == (2, 1, scale * size[0], scale * size[1])
    torch.testing.assert_close(out, ref, atol=1e-5, rtol=0)


@pytest.mark.parametrize("kernel,stride", [(2, 2), (4, 2), (5, 2), (6, 3), (7, 3), (12, 3),
                                           (3, 4), (16, 4), (1, 1), (3, 1)])
def test_rewrite_any_kernel(kernel: int, stride: int) -> None:
    """Kernels that are not multiples of the stride (zero-padded) and output_padding > 0."""
    torch.manual_seed(kernel)
    deconv = _deconv(kernel, stride, c_out=3).double()
    x = torch.randn(1, 6, 9, 11, dtype=torch.float64)
    with torch.no_grad():
        torch.testing.assert_close(deconv_to_conv(deconv)(x), deconv(x), atol=1e-10, rtol=0)


def test_rewrite_with_crop() -> None:
    """k=9, s=3, padding 4, output_padding 2: the phases need more zeros on one side -> crop."""
    deconv = nn.ConvTranspose2d(4, 2, 9, 3, padding=4, output_padding=2).double()
    tail = deconv_to_conv(deconv)
    assert tail.crop != (0, 0)
    x = torch.randn(1, 4, 6, 7, dtype=torch.float64)
    with torch.no_grad():
        torch.testing.assert_close(tail(x), deconv(x), atol=1e-10, rtol=0)


def test_rewrite_refuses_unsupported() -> None:
    with pytest.raises(ValueError, match="kernel \\+ output_padding - 2\\*padding == stride"):
        deconv_to_conv(nn.ConvTranspose2d(4, 1, 8, 2, padding=1))
    with pytest.raises(ValueError, match="groups and dilation"):
        deconv_to_conv(nn.ConvTranspose2d(4, 2, 4, 2, padding=1, groups=2))


@pytest.mark.parametrize("scale,color", [(2, "y"), (3, "rgb"), (4, "y")])
def test_reparameterize_fsrcnn(scale: int, color: str) -> None:
    torch.manual_seed(0)
    net = FSRCNN(scale=scale, color_mode=color, d=16, s=8, m=2).eval()
    x = torch.rand(1, net.cfg.channels, 13, 19)
    with torch.no_grad():
        ref = net(x)
        fast = reparameterize(net)
        assert isinstance(fast.tail, PhaseConvTail)
        assert not any(isinstance(m, nn.ConvTranspose2d) for m in fast.modules())
        torch.testing.assert_close(fast(x), ref, atol=1e-5, rtol=0)


def test_rewrite_conv_sizes() -> None:
    """FSRCNN's tails become 5x5 (x2) and 3x3 (x3, x4) convs: no zero taps beyond the union."""
    shapes = {s: deconv_to_conv(_deconv(default_kernel(s), s, 56)).conv.weight.shape
              for s in (2, 3, 4)}
    assert shapes == {2: (4, 56, 5, 5), 3: (9, 56, 3, 3), 4: (16, 56, 3, 3)}


@pytest.mark.parametrize("kernel,group", [(5, 2), (3, 2), (3, 4), (1, 2), (5, 4)])
def test_pack_columns(kernel: int, group: int) -> None:
    torch.manual_seed(group)
    conv = nn.Conv2d(5, 3, kernel, padding=kernel // 2).double()
    n, h, w = 2, 7, 4 * group
    x = torch.randn(n, 5, h, w, dtype=torch.float64).contiguous(memory_format=torch.channels_last)
    packed = pack_columns(conv, group)
    xp = x.permute(0, 2, 3, 1).reshape(n, h, w // group, group * 5).permute(0, 3, 1, 2)
    y = packed(xp).permute(0, 2, 3, 1).reshape(n, h, w, 3).permute(0, 3, 1, 2)
    torch.testing.assert_close(y, conv(x), atol=1e-10, rtol=0)
