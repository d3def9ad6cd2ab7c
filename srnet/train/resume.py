"""Resuming a run: what ``ckpt_path=last`` means, the run directory it continues, the RNG state.

``python train.py ckpt_path=...`` continues a run in its own directory and TensorBoard run:

* ``ckpt_path=last``: the newest run under ``<paths.log_dir>/<task_name>/`` (default
  ``logs/train/``) that has ``checkpoints/last.ckpt`` (newest by that file's time); with
  ``hydra.run.dir=<run>`` also given, that run's ``checkpoints/last.ckpt``.
* ``ckpt_path=<run>/checkpoints/<file>.ckpt``: that file, continuing ``<run>``.
* a ``.ckpt`` outside a run directory: training continues from it in a new run directory.

``train.py`` turns the first two into ``hydra.run.dir=<run>`` before Hydra starts (see
:func:`resume_argv`); the resumed run's config goes to ``<run>/.hydra/resume_<time>/``, leaving the
original ``.hydra/`` as it was. Lightning restores weights, optimiser, LR scheduler, step, epoch,
callback states and the mixed-precision grad scaler; :class:`RNGState` adds the random generators.
"""

from __future__ import annotations

import random
import time
from pathlib import Path

import lightning as L
import numpy as np
import torch
from lightning.pytorch.utilities import rank_zero_warn
from torch import Tensor

from srnet import CONFIG_DIR

LAST = "last"


def run_dir_of(ckpt: str | Path) -> Path | None:
    """``<run>/checkpoints/x.ckpt`` -> ``<run>`` when ``<run>`` is a Hydra run directory."""
    ckpt = Path(ckpt).expanduser().resolve()
    run = ckpt.parent.parent
    return run if ckpt.parent.name == "checkpoints" and (run / ".hydra").is_dir() else None


def newest_run(task_dir: str | Path) -> Path | None:
    """The run under ``task_dir`` whose ``checkpoints/last.ckpt`` was written last, if any."""
    lasts = list(Path(task_dir).glob("*/checkpoints/last.ckpt"))
    return max(lasts, key=lambda p: p.stat().st_mtime).parents[1] if lasts else None


def resolve_ckpt_path(ckpt_path: str | None, run_dir: str | Path) -> str | None:
    """The file ``ckpt_path`` names for this run (``last``: ``<run_dir>/checkpoints/last.ckpt``).

    Raises:
        FileNotFoundError: naming ``ckpt_path`` and the file looked for.
    """
    if ckpt_path in (None, "", "null"):
        return None
    if str(ckpt_path) == LAST:
        path = Path(run_dir) / "checkpoints" / "last.ckpt"
        if not path.is_file():
            raise FileNotFoundError(
                f"ckpt_path=last: {path} does not exist. `last` resumes the newest run under "
                f"<paths.log_dir>/<task_name>/ with checkpoints/last.ckpt, or the run given by "
                f"hydra.run.dir=<run>; or pass ckpt_path=<file.ckpt>")
        return str(path)
    path = Path(ckpt_path).expanduser()
    if not path.is_file():
        raise FileNotFoundError(f"ckpt_path={ckpt_path}: no such file")
    return str(path)


def overrides_of(argv: list[str]) -> dict[str, str]:
    out = {}
    for arg in argv:
        if "=" in arg and not arg.startswith("-"):
            key, value = arg.split("=", 1)
            out[key.lstrip("+~")] = value.strip("'\"")
    return out


def resume_argv(argv: list[str], cwd: str | Path | None = None) -> list[str]:
    """Command-line arguments with ``hydra.run.dir`` pointing at the run that ``ckpt_path`` resumes.

    Args:
        argv: ``sys.argv`` (program name first).
        cwd: where relative paths start (default: the current directory).

    Returns:
        ``argv`` unchanged when there is nothing to resume or ``hydra.run.dir`` is already given,
        else with ``hydra.run.dir=<run>`` and ``hydra.output_subdir=.hydra/resume_<time>`` added.

    Raises:
        SystemExit: ``ckpt_path=last`` and no run with a ``last.ckpt`` exists.
    """
    ov = overrides_of(argv[1:])
    ckpt = ov.get("ckpt_path")
    if ckpt in (None, "", "null") or "hydra.run.dir" in ov:
        return argv
    cwd = Path(cwd or Path.cwd())
    if ckpt == LAST:
        task_dir = task_dir_of(ov, cwd)
        run = newest_run(task_dir)
        if run is None:
            raise SystemExit(f"ckpt_path=last: no run under {task_dir} has checkpoints/last.ckpt "
                             "(set paths.log_dir / task_name, or pass ckpt_path=<file.ckpt>)")
    else:
        path = Path(ckpt).expanduser()
        run = run_dir_of(path if path.is_absolute() else cwd / path)
        if run is None:
            return argv
    stamp = time.strftime("%Y-%m-%d_%H-%M-%S")
    print(f"resuming {run} (ckpt_path={ckpt})")
    return [*argv, f"hydra.run.dir={run}", f"hydra.output_subdir=.hydra/resume_{stamp}"]


def task_dir_of(overrides: dict[str, str], cwd: Path) -> Path:
    """``<paths.log_dir>/<task_name>`` from command-line overrides (defaults: logs/, train.yaml's)."""
    from omegaconf import OmegaConf

    task = overrides.get("task_name") or str(OmegaConf.load(CONFIG_DIR / "train.yaml").task_name)
    log_dir = Path(overrides.get("paths.log_dir", "logs")).expanduser()
    return (log_dir if log_dir.is_absolute() else cwd / log_dir) / task


# -- random generators -----------------------------------------------------------------------------
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
