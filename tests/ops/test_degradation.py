"""The degradation steps and presets: seeded, shape- and range-keeping, and really applied."""

import io

import pytest
import torch
import yaml
from PIL import Image

from srnet import CONFIG_DIR
from srnet.ops import degradation as D
from srnet.ops.degrader import Degrader, seeded
from srnet.ops.metrics import quantize
from srnet.ops.resize import bicubic_down

PRESETS = ("bicubic", "jpeg", "photo", "realesrgan")


def preset(name: str) -> dict:
    return yaml.safe_load((CONFIG_DIR / "degradation" / f"{name}.yaml").read_text())


def photo_batch(n: int = 6, size: int = 48) -> torch.Tensor:
    """Smooth gradients with edges: content JPEG and blur visibly change."""
    g = torch.Generator().manual_seed(0)
    y, x = torch.meshgrid(torch.linspace(0, 1, size), torch.linspace(0, 1, size), indexing="ij")
    base = torch.stack([x, y, (x + y) / 2])[None].repeat(n, 1, 1, 1)
    edges = (torch.rand(n, 3, size // 8, size // 8, generator=g) > 0.5).float()
    return quantize(0.6 * base + 0.4 * torch.kron(edges, torch.ones(8, 8)))


@pytest.mark.parametrize("name", PRESETS)
def test_presets_are_seeded_and_keep_shape_and_range(name) -> None:
    hr = photo_batch()
    d = Degrader(preset(name))
    a = d(hr, 2, torch.Generator().manual_seed(3))
    b = d(hr, 2, torch.Generator().manual_seed(3))
    c = d(hr, 2, torch.Generator().manual_seed(4))
    assert a.shape == (6, 3, 24, 24) and a.dtype == hr.dtype
    assert torch.equal(a, b)
    assert 0 <= float(a.min()) and float(a.max()) <= 1
    assert torch.equal(a, quantize(a))  # 8-bit levels, as a saved LR file
    assert name in ("bicubic", "jpeg") or not torch.equal(a, c)  # those two draw nothing


def test_bicubic_preset_is_the_classic_lr_bit_for_bit() -> None:
    hr = photo_batch()
    for spec in (preset("bicubic"), None, "bicubic"):
        d = Degrader(spec)
        assert d.classic and d.margin == 2
        assert torch.equal(d(hr, 3), bicubic_down(hr, 3))


def test_jpeg_preset_is_bicubic_then_quality_90() -> None:
    hr = photo_batch(2)
    lr = Degrader(preset("jpeg"))(hr, 2, torch.Generator().manual_seed(0))
    clean = bicubic_down(hr, 2)
    assert torch.equal(lr, D.jpeg(clean, torch.tensor([90.0, 90.0])))
    assert not torch.equal(lr, clean)


def test_jpeg_quality_is_really_applied() -> None:
    x = photo_batch(2, 64)
    u8 = (x[0] * 255).round().to(torch.uint8)
    errors = []
    for q in (20, 50, 90):
        out = D.jpeg(x, torch.tensor([q, q]))
        errors.append(float((out - x).abs().mean()))
        # the same as Pillow decoding the bytes torchvision wrote at that quality
        buf = io.BytesIO()
        Image.fromarray(u8.permute(1, 2, 0).numpy()).save(buf, "JPEG", quality=q)
        pil = Image.open(io.BytesIO(buf.getvalue()))
        assert pil.quantization[0][0] == _quant_dc(q)  # Pillow's table at q: what we asked for
    assert errors[0] > errors[1] > errors[2] > 0


def _quant_dc(q: int) -> int:
    """libjpeg's luma DC quantiser at quality q (base 16, IJG scaling)."""
    scale = 5000 // q if q < 50 else 200 - 2 * q
    return max(1, min(255, (16 * scale + 50) // 100))


def test_steps_keep_shape_and_are_seeded() -> None:
    x = photo_batch(4)
    k = D.gaussian_kernels(7, torch.tensor([0.5, 1, 2, 3.0]), torch.tensor([0.5, 2, 1, 3.0]),
                           torch.tensor([0, 0.3, 1, 2.0]))
    assert k.shape == (4, 7, 7) and torch.allclose(k.sum((1, 2)), torch.ones(4))
    assert torch.allclose(k[0], k[0].T, atol=1e-6)  # isotropic: symmetric
    s = D.sinc_kernels(11, torch.tensor([1.0, 2.0]))
    assert s.shape == (2, 11, 11) and torch.allclose(s.sum((1, 2)), torch.ones(2))
    blurred = D.blur(x, k)
    assert blurred.shape == x.shape and float((blurred - x).abs().mean()) > 0.005
    for fn, arg in ((D.gaussian_noise, torch.full((4,), 0.03)), (D.poisson_noise, torch.ones(4))):
        gray = torch.tensor([True, False, True, False])
        a = fn(x, arg, gray, torch.Generator().manual_seed(1))
        b = fn(x, arg, gray, torch.Generator().manual_seed(1))
        assert torch.equal(a, b) and a.shape == x.shape
        noise = a - x
        assert torch.allclose(noise[0, 0], noise[0, 1], atol=1e-6)  # grey: one noise image
        assert not torch.allclose(noise[1, 0], noise[1, 1], atol=1e-6)
    for mode in D.RESIZE_MODES:
        assert D.resize(x, (20, 30), mode).shape == (4, 3, 20, 30)


def test_validation_seed_depends_on_the_image_only() -> None:
    hr = photo_batch(1)
    d = Degrader(preset("photo"))
    assert torch.equal(d(hr, 2, seeded("holdout/a.png")), d(hr, 2, seeded("holdout/a.png")))
    runs = {bytes(d(hr, 2, seeded(f"holdout/{i}.png")).numpy().tobytes()) for i in range(6)}
    assert len(runs) > 1


def test_bad_presets_name_the_key() -> None:
    with pytest.raises(ValueError, match=r"degradation: unknown keys \['frist'\]"):
        Degrader({"name": "x", "frist": {}})
    with pytest.raises(ValueError, match=r"degradation.first.blurr: steps are"):
        Degrader({"name": "x", "first": {"blurr": {}}})
    with pytest.raises(ValueError, match=r"degradation.first.blur.kinds: unknown \['box'\]"):
        Degrader({"name": "x", "first": {"blur": {"kinds": {"box": 1}}}})
    with pytest.raises(ValueError, match="degradation='photo'"):
        Degrader("photo")
