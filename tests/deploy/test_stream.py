"""srnet.deploy.stream: integer images streamed through the banded engine give what
``upscale_into`` gives in ``banded`` mode (RGB, grey, alpha, 8 and 16 bit, x2/x3/x4, y and rgb
networks, with and without the skip, batches, widths that need the narrow engine bands), and the
Upscaler streams large images."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from srnet.deploy import stream
from srnet.deploy.engine import deploy
from srnet.deploy.rgb import upscale_into
from srnet.infer.upscaler import Upscaler
from srnet.nets.fsrcnn import FSRCNN


def _net(scale: int, **kw) -> FSRCNN:
    torch.manual_seed(scale + len(kw))
    net = FSRCNN(scale=scale, **kw).eval()
    with torch.no_grad():  # outputs around mid-grey: few values clamped, rounding exercised
        for p in net.tail.parameters():
            p.mul_(0.3)
    return net


def _both(net: FSRCNN, x: torch.Tensor, colours: int, levels: int) -> tuple:
    fast = deploy(net)
    n, h, w, c = x.shape
    dtype = torch.uint8 if levels == 255 else torch.int32
    s = net.cfg.scale
    got = stream.stream_into(fast, x, levels, colours, torch.empty(n, s * h, s * w, c, dtype=dtype))
    lr = x.permute(0, 3, 1, 2).float() / levels
    alpha = lr[:, colours:] if c > colours else None
    want = upscale_into(fast, lr[:, :colours], torch.empty_like(got), alpha, mode="banded")
    return got.long(), want.long()


@pytest.mark.parametrize("scale", [2, 3, 4])
@pytest.mark.parametrize("kind", ["rgb", "grey", "rgba", "grey_alpha"])
def test_stream_equals_banded(scale: int, kind: str, monkeypatch) -> None:
    monkeypatch.setattr(stream, "WIDE", 0)  # 8-row engine bands: many bands
    monkeypatch.setattr(stream, "ROW_PIXELS", 8 * 37)
    colours = 1 if kind.startswith("grey") else 3
    c = colours + ("a" in kind)
    x = torch.randint(0, 256, (1, 61, 37, c), dtype=torch.uint8)
    got, want = _both(_net(scale, skip="bicubic"), x, colours, 255)
    assert (got - want).abs().max() <= 1 and (got != want).float().mean() < 1e-3


@pytest.mark.parametrize("kw", [{"color_mode": "rgb"}, {"skip": "bicubic", "color_mode": "rgb"},
                                {"tail": "pixelshuffle"}])
def test_stream_other_networks_16_bit_and_batches(kw: dict) -> None:
    x = torch.randint(0, 65536, (2, 45, 30, 3), dtype=torch.int32)
    got, want = _both(_net(2, **kw), x, 3, 65535)
    assert (got - want).abs().max() <= 1


def test_upscaler_streams_large_images_with_the_same_pixels(monkeypatch) -> None:
    up = Upscaler(_net(2), device="cpu", tile=0)
    img = np.random.default_rng(0).integers(0, 256, (700, 400, 3), dtype=np.uint8)
    assert up.streams(700 * 400)
    calls = []
    real = stream.stream_into
    monkeypatch.setattr("srnet.infer.upscaler.stream_into",
                        lambda *a: (calls.append(1), real(*a))[1])
    got = up.upscale(img).astype(int)
    up.runner.execution = "plain"  # the whole-image path, for reference
    assert not up.streams(700 * 400)
    want = up.upscale(img).astype(int)
    assert calls == [1] and np.abs(got - want).max() <= 1
