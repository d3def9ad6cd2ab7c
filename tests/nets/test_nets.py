"""FSRCNN shapes, the kernel-divisibility rule and the configuration errors."""

import pytest
import torch

from srnet.nets.fsrcnn import FSRCNN, FSRCNNConfig, build_net
from srnet.nets.tails import (
    TAILS,
    CheckerboardError,
    DeconvTail,
    PixelShuffleTail,
    deconv_padding,
    overlap_kernel,
    phase_normalise,
)


@pytest.mark.parametrize("scale", [2, 3, 4])
@pytest.mark.parametrize("size", [(1, 1), (1, 7), (5, 3), (17, 10)])
@pytest.mark.parametrize("color_mode", ["y", "rgb"])
def test_output_is_exactly_scale_times_input(scale, size, color_mode):
    net = FSRCNN(scale=scale, color_mode=color_mode, d=8, s=4, m=1)
    c = 1 if color_mode == "y" else 3
    out = net(torch.rand(2, c, *size))
    assert out.shape == (2, c, scale * size[0], scale * size[1])


@pytest.mark.parametrize("tail", TAILS)
@pytest.mark.parametrize("scale", [2, 3, 4])
def test_every_tail_gives_exact_size(tail, scale):
    net = FSRCNN(scale=scale, d=8, s=4, m=1, tail=tail)
    assert net(torch.rand(1, 1, 9, 6)).shape == (1, 1, 9 * scale, 6 * scale)


def test_default_kernels_are_multiples_of_the_scale():
    for scale, k in {2: 8, 3: 9, 4: 12}.items():
        assert FSRCNNConfig(scale=scale).tail_kernel == k


@pytest.mark.parametrize("kernel,scale", [(9, 2), (3, 2), (8, 3), (10, 4)])
def test_indivisible_kernel_is_refused_with_explanation(kernel, scale):
    with pytest.raises(CheckerboardError, match="checkerboard") as err:
        FSRCNN(scale=scale, tail_kernel=kernel)
    assert "model.net.tail_kernel" in str(err.value) and "allow_checkerboard" in str(err.value)


def test_indivisible_kernel_allowed_when_asked():
    net = FSRCNN(scale=2, tail_kernel=9, allow_checkerboard=True, d=8, s=4, m=1)
    assert net(torch.rand(1, 1, 5, 7)).shape == (1, 1, 10, 14)


@pytest.mark.parametrize("k", range(1, 14))
@pytest.mark.parametrize("s", [2, 3, 4])
def test_padding_formula_gives_exact_size(k, s):
    pad, out_pad = deconv_padding(k, s)
    assert 0 <= out_pad < s
    assert (4 - 1) * s - 2 * pad + k + out_pad == 4 * s


def test_smooth_init_upsamples_flat_input_flat():
    tail = DeconvTail(6, 1, 3, 9)
    out = tail(torch.ones(1, 6, 8, 8))[..., 6:-6, 6:-6]  # away from the zero-padded border
    assert out.std() < 1e-5
    g = overlap_kernel(8, 2)
    for ry in range(2):
        for rx in range(2):
            assert torch.isclose(g[ry::2, rx::2].sum(), torch.tensor(1.0))


@pytest.mark.parametrize("kernel,scale", [(7, 3), (9, 2), (3, 2), (8, 2), (9, 3), (5, 4)])
def test_smooth_init_is_flat_for_any_kernel_at_least_the_stride(kernel, scale):
    g = overlap_kernel(kernel, scale)
    sums = torch.stack([g[i::scale, j::scale].sum() for i in range(scale) for j in range(scale)])
    torch.testing.assert_close(sums, torch.ones_like(sums), rtol=0, atol=1e-6)
    torch.manual_seed(0)
    tail = DeconvTail(6, 1, scale, kernel, allow_checkerboard=True)  # init="smooth"
    out = tail(torch.ones(1, 6, 12, 12))[..., 3 * scale : -3 * scale, 3 * scale : -3 * scale]
    assert out.std() < 1e-5
    paper = DeconvTail(6, 1, scale, kernel, allow_checkerboard=True, init="gaussian")
    out = paper(torch.ones(1, 6, 12, 12))[..., 3 * scale : -3 * scale, 3 * scale : -3 * scale]
    assert out.std() > 1e-4 or kernel % scale == 0  # uneven + random: periodic from step 0


def test_smooth_init_refuses_kernels_below_the_stride():
    with pytest.raises(ValueError, match="tail_init=gaussian"):
        DeconvTail(4, 1, 3, 2, allow_checkerboard=True)
    assert DeconvTail(4, 1, 3, 2, allow_checkerboard=True, init="gaussian").kernel == 2
    with pytest.raises(ValueError, match="phase 1"):
        phase_normalise(torch.tensor([1.0, 0.0, 1.0, 0.0]), 2)


@pytest.mark.parametrize("scale", [2, 3, 4])
def test_icnr_init_starts_every_phase_equal(scale):
    torch.manual_seed(0)
    icnr = PixelShuffleTail(6, 2, scale, init="icnr")
    w, b = icnr[0].weight, icnr[0].bias  # (2 * s*s, 6, 3, 3): channel c * s*s + phase
    n = scale * scale
    for c in range(2):
        assert torch.equal(w[c * n : (c + 1) * n], w[c * n].expand(n, -1, -1, -1))
        assert torch.equal(b[c * n : (c + 1) * n], b[c * n].expand(n))
    x = torch.rand(1, 6, 7, 9)
    # equal phases: the output is a convolution's output upsampled by nearest neighbour
    y = icnr(x)
    torch.testing.assert_close(y, torch.nn.functional.interpolate(y[..., ::scale, ::scale],
                                                                  scale_factor=scale))
    plain = PixelShuffleTail(6, 2, scale, init="plain")
    flat = plain(torch.ones(1, 6, 8, 8))[..., scale:-scale, scale:-scale]
    assert flat.std() > 1e-3  # the plain init's phases differ: a checkerboard at step 0
    assert FSRCNN(scale=scale, d=8, s=4, m=1, tail="pixelshuffle", tail_init="icnr").tail[0] \
        .weight.shape == (n, 8, 3, 3)


@pytest.mark.parametrize("tail,init", [("deconv", "icnr"), ("pixelshuffle", "gaussian"),
                                       ("resize_conv", "icnr"), ("deconv", "magic")])
def test_inapplicable_tail_init_names_the_key(tail, init):
    with pytest.raises(ValueError, match="model.net.tail_init"):
        FSRCNN(scale=2, d=8, s=4, m=1, tail=tail, tail_init=init)


@pytest.mark.parametrize("bad,match", [({"scale": 5}, "scale=5"), ({"color_mode": "lab"}, "color_mode"),
                                       ({"tail": "magic"}, "model.net.tail"), ({"d": 0}, "model.net.d")])
def test_bad_config_names_the_key(bad, match):
    with pytest.raises(ValueError, match=match):
        build_net(bad)


def test_unknown_key_is_named():
    with pytest.raises(ValueError, match="unknown keys.*depth"):
        build_net({"depth": 3})


def test_parameter_count_matches_the_paper():
    # FSRCNN(56, 12, 4) at x3: about 12.5k weights (the paper's ~12k) plus biases and PReLU slopes.
    n = sum(p.numel() for p in FSRCNN(scale=3).parameters())
    assert 12_000 < n < 14_000
