"""Colour conversion: ITU-R BT.601 studio-range YCbCr, as MATLAB's ``rgb2ycbcr`` (the SR papers').

Tensors are float (N, 3, H, W) RGB in [0, 1] unless the docstring says otherwise.
"""

from __future__ import annotations

import torch
from torch import Tensor

# BT.601 studio-range coefficients for inputs in [0, 1] (MATLAB's rgb2ycbcr), outputs in [0, 1].
Y_ROW = (65.481 / 255.0, 128.553 / 255.0, 24.966 / 255.0)
CB_ROW = (-37.797 / 255.0, -74.203 / 255.0, 112.0 / 255.0)
CR_ROW = (112.0 / 255.0, -93.786 / 255.0, -18.214 / 255.0)
OFFSET = (16.0 / 255.0, 128.0 / 255.0, 128.0 / 255.0)


def _matrix(dtype: torch.dtype, device: torch.device) -> tuple[Tensor, Tensor]:
    m = torch.tensor([Y_ROW, CB_ROW, CR_ROW], dtype=dtype, device=device)  # (3, 3) rows Y, Cb, Cr
    off = torch.tensor(OFFSET, dtype=dtype, device=device).view(1, 3, 1, 1)
    return m, off


def rgb_to_ycbcr(rgb: Tensor) -> Tensor:
    """RGB (N, 3, H, W) in [0, 1] -> YCbCr (N, 3, H, W), Y in [16/255, 235/255]."""
    m, off = _matrix(rgb.dtype, rgb.device)
    return torch.einsum("ij,njhw->nihw", m, rgb) + off


def ycbcr_to_rgb(ycc: Tensor) -> Tensor:
    """Inverse of :func:`rgb_to_ycbcr` (no clamping)."""
    m, off = _matrix(ycc.dtype, ycc.device)
    return torch.einsum("ij,njhw->nihw", torch.linalg.inv(m), ycc - off)


def rgb_to_y(rgb: Tensor) -> Tensor:
    """RGB (N, 3, H, W) in [0, 1] -> luma Y (N, 1, H, W) in [16/255, 235/255].

    A one-channel input is taken to be Y already and returned unchanged.
    """
    if rgb.shape[1] == 1:
        return rgb
    w = torch.tensor(Y_ROW, dtype=rgb.dtype, device=rgb.device).view(1, 3, 1, 1)
    return (rgb * w).sum(1, keepdim=True) + OFFSET[0]


def to_net_space(rgb: Tensor, color_mode: str) -> Tensor:
    """RGB (N, 3, H, W) in [0, 1] -> what a network takes: Y (N, 1, H, W) (``color_mode="y"``)
    or RGB unchanged (``"rgb"``)."""
    return rgb_to_y(rgb) if color_mode == "y" else rgb

