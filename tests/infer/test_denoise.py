"""The clean / real weights pair: denoise blends, weights=real|auto, JPEG quality detection."""

from __future__ import annotations

import io

import numpy as np
import pytest
import torch
from helpers import smooth_image
from PIL import Image

from srnet.infer.models import ModelBank, auto_strength, load_model
from srnet.infer.resize import OutputSize
from srnet.io import checkpoints
from srnet.io.checkpoints import save_weights
from srnet.io.jpeginfo import jpeg_quality
from srnet.nets.fsrcnn import FSRCNN

NET = {"scale": 2, "d": 8, "s": None, "m": 1, "first_kernel": 3, "shrink": False,
       "skip": "bicubic"}


@pytest.fixture
def bundled(tmp_path, monkeypatch):
    """Fake bundled x2 / x2-real weights of one shape (the real ones moved from the clean)."""
    torch.manual_seed(0)
    clean = FSRCNN(**NET)
    real = FSRCNN(**NET)
    real.load_state_dict(clean.state_dict())
    with torch.no_grad():
        for p in real.parameters():
            p.add_(0.05 * torch.randn_like(p))
    save_weights(clean, tmp_path / "fsrcnn_x2.pt")
    save_weights(real, tmp_path / "fsrcnn_x2_real.pt", degradation={"name": "photo"})
    monkeypatch.setattr(checkpoints, "WEIGHTS_DIR", tmp_path)
    return clean, real


def test_denoise_ends_are_the_two_networks_and_between_is_a_blend(bundled) -> None:
    clean, real = bundled
    img = smooth_image(21, 17)
    ups = {d: load_model("x2", "cpu", denoise=d).upscale(img) for d in (0.0, 0.5, 1.0)}
    assert np.array_equal(ups[0.0], load_model("x2", "cpu").upscale(img))
    assert np.array_equal(ups[1.0], load_model("x2-real", "cpu").upscale(img))
    assert not np.array_equal(ups[0.5], ups[0.0]) and not np.array_equal(ups[0.5], ups[1.0])
    half = load_model("x2", "cpu", denoise=0.5).net
    w = half.body[0].weight
    torch.testing.assert_close(w, (clean.body[0].weight + real.body[0].weight) / 2)
    with pytest.raises(ValueError, match="denoise=1.5: give a strength from 0"):
        load_model("x2", "cpu", denoise=1.5)
    with pytest.raises(ValueError, match="also give real="):
        load_model(str(checkpoints.WEIGHTS_DIR / "fsrcnn_x2.pt"), "cpu", denoise=0.5)


def jpeg_file(path, quality: int) -> None:
    Image.fromarray(smooth_image(40, 48)).save(path, "JPEG", quality=quality)


@pytest.mark.parametrize("quality", [30, 50, 62, 75, 90, 97])
def test_jpeg_quality_is_read_from_the_file(tmp_path, quality) -> None:
    jpeg_file(tmp_path / "a.jpg", quality)
    assert jpeg_quality(tmp_path / "a.jpg") == quality
    buf = io.BytesIO()
    Image.fromarray(smooth_image(8, 8)).save(buf, "PNG")
    (tmp_path / "b.png").write_bytes(buf.getvalue())
    assert jpeg_quality(tmp_path / "b.png") is None


def test_auto_picks_the_strength_per_file(tmp_path, bundled) -> None:
    assert auto_strength(None) == 0 and auto_strength(100) == 0 and auto_strength(40) == 1
    assert [auto_strength(q) for q in (98, 95, 90, 80, 75, 60, 50)] == [0, 0.25, 0.5, 0.75, 1, 1, 1]
    bank = ModelBank(None, None, OutputSize(), weights="auto", device="cpu")
    for q, want in ((99, "x2"), (90, "x2@0.5"), (80, "x2@0.75"), (40, "x2-real")):
        jpeg_file(tmp_path / f"q{q}.jpg", q)
        model, source = bank.choose(48, 40, tmp_path / f"q{q}.jpg")
        assert source == want and model.scale == 2
    Image.fromarray(smooth_image(40, 48)).save(tmp_path / "c.png")
    assert bank.choose(48, 40, tmp_path / "c.png")[1] == "x2"
    (tmp_path / "fsrcnn_x2_real.pt").unlink()  # no real partner at a scale: auto gives clean
    assert bank.choose(48, 40, tmp_path / "q40.jpg")[1] in ("x2", "x2-real")  # loaded before
    fresh = ModelBank(None, None, OutputSize(), weights="auto", device="cpu")
    assert fresh.choose(48, 40, tmp_path / "q40.jpg")[1] == "x2"


