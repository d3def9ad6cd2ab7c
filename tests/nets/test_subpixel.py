"""The sub-pixel training forward of the deconv tail equals ConvTranspose2d (values, gradients),
the bicubic/nearest skips are the fixed upscalings they claim, and the closed-form tail fit
recovers a known linear tail."""

import pytest
import torch
import torch.nn.functional as F
from torch import nn

from srnet.nets.fsrcnn import build_net
from srnet.nets.skip import FixedUpscale, build_skip
from srnet.nets.tailfit import fit_tail
from srnet.nets.tails import DeconvTail


@pytest.mark.parametrize("scale,kernel", [(2, 8), (3, 9), (4, 12), (3, 7), (2, 3), (2, 9), (4, 6)])
def test_subpixel_forward_equals_conv_transpose(scale, kernel):
    torch.manual_seed(scale * 100 + kernel)
    tail = DeconvTail(6, 2, scale, kernel, allow_checkerboard=True, init="gaussian").double()
    nn.init.normal_(tail.deconv.weight)
    nn.init.normal_(tail.deconv.bias)
    x = torch.randn(2, 6, 7, 11, dtype=torch.float64, requires_grad=True)  # odd sizes
    grads = []
    for subpixel in (True, False):
        tail.subpixel = subpixel
        y = tail(x)
        assert y.shape == (2, 2, scale * 7, scale * 11)
        g = torch.autograd.grad((y * torch.linspace(-1, 1, y.numel()).view_as(y).double()).sum(),
                                [x, tail.deconv.weight, tail.deconv.bias])
        grads.append((y.detach(), *g))
    for a, b in zip(*grads, strict=True):
        torch.testing.assert_close(a, b, rtol=1e-10, atol=1e-10)


def test_subpixel_is_the_default_and_keeps_the_parameter_names():
    net = build_net({"scale": 3})
    assert net.tail.subpixel
    assert "tail.deconv.weight" in net.state_dict()


@pytest.mark.parametrize("scale", [2, 3, 4])
def test_bicubic_skip_is_the_bicubic_baseline_inside_the_border(scale):
    x = torch.rand(2, 1, 20, 23, dtype=torch.float64)
    up = FixedUpscale(scale, 1, "bicubic").double()(x)
    ref = F.interpolate(x, scale_factor=scale, mode="bicubic", antialias=True, align_corners=False)
    b = 3 * scale
    torch.testing.assert_close(up[..., b:-b, b:-b], ref[..., b:-b, b:-b], rtol=0, atol=1e-6)
    flat = torch.full((1, 3, 5, 6), 0.3)
    torch.testing.assert_close(FixedUpscale(scale, 3, "bicubic")(flat),
                               torch.full((1, 3, 5 * scale, 6 * scale), 0.3))


def test_nearest_skip_and_unknown_skip():
    x = torch.rand(1, 3, 4, 5)
    torch.testing.assert_close(build_skip("nearest", 3, 3)(x),
                               F.interpolate(x, scale_factor=3, mode="nearest"))
    assert build_skip("none", 2, 1) is None
    with pytest.raises(ValueError, match="model.net.skip"):
        build_net({"scale": 2, "skip": "lanczos"})


def test_residual_net_starts_close_to_bicubic():
    torch.manual_seed(0)
    net = build_net({"scale": 3, "skip": "bicubic"})
    x = torch.rand(1, 1, 16, 16)
    with torch.no_grad():
        diff = (net(x) - net.skip(x)).abs().max().item()
    assert diff < 0.05  # the tail starts scaled down: the network begins as bicubic


@pytest.mark.parametrize("scale,kernel", [(2, 8), (3, 9), (4, 12), (3, 7)])
def test_closed_form_tail_recovers_a_known_tail(scale, kernel):
    torch.manual_seed(kernel)
    true = DeconvTail(8, 1, scale, kernel, allow_checkerboard=True, init="gaussian")
    nn.init.normal_(true.deconv.weight)
    nn.init.normal_(true.deconv.bias)
    pairs = []
    for _ in range(3):
        f = torch.randn(4, 8, 12, 13)
        pairs.append((f, true(f).detach()))
    est = DeconvTail(8, 1, scale, kernel, allow_checkerboard=True)
    n = fit_tail(est.deconv, pairs, ridge=1e-9)
    assert n == 3 * 4 * 12 * 13
    torch.testing.assert_close(est.deconv.weight, true.deconv.weight, rtol=0, atol=1e-4)
    torch.testing.assert_close(est.deconv.bias, true.deconv.bias, rtol=0, atol=1e-4)


def test_training_works_after_a_first_forward_in_inference_mode():
    from srnet.nets.subpixel import gather_index

    gather_index.cache_clear()
    tail = DeconvTail(4, 1, 3, 9)
    x = torch.randn(1, 4, 5, 6)
    with torch.inference_mode():
        tail(x)
    tail(x).sum().backward()  # the cached index must not be an inference tensor
    assert tail.deconv.weight.grad is not None


@pytest.mark.parametrize("scale,kernel", [(2, 9), (3, 9), (4, 9), (3, 5)])
def test_bed_of_nails_trains_through_the_same_function(scale: int, kernel: int) -> None:
    from srnet.nets.tails import BedOfNailsTail

    torch.manual_seed(scale)
    tail = BedOfNailsTail(6, 2, scale, kernel).double()
    x = torch.randn(2, 6, 7, 5, dtype=torch.float64, requires_grad=True)  # odd sizes
    fast, slow = tail(x), tail.forward_nails(x)
    assert fast.shape == slow.shape == (2, 2, 7 * scale, 5 * scale)
    torch.testing.assert_close(fast, slow, atol=1e-10, rtol=0)
    g = torch.randn_like(fast)
    grads = [torch.autograd.grad((y * g).sum(), [x, tail.conv.weight, tail.conv.bias])
             for y in (tail(x), tail.forward_nails(x))]
    for a, b in zip(*grads, strict=True):
        torch.testing.assert_close(a, b, atol=1e-10, rtol=0)
