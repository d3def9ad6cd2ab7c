"""The colour path of a deployed ``y`` model, computed at LR resolution in phase space.

:func:`srnet.infer.upscaler.merge_y` enlarges the LR RGB by bicubic interpolation, converts it to YCbCr,
swaps in the network's Y and converts back, all on full-size images. Here the same result is
formed from the network's *phases* (its tail output before pixel shuffle, (N, s*s, H, W)):

    RGB(sH, sW) = 255/219 * (Y - 16/255) + bicubic_s(chroma(LR))

where ``chroma`` is the Cb/Cr part of the YCbCr -> RGB conversion applied to the LR image (a 3x3
colour matrix; bicubic interpolation commutes with it because its weights sum to 1). Bicubic
enlargement by an integer factor is itself a convolution per output phase, so it is one small
convolution at LR resolution whose s*s*3 output channels line up with the network's phases: one
add, one clamp, one pixel shuffle. The weights are PyTorch's antialiased bicubic (a = -0.5,
``srnet.ops.degradation.upscale``), renormalised on the two border rows/columns exactly as it does.

The one difference from ``merge_y``: the enlarged RGB is not clamped to [0, 1] before the colour
conversion (it is clamped at the end). Tests bound the effect (tests/test_deploy.py).
"""

from __future__ import annotations

import functools

import torch
import torch.nn.functional as F
from torch import Tensor

from srnet.ops.color import CB_ROW, CR_ROW, Y_ROW, rgb_to_y

TAPS = 5  # LR taps per axis covering the bicubic support (radius 2) of every phase
HEAD_BYTES = 1 << 22  # size of one band of the colour head's output (rows chosen to fit)


def cubic(x: Tensor, a: float = -0.5) -> Tensor:
    """Keys' cubic convolution kernel (PyTorch's antialiased bicubic uses a = -0.5)."""
    x = x.abs()
    inner = ((a + 2) * x - (a + 3)) * x * x + 1
    outer = (((x - 5) * x + 8) * x - 4) * a
    return torch.where(x <= 1, inner, torch.where(x < 2, outer, torch.zeros_like(x)))


def phase_weights(scale: int) -> Tensor:
    """(s, TAPS) float64: weight of LR offset t - 2 for output phase r, each row summing to 1."""
    r = torch.arange(scale, dtype=torch.float64)[:, None]
    t = torch.arange(TAPS, dtype=torch.float64)[None, :] - TAPS // 2
    w = cubic(t - ((r + 0.5) / scale - 0.5))
    return w / w.sum(1, keepdim=True)


@functools.lru_cache(maxsize=64)
def border_gain(scale: int, size: int) -> tuple[Tensor, list[int]]:
    """((min(size, 4), s) float32 gains, rows): 1 / (sum of in-image weights) per phase for
    rows 0, 1, size-2, size-1 (fewer when ``size`` < 4). Cached: do not modify."""
    w = phase_weights(scale)  # (s, TAPS)
    rows = sorted({0, 1, size - 2, size - 1} & set(range(size)))
    t = torch.arange(TAPS) - TAPS // 2
    gains = [1 / w[:, ((q + t) >= 0) & ((q + t) < size)].sum(1) for q in rows]
    return torch.stack(gains).float(), rows


def _chroma_matrices() -> tuple[Tensor, Tensor]:
    """(RGB -> centred Cb/Cr (2, 3), centred Cb/Cr -> their part of the RGB (3, 2)).

    Their product maps LR RGB to the chroma part of the reconstructed RGB (offsets cancel).
    """
    m = torch.tensor([Y_ROW, CB_ROW, CR_ROW], dtype=torch.float64)
    return m[1:], torch.linalg.inv(m)[:, 1:]


def _mkldnn() -> bool:
    return torch.backends.mkldnn.is_available() and hasattr(torch.ops.mkldnn,
                                                            "_convolution_pointwise_")


def _prepack(w: Tensor, pad: int) -> Tensor:
    return torch._C._nn.mkldnn_reorder_conv2d_weight(w.to_mkldnn(), [pad, pad], [1, 1], [1, 1],
                                                     1, [1, w.shape[1], 64, 256])


