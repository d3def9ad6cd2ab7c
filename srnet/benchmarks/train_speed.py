"""Training throughput: LR patches/s and seconds per epoch, per data path and precision.

Each row is a real Lightning ``fit`` of ``SRSystem`` (FSRCNN d=56, s=12, m=4 unless told) on
training batches from ``SRDataModule``, either the device-resident path
(``srnet.data.device_sampler``) or the DataLoader path, timed over ``steps`` optimiser steps after
``warmup`` steps. ``epoch_s`` is the steady-state time of an epoch of ``patches_per_epoch`` patches
(validation excluded). Peak memory is CUDA ``max_memory_allocated`` on a GPU, the process's peak
resident set (VmHWM, reset before each row) on the CPU.

Run: ``python scripts/train_speed.py [device=cuda] [precision=[32-true,bf16-mixed]]
[batch_size=64] [steps=20] [channels_last=true] [compile=true] [subpixel=false]
[degradation=photo] [json=out.json]`` (``subpixel=false``: the tail trains as a plain
``ConvTranspose2d``); ``scripts/benchmark.py part=train`` calls :func:`run`, and
``python -m srnet.benchmarks.train_speed '<JSON options>'`` is one fit in a fresh process.
"""

from __future__ import annotations

import json
import logging
import os
import sys
import time
import warnings
from functools import partial
from pathlib import Path

import lightning as L
import torch
from lightning.pytorch.utilities import rank_zero_only

from srnet.benchmarks.peers import cpu_name
from srnet.data.datamodule import SRDataModule
from srnet.data.sources import ImageFolder, SampleImages
from srnet.io.presets import degradation_preset
from srnet.io.tables import markdown_table
from srnet.train.module import SRSystem
from srnet.train.precision import resolve_precision

PATHS = ("device", "dataloader")
NET = {"arch": "fsrcnn", "d": 56, "s": 12, "m": 4}


def default_precisions(device: str) -> tuple[str, ...]:
    """32-true and the mixed precisions the device runs (bf16 only where a CUDA GPU has it)."""
    if not device.startswith("cuda"):
        return ("32-true", "bf16-mixed")
    return ("32-true", "16-mixed") + (("bf16-mixed",) if torch.cuda.is_bf16_supported() else ())


def _reset_peak(device: str) -> None:
    if device.startswith("cuda"):
        torch.cuda.reset_peak_memory_stats()
    else:
        try:  # "5" resets the peak resident set size (Linux)
            Path("/proc/self/clear_refs").write_text("5")
        except OSError:
            pass


def _peak_mb(device: str) -> tuple[float | None, str]:
    if device.startswith("cuda"):
        return torch.cuda.max_memory_allocated() / 2**20, "cuda_max_allocated"
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024, "cpu_peak_rss"
    except OSError:
        pass
    return None, "unavailable"


class StepTimer(L.Callback):
    """Wall time from the start of step ``warmup`` to the end of the last step, device-synced."""

    def __init__(self, warmup: int, device: str) -> None:
        self.warmup, self.device = warmup, device
        self.start = self.end = None

    def _sync(self) -> None:
        if self.device.startswith("cuda"):
            torch.cuda.synchronize()

    def on_train_batch_start(self, trainer, pl_module, batch, batch_idx) -> None:
        if trainer.global_step == self.warmup and self.start is None:
            self._sync()
            _reset_peak(self.device)
            self.start = time.perf_counter()

    def on_train_end(self, trainer, pl_module) -> None:
        self._sync()
        self.end = time.perf_counter()


