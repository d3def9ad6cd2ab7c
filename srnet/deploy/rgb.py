"""The colour path of a deployed network, computed at LR resolution in phase space.

:func:`srnet.infer.upscaler.merge_y` enlarges the LR RGB by bicubic interpolation, converts it to
YCbCr, swaps in the network's Y and converts back, all on full-size images. Here the same result
is formed from the network's *phases* (its tail output before pixel shuffle, (N, s*s, H, W)):

    RGB(sH, sW) = 255/219 * (Y - 16/255) + bicubic_s(chroma(LR))

where ``chroma`` is the Cb/Cr part of the YCbCr -> RGB conversion applied to the LR image (a 3x3
colour matrix; bicubic interpolation commutes with it because its weights sum to 1), computed as
one small convolution at LR resolution (:class:`srnet.deploy.bicubic.PhaseBicubic`) whose s*s*3
output channels line up with the network's phases: one add, one clamp, one write into the
output (uint8 / 16-bit rounded in the same pass, or float). Grey images (R = G = B) have no
chroma: their output is the Y term alone. Alpha is enlarged by the same bicubic convolution.

The one difference from ``merge_y``: the enlarged RGB is not clamped to [0, 1] before the colour
conversion (it is clamped at the end). Tests bound the effect (tests/deploy/test_deploy.py).
"""

from __future__ import annotations

from functools import partial

import torch
from torch import Tensor

from srnet.deploy.bicubic import PhaseBicubic
from srnet.deploy.ops import FastConv
from srnet.ops.color import CB_ROW, CR_ROW, Y_ROW, rgb_to_y

HEAD_BYTES = 1 << 22  # size of one band of the colour head's output (rows chosen to fit)
CL = torch.channels_last
TOPS = {torch.uint8: 255.0, torch.int32: 65535.0, torch.float32: 1.0}  # output dtype -> range


def chroma_matrices() -> tuple[Tensor, Tensor]:
    """(RGB -> centred Cb/Cr (2, 3), centred Cb/Cr -> their part of the RGB (3, 2)), float64.

    Their product maps LR RGB to the chroma part of the reconstructed RGB (offsets cancel).
    """
    m = torch.tensor([Y_ROW, CB_ROW, CR_ROW], dtype=torch.float64)
    return m[1:], torch.linalg.inv(m)[:, 1:]


class ColourHead:
    """Network phases (+ the LR image) -> output rows in [0, top], for one kind of call.

    Args:
        scale: s.
        y_model: the network sees Y (True) or RGB (False).
        colours: 3 (RGB in and out) or 1 (grey in and out).
        phase_channels: channels K of the network's phase output (extra ones are ignored).
        top: 255 / 65535 for rounded integer output (0.5 is added: the write truncates), 1 for
            float output.
    """

    def __init__(self, scale: int, y_model: bool, colours: int, phase_channels: int, top: float,
                 device: torch.device | str = "cpu") -> None:
        s, k = scale, scale * scale
        self.scale, self.top, self.colours, self.y_model = s, top, colours, y_model
        self.half = 0.5 if top > 1 else 0.0
        self.chroma = None
        if y_model:
            gain = top * 255.0 / 219.0
            y_w = torch.zeros(k, colours, phase_channels)  # phase p of Y -> (p, colour)
            y_w[torch.arange(k), :, torch.arange(k)] = gain
            y_b = torch.full((colours * k,), self.half - gain * 16.0 / 255.0)
            self.y_conv = FastConv(y_w.reshape(colours * k, phase_channels, 1, 1).to(device),
                                   y_b.to(device), (0, 0))
            if colours == 3:
                to_cbcr, mix = chroma_matrices()
                self.chroma = PhaseBicubic(s, to_cbcr, mix * top, device)

    def __call__(self, phases: Tensor, lr: Tensor, r0: int, r1: int, top: int = 0,
                 height: int | None = None) -> Tensor:
        """Phases (1, K, r1 - r0, W) of rows [r0, r1) + the LR image (1, C, H, W), or rows
        [top, top + rows) of it with ``height`` (2 rows of context around [r0, r1) suffice)
        -> those rows of the output, (r1 - r0, W, s, s, colours) float, clamped."""
        s, c, (rows, w) = self.scale, self.colours, phases.shape[-2:]
        if self.y_model:
            phases = phases.float().contiguous(memory_format=CL)
            if self.chroma is None:
                out = self.y_conv(phases)
            else:  # out = chroma + the 1x1 conv of the phases (in place)
                out = self.y_conv.add_into(self.chroma(lr, r0, r1, top, height), phases)
            out = out.clamp_(0, self.top).permute(0, 2, 3, 1)  # (1, rows, W, s*s*c)
            return out.view(rows, w, s, s, c)
        rgb = phases[:, :3 * s * s].float().view(3, s, s, rows, w).permute(3, 4, 1, 2, 0)
        if c == 1:  # grey through an RGB model: R = G = B in, the mean of the clamped colours out
            rgb = rgb.clamp(0, 1).mean(4, keepdim=True)
        return rgb.mul(self.top).add_(self.half).clamp_(0, self.top)


