"""``srnet.ops.scoring.score``: the one scorer behind validation, evaluation and infer.py."""

from __future__ import annotations

import pytest
import torch

from srnet.ops.color import rgb_to_y
from srnet.ops.metrics import psnr, ssim
from srnet.ops.resize import BASELINES, bicubic_down, upscale
from srnet.ops.scoring import score


@pytest.fixture
def pair() -> tuple[torch.Tensor, torch.Tensor]:
    g = torch.Generator().manual_seed(0)
    hr = torch.rand(2, 3, 36, 36, generator=g)  # (N, 3, s*h, s*w)
    return bicubic_down(hr, 3), hr


def test_rows_are_the_protocol_per_image(pair) -> None:
    lr, hr = pair
    sr = hr.clamp(0, 1) * 0.9 + 0.05  # (N, 3, 36, 36) some "model" output
    got = score(sr, lr, hr, 3)
    assert list(got) == ["model", *BASELINES]
    torch.testing.assert_close(got["model"]["psnr"], psnr(sr, hr, 3))
    torch.testing.assert_close(got["model"]["ssim"], ssim(sr, hr, 3))
    for m in BASELINES:
        up = upscale(lr, 3, m)
        torch.testing.assert_close(got[m]["psnr"], psnr(up, hr, 3))
        assert got[m]["psnr"].shape == (2,) and got[m]["psnr"].dtype == torch.float64


def test_a_luma_model_scores_like_its_rgb_twin(pair) -> None:
    lr, hr = pair
    rgb = upscale(lr, 3, "bicubic")  # (N, 3, 36, 36)
    y = rgb_to_y(rgb)  # (N, 1, 36, 36): what a y-mode network returns
    a, b = score(y, lr, hr, 3, methods=())["model"], score(rgb, lr, hr, 3, methods=())["model"]
    torch.testing.assert_close(a["psnr"], b["psnr"], atol=0.05, rtol=0)  # 8-bit rounding of Y


def test_baselines_alone(pair) -> None:
    lr, hr = pair
    assert list(score(None, lr, hr, 3, methods=("bicubic",))) == ["bicubic"]
