"""Random generator state in checkpoints, so that a resumed run cuts the same training patches.

Lightning restores weights, optimiser and loop counters but not the random generators;
:class:`RNGState` saves and restores them (every rank's).
"""

from __future__ import annotations

import random

import lightning as L
import numpy as np
import torch
from lightning.pytorch.utilities import rank_zero_warn
from torch import Tensor


def rng_state() -> dict[str, Tensor]:
    """This process's torch / numpy / python (and current CUDA device's) RNG states as tensors."""
    _, keys, pos, has_gauss, cached = np.random.get_state()
    version, internal, gauss_next = random.getstate()
    state = {
        "torch": torch.get_rng_state(),  # uint8 (5056,)
        "numpy": torch.from_numpy(np.asarray(keys, dtype=np.int64)),  # (624,)
        "numpy_extra": torch.tensor([pos, has_gauss, cached], dtype=torch.float64),
        "python": torch.tensor([version, *internal], dtype=torch.int64),  # (626,)
        "python_gauss": torch.tensor([gauss_next is not None, gauss_next or 0.0],
                                     dtype=torch.float64),
    }
    if torch.cuda.is_available() and torch.cuda.is_initialized():
        state["cuda"] = torch.cuda.get_rng_state()
    return state


def set_rng_state(state: dict[str, Tensor]) -> None:
    """Inverse of :func:`rng_state`."""
    torch.set_rng_state(state["torch"].cpu())
    pos, has_gauss, cached = state["numpy_extra"].tolist()
    np.random.set_state(("MT19937", state["numpy"].numpy().astype(np.uint32), int(pos),
                         int(has_gauss), cached))
    version, *internal = state["python"].tolist()
    has, gauss = state["python_gauss"].tolist()
    random.setstate((version, tuple(internal), gauss if has else None))
    if "cuda" in state and torch.cuda.is_available():
        torch.cuda.set_rng_state(state["cuda"].cpu())


def derive_seed(*parts: int) -> int:
    """A 32-bit seed mixing the given integers (numpy's SeedSequence)."""
    return int(np.random.SeedSequence([int(p) & 0xFFFFFFFF for p in parts]).generate_state(1)[0])


def seed_all(seed: int) -> None:
    torch.manual_seed(seed)
    np.random.seed(seed)
    random.seed(seed)


def data_generators(datamodule) -> dict[str, torch.Generator]:
    """The ``torch.Generator`` objects a datamodule draws training patches with, by attribute path.

    Looks one level into the datamodule's attributes: a generator, an object's ``.generator``
    (``DevicePatches``) or a DataLoader's ``.sampler.generator`` (``CropSampler``).
    """
    found = {}
    for name, obj in sorted(vars(datamodule).items()) if datamodule is not None else ():
        for path, cand in ((name, obj), (f"{name}.generator", getattr(obj, "generator", None)),
                           (f"{name}.sampler.generator",
                            getattr(getattr(obj, "sampler", None), "generator", None))):
            if isinstance(cand, torch.Generator) and all(cand is not g for g in found.values()):
                found[path] = cand
    return found


class RNGState(L.Callback):
    """Saves every rank's random generators in checkpoints and restores them when training resumes.

    Lightning restores weights, optimiser and loop counters but not the random generators, so
    without this a resumed run would cut other training patches than a run that never stopped.
    Saved: torch / numpy / python global states (and the current CUDA device's) plus the
    datamodule's patch generators (:func:`data_generators`). The states are gathered from all
    ranks at save time (the call is collective, like the save itself) and each rank gets its own
    back at ``on_train_start``, after the sanity validation and before the first resumed batch.

    Args:
        seed: the run's ``seed``; used only when a checkpoint comes from another number of
            processes, to give every rank a fresh stream (``None``: torch's initial seed).
    """

    def __init__(self, seed: int | None = None) -> None:
        self.seed = seed
        self._loaded: dict | None = None
        self._trainer: L.Trainer | None = None

    def _states(self) -> dict[str, Tensor]:
        state = rng_state()
        dm = getattr(self._trainer, "datamodule", None)
        state.update({f"gen:{k}": g.get_state() for k, g in data_generators(dm).items()})
        return state

    def state_dict(self) -> dict:
        trainer, state = self._trainer, self._states()
        world = trainer.world_size if trainer is not None else 1
        if world > 1:
            device = trainer.strategy.root_device
            state = {k: trainer.strategy.all_gather(v.to(device)).cpu() for k, v in state.items()}
        else:
            state = {k: v[None] for k, v in state.items()}  # (world=1, ...)
        return {"world_size": world, "states": state}

    def load_state_dict(self, state_dict: dict) -> None:
        self._loaded = state_dict

    def setup(self, trainer: L.Trainer, pl_module: L.LightningModule, stage: str) -> None:
        self._trainer = trainer

    def on_train_start(self, trainer: L.Trainer, pl_module: L.LightningModule) -> None:
        loaded, self._loaded = self._loaded, None
        if loaded is None:
            return
        rank, world = trainer.global_rank, trainer.world_size
        gens = data_generators(trainer.datamodule)
        if int(loaded["world_size"]) == world:
            # clone: a row of the gathered (world, ...) tensor is a view at a storage offset, and
            # torch.set_rng_state on such a view segfaults (torch 2.14).
            mine = {k: v[rank].clone() for k, v in loaded["states"].items()}
            set_rng_state(mine)
            for k, g in gens.items():
                if f"gen:{k}" in mine:
                    g.set_state(mine[f"gen:{k}"])
                else:
                    rank_zero_warn(f"the checkpoint has no state for the generator {k}")
            return
        rank_zero_warn(f"the checkpoint's random states come from {loaded['world_size']} "
                       f"process(es), this run has {world}: training patches will differ from "
                       "an uninterrupted run")
        base = self.seed if self.seed is not None else torch.initial_seed()
        seed = derive_seed(base, rank, trainer.global_step)
        seed_all(seed)
        for i, g in enumerate(gens.values()):
            g.manual_seed(derive_seed(seed, i))
