"""Validation images as (LR, HR) tensors, fixed crops of them, and the sample images the
inspector logs (``images/<set>/<name>/<i>_<method>``, :func:`crop_panels`)."""

from __future__ import annotations

import torch
import torch.nn.functional as F
from PIL import Image, ImageDraw
from torch import Tensor, nn

from srnet.analysis.figures import stack, titled, to_pil, zoomed
from srnet.ops.color import rgb_to_y
from srnet.ops.degrader import Degrader, seeded
from srnet.ops.reference import super_resolve
from srnet.ops.resize import upscale


def first_val_items(datamodule, scale: int, n: int) -> list[tuple[str, str, Tensor, Tensor]]:
    """(set, name, LR (1, 3, h, w), HR (1, 3, sh, sw)) in [0, 1] of the first ``n`` images of the
    datamodule's first validation set: the LR validation scores (the set's own files under the
    ``bicubic`` preset, else the datamodule's degradation seeded by the image, so degraded
    training shows degraded samples)."""
    if datamodule is None or not getattr(datamodule, "val_sets", None) or n <= 0:
        return []
    name, ds = next(iter(datamodule.val_sets.items()))
    degrader = getattr(datamodule, "degrader", None) or Degrader()
    out = []
    for idx in range(min(n, len(ds))):
        item = ds[idx]
        hr = item["hr"][None].float() / 255  # (1, 3, H, W)
        if "lr" in item and degrader.classic:
            lr = item["lr"][None].float() / 255
        else:
            lr = degrader(hr, scale, seeded(f"{name}/{item['name']}"))
        out.append((name, item["name"], lr, hr))
    return out


def centre_crop(lr: Tensor, hr: Tensor, size: int, context: int, scale: int) -> dict:
    """The centre ``size`` x ``size`` LR crop (clipped to the image) with ``context`` LR pixels
    around it: ``lr_ctx``, ``box`` (top, left, h, w) of the crop inside it, and the HR crop."""
    lh, lw = lr.shape[-2:]
    h, w = min(size, lh), min(size, lw)
    top, left = (lh - h) // 2, (lw - w) // 2
    t0, l0 = max(top - context, 0), max(left - context, 0)
    t1, l1 = min(top + h + context, lh), min(left + w + context, lw)
    return {"lr_ctx": lr[..., t0:t1, l0:l1], "box": (top - t0, left - l0, h, w),
            "hr": hr[..., scale * top : scale * (top + h), scale * left : scale * (left + w)]}


MIN_SIDE = 192  # HR pixels (at least) a side of every tile of a sample image
CARD = 350  # pixels: the width TensorBoard's Images tab scales every image to
GAP = 8


def auto_crop_size(scale: int, side: int = MIN_SIDE) -> int:
    """The LR crop side whose HR crop is ``side`` pixels: 96 / 64 / 48 at x2 / x3 / x4."""
    return -(-side // scale)


def detail_box(hr: Tensor, size: int) -> tuple[int, int, int]:
    """(top, left, side) of the ``size`` x ``size`` window of HR (1, 3, H, W) with the most luma
    gradient (clipped to the image): where a zoom shows what the network does with detail."""
    y = rgb_to_y(hr.float())
    grad = (y[..., 1:, :-1] - y[..., :-1, :-1]).abs() + (y[..., :-1, 1:] - y[..., :-1, :-1]).abs()
    side = max(1, min(size, *grad.shape[-2:]))
    step = max(1, side // 4)
    score = F.avg_pool2d(grad, side, stride=step)[0, 0]  # (rows, cols) of windows
    i, j = divmod(int(score.argmax()), score.shape[1])
    return i * step, j * step, side


def _tile(img: Tensor, zoom: int) -> Image.Image:
    return zoomed(to_pil(img), zoom)


def method_image(img: Tensor, box: tuple[int, int, int], label: str, min_side: int = MIN_SIDE,
                 font_size: int = 16) -> Image.Image:
    """One method's crop (1, C, h, w) at least ``min_side`` pixels a side (nearest enlargement
    of small crops), the detail ``box`` (top, left, side) outlined in yellow, and beside it the
    box enlarged to fill TensorBoard's image card; labelled in a ``font_size`` font.

    TensorBoard's Images tab shows every image :data:`CARD` pixels wide (scaled, until clicked):
    a 192-pixel crop and its zoomed box fit in that width, so they show at 100 %.
    """
    h, w = img.shape[-2:]
    z = max(1, -(-min_side // min(h, w)))  # display zoom of the crop
    top, left, side = box
    zd = max(2, (CARD - GAP - z * w) // side)  # display zoom of the box: fill the card
    full = _tile(img, z)
    ImageDraw.Draw(full).rectangle((left * z - 1, top * z - 1, (left + side) * z,
                                    (top + side) * z), outline=(255, 214, 0), width=2)
    detail = _tile(img[..., top:top + side, left:left + side], zd)
    return stack([titled(full, label, size=font_size),
                  titled(detail, f"box x{zd / z:g}", size=font_size)], gap=GAP)


def pair_image(a: Tensor, b: Tensor, labels: tuple[str, str], min_side: int = MIN_SIDE,
               font_size: int = 16) -> Image.Image:
    """Two same-size maps side by side, each at least ``min_side`` pixels a side, labelled."""
    z = max(1, -(-min_side // min(a.shape[-2:])))
    return stack([titled(_tile(x, z), lab, size=font_size) for x, lab in zip((a, b), labels,
                                                                               strict=True)], gap=GAP)


@torch.no_grad()
def crop_panels(net: nn.Module, crop: dict, error_gain: float = 8.0, min_side: int = MIN_SIDE,
                font_size: int = 16) -> dict[str, Image.Image]:
    """One image per method for one crop (:func:`centre_crop` plus its ``detail`` box), keyed
    in reading order: ``1_HR``, ``2_srnet``, ``3_bicubic``, ``4_bilinear``, ``5_LR`` (nearest
    enlarged), each with the zoomed box (:func:`method_image`), and ``6_errors``:
    ``error_gain`` x |SR - HR| on luma for srnet and bicubic (:func:`pair_image`)."""
    s, device = net.cfg.scale, next(net.parameters()).device
    lr_ctx = crop["lr_ctx"].to(device)  # (1, 3, h + context, w + context)
    top, left, h, w = crop["box"]

    def cut(img: Tensor) -> Tensor:
        return img[..., s * top : s * (top + h), s * left : s * (left + w)].cpu()

    hr = crop["hr"]
    ups = {m: cut(upscale(lr_ctx, s, m)) for m in ("nearest", "bilinear", "bicubic")}
    full = {"HR": hr, "srnet": cut(super_resolve(net, lr_ctx)), "bicubic": ups["bicubic"],
            "bilinear": ups["bilinear"], "LR": ups["nearest"]}
    out = {f"{i}_{k}": method_image(img, crop["detail"], "LR (nearest)" if k == "LR" else k,
                                    min_side, font_size)
           for i, (k, img) in enumerate(full.items(), 1)}
    errs = [(rgb_to_y(full[k]) - rgb_to_y(hr)).abs().mul(error_gain) for k in ("srnet", "bicubic")]
    out["6_errors"] = pair_image(*errs, (f"|srnet - HR| x{error_gain:g}",
                                         f"|bicubic - HR| x{error_gain:g}"), min_side, font_size)
    return out
