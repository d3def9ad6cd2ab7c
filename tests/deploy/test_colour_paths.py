"""srnet.deploy.rgb.upscale_into and srnet.deploy.plan: every execution (banded, plain, measured
choice) and every kind of call (RGB, grey, alpha, 16-bit, float, batches, skips) equals the
reference network + colour merge (1 level on integers, 1e-5 in float)."""

from __future__ import annotations

import pytest
import torch

from srnet.deploy.engine import MODES, deploy
from srnet.deploy.plan import Planner, rule, shape_class
from srnet.deploy.rgb import upscale_into
from srnet.nets.fsrcnn import FSRCNN
from srnet.ops.reference import super_resolve
from srnet.ops.resize import upscale


def _net(scale: int, **kw) -> FSRCNN:
    torch.manual_seed(scale + len(kw))
    net = FSRCNN(scale=scale, **kw).eval()
    with torch.no_grad():  # outputs around mid-grey: few values clamped, rounding exercised
        for p in net.tail.parameters():
            p.mul_(0.3)
    return net


def _out(x: torch.Tensor, s: int, dtype: torch.dtype, extra: int = 0) -> torch.Tensor:
    n, c, h, w = x.shape
    if dtype == torch.float32:
        return torch.empty(n, c, s * h, s * w)
    return torch.empty(n, s * h, s * w, c + extra, dtype=dtype)


def _levels(ref: torch.Tensor, top: int) -> torch.Tensor:
    """Float (N, C, H, W) in [0, 1] -> rounded (N, H, W, C) integers, as the reference rounds."""
    return ref.clamp(0, 1).mul(top).round().permute(0, 2, 3, 1)


def _reference(net: FSRCNN, lr: torch.Tensor) -> torch.Tensor:
    """super_resolve on RGB; grey (C = 1) as R = G = B, the mean of the three channels out."""
    if lr.shape[1] == 1:
        return super_resolve(net, lr.expand(-1, 3, -1, -1)).mean(1, keepdim=True)
    return super_resolve(net, lr)


@pytest.mark.parametrize("scale", [2, 3, 4])
@pytest.mark.parametrize("mode", [*MODES, None])
def test_every_execution_equals_reference(scale: int, mode: str | None) -> None:
    net = _net(scale)
    fast = deploy(net)
    lr = torch.rand(2, 3, 29, 26)
    ref = _reference(net, lr)
    got = upscale_into(fast, lr, _out(lr, scale, torch.float32), mode=mode)
    torch.testing.assert_close(got, ref, atol=1e-5, rtol=0)
    u8 = upscale_into(fast, lr, _out(lr, scale, torch.uint8), mode=mode)
    assert (u8.int() - got.mul(255).round().permute(0, 2, 3, 1).int()).abs().max() <= 1


@pytest.mark.parametrize("color_mode", ["y", "rgb"])
@pytest.mark.parametrize("scale", [2, 3])
def test_grey_alpha_and_16bit(color_mode: str, scale: int) -> None:
    """Grey in -> grey out (R = G = B through the network); alpha by bicubic; 16-bit levels."""
    net = _net(scale, color_mode=color_mode)
    fast = deploy(net)
    smooth = upscale(torch.rand(1, 4, 8, 9), 3, "bicubic")  # (1, 4, 24, 27), little clamping
    for lr in (smooth[:, :3], smooth[:, :1]):
        alpha = smooth[:, 3:]
        ref = _reference(net, lr)
        got = upscale_into(fast, lr, _out(lr, scale, torch.float32))
        torch.testing.assert_close(got, ref, atol=1e-5, rtol=0)
        for dtype, top in ((torch.uint8, 255), (torch.int32, 65535)):
            out = upscale_into(fast, lr, _out(lr, scale, dtype, 1), alpha)
            c = lr.shape[1]
            assert (out[..., :c] - _levels(ref, top)).abs().max() <= 1
            want_alpha = _levels(upscale(alpha, scale, "bicubic"), top)
            assert (out[..., c:] - want_alpha).abs().max() <= 1


def test_rgb_model_and_other_tails_through_the_colour_path() -> None:
    for kw in ({"color_mode": "rgb", "scale": 3}, {"tail": "resize_conv", "scale": 2},
               {"tail": "pixelshuffle", "scale": 4}):
        net = _net(**kw)
        lr = upscale(torch.rand(1, 3, 7, 6), 3, "bicubic")
        s = net.cfg.scale
        got = upscale_into(deploy(net), lr, _out(lr, s, torch.uint8))
        assert (got.int() - _levels(_reference(net, lr), 255).int()).abs().max() <= 1, kw


@pytest.mark.parametrize("skip", ["bicubic", "nearest"])
def test_skip_models_banded_and_plain(skip: str) -> None:
    """The skip's phases are added on the banded row parts too (edge-replicated at the border)."""
    net = _net(3, skip=skip)
    fast = deploy(net)
    x = torch.rand(1, 1, 53, 30)  # more than one row part on 2 threads
    lr = torch.rand(1, 3, 53, 30)
    threads = torch.get_num_threads()
    try:
        torch.set_num_threads(2)
        for mode in MODES:
            fast.execution = mode
            with torch.no_grad():
                torch.testing.assert_close(fast(x), net(x), atol=1e-5, rtol=0)
            got = fast.upscale_rgb(lr)
            torch.testing.assert_close(got, _reference(net, lr), atol=1e-5, rtol=0)
    finally:
        torch.set_num_threads(threads)