def test_auto_is_the_default_and_a_checkpoint_overrides_it(tmp_path, bundled) -> None:
    from omegaconf import OmegaConf

    from srnet import CONFIG_DIR

    assert OmegaConf.load(CONFIG_DIR / "infer.yaml").weights == "auto"
    ckpt = save_weights(FSRCNN(**NET), tmp_path / "mine.pt")
    jpeg_file(tmp_path / "q40.jpg", 40)
    bank = ModelBank(str(ckpt), None, OutputSize(), weights="auto", device="cpu")
    assert bank.choose(48, 40, tmp_path / "q40.jpg")[1] == str(ckpt)
    with pytest.raises(ValueError, match="with ckpt_path= give the checkpoint"):
        ModelBank(str(ckpt), None, OutputSize(), weights="real", device="cpu")


def test_weights_real_and_bad_names(tmp_path, bundled) -> None:
    real = ModelBank(None, 2, OutputSize(), weights="real", device="cpu")
    assert real.source == "x2-real"
    with pytest.raises(ValueError, match="weights=auto sets the denoise strength"):
        ModelBank(None, None, OutputSize(), weights="auto", denoise=0.5, device="cpu")
    with pytest.raises(ValueError, match="weights='best'"):
        ModelBank(None, None, OutputSize(), weights="best", device="cpu")


@pytest.mark.parametrize("scale", [2, 3, 4])
def test_the_shipped_real_weights_blend_with_the_shipped_clean_ones(scale) -> None:
    """Each bundled real-photo file is the network of its scale's clean file (denoise= blends
    them) and records the degradation it was trained on."""
    if not (checkpoints.WEIGHTS_DIR / f"fsrcnn_x{scale}_real.pt").is_file():
        pytest.skip(f"no bundled x{scale}-real weights")
    clean, real = checkpoints.load_net(f"x{scale}"), checkpoints.load_net(f"x{scale}-real")
    assert real.cfg == clean.cfg
    assert real.degradation["name"] == "photo"
    half = load_model(f"x{scale}", denoise=0.5)
    assert half.net.cfg == clean.cfg


def test_auto_reads_the_quality_of_a_decoded_jpeg_from_its_pixels(tmp_path, bundled, caplog) -> None:
    photo = smooth_image(96, 128, seed=3)
    buf = io.BytesIO()
    Image.fromarray(photo).save(buf, "JPEG", quality=40)
    once_jpeg = np.asarray(Image.open(buf))
    Image.fromarray(once_jpeg).save(tmp_path / "screenshot.png")  # no tables left
    Image.fromarray(photo).save(tmp_path / "clean.png")
    bank = ModelBank(None, None, OutputSize(), weights="auto", device="cpu")
    with caplog.at_level("DEBUG", logger="srnet.infer"):
        assert bank.choose(128, 96, tmp_path / "screenshot.png", once_jpeg)[1] == "x2-real"
    assert "JPEG of quality 40, from its pixels" in caplog.text
    assert bank.choose(128, 96, tmp_path / "clean.png", photo)[1] == "x2"
    assert bank.choose(128, 96, tmp_path / "screenshot.png")[1] == "x2-real"  # found once, kept
    fixed = ModelBank(None, None, OutputSize(), weights="clean", device="cpu")
    assert fixed.choose(128, 96, tmp_path / "screenshot.png", once_jpeg)[1] == "x2"