class AlphaHead:
    """Alpha (1, 1, H, W) in [0, 1] -> rows of bicubic_s(alpha) in [0, top], like the colour."""

    def __init__(self, scale: int, top: float, device: torch.device | str = "cpu") -> None:
        self.scale, self.top, self.half = scale, top, 0.5 if top > 1 else 0.0
        self.bicubic = PhaseBicubic(scale, None, torch.full((1, 1), top), device)

    def __call__(self, alpha: Tensor, r0: int, r1: int, top: int = 0,
                 height: int | None = None) -> Tensor:
        """-> (r1 - r0, W, s, s, 1) float (``top``, ``height``: as for :class:`ColourHead`)."""
        out = self.bicubic(alpha, r0, r1, top, height).add_(self.half).clamp_(0, self.top)
        s = self.scale
        return out.permute(0, 2, 3, 1).reshape(r1 - r0, alpha.shape[-1], s, s, 1)


def write_rows(out: Tensor, vals: Tensor, q0: int, q1: int, ch0: int = 0) -> None:
    """Output of LR rows [q0, q1), (rows, W, ry, rx, c), into one image: (sH, sW, C) integer
    (channels ch0..ch0+c; the copy truncates) or (C, sH, sW) float."""
    rows, w, s, _, c = vals.shape
    if out.dtype != torch.float32:
        dst = out[s * q0:s * q1].view(rows, s, w, s, out.shape[-1])
        dst[..., ch0:ch0 + c].copy_(vals.permute(0, 2, 1, 3, 4))
    else:
        out[ch0:ch0 + c, s * q0:s * q1].view(c, rows, s, w, s).copy_(vals.permute(4, 0, 2, 1, 3))


def head_for(deployed, colours: int, phase_channels: int, top: float) -> ColourHead:
    """The (cached) colour head of ``deployed`` for this kind of call."""
    key = ("colour", colours, phase_channels, top)
    if key not in deployed.heads:
        deployed.heads[key] = ColourHead(deployed.scale, deployed.channels == 1, colours,
                                         phase_channels, top, deployed.device)
    return deployed.heads[key]


def alpha_head_for(deployed, top: float) -> AlphaHead:
    if ("alpha", top) not in deployed.heads:
        deployed.heads[("alpha", top)] = AlphaHead(deployed.scale, top, deployed.device)
    return deployed.heads[("alpha", top)]


@torch.no_grad()
def upscale_into(deployed, lr: Tensor, out: Tensor, alpha: Tensor | None = None,
                 mode: str | None = None) -> Tensor:
    """SR of an LR batch through a :class:`srnet.deploy.engine.DeployedNet`, written into ``out``.

    Row parts of each image run on separate threads (``DeployedNet.map_parts``), each through
    the network (the banded engine) or a slice of the whole-batch network output (plain), then
    the colour head and the write into ``out``, band by band (in cache).

    Args:
        deployed: the deployed network (``y`` or ``rgb`` colour mode).
        lr: (N, C, H, W) float in [0, 1]: RGB (C = 3) or grey (C = 1).
        out: (N, sH, sW, C [+ 1 with alpha]) uint8 (0..255) or int32 (0..65535), rounded; or
            (N, C, sH, sW) float32 in [0, 1].
        alpha: (N, 1, H, W) float in [0, 1], enlarged by bicubic into the last channel of out.
        mode: one of ``srnet.deploy.engine.MODES``; default: :meth:`DeployedNet.choose`
            (measured once per shape class).
    """
    s, (n, c, h, w) = deployed.scale, lr.shape
    top = TOPS[out.dtype]
    lr = lr.float().to(deployed.device)
    rgb = lr.expand(-1, 3, -1, -1) if c == 1 else lr  # grey: R = G = B
    net_in = (rgb_to_y(rgb) if deployed.channels == 1 else rgb).contiguous(memory_format=CL)
    if mode is None:
        run = partial(upscale_into, deployed, lr, out, alpha)
        mode = deployed.choose(("colour", c, top, alpha is not None), lr, run)
    phases_all = deployed.forward_phases(net_in, "plain") if mode == "plain" else None
    step = max(8, HEAD_BYTES // (w * 12 * s * s))  # LR rows per band: stays in cache
    rows = deployed.intra_rows(w) if mode == "banded-intra" else None

    def part(i: int, r0: int, r1: int) -> None:
        if phases_all is not None:
            phases = phases_all[i:i + 1, :, r0:r1]
        else:  # (1, K, r1 - r0, W)
            phases = deployed.phase_rows(net_in, i, r0, r1, rows)
        head = head_for(deployed, c, phases.shape[1], top)
        for q0 in range(r0, r1, step):
            q1 = min(q0 + step, r1)
            write_rows(out[i], head(phases[:, :, q0 - r0:q1 - r0], lr[i:i + 1], q0, q1), q0, q1)
            if alpha is not None:
                vals = alpha_head_for(deployed, top)(alpha[i:i + 1].float(), q0, q1)
                write_rows(out[i], vals, q0, q1, c)

    deployed.map_parts(n, h, part, split=mode != "banded-intra")
    return out


def upscale_rgb(deployed, lr_rgb: Tensor, as_uint8: bool = False) -> Tensor:
    """RGB (N, 3, H, W) in [0, 1] -> (N, sH, sW, 3) uint8 (rounded) with ``as_uint8``, else
    (N, 3, sH, sW) float in [0, 1]; see :func:`upscale_into`."""
    s, (n, c, h, w) = deployed.scale, lr_rgb.shape
    dev = deployed.device
    if as_uint8:
        out = torch.empty(n, s * h, s * w, c, dtype=torch.uint8, device=dev)
    else:
        out = torch.empty(n, c, s * h, s * w, device=dev)
    return upscale_into(deployed, lr_rgb, out)