@pytest.mark.parametrize("n", [2, 3])
def test_batches_equal_single_images(n: int) -> None:
    """A batch (whole images per thread when N is a multiple of the threads, else row parts)."""
    fast = deploy(_net(2))
    lr = torch.rand(n, 3, 40, 21)
    threads = torch.get_num_threads()
    try:
        torch.set_num_threads(2)
        batch = upscale_into(fast, lr, _out(lr, 2, torch.uint8), mode="banded")
        single = [upscale_into(fast, lr[i:i + 1], _out(lr[:1], 2, torch.uint8), mode="banded")
                  for i in range(n)]
        intra = upscale_into(fast, lr, _out(lr, 2, torch.uint8), mode="banded-intra")
    finally:
        torch.set_num_threads(threads)
    assert torch.equal(batch, torch.cat(single))
    assert (batch.int() - intra.int()).abs().max() <= 1


def test_planner_measures_once_per_shape_class() -> None:
    calls = {"a": 0, "b": 0}

    def make(name: str, delay: float):
        def run() -> None:
            calls[name] += 1
            torch.rand(int(delay * 1e6)).sum()
        return run

    planner = Planner(rounds=2)
    key = shape_class("colour", 1, 100, 100)
    cands = {"a": make("a", 2.0), "b": make("b", 0.01)}
    assert planner.choose(key, cands) == "b"
    n = calls["a"]
    assert n == calls["b"] and 3 <= n <= 9  # one warm-up + 2..8 timed rounds (cheap: more)
    assert planner.choose(key, cands) == "b" and calls == {"a": n, "b": n}  # cached
    assert shape_class("colour", 1, 101, 99) == key  # a similar area: the same class
    assert shape_class("colour", 2, 100, 100) != key and shape_class("colour", 1, 200, 100) != key


def test_auto_execution_times_nothing_and_follows_the_rule() -> None:
    fast = deploy(_net(2))
    calls = []
    for n, h, w, threads in ((1, 20, 24, 2), (1, 200, 24, 2), (2, 20, 24, 2), (1, 20, 24, 1)):
        old = torch.get_num_threads()
        torch.set_num_threads(threads)
        try:
            got = fast.choose("colour", torch.rand(n, 3, h, w), calls.append)
        finally:
            torch.set_num_threads(old)
        assert got == rule(n, h, w, threads, fast.width)
    assert calls == [] and not fast.planner.choices  # nothing ran to decide
    assert rule(1, 20, 24, 2) == "banded-intra" and rule(1, 240, 320, 2) == "banded-intra"
    assert rule(1, 241, 320, 2) == "banded" and rule(1, 30, 4000, 2) == "banded-intra"  # short
    assert rule(2, 20, 24, 2) == "banded" and rule(1, 20, 24, 1) == "banded"
    # a narrow (d=16) network: whole images on intra-op threads up to 640x480, then row parts
    assert rule(1, 360, 480, 2, 16) == "banded-intra" and rule(1, 360, 480, 2, 56) == "banded"
    assert rule(1, 480, 640, 2, 16) == "banded-intra" and rule(1, 481, 640, 2, 16) == "banded"
    assert rule(2, 107, 160, 2, 16) == "banded"


def test_measured_execution_is_measured_and_cached() -> None:
    fast = deploy(_net(2))
    fast.execution = "measure"
    lr = torch.rand(1, 3, 20, 24)
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        first = fast.upscale_rgb(lr, as_uint8=True)
        assert len(fast.planner.choices) == 1
        (key, choice), = fast.planner.choices.items()
        assert choice in MODES and {"banded", "plain"} <= set(fast.planner.timings[key])
        assert torch.equal(fast.upscale_rgb(lr, as_uint8=True), first)
        assert len(fast.planner.choices) == 1
    finally:
        torch.set_num_threads(threads)
    try:
        torch.set_num_threads(2)  # another shape class: all three executions are candidates
        assert torch.equal(fast.upscale_rgb(lr, as_uint8=True), first)
    finally:
        torch.set_num_threads(threads)
    assert len(fast.planner.choices) == 2
    assert any(set(t) == set(MODES) for t in fast.planner.timings.values())
    big = torch.rand(1, 3, 600, 500)  # above MAX_PLAIN_PIXELS: banded, nothing measured
    assert fast.choose("colour", big, lambda mode: None) == "banded"


def test_intra_bands_hold_the_same_bytes_at_any_width() -> None:
    """``banded-intra`` bands: 128 rows of a 256-wide image for the 56-channel network, 3.5x as
    many pixels for the 16-channel one (a 256x256 image in one band), a minimum of band_rows."""
    wide = deploy(_net(2))
    slim = deploy(_net(2, d=16, s=None, m=2, first_kernel=3, shrink=False))
    assert (wide.width, slim.width) == (56, 16)
    assert wide.intra_rows(256) == 128 and slim.intra_rows(256) == 448
    assert slim.intra_rows(10**6) == slim.banded.band_rows


@pytest.mark.parametrize("scale", [2, 3])
def test_skip_added_by_the_fused_convolution_equals_the_plain_one(scale: int) -> None:
    fast = deploy(_net(scale, d=16, s=16, m=1, first_kernel=3, shrink=False, skip="bicubic"))
    assert fast.skip_conv is not None
    calls, add_into = [], fast.skip_conv.add_into
    fast.skip_conv.add_into = lambda *a: calls.append(1) or add_into(*a)
    x = torch.rand(2, 1, 30, 26)
    for mode in MODES:  # x2: the phases are s*s channels (fused); x3's banded ones are widened
        fused = fast.forward_phases(x, mode)
        conv, fast.skip_conv = fast.skip_conv, None
        try:
            plain = fast.forward_phases(x, mode)
        finally:
            fast.skip_conv = conv
        torch.testing.assert_close(fused, plain, atol=1e-5, rtol=1e-5)
    assert len(calls) >= (len(MODES) if scale == 2 else 1)  # x3: the plain network's phases
