"""Checkerboard analysis: overlap maps, the checkerboard score, and the figures."""

from __future__ import annotations

import pytest
import torch

from srnet.analysis.checkerboard import (
    baseline_checkerboard,
    checkerboard_score,
    net_checkerboard,
    overlap_figure,
    overlap_map,
    pattern_figure,
    phase_means,
)
from srnet.nets import FSRCNN


@pytest.mark.parametrize("k, s", [(8, 2), (9, 3), (12, 4)])
def test_overlap_map_uniform_when_kernel_divisible(k, s):
    om = overlap_map(k, s, periods=3)
    assert om.shape == (3 * s, 3 * s)
    assert (om == (k // s) ** 2).all()


@pytest.mark.parametrize("k, s, values",
                         [(9, 2, {16, 20, 25}), (3, 2, {1, 2, 4}), (7, 3, {4, 6, 9})])
def test_overlap_map_periodic_otherwise(k, s, values):
    om = overlap_map(k, s, periods=3)
    assert set(om.unique().tolist()) == values
    block = om[:s, :s]
    assert torch.equal(om, block.repeat(3, 3))  # periodic with the stride
    assert int(block.sum()) == k * k  # every tap lands once per s x s block


def test_phase_means():
    img = torch.zeros(1, 1, 6, 6)
    img[..., ::3, ::3] = 9.0
    pm = phase_means(img, 3)
    assert pm[0, 0] == 9 and float(pm.sum()) == 9


def _net(k: int, init: str = "smooth", seed: int = 0) -> FSRCNN:
    torch.manual_seed(seed)
    return FSRCNN(scale=3, d=16, s=8, m=1, tail_kernel=k, tail_init=init,
                  allow_checkerboard=k % 3 != 0)


@pytest.mark.parametrize("seed", [0, 1])
def test_score_uneven_deconv_far_above_smooth_init(seed):
    good = net_checkerboard(_net(9, seed=seed))  # k % s == 0, flat in -> flat out
    bad = net_checkerboard(_net(7, seed=seed))  # k % s != 0, untrained
    assert good.flat < 1e-3  # float rounding only, in 8-bit levels
    assert bad.flat > 0.05
    assert bad.flat > 100 * max(good.flat, 1e-6)
    assert bad.pattern.shape == (3, 3)


def test_score_of_baselines():
    assert baseline_checkerboard("bicubic", 3).score == 0.0  # the reference
    assert baseline_checkerboard("bilinear", 3).score < 1e-3  # linear ramps stay linear
    near = baseline_checkerboard("nearest", 3)
    assert near.flat < 1e-3 and near.smooth > 0.3  # its staircase on the ramp


def test_score_sees_an_injected_checkerboard():
    def bumpy(x):
        out = torch.nn.functional.interpolate(x, scale_factor=2, mode="bicubic", antialias=True)
        out[..., ::2, ::2] += 2 / 255  # +2 levels on one phase of four
        return out

    r = checkerboard_score(bumpy, 2, margin=3)
    # pattern [1.5, -0.5, -0.5, -0.5] levels -> RMS sqrt(0.75)
    assert r.flat == pytest.approx(0.75**0.5, rel=0.01)
    assert float(r.pattern[0, 0]) == pytest.approx(1.5, rel=0.01)


def test_figures_render(tmp_path):
    fig = overlap_figure([(9, 3), (9, 2)])
    fig.save(tmp_path / "overlap.png")
    assert fig.width > 200 and fig.height > 100
    pat = pattern_figure(net_checkerboard(_net(7)), "deconv k=7")
    assert pat.width >= 3 * 56 and pat.height >= 3 * 56
