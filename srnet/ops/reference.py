"""The reference path: a network on whole images, colour merged at full size.

``y`` models see luma only: the image is converted to YCbCr (BT.601), Y goes through the network
and Cb/Cr are enlarged by bicubic interpolation, then merged back
(:func:`merge_y`). ``rgb`` models see RGB. Training's validation images use it;
the fast path (:func:`srnet.deploy.rgb.upscale_into`, what ``srnet.infer.upscaler.Upscaler`` runs)
is tested against it.
"""

from __future__ import annotations

from collections.abc import Callable

import torch
from torch import Tensor, nn

from srnet.ops.color import rgb_to_ycbcr, to_net_space, ycbcr_to_rgb
from srnet.ops.resize import enlarge


def merge_y(sr_y: Tensor, lr_rgb: Tensor, scale: int) -> Tensor:
    """Network luma (N, 1, sH, sW) + bicubic-enlarged chroma of LR (N, 3, H, W) -> RGB in [0, 1].

    The enlarged RGB is not clamped before the conversion (only the result is): the same values
    as the deployed colour path, which computes this at LR resolution (``srnet/deploy/rgb.py``).
    """
    cbcr = rgb_to_ycbcr(enlarge(lr_rgb, scale, "bicubic", clamp=False))[:, 1:]
    return ycbcr_to_rgb(torch.cat([sr_y, cbcr], 1)).clamp(0, 1)


def sr_from_rgb(lr_rgb: Tensor, run_net: Callable[[Tensor], Tensor], color_mode: str,
                scale: int) -> Tensor:
    """LR RGB (N, 3, H, W) in [0, 1] -> SR RGB (N, 3, sH, sW) in [0, 1] through ``run_net``."""
    out = run_net(to_net_space(lr_rgb, color_mode))  # (N, 1 or 3, sH, sW)
    return merge_y(out, lr_rgb, scale) if color_mode == "y" else out.clamp(0, 1)


@torch.no_grad()
def super_resolve(net: nn.Module, lr_rgb: Tensor) -> Tensor:
    """LR RGB (N, 3, H, W) in [0, 1] -> SR RGB (N, 3, sH, sW) in [0, 1] (clamped, not rounded)."""
    return sr_from_rgb(lr_rgb, net, net.cfg.color_mode, net.cfg.scale)
