"""Checkerboard analysis: overlap maps, the score and its validation, the figures.

The score's claim (``srnet.analysis.checkerboard``): the RMS, in 8-bit grey levels, of the period-s
pattern of an image. Validated here on injected patterns of known amplitude (recovered within 10%)
and on pattern-free bicubic output (< 0.01 levels), for the synthetic probes and for real images
(generated ones always, Set5 / Set14 when the shared data is there)."""

from __future__ import annotations

import pytest
import torch
from helpers import smooth_image

from srnet.analysis.checkerboard import (
    amplitude,
    baseline_checkerboard,
    checkerboard_score,
    image_checkerboard,
    net_checkerboard,
    overlap_figure,
    overlap_map,
    pattern_figure,
    periodic_pattern,
    phase_means,
)
from srnet.data.datasets import ValImages
from srnet.data.sources import PairedBenchmark
from srnet.nets.fsrcnn import FSRCNN
from srnet.ops.color import rgb_to_y
from srnet.ops.resize import bicubic_down, upscale


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
    torch.testing.assert_close(phase_means(img, 3, "hann"), pm.double())  # per-phase normalised


def pattern(scale: int, amp: float, seed: int = 0) -> torch.Tensor:
    """A random zero-mean (s, s) pattern of RMS ``amp`` grey levels."""
    p = torch.randn(scale, scale, generator=torch.Generator().manual_seed(seed),
                    dtype=torch.float64)
    p -= p.mean()
    return p * amp / p.pow(2).mean().sqrt()


def inject(img: torch.Tensor, p: torch.Tensor) -> torch.Tensor:
    """``img`` (..., H, W) in [0, 1] plus the grey-level pattern ``p`` tiled from pixel (0, 0)."""
    s = p.shape[0]
    h, w = img.shape[-2:]
    return img.double() + (p / 255).repeat(-(-h // s), -(-w // s))[:h, :w]


@pytest.mark.parametrize("scale", [2, 3, 4])
@pytest.mark.parametrize("amp", [0.1, 1.0, 5.0])
def test_probe_score_recovers_an_injected_amplitude(scale, amp):
    p = pattern(scale, amp, seed=scale)
    r = checkerboard_score(lambda x: inject(upscale(x, scale, "bicubic"), p), scale, margin=3)
    for v in (r.score, r.flat, r.smooth):
        assert v == pytest.approx(amp, rel=0.1)
    torch.testing.assert_close(r.pattern, p, rtol=0, atol=0.1 * amp)


def test_amplitude_of_familiar_patterns():
    board = torch.tensor([[1.0, -1.0], [-1.0, 1.0]]) * 2  # a +-2 level checkerboard
    assert amplitude(periodic_pattern(inject(torch.full((1, 1, 8, 8), 0.5), board), 2)) == \
        pytest.approx(2.0, rel=1e-6)
    spike = torch.zeros(3, 3)
    spike[0, 0] = 9.0  # one phase of nine raised by 9 levels: 9 * sqrt(8) / 9
    assert amplitude(periodic_pattern(inject(torch.full((1, 1, 9, 9), 0.5), spike), 3)) == \
        pytest.approx(8**0.5, rel=1e-6)


def test_score_of_baselines():
    for s in (2, 3, 4):
        assert baseline_checkerboard("bicubic", s).score < 0.01  # the pattern-free reference: 0
    assert baseline_checkerboard("bilinear", 3).score < 1e-3  # linear ramps stay linear
    near = baseline_checkerboard("nearest", 3)
    assert near.flat < 1e-3 and near.smooth > 0.3  # its staircase on the ramp


def generated_pairs(scale: int, n: int = 3) -> list[tuple[torch.Tensor, torch.Tensor]]:
    """(LR, HR) luma pairs of generated 96x120 images, LR by srnet's degradation."""
    out = []
    for i in range(n):
        hr = torch.from_numpy(smooth_image(96, 120, seed=i)).permute(2, 0, 1)[None].float() / 255
        hr = rgb_to_y(hr)[..., : 96 - 96 % scale, : 120 - 120 % scale]
        out.append((bicubic_down(hr, scale), hr))
    return out


def check_real_images(pairs, scale: int) -> None:
    bicubic = [upscale(lr, scale, "bicubic") for lr, _ in pairs]
    clean = image_checkerboard(bicubic, scale, border=scale)
    assert clean.amplitude < 0.01 and max(clean.per_image) < 0.01
    for amp in (0.25, 1.0, 4.0):
        p = pattern(scale, amp, seed=7)
        r = image_checkerboard([inject(b, p) for b in bicubic], scale, border=scale)
        assert r.amplitude == pytest.approx(amp, rel=0.1)
        assert all(v == pytest.approx(amp, rel=0.1) for v in r.per_image)
    # why the Hann weights: unweighted phase means of the same clean output leak the image's edges
    plain = max(amplitude(periodic_pattern(b[..., scale:-scale, scale:-scale], scale))
                for b in bicubic)
    assert plain > 10 * max(clean.per_image)


@pytest.mark.parametrize("scale", [2, 3, 4])
def test_image_score_on_generated_images(scale):
    check_real_images(generated_pairs(scale), scale)


@pytest.mark.parametrize("scale", [2, 3])
def test_image_score_on_benchmark_images(shared_data, scale):
    pairs = []
    for name in ("Set5", "Set14"):
        ds = ValImages(PairedBenchmark(shared_data / "benchmark" / name, scale).records(), scale)
        for i in range(len(ds)):
            item = ds[i]
            pairs.append((rgb_to_y(item["lr"][None].float() / 255),
                          rgb_to_y(item["hr"][None].float() / 255)))
    check_real_images(pairs, scale)


def _net(k: int, init: str = "smooth", seed: int = 0) -> FSRCNN:
    torch.manual_seed(seed)
    return FSRCNN(scale=3, d=16, s=8, m=1, tail_kernel=k, tail_init=init,
                  allow_checkerboard=k % 3 != 0)


@pytest.mark.parametrize("seed", [0, 1])
def test_score_uneven_deconv_far_above_smooth_init(seed):
    good = net_checkerboard(_net(9, seed=seed))  # k % s == 0, flat in -> flat out
    bad = net_checkerboard(_net(7, "gaussian", seed=seed))  # k % s != 0, the paper's init
    uneven_smooth = net_checkerboard(_net(7, seed=seed))  # k % s != 0, phase-normalised init
    assert good.flat < 1e-3 and uneven_smooth.flat < 1e-3  # float rounding only, in 8-bit levels
    assert bad.flat > 0.05
    assert bad.flat > 100 * max(good.flat, 1e-6)
    assert bad.pattern.shape == (3, 3)


def test_figures_render(tmp_path):
    fig = overlap_figure([(9, 3), (9, 2)])
    fig.save(tmp_path / "overlap.png")
    assert fig.width > 200 and fig.height > 100
    pat = pattern_figure(net_checkerboard(_net(7, "gaussian")), "deconv k=7")
    assert pat.width >= 3 * 56 and pat.height >= 3 * 56
