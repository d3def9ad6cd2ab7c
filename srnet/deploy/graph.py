"""The whole RGB -> RGB upscaler as one graph of convolutions and pixel shuffles, for export.

``load_model(...).upscale`` runs a ``y`` network inside a colour path (:mod:`srnet.deploy.rgb`):
RGB -> BT.601 Y, the network, Cb/Cr enlarged by bicubic, merge. :class:`RGBGraph` is that same
computation written with the operators every runtime has (ONNX Runtime, OpenCV ``cv2.dnn``,
ncnn), so one exported file takes RGB and gives RGB:

    rgb (N, 3, H, W) in [0, 1]
      -> Y = 1x1 conv (BT.601 studio range)                         (y models only)
      -> network phases (N, C*s*s, H, W): body, tail as one conv, + skip (edge-padded 5x5 conv)
      -> + colour phases: 255/219 (Y - 16/255) per colour and phase (1x1 conv)
         + chroma: a 5x5 conv of the LR RGB (Cb/Cr -> their part of RGB, times the bicubic
           phase kernels), divided by the same conv of an all-ones image (the bicubic weights
           renormalised at the border, as PyTorch's antialiased bicubic and the fast path do)
      -> pixel shuffle by s -> clamp to [0, 1]                     (N, 3, s*H, s*W)

Every tail is rewritten exactly as one stride-1 convolution to s*s*C phases with symmetric
padding (no crop, so no size-dependent slicing in the graph): ``deconv`` and ``bed_of_nails`` by
:func:`srnet.nets.subpixel.phase_weight`, ``resize_conv`` by summing the nearest-neighbour taps,
``pixelshuffle`` as it is.
"""

from __future__ import annotations

import copy

import torch
from torch import Tensor, nn

from srnet.deploy.bicubic import phase_weights
from srnet.deploy.rgb import chroma_matrices
from srnet.nets.fsrcnn import FSRCNN
from srnet.nets.skip import RADIUS
from srnet.nets.subpixel import phase_weight
from srnet.nets.tails import BedOfNailsTail, DeconvTail, PixelShuffleTail, ResizeConvTail
from srnet.ops.color import OFFSET, Y_ROW


