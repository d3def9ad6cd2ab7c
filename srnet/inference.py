"""Running a trained network on images: colour handling and the whole-image forward pass.

``y`` models see luma only: the image is converted to YCbCr (BT.601), Y goes through the network
and Cb/Cr are enlarged by bicubic interpolation, then merged back. ``rgb`` models see RGB.
"""

from __future__ import annotations

import torch
from torch import Tensor, nn

from srnet.degradation import upscale
from srnet.metrics import rgb_to_y, rgb_to_ycbcr, ycbcr_to_rgb


def net_channels(net: nn.Module) -> int:
    return 1 if net.cfg.color_mode == "y" else 3


def to_net_space(rgb: Tensor, color_mode: str) -> Tensor:
    """RGB (N, 3, H, W) in [0, 1] -> what the network takes: Y (N, 1, H, W) or RGB unchanged."""
    return rgb_to_y(rgb) if color_mode == "y" else rgb


def merge_y(sr_y: Tensor, lr_rgb: Tensor, scale: int) -> Tensor:
    """Network luma (N, 1, sH, sW) + bicubic-enlarged chroma of LR (N, 3, H, W) -> RGB in [0, 1]."""
    cbcr = rgb_to_ycbcr(upscale(lr_rgb, scale, "bicubic"))[:, 1:]
    return ycbcr_to_rgb(torch.cat([sr_y, cbcr], 1)).clamp(0, 1)


@torch.no_grad()
def super_resolve(net: nn.Module, lr_rgb: Tensor) -> Tensor:
    """LR RGB (N, 3, H, W) in [0, 1] -> SR RGB (N, 3, sH, sW) in [0, 1] (clamped, not rounded)."""
    mode, scale = net.cfg.color_mode, net.cfg.scale
    out = net(to_net_space(lr_rgb, mode))
    return merge_y(out, lr_rgb, scale) if mode == "y" else out.clamp(0, 1)
