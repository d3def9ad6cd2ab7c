"""32-bit float pictures (float TIFF) through the network, values unclamped.

:meth:`srnet.infer.upscaler.Upscaler.upscale_picture` works on 8/16-bit levels and clamps to
[0, 1]; a float picture (linear light, HDR, scientific data) keeps values below 0 and above 1.
The same colour path is used: ``y`` models get BT.601 luma with bicubic chroma, ``rgb`` models
RGB, grey goes through as R = G = B and comes back grey; alpha is enlarged by bicubic. Nothing
is clamped or rounded, and tiles are run as for any picture (``model.tiler``).
"""

from __future__ import annotations

import numpy as np
import torch
from torch import Tensor

from srnet.infer.upscaler import Upscaler
from srnet.io.pictures import Picture
from srnet.ops.color import rgb_to_ycbcr, to_net_space, ycbcr_to_rgb
from srnet.ops.resize import enlarge


def float_fn(model: Upscaler, x: Tensor) -> Tensor:
    """(N, 1 | 3, h, w) float on the device -> (N, 1 | 3, sh, sw), unclamped."""
    grey = x.shape[1] == 1
    rgb = x.expand(-1, 3, -1, -1) if grey else x
    out = model.run_net(to_net_space(rgb, model.color_mode))
    if model.color_mode == "y":
        cbcr = rgb_to_ycbcr(enlarge(rgb, model.scale, "bicubic", clamp=False))[:, 1:]
        out = ycbcr_to_rgb(torch.cat([out, cbcr], 1))
    return out.mean(1, keepdim=True) if grey else out


def upscale_float(model: Upscaler, pic: Picture) -> Picture:
    """A float32 :class:`Picture` -> float32 at ``model.scale`` x the size, values unclamped."""
    if not pic.is_float:
        raise ValueError(f"upscale_float takes a float32 picture, not {pic.describe()}")
    s = model.scale
    colour = model.tiler.run(lambda t: float_fn(model, t), pic.color_tensor(), s, model.halo)
    alpha = None
    if pic.alpha is not None:
        a = model.tiler.run(lambda t: enlarge(t, s, "bicubic", clamp=False), pic.alpha_tensor(),
                            s, 3)
        alpha = a[0, 0].numpy().astype(np.float32)
    return Picture(colour[0].permute(1, 2, 0).numpy().astype(np.float32), alpha, pic.icc_profile)
