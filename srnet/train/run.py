"""What ``python train.py`` does, given a composed Hydra config.

Seed, build datamodule / system / callbacks / loggers / trainer from the config (``_target_``),
fit, validate the final weights (so a run cut short still logs every ``val/*`` scalar), print a
table of the model's validation PSNR next to the baselines, and say where things were written.
"""

from __future__ import annotations

import logging
import os
import sys
from pathlib import Path

import hydra
import lightning as L
from lightning.pytorch.callbacks import LearningRateMonitor
from omegaconf import DictConfig

from srnet.io.checkpoints import trained_steps
from srnet.io.tables import markdown_table
from srnet.ops.resize import BASELINES
from srnet.train.config_check import ConfigError, build
from srnet.train.rng import RNGState

log = logging.getLogger("srnet")


def instantiate_list(cfg: DictConfig | None) -> list:
    """Instantiate every entry of a config group dict (callbacks, loggers); ``null`` entries skip."""
    if not cfg:
        return []
    return [hydra.utils.instantiate(c) for c in cfg.values() if c is not None and "_target_" in c]


def results_table(metrics: dict[str, float], sets: list[str]) -> str:
    """Markdown table: rows model + baselines, columns PSNR / SSIM per validation set."""
    rows = []
    for method in ("model", *BASELINES):
        suffix = "" if method == "model" else f"_{method}"
        cells = [method]
        for s in sets:
            p, q = metrics.get(f"val/{s}/psnr{suffix}"), metrics.get(f"val/{s}/ssim{suffix}")
            cells += [None if p is None else f"{p:.2f}", None if q is None else f"{q:.4f}"]
        rows.append(cells)
    return markdown_table(["method", *(f"{s} {m}" for s in sets for m in ("PSNR", "SSIM"))], rows)


def save_final_state(trainer: L.Trainer) -> None:
    """Make ``last.ckpt`` the final training state. Lightning refreshes it only with a new best
    (monitored) checkpoint and not at ``max_steps`` inside an epoch; ``ckpt_path=last`` must
    continue from where training stopped."""
    cb = trainer.checkpoint_callback
    if cb is None or not cb.save_last or not cb.dirpath:
        return
    last = Path(cb.dirpath) / "last.ckpt"
    if trained_steps(last) != trainer.global_step:
        trainer.save_checkpoint(last)


def train(cfg: DictConfig) -> dict[str, float]:
    """Run training as configured; returns the final validation metrics."""
    if cfg.get("seed") is not None:  # before the network is built: its init is seeded
        L.seed_everything(cfg.seed, workers=True)
    built = build(cfg)  # every config mistake, named, before any work (srnet.train.config_check)
    run_dir = Path(cfg.paths.output_dir)
    model, datamodule, ckpt_path, precision = (built.model, built.datamodule, built.ckpt_path,
                                               built.precision)
    callbacks = instantiate_list(cfg.get("callbacks"))
    callbacks.append(RNGState(cfg.get("seed")))  # random states in checkpoints: exact resume
    for cb in callbacks:  # e.g. srnet.train.callbacks.TensorBoardInspector logs the resolved config
        if hasattr(cb, "set_config"):
            cb.set_config(cfg)
    loggers = instantiate_list(cfg.get("logger"))
    if not loggers:  # logger=none: callbacks that only feed a logger would refuse to start
        callbacks = [c for c in callbacks if not isinstance(c, LearningRateMonitor)]
    log.info("trainer.precision=%s -> %s", cfg.trainer.get("precision"), precision)
    trainer: L.Trainer = hydra.utils.instantiate(cfg.trainer, callbacks=callbacks, logger=loggers,
                                                 precision=precision)

    log.info("run directory: %s", run_dir)
    trainer.fit(model, datamodule=datamodule, ckpt_path=ckpt_path, weights_only=True)
    save_final_state(trainer)
    final = trainer.validate(model, datamodule=datamodule, verbose=False)
    metrics = {k: float(v) for d in final for k, v in d.items()}

    if trainer.is_global_zero:
        print("\nValidation of the final weights (Y-PSNR dB / SSIM, border = scale):")
        print(results_table(metrics, datamodule.val_names))
        ckpt_cb = trainer.checkpoint_callback
        best = getattr(ckpt_cb, "best_model_path", "") if ckpt_cb else ""
        print(f"\nlogs:            {run_dir}  (tensorboard --logdir {run_dir.parent})")
        print(f"best checkpoint: {best or '(none saved)'}")
        if ckpt_cb is not None and getattr(ckpt_cb, "last_model_path", ""):
            print(f"last checkpoint: {ckpt_cb.last_model_path}")
    return metrics


def main(cfg: DictConfig) -> float | None:
    """``train.py`` / ``srnet-train``: train, or print every config problem and exit with code 2
    (no traceback unless ``HYDRA_FULL_ERROR=1``). Returns ``val/psnr`` (for Hydra sweepers)."""
    try:
        return train(cfg).get("val/psnr")
    except ConfigError as err:
        if os.environ.get("HYDRA_FULL_ERROR") == "1":
            raise
        print(f"error: {err}", file=sys.stderr)
        raise SystemExit(2) from None
