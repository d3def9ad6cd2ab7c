"""Starting an FSRCNN as another one: a narrow network embedded in a wider one of the same
family (:func:`embed`), a shallow one in a deeper one (:func:`deepen`), a luma network in an RGB
one (:func:`embed_luma`), each computing the same function.

A network with d=16 fits in one with d=32 (same depth, kernels, tail and skip): its kernels fill
the first 16 channels of every layer and the weights that read the extra channels are zero, so
the wide network's output is the narrow one's exactly. Two uses of :func:`embed`:

* ``model.init_from`` a narrow checkpoint (:func:`srnet.io.init_from.load_matching`): the wide
  network starts as the trained narrow one, and the extra channels keep their fresh incoming
  weights, so gradients reach them from the first step (Net2Net's function-preserving widening);
* ``denoise=`` between clean weights and a wider real-photo network fine-tuned from them
  (:mod:`srnet.nets.blend`): the clean side is the narrow network padded with zeros.
"""

from __future__ import annotations

import torch
from torch import nn

from srnet.nets.fsrcnn import FSRCNNConfig

WIDTH_KEYS = ("d", "s")  # the only keys in which the two networks may differ


def can_widen(narrow: dict, wide: dict) -> bool:
    """Whether a network of config ``narrow`` embeds in a wider one of config ``wide`` (dicts of
    ``FSRCNNConfig``, as in checkpoints): the same but for the widths, none of which shrinks."""
    try:  # defaults filled in, as the networks were built
        narrow, wide = FSRCNNConfig(**narrow).to_dict(), FSRCNNConfig(**wide).to_dict()
    except (TypeError, ValueError):  # not a config this srnet builds
        return False
    same = all(narrow[k] == v for k, v in wide.items() if k not in WIDTH_KEYS)
    return same and narrow != wide and all(narrow[k] <= wide[k] for k in WIDTH_KEYS)


def _input_dim(module: nn.Module) -> int:
    """The weight dimension that indexes a layer's input channels."""
    return 0 if isinstance(module, nn.ConvTranspose2d) else 1


@torch.no_grad()
def embed(wide: nn.Module, narrow_state: dict[str, torch.Tensor],
          fresh: bool = True) -> list[str]:
    """Write the narrow network's weights into ``wide`` (in place) so that it computes the narrow
    function; returns the names of the tensors written.

    ``fresh=True`` keeps the wide network's own incoming weights of the extra channels (they
    start training); ``fresh=False`` zeroes them (and their biases) too, so the extra channels
    are silent: the zero padding that a weight blend starts from.
    """
    owners = {f"{name}.weight": m for name, m in wide.named_modules()
              if isinstance(m, (nn.Conv2d, nn.ConvTranspose2d))}
    own = wide.state_dict()
    missing = sorted(set(own) - set(narrow_state))
    if missing:
        raise ValueError(f"the narrow network has no {missing[:3]}: not the same layers")
    for name, target in own.items():
        src = narrow_state[name].to(target.dtype)
        if src.dim() != target.dim() or any(
                a > b for a, b in zip(src.shape, target.shape, strict=True)):
            raise ValueError(f"{name}: {tuple(src.shape)} does not fit in {tuple(target.shape)}")
        head = tuple(slice(0, n) for n in src.shape)
        if name in owners:  # a kernel: silence what reads the extra input channels
            dim = _input_dim(owners[name])
            extra = [slice(None)] * target.dim()
            extra[dim] = slice(src.shape[dim], None)
            target[tuple(extra)] = 0
            if not fresh:
                out = [slice(None)] * target.dim()
                out[1 - dim] = slice(src.shape[1 - dim], None)
                target[tuple(out)] = 0
        elif not fresh and name.endswith(".bias"):
            target[src.shape[0]:] = 0
        target[head] = src
    return sorted(own)