class RGBHead:
    """Network phases + LR RGB -> SR RGB, for one scale and output range (see module docstring).

    Output channels are ordered (ry, rx, colour), so the final pixel shuffle into (sH, sW, 3)
    copies runs of s*3 contiguous values.

    Args:
        scale: s.
        phase_channels: channels of the network's phase output (>= s*s; extra ones are ignored).
        top: 255 for rounded uint8 output, 1 for float output.
    """

    def __init__(self, scale: int, phase_channels: int, top: float,
                 device: torch.device | str = "cpu") -> None:
        s, k = scale, scale * scale
        self.scale, self.top = s, top
        self.y_gain = top * 255.0 / 219.0
        self.offset = (0.5 if top == 255.0 else 0.0) - self.y_gain * 16.0 / 255.0
        w = phase_weights(s)
        k2 = w[:, None, :, None] * w[None, :, None, :]  # (ry, rx, TAPS, TAPS)
        to_cbcr, mix = _chroma_matrices()
        self.to_cbcr = to_cbcr.float()  # (2, 3)
        mix = mix * top  # (3 out, 2 in)
        chroma = k2[:, :, None, None] * mix[None, None, :, :, None, None]  # (ry, rx, 3, 2, T, T)
        self.chroma_w = chroma.reshape(3 * k, 2, TAPS, TAPS).float()
        self.y_b = torch.full((3 * k,), self.offset)  # added with Y, after the border fix
        y_w = torch.zeros(k, 3, phase_channels)  # phase p of Y -> (p, colour) of the output
        y_w[torch.arange(k), :, torch.arange(k)] = self.y_gain
        self.y_w = y_w.reshape(3 * k, phase_channels, 1, 1)
        self.chroma_w = self.chroma_w.contiguous(memory_format=torch.channels_last)
        self.y_w = self.y_w.contiguous(memory_format=torch.channels_last)
        for name in ("to_cbcr", "chroma_w", "y_w", "y_b"):
            setattr(self, name, getattr(self, name).to(device))
        self.packed = None
        if _mkldnn() and torch.device(device).type == "cpu":
            self.packed = (_prepack(self.chroma_w, TAPS // 2), _prepack(self.y_w, 0))

    def chroma(self, lr_rgb: Tensor, r0: int, r1: int) -> Tensor:
        """Rows [r0, r1) of top * bicubic chroma, (1, 3*s*s, r1 - r0, W) channels_last.

        ``lr_rgb`` is the whole image (1, 3, H, W); the conv reads 2 rows of context either side.
        """
        h, w = lr_rgb.shape[-2:]
        a, b = max(r0 - TAPS // 2, 0), min(r1 + TAPS // 2, h)
        x = torch.einsum("cj,njhw->nchw", self.to_cbcr, lr_rgb[:, :, a:b].float())  # Cb, Cr
        x = x.contiguous(memory_format=torch.channels_last)  # (1, 2, rows + context, W)
        pad = [TAPS // 2] * 2
        if self.packed is not None:
            out = torch.ops.mkldnn._convolution_pointwise(x, self.packed[0], None, pad,
                                                          [1, 1], [1, 1], 1, "none", [None], "")
        else:
            out = F.conv2d(x, self.chroma_w, padding=pad)
        out = out[:, :, r0 - a:r1 - a]
        s = self.scale
        view = out.view(1, s, s, 3, r1 - r0, w)  # (1, ry, rx, colour, rows, W)
        gains, rows = border_gain(s, h)  # rows: one op per border row in this band
        for g, q in zip(gains.to(out.device), rows, strict=True):
            if r0 <= q < r1:
                view.narrow(4, q - r0, 1).mul_(g.view(1, s, 1, 1, 1, 1))
        gains, cols = border_gain(s, w)  # columns: the two first and the two last at once
        gains = gains.t().reshape(1, 1, s, 1, 1, len(cols)).to(out.device)
        if w >= 4:
            view.narrow(5, 0, 2).mul_(gains[..., :2])
            view.narrow(5, w - 2, 2).mul_(gains[..., 2:])
        else:
            for j, q in enumerate(cols):
                view.narrow(5, q, 1).mul_(gains[..., j:j + 1])
        return out

    def __call__(self, phases: Tensor, lr_rgb: Tensor, r0: int, r1: int) -> Tensor:
        """Y phases (1, K, r1 - r0, W) of rows [r0, r1) + the LR RGB (1, 3, H, W)
        -> clamped RGB of those rows, (1, r1 - r0, W, s, s, 3) float."""
        out = self.chroma(lr_rgb, r0, r1)
        phases = phases.float().contiguous(memory_format=torch.channels_last)
        if self.packed is not None:  # out += 1x1 conv of the phases, in place
            torch.ops.mkldnn._convolution_pointwise_.binary(
                out, phases, self.packed[1], self.y_b, [0, 0], [1, 1], [1, 1], 1, "add", 1.0,
                None, [], None)
        else:
            out.add_(F.conv2d(phases, self.y_w, self.y_b))
        n, _, h, w = out.shape
        s = self.scale
        return out.clamp_(0, self.top).permute(0, 2, 3, 1).view(n, h, w, s, s, 3)


@torch.no_grad()
def upscale_rgb(deployed, lr_rgb: Tensor, as_uint8: bool = False) -> Tensor:
    """SR of an LR RGB batch through a :class:`srnet.deploy.engine.DeployedNet`.

    Row parts of each image run on separate threads (``DeployedNet.map_parts``), each through
    the network, the colour head and the final rearrangement into the output.

    Args:
        deployed: the deployed network (``y`` or ``rgb`` colour mode).
        lr_rgb: (N, 3, H, W) float in [0, 1], RGB.
        as_uint8: return (N, sH, sW, 3) uint8 (rounded) instead of (N, 3, sH, sW) float in [0, 1].
    """
    s = deployed.scale
    n, _, h, w = lr_rgb.shape
    top = 255.0 if as_uint8 else 1.0
    lr_rgb = lr_rgb.float().to(deployed.device)
    if as_uint8:
        out = torch.empty(n, s * h, s * w, 3, dtype=torch.uint8, device=lr_rgb.device)
    else:
        out = torch.empty(n, 3, s * h, s * w, device=lr_rgb.device)
    net_in = rgb_to_y(lr_rgb) if deployed.channels == 1 else lr_rgb
    net_in = net_in.contiguous(memory_format=torch.channels_last)
    whole = deployed.banded is None or torch.is_autocast_enabled(deployed.device.type)
    phases_all = deployed.forward_phases(net_in) if whole else None

    def part(i: int, r0: int, r1: int) -> None:
        if phases_all is not None:
            phases = phases_all[i:i + 1, :, r0:r1]
        else:
            phases = deployed.banded.rows(net_in, i, r0, r1)  # (1, K, r1 - r0, W)
        step = max(8, HEAD_BYTES // (w * 12 * s * s))  # LR rows per band: stays in cache
        for q0 in range(r0, r1, step):
            q1 = min(q0 + step, r1)
            band = phases[:, :, q0 - r0:q1 - r0]
            if deployed.channels == 1:
                rgb = _head(deployed, top, band.shape[1])(band, lr_rgb[i:i + 1], q0, q1)
            else:  # RGB phases are ordered (colour, ry, rx)
                rgb = band[:, :3 * s * s].float().mul(top).clamp_(0, top)
                rgb = rgb.view(1, 3, s, s, q1 - q0, w).permute(0, 4, 5, 2, 3, 1)
            _write(out[i], rgb[0], q0, q1, as_uint8, deployed.channels == 3)

    deployed.map_parts(n, h, part)
    return out


def _write(out: Tensor, rgb: Tensor, q0: int, q1: int, as_uint8: bool, add_half: bool) -> None:
    """RGB of LR rows [q0, q1), (rows, W, ry, rx, 3) in [0, top], into one output image."""
    rows, w, s = q1 - q0, rgb.shape[1], rgb.shape[2]
    if as_uint8:  # out (sH, sW, 3): +0.5 (the y head adds it itself), then truncation rounds
        src = rgb + 0.5 if add_half else rgb
        out[s * q0:s * q1].view(rows, s, w, s, 3).copy_(src.permute(0, 2, 1, 3, 4))
    else:  # out (3, sH, sW)
        out[:, s * q0:s * q1].view(3, rows, s, w, s).copy_(rgb.permute(4, 0, 2, 1, 3))


def _head(deployed, top: float, channels: int) -> RGBHead:
    heads = deployed.__dict__.setdefault("_rgb_heads", {})
    if (top, channels) not in heads:
        heads[(top, channels)] = RGBHead(deployed.scale, channels, top, deployed.device)
    return heads[(top, channels)]
