"""The SR metric protocol against hand-computed values."""

import math

import pytest
import torch

from srnet.ops.color import rgb_to_y, rgb_to_ycbcr, ycbcr_to_rgb
from srnet.ops.metrics import crop_border, psnr, quantize, ssim
from srnet.ops.resize import bicubic_down, mod_crop, upscale


def test_y_of_white_is_235_and_black_16():
    white, black = torch.ones(1, 3, 2, 2), torch.zeros(1, 3, 2, 2)
    assert torch.allclose(rgb_to_y(white) * 255, torch.full((1, 1, 2, 2), 235.0))
    assert torch.allclose(rgb_to_y(black) * 255, torch.full((1, 1, 2, 2), 16.0))


def test_ycbcr_round_trip():
    x = torch.rand(2, 3, 5, 4, dtype=torch.float64)
    assert torch.allclose(ycbcr_to_rgb(rgb_to_ycbcr(x)), x, atol=1e-12)


def test_identical_images_give_infinite_psnr():
    x = quantize(torch.rand(1, 3, 8, 8))
    assert math.isinf(psnr(x, x).item())


def test_constant_offset_psnr():
    # Grey images that differ by 10/255 in every channel: Y differs by 219/255 * 10 = 8.588 levels.
    a = torch.full((1, 3, 6, 6), 100 / 255)
    b = torch.full((1, 3, 6, 6), 110 / 255)
    dy = 10 * (65.481 + 128.553 + 24.966) / 255
    expected = 10 * math.log10(255**2 / dy**2)
    assert psnr(b, a).item() == pytest.approx(expected, abs=1e-9)


def test_one_channel_inputs_are_treated_as_y():
    a = torch.full((1, 1, 4, 4), 100 / 255)
    b = a + 1 / 255
    assert psnr(b, a).item() == pytest.approx(10 * math.log10(255**2), abs=1e-4)
    rgb = torch.full((1, 3, 4, 4), 100 / 255)  # Y-vs-RGB comparisons reduce the RGB side to Y
    assert psnr(rgb_to_y(rgb), rgb, round_sr=False).item() > 100  # equal up to float32 noise


def test_border_is_cropped_before_scoring():
    hr = torch.full((1, 3, 10, 10), 0.5)
    sr = hr.clone()
    sr[..., :2, :] = 0.0  # damage only the top 2 rows
    assert math.isinf(psnr(sr, hr, border=2).item())
    assert not math.isinf(psnr(sr, hr, border=1).item())
    assert crop_border(hr, 2).shape == (1, 3, 6, 6)


def test_sr_is_rounded_to_8_bit_before_scoring():
    hr8 = torch.full((1, 3, 4, 4), 120 / 255)
    sr = hr8 + 0.2 / 255  # rounds back to the ground truth's 8-bit level
    assert math.isinf(psnr(sr, hr8).item())
    assert not math.isinf(psnr(sr, hr8, round_sr=False).item())
    assert psnr(sr, hr8).dtype == torch.float64


def test_mean_over_images_not_pooled_mse():
    hr = torch.full((2, 3, 4, 4), 120 / 255)
    sr = hr.clone()
    sr[0] += 1 / 255
    sr[1] += 2 / 255
    per_image = psnr(sr, hr)
    assert per_image.shape == (2,)
    assert per_image[0] - per_image[1] == pytest.approx(20 * math.log10(2), abs=1e-6)


def test_ssim_identical_is_one_and_drops_with_noise():
    ramp = torch.linspace(0.2, 0.8, 32)
    x = quantize((ramp[None, :] + ramp[:, None]).div(2).expand(1, 3, 32, 32))
    assert ssim(x, x).item() == pytest.approx(1.0)
    noisy = quantize(x + 0.1 * torch.randn_like(x))
    assert ssim(noisy, x).item() < 0.9


def test_degrade_shapes_and_8_bit_levels():
    hr = torch.rand(1, 3, 12, 18)
    lr = bicubic_down(hr, 3)
    assert lr.shape == (1, 3, 4, 6)
    assert torch.allclose(lr * 255, (lr * 255).round(), atol=1e-4)
    with pytest.raises(ValueError, match="multiple of scale"):
        bicubic_down(torch.rand(1, 3, 13, 18), 3)
    assert mod_crop(torch.rand(1, 3, 13, 20), 3).shape == (1, 3, 12, 18)


def test_nearest_copies_blocks_and_flat_stays_flat():
    lr = torch.tensor([[[[0.0, 1.0]]]])
    assert upscale(lr, 2, "nearest").tolist() == [[[[0, 0, 1, 1], [0, 0, 1, 1]]]]
    flat = torch.full((1, 3, 5, 5), 0.4)
    for m in ("nearest", "bilinear", "bicubic"):
        assert torch.allclose(upscale(flat, 3, m), torch.full((1, 3, 15, 15), 0.4), atol=1e-6)
    with pytest.raises(ValueError, match="unknown upscaling"):
        upscale(flat, 2, "lanczos")