def _conv(weight: Tensor, bias: Tensor | None) -> nn.Conv2d:
    """A stride-1 ``Conv2d`` holding ``weight`` (odd square kernel, 'same' zero padding)."""
    c_out, c_in, k, _ = weight.shape
    conv = nn.Conv2d(c_in, c_out, k, padding=k // 2, bias=bias is not None)
    with torch.no_grad():
        conv.weight.copy_(weight)
        if bias is not None:
            conv.bias.copy_(bias)
    return conv


def centre(weight: Tensor, offsets: tuple[int, int]) -> Tensor:
    """Kernel (K, C, Ly, Lx) whose tap (i, j) reads the input at offset (offsets + (i, j)) from
    the output pixel -> the same map as an odd square kernel centred on the output pixel."""
    k, c, ly, lx = weight.shape
    (oy, ox) = offsets
    r = max(abs(oy), abs(oy + ly - 1), abs(ox), abs(ox + lx - 1))
    out = weight.new_zeros(k, c, 2 * r + 1, 2 * r + 1)
    out[:, :, oy + r:oy + r + ly, ox + r:ox + r + lx] = weight
    return out


def resize_conv_phases(conv: nn.Conv2d, s: int) -> Tensor:
    """Nearest x s then ``conv`` (odd kernel k, padding k // 2) as one LR conv to s*s*C phases.

    HR output s*q + r reads HR input s*q + r + t - k//2, i.e. LR pixel q + floor((r + t - k//2)
    / s); zero padding at HR is zero padding at LR. Returns a centred kernel (C*s*s, c_in, L, L).
    """
    w = conv.weight.detach().double()  # (C, c_in, k, k)
    c, c_in, k, _ = w.shape
    p = k // 2
    lo = (0 - p) // s
    span = (s - 1 + k - 1 - p) // s - lo + 1
    out = w.new_zeros(c, s, s, c_in, span, span)
    for ry in range(s):
        for rx in range(s):
            for ty in range(k):
                for tx in range(k):
                    dy, dx = (ry + ty - p) // s - lo, (rx + tx - p) // s - lo
                    out[:, ry, rx, :, dy, dx] += w[:, :, ty, tx]
    return centre(out.reshape(c * s * s, c_in, span, span), (lo, lo))


def shuffle_deconv(channels: int, s: int) -> nn.ConvTranspose2d:
    """``PixelShuffle(s)`` of (N, channels*s*s, H, W) as a grouped stride-s transposed
    convolution whose kernels are one-hot (each output pixel is one input value times 1).

    For OpenCV 4.8-4.10, whose importer cannot give ``DepthToSpace`` a dynamic input size
    (``scripts/export.py shuffle=deconv``; limits: :mod:`srnet.deploy.export`)."""
    deconv = nn.ConvTranspose2d(channels * s * s, channels, s, stride=s, groups=channels,
                                bias=False)
    with torch.no_grad():
        deconv.weight.zero_()  # (C*s*s, 1, s, s): input channel c*s*s + ry*s + rx
        for c in range(channels):
            for ry in range(s):
                for rx in range(s):
                    deconv.weight[c * s * s + ry * s + rx, 0, ry, rx] = 1.0
    return deconv


def tail_conv(tail: nn.Module, s: int) -> nn.Conv2d:
    """The tail as one 'same' convolution to its s*s*C output phases (channel c*s*s + phase)."""
    if isinstance(tail, PixelShuffleTail):
        return copy.deepcopy(tail[0])
    if isinstance(tail, ResizeConvTail):
        bias = tail.conv.bias.detach().repeat_interleave(s * s)
        return _conv(resize_conv_phases(tail.conv, s).float(), bias)
    if isinstance(tail, DeconvTail):
        weight, padding, bias = tail.deconv.weight, tail.deconv.padding, tail.deconv.bias
    elif isinstance(tail, BedOfNailsTail):  # a deconv with the flipped kernel
        weight = tail.conv.weight.flip(-2, -1).transpose(0, 1)
        padding, bias = tail.conv.padding, tail.conv.bias
    else:
        raise TypeError(f"cannot export a {type(tail).__name__} tail")
    w, pads, crop = phase_weight(weight.detach(), s, padding)  # reads x[q + crop + t - pad]
    w = centre(w, (crop[0] - pads[0], crop[1] - pads[1]))
    return _conv(w, None if bias is None else bias.detach().repeat_interleave(s * s))


class PhaseNet(nn.Module):
    """The network (N, C, H, W) -> its output phases (N, C*s*s, H, W), skip included."""

    def __init__(self, net: FSRCNN) -> None:
        super().__init__()
        s, c = net.cfg.scale, net.cfg.channels
        self.body = copy.deepcopy(net.body)
        self.tail = tail_conv(net.tail, s)
        self.skip = None
        if net.skip is not None:  # edge-replicated 5x5 phase conv, as srnet.nets.skip does
            self.pad = nn.ReplicationPad2d(RADIUS)
            self.skip = nn.Conv2d(c, c * s * s, 2 * RADIUS + 1, groups=c, bias=False)
            with torch.no_grad():
                self.skip.weight.copy_(net.skip.weight)

    def forward(self, x: Tensor) -> Tensor:
        y = self.tail(self.body(x))
        return y if self.skip is None else y + self.skip(self.pad(x))


class RGBGraph(nn.Module):
    """RGB (N, 3, H, W) in [0, 1] -> RGB (N, 3, sH, sW) in [0, 1], as ``Upscaler.upscale``
    computes it (before rounding); any colour mode, any tail. See the module docstring.

    ``shuffle``: ``pixel`` (``nn.PixelShuffle``; ONNX ``DepthToSpace``) or ``deconv``
    (:func:`shuffle_deconv`, for OpenCV 4.8-4.10).
    """

    def __init__(self, net: FSRCNN, shuffle: str = "pixel") -> None:
        super().__init__()
        net = copy.deepcopy(net).cpu().float().eval()  # the caller's network stays as it is
        s, self.scale, self.y_model = net.cfg.scale, net.cfg.scale, net.cfg.color_mode == "y"
        self.net = PhaseNet(net)
        if shuffle not in ("pixel", "deconv"):
            raise ValueError(f"shuffle={shuffle!r}: choose 'pixel' or 'deconv'")
        self.shuffle = nn.PixelShuffle(s) if shuffle == "pixel" else shuffle_deconv(3, s)
        if not self.y_model:
            return
        self.to_y = _conv(torch.tensor(Y_ROW).view(1, 3, 1, 1), torch.tensor(OFFSET[:1]))
        gain = 255.0 / 219.0  # Y (studio range) -> its part of each of R, G, B
        eye = torch.eye(s * s).repeat(3, 1) * gain  # colour o, phase p <- Y phase p
        self.merge_y = _conv(eye[:, :, None, None], torch.full((3 * s * s,), -gain * OFFSET[0]))
        to_cbcr, mix = chroma_matrices()
        taps = phase_weights(s)  # (s, 5) float64, rows sum to 1
        k2 = (taps[:, None, :, None] * taps[None, :, None, :]).reshape(s * s, 1, 5, 5)
        colour = mix @ to_cbcr  # (3, 3): LR RGB -> the chroma part of the output RGB
        chroma = colour[:, None, :, None, None] * k2[None]  # (o, phase, i, 5, 5)
        self.chroma = _conv(chroma.reshape(3 * s * s, 3, 5, 5).float(), None)
        self.ones = _conv(torch.zeros(1, 3, 1, 1), torch.ones(1))  # an all-ones image
        self.norm = _conv(k2.repeat(3, 1, 1, 1).float(), None)  # in-image bicubic weight

    def forward(self, rgb: Tensor) -> Tensor:
        if not self.y_model:
            return self.shuffle(self.net(rgb)).clamp(0, 1)
        phases = self.merge_y(self.net(self.to_y(rgb)))
        phases = phases + self.chroma(rgb) / self.norm(self.ones(rgb))
        return self.shuffle(phases).clamp(0, 1)


@torch.no_grad()
def rgb_graph(net: FSRCNN, shuffle: str = "pixel") -> RGBGraph:
    """:class:`RGBGraph` of ``net`` in eval mode, float32 on the CPU; ``shuffle`` as there."""
    return RGBGraph(net, shuffle).eval()
