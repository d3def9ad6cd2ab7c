"""The README's real-photo figure: four panels scored against the original, from a given file."""

from __future__ import annotations

import pytest
from helpers import smooth_image
from PIL import Image

from srnet.analysis.real_photo import figure
from srnet.io import checkpoints


@pytest.mark.skipif(not (checkpoints.WEIGHTS_DIR / "fsrcnn_x2_real.pt").is_file(),
                    reason="no bundled x2-real weights")
def test_figure_scores_four_panels(tmp_path):
    Image.fromarray(smooth_image(90, 120, 3)).save(tmp_path / "p.png")
    img, scores = figure(str(tmp_path / "p.png"), scale=2, quality=50, zoom=2)
    assert list(scores) == ["JPEG input (nearest)", "bicubic", "srnet x2 (clean)", "srnet x2-real"]
    assert all(20 < v < 60 for v in scores.values())
    assert img.width > 4 * 2 * 40 and img.height > 2 * 40  # four zoomed crops side by side