def run(device: str = "cpu", precisions: tuple[str, ...] | list[str] | None = None,
        batch_size: int = 64, steps: int = 20, warmup: int = 5, scale: int = 2,
        patch_size: int = 32, paths: tuple[str, ...] = PATHS, num_workers: int | None = None,
        data_dir: str | None = None, net: dict | None = None, channels_last: bool = False,
        compile: bool = False, patches_per_epoch: int = 48000, seed: int = 0,
        subpixel: bool = True, devices: int = 1,
        degradation: str | dict | None = None) -> list[dict]:
    """Time training for every (path, precision); returns one plain dict per combination.

    Args:
        device: ``cpu`` or ``cuda``.
        precisions: Lightning precision flags (``auto`` allowed); default
            :func:`default_precisions`.
        batch_size: LR patches per step.
        steps: timed optimiser steps, after ``warmup`` untimed ones.
        scale: SR factor.
        patch_size: LR patch side.
        paths: ``device`` (device-resident) and/or ``dataloader``.
        num_workers: DataLoader workers; default 0 on CPU, min(4, cores - 1) with CUDA.
        data_dir: a folder of HR training images (e.g. ../shared/datasets/T91); default the
            photographs embedded in scikit-image.
        net: ``model.net`` overrides (default FSRCNN d=56, s=12, m=4).
        channels_last, compile: ``model.channels_last`` / ``model.compile``.
        subpixel: train the deconv tail through its sub-pixel form (False: ``ConvTranspose2d``).
        patches_per_epoch: epoch length that ``epoch_s`` is given for.
        seed: seeds weights and crops (both paths cut the same patches).
        devices: processes (``trainer=ddp`` on CPU: set ``OMP_NUM_THREADS`` for their threads);
            throughput counts the patches of all of them.
        degradation: a preset of ``configs/degradation/`` (default ``bicubic``): its cost is
            part of every step.
    """
    device = "cuda" if device == "gpu" else device
    if device.startswith("cuda") and not torch.cuda.is_available():
        raise ValueError(f"device={device!r} but torch sees no CUDA GPU; use device=cpu")
    bad = [p for p in paths if p not in PATHS]
    if bad:
        raise ValueError(f"paths {bad}: choose from {PATHS}")
    accelerator = "gpu" if device.startswith("cuda") else "cpu"
    if num_workers is None:
        num_workers = min(4, (os.cpu_count() or 2) - 1) if accelerator == "gpu" else 0
    train = [ImageFolder(data_dir)] if data_dir else [SampleImages("train")]
    dm = SRDataModule(train, {"sample": SampleImages("val")}, scale=scale, patch_size=patch_size,
                      batch_size=batch_size, patches_per_epoch=(warmup + steps) * batch_size,
                      num_workers=num_workers, degradation=degradation_preset(degradation))
    dm.setup("fit")
    rows = []
    for path in paths:
        for asked in precisions or default_precisions(device):
            precision = resolve_precision(asked, accelerator)
            L.seed_everything(seed, verbose=False)
            dm.device_resident, dm.train_batches = str(path == "device").lower(), None
            model = SRSystem({**NET, **(net or {}), "scale": scale},
                             optimizer=partial(torch.optim.Adam, lr=1e-4),
                             channels_last=channels_last, compile=compile)
            if hasattr(model.net.tail, "subpixel"):
                model.net.tail.subpixel = subpixel
            timer = StepTimer(warmup, device)
            trainer = L.Trainer(
                accelerator=accelerator, devices=devices, precision=precision,
                strategy="ddp" if devices > 1 else "auto",
                max_steps=warmup + steps, limit_val_batches=0, num_sanity_val_steps=0,
                logger=False, enable_checkpointing=False, enable_progress_bar=False,
                enable_model_summary=False, benchmark=accelerator == "gpu", callbacks=[timer])
            trainer.fit(model, datamodule=dm)
            seconds = timer.end - timer.start
            peak, mem_kind = _peak_mb(device)
            rate = steps * batch_size * devices / seconds  # every process's patches
            rows.append({
                "part": "train", "device": _device_name(device), "path": path,
                "precision": precision, "batch_size": batch_size, "scale": scale,
                "patch_size": patch_size, "num_workers": num_workers if path == "dataloader" else 0,
                "channels_last": channels_last, "compile": compile, "subpixel": subpixel,
                "steps": steps, "lr_pixels_per_s": rate * patch_size ** 2,
                "patches_per_s": rate, "step_ms": 1000 * seconds / steps,
                "epoch_s": patches_per_epoch / rate, "patches_per_epoch": patches_per_epoch,
                "peak_mem_mb": peak, "mem_kind": mem_kind, "torch": torch.__version__,
                "threads": torch.get_num_threads(), "devices": devices,
                "degradation": dm.degrader.name})
    return rows


