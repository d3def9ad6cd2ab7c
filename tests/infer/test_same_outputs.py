"""The same weights give the same outputs as srnet did before its regroup into sub-packages.

``golden/`` holds a real x3 network (the bundled weights of that time, no skip), an input, and
what that srnet wrote for it: ``load_model(...).upscale`` of the RGB and the grey input, and
``evaluation.score_pair``'s model and baseline scores on the input degraded to x3. Made once with
the pre-regroup code; every later srnet must agree. Upscaled pixels may differ by one 8-bit level
where a float sum rounds the other way (the fast path picks its convolution per shape by
measurement), on at most 0.1% of them; scores to 1e-6 dB.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from srnet import load_model
from srnet.analysis.evaluation import evaluate
from srnet.data.sources import Record

GOLDEN = Path(__file__).parent / "golden"


def close(got: np.ndarray, want: np.ndarray) -> None:
    assert got.shape == want.shape and got.dtype == want.dtype
    diff = np.abs(got.astype(int) - want)
    assert diff.max() <= 1 and (diff > 0).mean() <= 1e-3


@pytest.mark.parametrize("kind", ["rgb", "grey"])
def test_upscaled_pixels(kind: str) -> None:
    rgb = np.asarray(Image.open(GOLDEN / "input.png"))
    model = load_model(str(GOLDEN / "fsrcnn_x3_v0.pt"), device="cpu")
    got = np.asarray(model.upscale(rgb if kind == "rgb" else rgb[..., 1]))
    close(got, np.asarray(Image.open(GOLDEN / f"x3_{kind}.png")))


def test_scores_of_model_and_baselines(tmp_path: Path) -> None:
    from srnet.io.checkpoints import load_net

    want = json.loads((GOLDEN / "x3_scores.json").read_text())
    rec = Record(name="input", hr=GOLDEN / "input.png")
    got = evaluate(load_net(GOLDEN / "fsrcnn_x3_v0.pt"), [rec], 3, lr="make")
    for method, (p, q) in want.items():
        assert got[method]["psnr"] == pytest.approx(p, abs=1e-6)
        assert got[method]["ssim"] == pytest.approx(q, abs=1e-6)
