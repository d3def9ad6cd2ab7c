"""FSRCNN shapes, the kernel-divisibility rule and the configuration errors."""

import pytest
import torch

from srnet.nets import FSRCNN, CheckerboardError, FSRCNNConfig, build_net, deconv_padding
from srnet.nets.tails import TAILS, DeconvTail, overlap_kernel


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