def _device_name(device: str) -> str:
    if device.startswith("cuda"):
        return torch.cuda.get_device_name(torch.device(device))
    return f"{cpu_name()}, {os.cpu_count()} cores"


def table(rows: list[dict]) -> str:
    """Markdown table of :func:`run`'s rows."""
    header = ["path", "degradation", "precision", "batch", "patches/s", "step ms",
              "s/epoch (patches)", "peak MiB"]
    return markdown_table(header, [
        [r["path"], r.get("degradation", "bicubic"), r["precision"], r["batch_size"],
         f"{r['patches_per_s']:.0f}", f"{r['step_ms']:.1f}",
         f"{r['epoch_s']:.1f} ({r['patches_per_epoch']})",
         f"{r['peak_mem_mb']:.0f} ({r['mem_kind']})" if r["peak_mem_mb"] else None]
        for r in rows])


def defaults() -> dict:
    """The options of :func:`main` (``scripts/train_speed.py`` keys) and their defaults."""
    return {"device": "cpu", "precision": None, "path": list(PATHS), "batch_size": 64,
            "steps": 20, "warmup": 5, "scale": 2, "patch_size": 32, "num_workers": None,
            "data_dir": None, "d": NET["d"], "s": NET["s"], "m": NET["m"],
            "channels_last": False, "compile": False, "subpixel": True, "devices": 1,
            "degradation": None, "json": None}


def main(options: dict) -> list[dict]:
    """Time the fits :func:`defaults`' options describe, print a table, write ``json``."""
    a = {**defaults(), **options}
    unknown = set(options) - set(defaults())
    if unknown:
        raise ValueError(f"train_speed: unknown options {sorted(unknown)}; allowed keys: "
                         f"{list(defaults())}")
    for name in ("lightning.pytorch", "lightning.fabric"):  # one table, not per-fit chatter
        logging.getLogger(name).setLevel(logging.WARNING)
    warnings.filterwarnings("ignore", message=".*(does not have many workers|LeafSpec).*")
    net = {k: a[k] for k in ("d", "s", "m")}
    precisions = [a["precision"]] if isinstance(a["precision"], str) else a["precision"]
    paths = (a["path"],) if isinstance(a["path"], str) else tuple(a["path"])
    rows = run(a["device"], precisions, a["batch_size"], a["steps"], a["warmup"], a["scale"],
               a["patch_size"], paths, a["num_workers"], a["data_dir"], net,
               channels_last=a["channels_last"], compile=a["compile"], subpixel=a["subpixel"],
               devices=a["devices"], degradation=a["degradation"])
    if torch.distributed.is_available() and torch.distributed.is_initialized():
        # Lightning leaves the DDP group up; gloo's threads still running at interpreter exit
        # ended one CI run with "terminate called without an active exception" (SIGABRT)
        torch.distributed.destroy_process_group()
    if rank_zero_only.rank != 0:  # the other DDP processes: rank 0 reports
        return rows
    print(f"Training throughput on {rows[0]['device']}, torch {rows[0]['torch']}, "
          f"{a['devices']} process(es) x {rows[0]['threads']} threads, FSRCNN d={net['d']} "
          f"s={net['s']} m={net['m']}, x{a['scale']}, LR patch {a['patch_size']}, "
          f"channels_last={a['channels_last']}, compile={a['compile']}:")
    print(table(rows))
    if a["json"]:
        Path(a["json"]).write_text(json.dumps(rows, indent=1))
        print(f"wrote {a['json']}")
    return rows


if __name__ == "__main__":  # a fresh process for one benchmark fit: options as one JSON object
    main(json.loads(sys.argv[1]))
