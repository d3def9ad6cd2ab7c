"""The bundled weights: small, self-describing, loadable offline, and better than bicubic."""

import numpy as np
import pytest
import torch

from srnet.io.checkpoints import WEIGHTS_DIR, load_net
from srnet.ops.metrics import psnr
from srnet.ops.reference import super_resolve
from srnet.ops.resize import bicubic_down, upscale

SCALES = [s for s in (2, 3, 4) if (WEIGHTS_DIR / f"fsrcnn_x{s}.pt").is_file()]


def shapes_image(size: int = 192, seed: int = 0) -> torch.Tensor:
    """A generated test picture (1, 3, size, size) in [0, 1]: shaded discs, bars and a gradient,
    the kind of edges SR networks restore and bicubic blurs."""
    rng = np.random.default_rng(seed)
    y, x = np.mgrid[0:size, 0:size] / size
    img = np.stack([0.3 + 0.4 * x, 0.5 - 0.2 * y, 0.4 + 0.2 * x * y], -1)
    for _ in range(14):
        cx, cy, r = rng.uniform(0.1, 0.9), rng.uniform(0.1, 0.9), rng.uniform(0.03, 0.15)
        img[(x - cx) ** 2 + (y - cy) ** 2 < r**2] = rng.uniform(0, 1, 3)
    for _ in range(6):
        x0, w = rng.uniform(0, 0.9), rng.uniform(0.01, 0.05)
        img[(x > x0) & (x < x0 + w) & (y > rng.uniform(0, 0.5))] = rng.uniform(0, 1, 3)
    img = np.round(img.clip(0, 1) * 255) / 255
    return torch.from_numpy(img).permute(2, 0, 1)[None].float()


def test_bundled_weights_are_small():
    total = sum(p.stat().st_size for p in WEIGHTS_DIR.glob("*.pt"))
    assert total < 1_000_000, f"bundled weights take {total} bytes"


@pytest.mark.skipif(not SCALES, reason="no bundled weights in srnet/weights/")
@pytest.mark.parametrize("scale", SCALES)
def test_bundled_weights_load_and_beat_bicubic(scale):
    blob = torch.load(WEIGHTS_DIR / f"fsrcnn_x{scale}.pt", weights_only=True)
    assert blob["net"]["scale"] == scale  # degradation: a name (older files) or a preset dict
    assert blob["degradation"] in ("bicubic", {"name": "bicubic"})
    net = load_net(f"x{scale}")
    hr = shapes_image(48 * scale)
    lr = bicubic_down(hr, scale)
    gain = psnr(super_resolve(net, lr), hr, scale) - psnr(upscale(lr, scale, "bicubic"), hr, scale)
    assert gain.item() > 0.2, f"x{scale}: only {gain.item():.2f} dB over bicubic"
