"""The inspector's sample images (``images/<set>/<name>/<i>_<method>``): every tile at least
192 pixels a side whatever the crop, a method's image no wider than TensorBoard's image card
(350 px: shown at 100 %), the zoomed box where the detail is, labels in a 16-pixel font."""

from __future__ import annotations

import pytest
import torch

from srnet.analysis.figures import font
from srnet.analysis.samples import (
    CARD,
    MIN_SIDE,
    auto_crop_size,
    centre_crop,
    crop_panels,
    detail_box,
    method_image,
)
from srnet.nets.fsrcnn import FSRCNN


@pytest.mark.parametrize("scale", [2, 3, 4])
def test_default_crops_are_192_hr_pixels(scale: int) -> None:
    assert scale * auto_crop_size(scale) >= MIN_SIDE > scale * (auto_crop_size(scale) - 1)


def test_detail_box_finds_the_detail() -> None:
    hr = torch.full((1, 3, 90, 120), 0.5)
    hr[..., 50:70, 80:100] = torch.rand(1, 3, 20, 20)  # the only texture
    top, left, side = detail_box(hr, 20)
    assert side == 20 and abs(top - 50) <= 5 and abs(left - 80) <= 5


@pytest.mark.parametrize("h,w", [(48, 60), (192, 192), (20, 33), (96, 128)])
def test_tiles_are_at_least_192_pixels(h: int, w: int) -> None:
    img = method_image(torch.rand(1, 3, h, w), (0, 0, min(h, w) // 4), "srnet")
    zoom = -(-MIN_SIDE // min(h, w))
    assert img.height >= zoom * h + 16 >= MIN_SIDE + 16
    assert img.width >= zoom * w + 2 * min(h, w) // 4  # the box beside it, enlarged
    if zoom * w <= 240:  # fits TensorBoard's 350-pixel card: shown at 100 %
        assert img.width <= CARD


def test_crop_panels_of_a_network() -> None:
    torch.manual_seed(0)
    net = FSRCNN(scale=3, d=8, s=4, m=1).eval()
    lr, hr = torch.rand(1, 3, 80, 90), torch.rand(1, 3, 240, 270)  # 64x64 LR crop: 192 HR
    crop = {"set": "val", "name": "img", **centre_crop(lr, hr, auto_crop_size(3), 6, 3)}
    crop["detail"] = detail_box(crop["hr"], min(crop["hr"].shape[-2:]) // 4)
    panels = crop_panels(net, crop)
    assert list(panels) == ["1_HR", "2_srnet", "3_bicubic", "4_bilinear", "5_LR", "6_errors"]
    for key, img in panels.items():
        assert img.height >= MIN_SIDE + 16
        assert MIN_SIDE < img.width <= (CARD if key != "6_errors" else 2 * MIN_SIDE + 8)
    assert font(16).getlength("srnet") > 30  # a 16-pixel font, not the tiny bitmap one
