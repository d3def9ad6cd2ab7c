"""Closed-form fit of a transposed-convolution tail to fixed body features (ridge least squares).

In its sub-pixel form (:mod:`srnet.nets.subpixel`) the tail is, for every output phase, a linear
map of the body's features in a small LR window; the phases use disjoint taps of the
``ConvTranspose2d`` kernel, so each phase is an independent least-squares problem. One pass over
training patches accumulates the second moments of the unfolded features (shared by all phases:
each phase's normal matrix is a sub-block), then each phase is solved with a ridge penalty and
the solutions are written back into the transposed convolution's weight. The bias is shared by
the phases: it is the mean of the per-phase intercepts, and the weights are re-solved for it.

This is how a body trained at one scale starts another scale (the FSRCNN paper's reuse of the
body): fit the new tail in seconds, then fine-tune everything.
"""

from __future__ import annotations

from collections.abc import Iterable

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from srnet.nets.subpixel import gather_index


class TailMoments:
    """Running sums of unfolded features X (n, d*Ly*Lx) and targets Y (n, s*s*C), float64."""

    def __init__(self, deconv: nn.ConvTranspose2d) -> None:
        self.deconv = deconv
        kh, kw = deconv.kernel_size
        s = deconv.stride[0]
        self.index, self.py, self.px = gather_index(kh, kw, s, *deconv.padding)
        d, c = deconv.weight.shape[:2]
        n_x, n_y = d * self.py.length * self.px.length, c * s * s
        self.xx = torch.zeros(n_x, n_x, dtype=torch.float64)
        self.xy = torch.zeros(n_x, n_y, dtype=torch.float64)
        self.sx = torch.zeros(n_x, dtype=torch.float64)
        self.sy = torch.zeros(n_y, dtype=torch.float64)
        self.n = 0

    @torch.no_grad()
    def add(self, features: Tensor, target: Tensor) -> None:
        """features (N, d, H, W) of the body; target (N, C, s*H, s*W) the tail should output."""
        s, (h, w) = self.deconv.stride[0], features.shape[-2:]
        cols = F.unfold(features.float(), (self.py.length, self.px.length),
                        padding=(self.py.pad, self.px.pad))  # (N, d*Ly*Lx, Ho*Wo)
        ho, wo = h + 2 * self.py.pad - self.py.length + 1, w + 2 * self.px.pad - self.px.length + 1
        cols = cols.view(cols.shape[0], cols.shape[1], ho, wo)
        cols = cols[..., self.py.crop: self.py.crop + h, self.px.crop: self.px.crop + w]
        x = cols.permute(0, 2, 3, 1).reshape(-1, cols.shape[1])  # (n, d*Ly*Lx)
        y = F.pixel_unshuffle(target.float(), s)  # (N, C*s*s, H, W): channel c*s*s + phase
        y = y.permute(0, 2, 3, 1).reshape(-1, y.shape[1])  # (n, C*s*s)
        # One batch's products in float32 (fast), summed over batches in float64.
        self.xx += (x.T @ x).double()
        self.xy += (x.T @ y).double()
        self.sx += x.double().sum(0)
        self.sy += y.double().sum(0)
        self.n += x.shape[0]

    @torch.no_grad()
    def solve(self, ridge: float = 1e-4) -> tuple[Tensor, Tensor]:
        """(weight (d, C, kh, kw), bias (C,)) minimising the squared error + ridge * ||w||^2,
        with ridge relative to the mean feature energy."""
        if self.n == 0:
            raise ValueError("closed-form tail: no training patches were added")
        weight = torch.zeros_like(self.deconv.weight, dtype=torch.float64)
        d, c, kh, kw = weight.shape
        s, taps = self.deconv.stride[0], self.py.length * self.px.length
        xx, xy, mx, my = self.xx / self.n, self.xy / self.n, self.sx / self.n, self.sy / self.n
        lam = ridge * xx.diagonal().mean()
        plans = []
        for phase in range(s * s):
            flat = self.index[phase // s, phase % s].reshape(-1)  # (Ly*Lx,) kernel tap or kh*kw
            valid = (flat < kh * kw).nonzero().flatten()
            cols = (torch.arange(d)[:, None] * taps + valid[None, :]).reshape(-1)  # (d*|valid|,)
            a = xx[cols][:, cols] + lam * torch.eye(len(cols), dtype=torch.float64)
            centred = a - torch.outer(mx[cols], mx[cols])
            plans.append((phase, flat[valid], cols, a, centred))
        intercepts = torch.zeros(c, s * s, dtype=torch.float64)
        for phase, _, cols, _, centred in plans:  # per-phase intercepts, centred fit
            for ch in range(c):
                j = ch * s * s + phase
                cov = xy[cols, j] - mx[cols] * my[j]
                wj = torch.linalg.solve(centred, cov)
                intercepts[ch, phase] = my[j] - mx[cols] @ wj
        bias = intercepts.mean(1)  # (C,) shared by the phases
        for phase, kernel_taps, cols, a, _ in plans:
            for ch in range(c):
                j = ch * s * s + phase
                wj = torch.linalg.solve(a, xy[cols, j] - bias[ch] * mx[cols])  # (d*|valid|,)
                weight.view(d, c, kh * kw)[:, ch, kernel_taps] = wj.view(d, -1)
        return weight, bias


@torch.no_grad()
def fit_tail(deconv: nn.ConvTranspose2d, pairs: Iterable[tuple[Tensor, Tensor]],
             ridge: float = 1e-4) -> int:
    """Fit ``deconv`` (in place) to (features, target) pairs; returns the LR pixels used."""
    moments = TailMoments(deconv)
    for features, target in pairs:
        moments.add(features, target)
    weight, bias = moments.solve(ridge)
    deconv.weight.copy_(weight.to(deconv.weight.dtype))
    if deconv.bias is not None:
        deconv.bias.copy_(bias.to(deconv.bias.dtype))
    return moments.n
