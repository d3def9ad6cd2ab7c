"""A narrow FSRCNN embedded in a wider one computes the same function (srnet/nets/widen.py):
``model.init_from`` a narrower file, and ``denoise=`` between clean weights and a wider real
network fine-tuned from them."""

from __future__ import annotations

import pytest
import torch

from srnet.io.checkpoints import CheckpointError, save_weights
from srnet.io.init_from import load_matching
from srnet.nets.blend import blend
from srnet.nets.fsrcnn import FSRCNN
from srnet.nets.overparam import overparametrize
from srnet.nets.widen import can_deepen, can_widen, embed, embed_luma

SLIM = {"scale": 2, "d": 8, "s": None, "m": 2, "first_kernel": 3, "shrink": False,
        "skip": "bicubic"}
CLASSIC = {"scale": 3, "d": 12, "s": 4, "m": 1, "first_kernel": 5, "shrink": True}


def trained(cfg: dict, seed: int = 0) -> FSRCNN:
    """A network with every weight random (biases and PReLU slopes too), not an init's zeros."""
    torch.manual_seed(seed)
    net = FSRCNN(**cfg).eval()
    with torch.no_grad():
        for p in net.parameters():
            p.add_(0.1 * torch.randn_like(p))
    return net


@pytest.mark.parametrize("cfg, wider", [(SLIM, {"d": 20}), (CLASSIC, {"d": 20, "s": 7}),
                                        (CLASSIC, {"s": 6})])
def test_embedding_keeps_the_function_and_leaves_the_extra_channels_trainable(cfg, wider) -> None:
    narrow = trained(cfg)
    wide = FSRCNN(**{**cfg, **wider}).eval()
    before = {k: v.clone() for k, v in wide.state_dict().items()}
    embed(wide, narrow.state_dict())
    x = torch.rand(2, 1, 13, 11)
    with torch.no_grad():
        torch.testing.assert_close(wide(x), narrow(x), rtol=0, atol=1e-6)
    grown = "body.2.weight" if "d" not in wider else "body.0.weight"  # (out, in, f, f)
    n = narrow.state_dict()[grown].shape[0]
    kernel = wide.state_dict()[grown]
    assert torch.equal(kernel[n:], before[grown][n:]) and kernel[n:].abs().sum() > 0  # fresh
    if "d" in wider:  # the tail's weight is (c_in, c_out, k, k): it reads nothing new yet
        assert wide.tail.deconv.weight[cfg["d"]:].abs().sum() == 0
    wide.train()
    loss = (wide(x) - torch.rand_like(wide(x))).square().mean()
    loss.backward()  # the extra channels learn from the first step
    assert all(p.grad.abs().sum() > 0 for p in wide.parameters())


def test_silent_padding_zeroes_the_extra_channels() -> None:
    narrow, wide = trained(SLIM), trained({**SLIM, "d": 12}, seed=1)
    embed(wide, narrow.state_dict(), fresh=False)
    assert wide.body[0].weight[8:].abs().sum() == 0 and wide.body[0].bias[8:].abs().sum() == 0
    assert wide.body[2].weight[8:].abs().sum() == 0 and wide.body[2].weight[:, 8:].abs().sum() == 0


def test_only_the_widths_may_differ() -> None:
    base = FSRCNN(**SLIM).cfg.to_dict()
    assert can_widen(base, {**base, "d": 16, "s": 16})
    assert not can_widen({**base, "d": 16, "s": 16}, base)  # narrowing loses weights
    for key, value in (("m", 3), ("scale", 3), ("first_kernel", 5), ("skip", "none")):
        assert not can_widen(base, {**base, "d": 16, "s": 16, key: value}), key
    with pytest.raises(ValueError, match="does not fit"):
        embed(FSRCNN(**SLIM), trained({**SLIM, "d": 12}).state_dict())


def test_init_from_a_narrower_file_starts_as_that_network(tmp_path) -> None:
    narrow = trained(SLIM)
    save_weights(narrow, tmp_path / "narrow.pt")
    wide = FSRCNN(**{**SLIM, "d": 16}).eval()
    assert "tail.deconv.weight" in load_matching(wide, tmp_path / "narrow.pt")
    x = torch.rand(1, 1, 9, 10)
    with torch.no_grad():
        torch.testing.assert_close(wide(x), narrow(x), rtol=0, atol=1e-6)
        overparametrize(wide, ("seq", "edges"))  # the recipe's branches re-grow from the kernels
        torch.testing.assert_close(wide(x), narrow(x), rtol=0, atol=1e-5)
    with pytest.raises(CheckpointError, match="another network's shape"):  # deeper: refused
        load_matching(FSRCNN(**{**SLIM, "d": 16, "m": 3}), tmp_path / "narrow.pt")


