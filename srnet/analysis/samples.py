"""Validation images as (LR, HR) tensors, and fixed crops of them, for the inspector's figures."""

from __future__ import annotations

from torch import Tensor

from srnet.ops.degrader import Degrader, seeded


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
