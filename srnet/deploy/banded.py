"""Running FSRCNN on the CPU band by band: every layer over a few rows at a time.

The image goes through all layers in bands of rows (a wavefront): stage i produces its next band
as soon as stage i-1 has produced the rows it needs, and keeps only the few rows the next stage
still has to read. Activations stay in cache, and no full-image 56-channel buffer (50 MB at
640x360) is allocated and page-faulted per layer. Convolutions run in oneDNN with pre-packed
weights on channels_last tensors (:class:`srnet.deploy.ops.FastConv`: public ``F.conv2d`` where the
private oneDNN ops are off or missing). A *stage* is the 1x1 layers read on the way in (the expanding
layer before the tail, recomputed on the halo rows instead of stored), one k x k convolution
with zero rows added at the image border only, and the 1x1 layers after it (the shrinking layer).

:meth:`BandedNet.rows` computes output rows [r0, r1) of one image from its input rows widened by
the network's reach, so parts of an image can run on separate threads (``srnet.deploy.engine``).
"""

from __future__ import annotations

from collections.abc import Callable

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from srnet.deploy.ops import FastConv
from srnet.nets.reparam import PhaseConvTail, pack_columns

CL = torch.channels_last


class Conv:
    """One convolution (+ optional PReLU) on channels_last CPU tensors (:class:`FastConv`)."""

    def __init__(self, conv: nn.Conv2d, prelu: nn.PReLU | None, group: int = 1) -> None:
        self.group = group
        conv = pack_columns(conv, group)
        self.fast = FastConv(conv.weight, conv.bias, conv.padding)
        self.weight, self.pad = self.fast.weight, self.fast.pad
        self.prelu = None if prelu is None else prelu.weight.detach().float()

    def __call__(self, x: Tensor, pad_h: int) -> Tensor:
        """x (1, C, rows, W) channels_last -> (1, C', rows + 2*pad_h - kh + 1, W)."""
        return self.act(self.conv(x, pad_h))

    def act(self, y: Tensor) -> Tensor:
        return y if self.prelu is None else F.prelu(y, self.prelu)

    def name(self) -> str:
        co, ci, kh, kw = self.weight.shape
        g = self.group
        packed = f", {g} columns packed" if g > 1 else ""
        return f"conv {kh}x{kw} {ci // g}->{co // g}{packed}"

    def conv(self, x: Tensor, pad_h: int) -> Tensor:
        """The convolution alone."""
        n, c, h, w = x.shape
        g = self.group
        if g > 1:  # (1, C, h, W) -> (1, g*C, h, W/g): the same memory
            x = x.permute(0, 2, 3, 1).reshape(n, h, w // g, g * c).permute(0, 3, 1, 2)
        y = self.fast(x, pad_h)
        if g > 1:  # back to (1, C'/g, rows, W)
            y = y.permute(0, 2, 3, 1).reshape(n, y.shape[2], w, -1).permute(0, 3, 1, 2)
        return y


class SplitPReLU:
    """k x k conv -> PReLU(a) -> 1x1 conv, without a pass of PReLU over the wide activation.

    PReLU(u) = a*u + (1 - a)*relu(u), and the 1x1 conv W is linear, so
    W(PReLU(c(x))) = (W diag(a) c)(x) + (W diag(1 - a))(relu(c(x))). The first term is one k x k
    conv straight to W's few outputs (exact at the border too: both read the same zero-padded
    x), relu runs inside c's kernel, and the second 1x1 conv adds in place. Used for the first
    layer (5x5, 1 -> 56 -> PReLU -> 1x1 to 12), whose 56-channel PReLU was 15-20% of the time.
    Same interface as :class:`Conv` (``conv``, ``act``, ``name``, ``pad``, ``prelu``).
    """

    def __init__(self, first: Conv, second: Conv) -> None:
        a = first.prelu  # (C1,)
        w1, b1 = first.weight.float(), first.fast.bias  # (C1, C0, k, k), (C1,)
        w2 = second.weight.float()[:, :, 0, 0]  # (C2, C1)
        self.pad, self.prelu, self.first, self.second = first.pad, second.prelu, first, second
        w_lin = torch.einsum("oc,c,cikl->oikl", w2, a, w1)  # (C2, C0, k, k)
        b2 = second.fast.bias
        b_lin = b2.clone() if b2 is not None else torch.zeros(len(w2))
        if b1 is not None:
            b_lin += w2 @ (a * b1)
        self.relu_conv = FastConv(w1, b1, self.pad)
        self.lin = FastConv(w_lin, b_lin, self.pad)
        self.add = FastConv((w2 * (1 - a))[:, :, None, None], None, (0, 0))  # (C2, C1, 1, 1)

    def name(self) -> str:
        return f"{self.first.name()} + PReLU + {self.second.name()} (split, see SplitPReLU)"

    def act(self, y: Tensor) -> Tensor:
        return y if self.prelu is None else F.prelu(y, self.prelu)

    def conv(self, x: Tensor, pad_h: int) -> Tensor:
        r = self.relu_conv(x, pad_h, relu=True)
        return self.add.add_into(self.lin(x, pad_h), r)

    def __call__(self, x: Tensor, pad_h: int) -> Tensor:
        return self.act(self.conv(x, pad_h))


class Stage:
    """1x1 layers applied to the band as read, one k x k conv with row padding, 1x1 layers after."""

    def __init__(self, pre: list[Conv], conv: Conv, post: list[Conv]) -> None:
        self.pre, self.conv, self.post = pre, conv, post
        self.reach = conv.pad[0]  # rows of context needed on each side

    def split_prelu(self) -> None:
        """Use :class:`SplitPReLU` when a wide k x k layer is followed by a narrowing 1x1."""
        c, nxt = self.conv, self.post[0] if self.post else None
        if (nxt is not None and c.prelu is not None and c.group == nxt.group == 1
                and nxt.weight.shape[0] * 2 <= c.weight.shape[0]):
            self.conv, self.post = SplitPReLU(c, nxt), self.post[1:]

    def __call__(self, x: Tensor, pad_h: int) -> Tensor:
        for layer in self.pre:
            x = layer(x, 0)
        x = self.conv(x, pad_h)
        for layer in self.post:
            x = layer(x, 0)
        return x


def conv_prelu_pairs(seq: nn.Sequential) -> list[tuple[nn.Conv2d, nn.PReLU | None]]:
    mods, out = list(seq), []
    for i, m in enumerate(mods):
        if isinstance(m, nn.Conv2d):
            nxt = mods[i + 1] if i + 1 < len(mods) else None
            out.append((m, nxt if isinstance(nxt, nn.PReLU) else None))
        elif not isinstance(m, nn.PReLU):
            raise ValueError(f"banded: unsupported layer {type(m).__name__} in the body")
    return out


def widen_tail(conv: nn.Conv2d, width_ok: bool) -> tuple[nn.Conv2d, int]:
    """(conv, column group): few-output tails get 2 packed columns or zero output channels."""
    oc = conv.out_channels
    if oc % 8 == 0:
        return conv, 1
    if (2 * oc) % 8 == 0 and width_ok:
        return conv, 2
    wide = nn.Conv2d(conv.in_channels, -(-oc // 8) * 8, conv.kernel_size, padding=conv.padding)
    with torch.no_grad():
        wide.weight.zero_()
        wide.bias.zero_()
        wide.weight[:oc] = conv.weight
        if conv.bias is not None:
            wide.bias[:oc] = conv.bias
    return wide, 1


class BandedNet:
    """A reparameterised FSRCNN (conv + pixel-shuffle tail) as stages for band-wise execution.

    Args:
        net: FSRCNN whose tail is a :class:`PhaseConvTail` with a centred conv or a
            ``PixelShuffleTail`` (float32, CPU).
        band_rows: LR rows per band.
    """

    def __init__(self, net: nn.Module, band_rows: int = 32) -> None:
        self.band_rows = band_rows
        tail = net.tail.conv if isinstance(net.tail, PhaseConvTail) else net.tail[0]
        stages, pending = [], []
        for conv, prelu in conv_prelu_pairs(net.body):
            if conv.kernel_size == (1, 1) and stages and conv.out_channels <= conv.in_channels:
                stages[-1].post.append(Conv(conv, prelu))
            elif conv.kernel_size == (1, 1):
                pending.append(Conv(conv, prelu))
            else:
                stages.append(Stage(pending, Conv(conv, prelu), []))
                pending = []
        wide, self.tail_group = widen_tail(tail, True)
        self.tail_packed = Stage(pending, Conv(wide, None, self.tail_group), [])
        self.tail_plain = self.tail_packed  # for widths that are not a multiple of the group
        if self.tail_group > 1:
            self.tail_plain = Stage(pending, Conv(widen_tail(tail, False)[0], None), [])
        for st in stages:
            st.split_prelu()
        self.stages = stages
        self.reach = sum(st.reach for st in stages) + self.tail_packed.reach  # LR rows

    def rows(self, x: Tensor, i: int, r0: int, r1: int, band_rows: int | None = None) -> Tensor:
        """Tail output rows [r0, r1) of image ``i`` of x (N, C, H, W) -> (1, K, r1 - r0, W)."""
        a, b = max(r0 - self.reach, 0), min(r1 + self.reach, x.shape[2])
        return self.run(x[i:i + 1, :, a:b], band_rows)[:, :, r0 - a:r1 - a]

    def run(self, x: Tensor, band_rows: int | None = None) -> Tensor:
        """One image (1, C, H, W) channels_last -> tail output (1, K, H, W), band by band
        (``band_rows`` LR rows each; default ``self.band_rows``)."""
        outs: list[Tensor] = []
        self.stream(lambda a, b: x[:, :, a:b], x.shape[2], x.shape[3],
                    lambda y, r: outs.append(y), band_rows)
        return torch.cat(outs, 2) if len(outs) > 1 else outs[0]

    def stream(self, source: Callable[[int, int], Tensor], h: int, w: int,
               sink: Callable[[Tensor, int], None], band_rows: int | None = None) -> None:
        """The wavefront over one image of ``h`` x ``w`` whose input rows [a, b) come from
        ``source(a, b)`` ((1, C, b - a, W) channels_last, asked for a band at a time, so the
        whole input never has to exist); ``sink(y, r)`` receives each new band of tail output,
        rows [r, r + y.shape[2])."""
        rows_per_band = band_rows or self.band_rows
        tail = self.tail_packed if w % self.tail_group == 0 else self.tail_plain
        stages = [*self.stages, tail]
        pads = [st.reach for st in stages]
        ahead = [sum(pads[i + 1:]) for i in range(len(stages))]  # rows stage i runs ahead
        done, held, start = [0] * len(stages), [None] * len(stages), [0] * len(stages)
        step = 0
        while done[-1] < h:
            step += 1
            for i, st in enumerate(stages):
                target = min(h, step * rows_per_band + ahead[i])
                if target <= done[i]:
                    continue
                p = pads[i]
                a, b = max(done[i] - p, 0), min(target + p, h)  # input rows read
                pad_h = max(p - (done[i] - a), target + p - b)  # zero rows past the image
                s0 = start[i - 1]
                src = source(a, b) if i == 0 else held[i - 1][:, :, a - s0:b - s0]
                y = st(src, pad_h)
                first = done[i] - (a - pad_h + p)  # row of y holding output row done[i]
                y = y[:, :, first:first + target - done[i]]
                if i == len(stages) - 1:
                    sink(y, done[i])
                else:  # keep what the next stage still needs, then the new rows
                    keep = max(done[i + 1] - pads[i + 1], 0)
                    if done[i] > keep:
                        y = torch.cat([held[i][:, :, keep - start[i]:done[i] - start[i]], y], 2)
                    held[i], start[i] = y, min(keep, done[i])
                done[i] = target
