"""Training-time over-parameterisation that collapses exactly into the same plain network.

Every k x k convolution of the body (k > 1: the first layer and the 3x3 mapping layers) is
trained as a sum of branches, each with a learnable per-output-channel scale ``g``, merged into
one k x k kernel at every forward (so a step runs the same single convolution):

    W = g_k W_k + g_(k-2) pad(W_(k-2)) + ... + g_1 pad(W_1)           always
      + g_seq (W_kxk . W_1x1)                                         ``seq``: 1x1 to 2c, then k x k
      + g_sx M_sx (.) E_sx + g_sy M_sy (.) E_sy + g_lap M_lap (.) E_lap  ``edges``: a 1x1, then a
                                                                      fixed Sobel-x / Sobel-y /
                                                                      Laplacian mask per channel
      + g_id I                                                        where c_in = c_out

(``seq`` and ``edges`` are the branches of ECBSR's edge-oriented block; ``model.branches`` picks
them.) The scales make each branch a product of factors, which changes how gradient steps move
the kernel (the point of the exercise) without changing what the network can compute.
Implemented with ``torch.nn.utils.parametrize``: the conv's ``weight`` stays a tensor of the
plain shape; its stored parts are ``<conv>.parametrizations.weight.original{0..n}`` in the order
above, and their shapes alone say which branches there are (square kernels down to 1x1, then a
(2c, c_in, 1, 1) and (c_out, 2c, k, k) pair for ``seq``, a 3-D (3, c_out, c_in) tensor for
``edges``, the (branches, c_out) scales last). :func:`collapse_state` turns a state dict with
such parts back into the plain network's (checkpoint readers use it, so exported weights,
``infer.py`` and the deploy rewrite only ever see the plain network).

How the branches start matters (a sum of freshly initialised branches trains worse than the
plain conv): from a plain kernel (fresh or ``init_from``) the merged kernel is that kernel.
``W_k`` is it, the smaller squares are zero with scale one, the identity's scale is zero; the
``seq`` branch's 1x1 is random and its k x k zero; the edge 1x1s are random, their scales zero.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import Tensor, nn
from torch.nn.utils import parametrize

PART = ".parametrizations.weight.original"
EXTRA_BRANCHES = ("seq", "edges")
SEQ_WIDTH = 2  # the seq branch's 1x1 expands to this many times c_out (ECBSR's multiplier)


def edge_masks(k: int, dtype: torch.dtype = torch.float32) -> Tensor:
    """(3, k, k): Sobel-x, Sobel-y and Laplacian 3x3 masks, centred in k x k."""
    sx = torch.tensor([[1.0, 0.0, -1.0], [2.0, 0.0, -2.0], [1.0, 0.0, -1.0]])
    lap = torch.tensor([[0.0, 1.0, 0.0], [1.0, -4.0, 1.0], [0.0, 1.0, 0.0]])
    return F.pad(torch.stack([sx, sx.T, lap]), [(k - 3) // 2] * 4).to(dtype)


def split(parts: list[Tensor] | tuple[Tensor, ...]) -> dict[str, list[Tensor]]:
    """The parts of one conv by branch: ``squares`` (k x k down to 1x1), ``seq`` (its 1x1 and
    k x k, or empty), ``edges`` (its (3, c_out, c_in) 1x1s, or empty), ``scales``."""
    *parts, scales = parts
    i = 0
    while i < len(parts) and parts[i].dim() == 4 and (i == 0 or parts[i - 1].shape[-1] > 1):
        i += 1  # the squares: k, k-2, ..., 1
    out = {"squares": parts[:i], "seq": [], "edges": [], "scales": [scales]}
    rest = parts[i:]
    if rest and rest[0].dim() == 4:
        out["seq"], rest = rest[:2], rest[2:]
    if rest and rest[0].dim() == 3:
        out["edges"], rest = rest[:1], rest[1:]
    if rest or not out["squares"] or out["squares"][-1].shape[-1] != 1 or len(out["seq"]) == 1:
        raise ValueError(f"unexpected parts {[tuple(p.shape) for p in (*parts, scales)]}")
    return out


def merge(parts: list[Tensor] | tuple[Tensor, ...]) -> Tensor:
    """Merged kernel from the parts of one conv (see the module docstring for their order)."""
    p = split(parts)
    (scales,) = p["scales"]
    c_out, c_in, k, _ = p["squares"][0].shape  # (c_out, c_in, k, k)
    terms = [F.pad(w, [(k - w.shape[-1]) // 2] * 4) for w in p["squares"]]
    if p["seq"]:  # (2c, c_in, 1, 1) then (c_out, 2c, k, k): one k x k kernel
        w1, wk = p["seq"]
        terms.append(torch.einsum("omhw,mi->oihw", wk, w1[:, :, 0, 0]))
    if p["edges"]:  # (3, c_out, c_in) 1x1s times the fixed masks
        e = p["edges"][0]
        masks = edge_masks(k, e.dtype).to(e.device)
        terms.extend(e[j][:, :, None, None] * masks[j] for j in range(3))
    if scales.shape[0] not in (len(terms), len(terms) + 1):
        raise ValueError(f"{scales.shape[0]} scales for {len(terms)} branches")
    w = sum(g[:, None, None, None] * t for g, t in zip(scales, terms, strict=False))
    if scales.shape[0] == len(terms) + 1:  # identity branch: g_id on the centre tap of c -> c
        eye = torch.zeros_like(terms[0])
        idx = torch.arange(c_out, device=eye.device)
        eye[idx, idx, k // 2, k // 2] = 1.0
        w = w + scales[-1][:, None, None, None] * eye
    return w


class Branches(nn.Module):
    """The parametrisation of one conv weight: ``forward`` merges, ``right_inverse`` splits.

    ``extra``: any of :data:`EXTRA_BRANCHES` besides the square kernels (and the identity)."""

    def __init__(self, c_out: int, c_in: int, k: int, extra: tuple[str, ...] = ()) -> None:
        super().__init__()
        if k % 2 == 0 or k < 3:
            raise ValueError(f"over-parameterisation needs an odd kernel of 3 or more, got {k}")
        unknown = set(extra) - set(EXTRA_BRANCHES)
        if unknown:
            raise ValueError(f"model.branches: unknown {sorted(unknown)}; choose from "
                             f"{list(EXTRA_BRANCHES)}")
        self.sizes = tuple(range(k, 0, -2))  # k, k-2, ..., 1
        self.identity = c_in == c_out
        self.extra = tuple(b for b in EXTRA_BRANCHES if b in extra)

    def forward(self, *parts: Tensor) -> Tensor:
        return merge(parts)

    def right_inverse(self, w: Tensor) -> tuple[Tensor, ...]:
        c_out, c_in, k, _ = w.shape
        parts = [w.detach().clone(), *(w.new_zeros(c_out, c_in, j, j) for j in self.sizes[1:])]
        gains = [1.0] * len(self.sizes)
        if "seq" in self.extra:  # random 1x1, zero k x k: the branch starts at zero
            w1 = w.new_empty(SEQ_WIDTH * c_out, c_in, 1, 1)
            nn.init.kaiming_normal_(w1, nonlinearity="linear")
            parts += [w1, w.new_zeros(c_out, SEQ_WIDTH * c_out, k, k)]
            gains.append(1.0)
        if "edges" in self.extra:  # random 1x1s, zero scales
            e = w.new_empty(3, c_out, c_in)
            nn.init.normal_(e, std=(1.0 / c_in) ** 0.5)
            parts.append(e)
            gains += [0.0] * 3
        scales = w.new_zeros(len(gains) + self.identity, c_out)  # (branches, c_out)
        scales[:len(gains)] = torch.tensor(gains, dtype=w.dtype)[:, None]
        return (*parts, scales)


def overparametrize(net: nn.Module, extra: tuple[str, ...] | list[str] = ()) -> list[str]:
    """Over-parameterise every k > 1 ``Conv2d`` in ``net.body`` in place (function unchanged),
    with the square branches, the identity where it fits, and ``extra`` (:data:`EXTRA_BRANCHES`).

    Returns the names of the convolutions it changed."""
    done = []
    for name, m in net.body.named_modules():
        if isinstance(m, nn.Conv2d) and m.kernel_size[0] > 1 and not parametrize.is_parametrized(m):
            if m.groups != 1 or m.kernel_size[0] != m.kernel_size[1]:
                raise ValueError(f"body.{name}: over-parameterisation needs a square, ungrouped conv")
            parametrize.register_parametrization(
                m, "weight", Branches(m.out_channels, m.in_channels, m.kernel_size[0],
                                      tuple(extra)))
            done.append(f"body.{name}")
    return done


def is_overparametrized(state: dict[str, Tensor]) -> bool:
    """Whether a state dict holds over-parameterised convs (branch parts, not plain kernels)."""
    return any(PART in key for key in state)


def grouped_parts(state: dict[str, Tensor]) -> tuple[dict[str, list[Tensor]], dict[str, Tensor]]:
    """(conv prefix -> its parts in order, the other entries) of a state dict."""
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
    return {p: [f[i] for i in range(len(f))] for p, f in parts.items()}, plain


def branches_of(state: dict[str, Tensor]) -> list[str]:
    """The extra branches (:data:`EXTRA_BRANCHES`) an over-parameterised state dict holds."""
    found = set()
    for prefix, parts in grouped_parts(state)[0].items():
        try:
            found.update(b for b, v in split(parts).items() if b in EXTRA_BRANCHES and v)
        except ValueError as e:
            raise ValueError(f"{prefix}: over-parameterised weight: {e}") from e
    return [b for b in EXTRA_BRANCHES if b in found]


def check_branches(overparam: bool, branches: list[str] | tuple[str, ...] | str | None) -> list[str]:
    """``model.branches`` as a list, or a ValueError naming what is wrong."""
    branches = [branches] if isinstance(branches, str) else list(branches or [])
    if any(b not in EXTRA_BRANCHES for b in branches):
        raise ValueError(f"model.branches={branches}: choose from {list(EXTRA_BRANCHES)}")
    if branches and overparam is not True:
        raise ValueError(f"model.branches={branches} needs model.overparam=true")
    return branches


def check_resume(state: dict[str, Tensor], overparam: bool, branches: list[str]) -> None:
    """Refuse, naming the switch, to resume a checkpoint trained with other branches."""
    trained = is_overparametrized(state)
    if trained != overparam:
        raise ValueError(f"this checkpoint was trained with model.overparam={str(trained).lower()};"
                         f" resume it with model.overparam={str(trained).lower()} (or start from "
                         f"its weights with model.init_from=, which works either way)")
    had = branches_of(state) if trained else []
    if sorted(had) != sorted(branches):
        raise ValueError(f"this checkpoint was trained with model.branches=[{','.join(had)}]; "
                         f"resume it with the same (or start from its weights with "
                         f"model.init_from=)")


def collapse_state(state: dict[str, Tensor]) -> dict[str, Tensor]:
    """A state dict with over-parameterised convs -> the plain network's (others pass through)."""
    parts, plain = grouped_parts(state)
    for prefix, found in parts.items():
        with torch.no_grad():
            try:
                plain[f"{prefix}.weight"] = merge([p.float() for p in found])
            except (ValueError, RuntimeError) as e:
                raise ValueError(f"{prefix}: over-parameterised weight does not merge ({e})") from e
    return plain