def test_blend_with_a_wider_real_network() -> None:
    clean = trained(SLIM)
    real = FSRCNN(**{**SLIM, "d": 12}).eval()
    embed(real, clean.state_dict())
    with torch.no_grad():
        for p in real.parameters():  # fine-tuned: every weight moved, the extra channels too
            p.add_(0.05 * torch.randn_like(p))
    x = torch.rand(1, 1, 10, 12)
    zero, one, half = (blend(clean, real, t) for t in (0.0, 1.0, 0.5))
    assert zero.cfg.d == 8 and one.cfg.d == 12 and half.cfg.d == 12  # t=0: the narrow network
    with torch.no_grad():
        assert torch.equal(zero(x), clean(x)) and torch.equal(one(x), real(x))
        torch.testing.assert_close(blend(clean, real, 1e-7)(x), clean(x), rtol=0, atol=1e-5)
        w = half.body[0].weight
        torch.testing.assert_close(w[:8], (clean.body[0].weight + real.body[0].weight[:8]) / 2)
        torch.testing.assert_close(w[8:], real.body[0].weight[8:] / 2)
    with pytest.raises(ValueError, match="these differ"):
        blend(clean, FSRCNN(**{**SLIM, "m": 3}), 0.5)
    with pytest.raises(ValueError, match="these differ"):  # the wider one must be the real one
        blend(real, clean, 0.5)


def test_a_luma_network_starts_an_rgb_one(tmp_path) -> None:
    """Away from the border the RGB network starts as the luma one on Y, chroma from the skip."""
    from srnet.ops.color import rgb_to_ycbcr

    luma = trained(SLIM)
    save_weights(luma, tmp_path / "luma.pt")
    rgb = FSRCNN(**{**SLIM, "color_mode": "rgb"}).eval()
    assert "body.0.weight" in load_matching(rgb, tmp_path / "luma.pt")
    x = torch.rand(1, 3, 24, 20)  # RGB in [0, 1]
    with torch.no_grad():
        want = luma(rgb_to_ycbcr(x)[:, :1])  # (1, 1, 48, 40): the luma network on Y
        got = rgb_to_ycbcr(rgb(x))  # (1, 3, 48, 40)
        skip = rgb_to_ycbcr(rgb.skip(x))
    inner = (..., slice(16, -16), slice(16, -16))  # beyond the receptive field of the padding
    torch.testing.assert_close(got[:, :1][inner], want[inner], rtol=0, atol=1e-5)
    torch.testing.assert_close(got[:, 1:][inner], skip[:, 1:][inner], rtol=0, atol=1e-5)
    with pytest.raises(ValueError, match="only with model.net.skip"):
        embed_luma(FSRCNN(**{**SLIM, "color_mode": "rgb", "skip": "none"}),
                   luma.state_dict(), (0.3, 0.6, 0.1), 0.0)


def test_init_from_a_shallower_file_starts_as_that_network(tmp_path) -> None:
    shallow = trained(SLIM)
    save_weights(shallow, tmp_path / "shallow.pt")
    deep = FSRCNN(**{**SLIM, "m": 4}).eval()
    assert can_deepen(SLIM, {**SLIM, "m": 4}) and not can_deepen(SLIM, {**SLIM, "m": 1})
    assert not can_deepen(CLASSIC, {**CLASSIC, "m": 3})  # the 1x1 expand ends that body
    assert "body.8.weight" in load_matching(deep, tmp_path / "shallow.pt")
    x = torch.rand(2, 1, 11, 9)
    with torch.no_grad():
        torch.testing.assert_close(deep(x), shallow(x), rtol=0, atol=1e-6)
        overparametrize(deep, ("seq", "edges"))  # the identities' branches grow from them too
        torch.testing.assert_close(deep(x), shallow(x), rtol=0, atol=1e-5)
    plain = FSRCNN(**{**SLIM, "m": 4})
    load_matching(plain, tmp_path / "shallow.pt")
    plain(x).sum().backward()  # the new layers learn from the first step
    assert all(p.grad.abs().sum() > 0 for p in plain.body[-2:].parameters())