def can_colour(luma: dict, rgb: dict) -> bool:
    """Whether a luma network (``color_mode="y"``) of config ``luma`` can start an RGB one of
    config ``rgb`` (:func:`embed_luma`): the same network but for the colour mode."""
    try:
        luma, rgb = FSRCNNConfig(**luma).to_dict(), FSRCNNConfig(**rgb).to_dict()
    except (TypeError, ValueError):
        return False
    modes = (luma["color_mode"], rgb["color_mode"])
    return modes == ("y", "rgb") and rgb["tail"] == "deconv" and all(
        luma[k] == v for k, v in rgb.items() if k != "color_mode")


@torch.no_grad()
def embed_luma(rgb_net: nn.Module, luma_state: dict[str, torch.Tensor],
               y_row: tuple[float, float, float], y_offset: float) -> list[str]:
    """Start an RGB network as a luma network: it reads ``Y = y_row . RGB + y_offset`` and adds
    the luma network's residual to R, G and B alike, scaled so that Y moves by that residual
    (which leaves Cb and Cr as the skip made them, since their rows sum to zero). Exact away from
    the image border, where the first layer pads RGB, not Y, with zeros; a skip is needed (the
    colour then comes from it). Returns the names written."""
    if getattr(rgb_net, "skip", None) is None:
        raise ValueError("a luma network starts an RGB one only with model.net.skip set: the "
                         "RGB network's colour comes from the skip")
    own = rgb_net.state_dict()
    row = torch.tensor(y_row)  # (3,)
    for name, target in own.items():
        src = luma_state[name].to(target.dtype)
        if name == "body.0.weight":  # (d, 1, f, f) -> (d, 3, f, f): read Y from RGB
            target.copy_(src * row.view(1, 3, 1, 1))
        elif name == "body.0.bias":  # Y's offset, through the first kernel's sum
            target.copy_(src + y_offset * luma_state["body.0.weight"].sum(dim=(1, 2, 3)))
        elif name.startswith("tail."):  # (d, 1, k, k) -> (d, 3, k, k), (1,) -> (3,): R = G = B
            target.copy_(src.expand_as(target) / row.sum())
        elif src.shape == target.shape:
            target.copy_(src)
        else:
            raise ValueError(f"{name}: {tuple(src.shape)} does not start {tuple(target.shape)}")
    return sorted(own)


def can_deepen(shallow: dict, deep: dict) -> bool:
    """Whether a network of config ``shallow`` starts one of config ``deep`` by :func:`deepen`:
    the same but for more mapping layers ``m``, in a body without the 1x1 shrink / expand."""
    try:
        shallow, deep = FSRCNNConfig(**shallow).to_dict(), FSRCNNConfig(**deep).to_dict()
    except (TypeError, ValueError):
        return False
    return (not deep["shrink"] and deep["m"] > shallow["m"]
            and all(shallow[k] == v for k, v in deep.items() if k != "m"))


@torch.no_grad()
def deepen(deep: nn.Module, shallow_state: dict[str, torch.Tensor]) -> list[str]:
    """Write the shallow network's weights into ``deep`` (in place) and make its extra mapping
    layers, the last ones of the body, identities: a 3x3 kernel that passes each channel through
    its centre, no bias, a PReLU of slope 1. The deep network then computes the shallow one's
    function exactly and trains on from it. Returns the names of the tensors written."""
    own = deep.state_dict()
    for name, target in own.items():
        if name in shallow_state:
            src = shallow_state[name]
            if src.shape != target.shape:
                raise ValueError(f"{name}: {tuple(src.shape)} does not start {tuple(target.shape)}")
            target.copy_(src.to(target.dtype))
        elif not name.startswith("body."):
            raise ValueError(f"the shallow network has no {name}: not the same layers")
    extra = list(deep.body)[len([k for k in shallow_state if k.startswith("body.")
                                 and k.endswith(".weight")]):]  # the new (conv, PReLU) pairs
    for layer in extra:
        if isinstance(layer, nn.Conv2d):
            c, k = layer.out_channels, layer.kernel_size[0]
            layer.weight.zero_()
            layer.weight[torch.arange(c), torch.arange(c), k // 2, k // 2] = 1
            layer.bias.zero_()
        elif isinstance(layer, nn.PReLU):
            layer.weight.fill_(1.0)
    return sorted(own)
