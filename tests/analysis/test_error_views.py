"""The error views: phase means of SR - HR, the error spectrum with its peaks, on a network."""

from __future__ import annotations

import pytest
import torch
from helpers import smooth_image

from srnet.analysis.error_views import (
    error_phase_means,
    error_spectrum,
    error_views,
    peak_bins,
    peak_ratio,
    phase_means_figure,
    spectrum_figure,
    spectrum_tile,
)
from srnet.nets.fsrcnn import FSRCNN
from srnet.ops.color import rgb_to_y
from srnet.ops.resize import bicubic_down, upscale


def board(h: int, w: int, scale: int, amp: float) -> torch.Tensor:
    """(1, 1, h, w) pattern in [0, 1] units: +amp levels on phase (0, 0), -amp on phase (1, 1)."""
    p = torch.zeros(scale, scale, dtype=torch.float64)
    p[0, 0], p[1, 1] = amp, -amp
    return (p / 255).repeat(h // scale, w // scale)[None, None]


def rgb_pairs(scale: int, n: int = 2) -> list[tuple[torch.Tensor, torch.Tensor]]:
    out = []
    for i in range(n):
        hr = torch.from_numpy(smooth_image(96, 108, seed=i)).permute(2, 0, 1)[None].float() / 255
        out.append((bicubic_down(hr, scale), hr))
    return out


@pytest.mark.parametrize("scale", [2, 3])
def test_phase_means_show_an_injected_pattern(scale):
    errs = [torch.zeros(1, 1, 60, 72, dtype=torch.float64) + 1 / 255 + board(60, 72, scale, 2.0)]
    pm = error_phase_means(errs, scale, border=scale)
    expect = torch.full((scale, scale), 1.0, dtype=torch.float64)
    expect[0, 0], expect[1, 1] = 3.0, -1.0
    torch.testing.assert_close(pm, expect)


@pytest.mark.parametrize("scale", [2, 3, 4])
def test_peaks_sit_on_multiples_of_one_over_s(scale):
    t = spectrum_tile(scale, [200])
    assert t % scale == 0 and abs(t - 64) < scale
    bins = peak_bins(scale, t)
    assert len(bins) == scale * scale - 1 and (t // 2, t // 2) not in bins
    # a pure period-s pattern puts its power on exactly those bins (plus the Hann main lobe)
    spec = error_spectrum([board(2 * t, 2 * t, scale, 3.0)], scale)
    assert spec.shape == (t, t)
    top = set(map(tuple, (spec > 0.05 * spec.max()).nonzero().tolist()))
    near = {((r + dr) % t, (q + dq) % t) for r, q in bins for dr in (-1, 0, 1) for dq in (-1, 0, 1)}
    assert top and top <= near


def test_spectrum_bins_sum_to_the_mean_square():
    torch.manual_seed(0)
    e = torch.randn(1, 1, 128, 128, dtype=torch.float64) / 255  # white noise, 1 level RMS
    spec = error_spectrum([e], 2)
    assert float(spec.sum()) == pytest.approx(1.0, rel=0.1)
    assert peak_ratio(spec, 2) == pytest.approx(1.0, abs=0.6)  # nothing periodic in noise


@pytest.mark.parametrize("scale", [2, 3])
def test_peak_ratio_separates_pattern_from_content(scale):
    errs = []
    for lr, hr in rgb_pairs(scale):
        errs.append(rgb_to_y(upscale(lr, scale, "bicubic")) - rgb_to_y(hr))
    clean = peak_ratio(error_spectrum(errs, scale, scale), scale)
    bumpy = [e + board(*e.shape[-2:], scale, 2.0) for e in errs]
    assert peak_ratio(error_spectrum(bumpy, scale, scale), scale) > 5 * clean


def test_error_views_of_a_network_and_figures():
    torch.manual_seed(0)
    pairs = rgb_pairs(3)
    flat = FSRCNN(scale=3, d=8, s=4, m=1).eval()  # smooth init: no pattern
    bumpy = FSRCNN(scale=3, d=8, s=4, m=1, tail_kernel=7, allow_checkerboard=True,
                   tail_init="gaussian").eval()
    with torch.no_grad():
        bumpy.tail.deconv.weight.normal_(0, 0.05)  # a strong uneven-overlap pattern
    v0, v1 = error_views(flat, pairs, 3), error_views(bumpy, pairs, 3)
    assert v0.images == 2 and v0.phase_means.shape == (3, 3) and v0.spectrum.shape == (66, 66)
    assert v1.real.amplitude > 10 * v0.real.amplitude
    assert v1.peak_ratio > v0.peak_ratio
    pm, sp = phase_means_figure(v1.phase_means), spectrum_figure(v1.spectrum, 3)
    assert pm.width >= 3 * 48 and sp.width >= 66 * 3
    with pytest.raises(ValueError, match="at least one"):
        error_views(flat, [], 3)
