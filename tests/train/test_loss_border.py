"""model.loss_border: the training loss leaves out the patch's outer LR pixels, scale-wide in HR."""

from __future__ import annotations

import pytest
import torch

from srnet.train.module import SRSystem

NET = {"arch": "fsrcnn", "scale": 2, "d": 8, "s": 4, "m": 1}


def loss_of(system: SRSystem, lr: torch.Tensor, hr: torch.Tensor) -> float:
    system.log = lambda *a, **k: None  # no trainer attached
    return system.training_step({"lr": lr, "hr": hr}, 0).item()


@pytest.mark.parametrize("border", [0, 3])
def test_only_the_interior_is_scored(border: int) -> None:
    torch.manual_seed(0)
    system = SRSystem(NET, loss="mse", loss_border=border)
    lr = torch.rand(2, 1, 12, 12)
    with torch.no_grad():
        hr = system(lr)  # a perfect target ...
    keep = slice(3 * 2, 24 - 3 * 2)  # HR interior of a 3-px LR border
    spoilt = torch.rand_like(hr)  # ... spoilt only outside the scored interior
    spoilt[..., keep, keep] = hr[..., keep, keep]
    loss = loss_of(system, lr, spoilt)
    assert (loss == 0.0) if border else (loss > 0.01)
