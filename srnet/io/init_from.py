"""``model.init_from``: starting a network from another one's weights file or checkpoint.

Four ways, tried in this order:

* a narrower network of the same family (``d`` / ``s`` smaller, all else equal) is embedded so
  that the new one starts computing its function (:func:`srnet.nets.widen.embed`);
* a shallower one (fewer mapping layers ``m``, no 1x1 shrink) starts a deeper one, its extra
  layers identities (:func:`srnet.nets.widen.deepen`);
* a luma network starts an RGB one of the same shape (:func:`srnet.nets.widen.embed_luma`);
* otherwise every tensor whose name and shape match is copied (a body trained at another scale
  starts this one), and a body of another shape is refused.
"""

from __future__ import annotations

import os

from torch import nn

from srnet.io.checkpoints import CheckpointError, read
from srnet.nets.fsrcnn import FSRCNN
from srnet.nets.widen import can_colour, can_deepen, can_widen, deepen, embed, embed_luma
from srnet.ops.color import OFFSET, Y_ROW


def load_matching(net: nn.Module, source: str | os.PathLike) -> list[str]:
    """Start ``net`` from ``source`` (see the module docstring); returns the names written."""
    file_cfg, _, state, path = read(source)
    if isinstance(net, FSRCNN) and can_widen(file_cfg, net.cfg.to_dict()):
        return embed(net, state, fresh=True)  # its tensors' fit is checked there
    if isinstance(net, FSRCNN) and can_deepen(file_cfg, net.cfg.to_dict()):
        return deepen(net, state)
    if isinstance(net, FSRCNN) and can_colour(file_cfg, net.cfg.to_dict()):
        return embed_luma(net, state, Y_ROW, OFFSET[0])
    own = net.state_dict()
    match = {k: v for k, v in state.items() if k in own and own[k].shape == v.shape}
    if not match:
        raise CheckpointError(f"{path}: no tensor matches this network's names and shapes")
    # The body is what carries over between scales: all of it or nothing (another shape).
    odd = [f"{k} {tuple(v.shape)} (here {tuple(own[k].shape) if k in own else 'none'})"
           for k, v in state.items() if k.startswith("body.") and k not in match]
    if odd:
        raise CheckpointError(f"{path}: its body is another network's shape: {'; '.join(odd[:3])}"
                              f"{' ...' if len(odd) > 3 else ''} (model.net must match the file)")
    net.load_state_dict(match, strict=False)
    return sorted(match)
