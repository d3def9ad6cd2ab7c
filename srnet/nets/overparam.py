"""Training-time over-parameterisation that collapses exactly into the same plain network.

Every k x k convolution of the body (k > 1: FSRCNN's 5x5 head and 3x3 mapping layers) is trained
as a sum of branches, each with a learnable per-output-channel scale, merged into one k x k kernel
at every forward (so a step runs the same single convolution):

    W = g_k * W_k + g_(k-2) * pad(W_(k-2)) + ... + g_1 * pad(W_1) [+ g_id * I]

``I`` (the identity, centre tap) is a branch only where the layer maps c channels to c. The scales
make each branch a product of two factors, which changes how gradient steps move the kernel (the
point of the exercise) without changing what the network can compute. Implemented with
``torch.nn.utils.parametrize``: the conv's ``weight`` stays a tensor of the plain shape, its
stored parts are ``<conv>.parametrizations.weight.original{0..n}``, and :func:`collapse_state`
turns a state dict with such parts back into the plain network's (checkpoint readers use it, so
exported weights, ``infer.py`` and the deploy rewrite only ever see plain FSRCNN).

Starting from a plain kernel (fresh or ``init_from``) the branches are set so that the merged
kernel is that kernel: ``W_k`` = it, smaller branches zero, their scales one, identity scale zero.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import Tensor, nn
from torch.nn.utils import parametrize

PART = ".parametrizations.weight.original"


def merge(parts: list[Tensor] | tuple[Tensor, ...]) -> Tensor:
    """Merged kernel from ``[W_k, W_(k-2), ..., W_1, scales]``.

    ``scales`` is (branches [+1 for the identity], c_out); the identity is present when it has
    one row more than there are kernels."""
    *kernels, scales = parts
    c_out, c_in, k, _ = kernels[0].shape  # (c_out, c_in, k, k)
    w = sum(g[:, None, None, None] * F.pad(w_j, [(k - w_j.shape[-1]) // 2] * 4)
            for g, w_j in zip(scales[:len(kernels)], kernels, strict=True))
    if scales.shape[0] == len(kernels) + 1:  # identity branch: g_id on the centre tap of c -> c
        eye = torch.zeros_like(kernels[0])
        idx = torch.arange(c_out, device=eye.device)
        eye[idx, idx, k // 2, k // 2] = 1.0
        w = w + scales[-1][:, None, None, None] * eye
    return w


class Branches(nn.Module):
    """The parametrisation of one conv weight: ``forward`` merges, ``right_inverse`` splits."""

    def __init__(self, c_out: int, c_in: int, k: int) -> None:
        super().__init__()
        if k % 2 == 0 or k < 3:
            raise ValueError(f"over-parameterisation needs an odd kernel of 3 or more, got {k}")
        self.sizes = tuple(range(k, 0, -2))  # k, k-2, ..., 1
        self.identity = c_in == c_out

    def forward(self, *parts: Tensor) -> Tensor:
        return merge(parts)

    def right_inverse(self, w: Tensor) -> tuple[Tensor, ...]:
        c_out, c_in = w.shape[:2]
        rest = [w.new_zeros(c_out, c_in, j, j) for j in self.sizes[1:]]
        scales = w.new_zeros(len(self.sizes) + self.identity, c_out)  # (branches, c_out)
        scales[:len(self.sizes)] = 1.0
        return (w.detach().clone(), *rest, scales)


def overparametrize(net: nn.Module) -> list[str]:
    """Over-parameterise every k > 1 ``Conv2d`` in ``net.body`` in place (function unchanged).

    Returns the names of the convolutions it changed."""
    done = []
    for name, m in net.body.named_modules():
        if isinstance(m, nn.Conv2d) and m.kernel_size[0] > 1 and not parametrize.is_parametrized(m):
            if m.groups != 1 or m.kernel_size[0] != m.kernel_size[1]:
                raise ValueError(f"body.{name}: over-parameterisation needs a square, ungrouped conv")
            parametrize.register_parametrization(
                m, "weight", Branches(m.out_channels, m.in_channels, m.kernel_size[0]))
            done.append(f"body.{name}")
    return done


def is_overparametrized(state: dict[str, Tensor]) -> bool:
    """Whether a state dict holds over-parameterised convs (branch parts, not plain kernels)."""
    return any(PART in key for key in state)


def collapse_state(state: dict[str, Tensor]) -> dict[str, Tensor]:
    """A state dict with over-parameterised convs -> the plain network's (others pass through)."""
    parts: dict[str, dict[int, Tensor]] = {}
    plain = {}
    for key, value in state.items():
        if PART in key:
            prefix, index = key.split(PART)
            parts.setdefault(prefix, {})[int(index)] = value
        else:
            plain[key] = value
    for prefix, found in parts.items():
        if sorted(found) != list(range(len(found))) or len(found) < 2:
            raise ValueError(f"{prefix}: over-parameterised weight with parts {sorted(found)}")
        with torch.no_grad():
            plain[f"{prefix}.weight"] = merge([found[i].float() for i in range(len(found))])
    return plain
