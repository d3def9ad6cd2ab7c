"""The LightningDataModule: training patches and validation sets from configured sources.

Run on its own for a quick look: ``python -m srnet.data.datamodule`` prints the default sample
set's sizes.

Batches leave the DataLoader as uint8 and become float in [0, 1] on the device in
:meth:`SRDataModule.on_after_batch_transfer`, where LR is made from HR by the configured
degradation (:mod:`srnet.ops.degrader`; a validation set's own LR files are used under the
``bicubic`` preset). Training LR is random (the global generator, saved with checkpoints);
each validation image gets one fixed degraded LR, seeded by its set and name, the same in every
run. A batch is then
``{"lr": (N, 3, h, w), "hr": (N, 3, s*h, s*w)}`` float RGB in [0, 1], plus ``"set"`` (validation).
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence

import lightning as L
import torch
from torch.utils.data import DataLoader

from srnet.data.datasets import TrainPatches, ValImages
from srnet.data.device_sampler import DevicePatches, parse_switch, use_device_path
from srnet.data.preflight import drop_small, preflight
from srnet.data.sharding import eval_sampler
from srnet.data.sources import as_source
from srnet.ops.degrader import Degrader, seeded


class SRDataModule(L.LightningDataModule):
    """Training patches from one or more sources; one or more named validation sets.

    Args:
        train: sources of HR training images (objects with ``records()``), combined.
        val: name -> source; each set is scored and logged separately, the first is ``val/psnr``.
        scale: SR factor.
        patch_size: LR training patch side.
        batch_size: training batch size (validation uses whole images, batch size 1).
        patches_per_epoch: random patches drawn per epoch.
        num_workers: DataLoader workers for training.
        degradation: how LR is made from HR: a preset (``configs/degradation/``, a dict) or
            ``bicubic``.
        augment: random flips and 90-degree rotations of the training patches.
        device_resident: ``auto`` / ``true`` / ``false``: cut training patches from images held
            on the training device (``srnet.data.device_sampler``) instead of a DataLoader; auto
            is on with a CUDA device when the images fit. Both paths cut the same patches for
            the same seed.
        rescales: train on each HR image at these fractions of its size too (FSRCNN's
            augmentation, e.g. ``[1.0, 0.9, 0.8, 0.7, 0.6]``).
        skip_bad: leave out unreadable / mismatched files and training images too small for a
            patch, listing them in a warning, instead of stopping (``data.skip_bad``).
    """

    def __init__(self, train: Sequence, val: Mapping, scale: int, patch_size: int = 32,
                 batch_size: int = 16, patches_per_epoch: int = 16000, num_workers: int = 0,
                 degradation: dict | str | None = "bicubic", augment: bool = True,
                 device_resident: bool | str = "auto", skip_bad: bool = False,
                 rescales: Sequence[float] = (1.0,)) -> None:
        super().__init__()
        train = [train] if isinstance(train, (str, os.PathLike)) else train  # one folder
        check_sizes(train, val, patch_size, batch_size, patches_per_epoch)
        # A plain path is shorthand for a folder of HR images: data.train=[/my/photos].
        self.train_sources = [as_source(src) for src in train]
        self.val_sources = {name: as_source(src) for name, src in dict(val).items()}
        self.scale, self.patch_size, self.batch_size = int(scale), int(patch_size), int(batch_size)
        self.patches_per_epoch, self.num_workers = int(patches_per_epoch), int(num_workers)
        self.degrader, self.augment = Degrader(degradation), augment
        self.device_resident = parse_switch(device_resident)
        self.skip_bad = bool(skip_bad)
        self.rescales = tuple(float(f) for f in rescales)
        self.train_set: TrainPatches | None = None
        self.train_batches: DevicePatches | DataLoader | None = None
        self.val_sets: dict[str, ValImages] = {}

    @property
    def val_names(self) -> list[str]:
        return list(self.val_sources)

    def setup(self, stage: str | None = None) -> None:
        # Gather every record first, then one pre-flight check names all bad files at once.
        sets = {}
        if stage in (None, "fit") and self.train_set is None:
            sets["train"] = [r for src in self.train_sources for r in src.records()]
        if not self.val_sets:
            sets.update({f"val/{n}": src.records() for n, src in self.val_sources.items()})
        sets = preflight(sets, self.scale, skip_bad=self.skip_bad)
        if "train" in sets and self.skip_bad:  # too small for one patch: left out, listed
            sets["train"] = drop_small(sets["train"], self.scale, self.patch_size,
                                       self.degrader.margin)
        if "train" in sets:
            self.train_set = TrainPatches(sets["train"], self.scale, self.patch_size,
                                          self.patches_per_epoch, self.augment, self.rescales,
                                          self.degrader.margin)
        if not self.val_sets:
            self.val_sets = {n: ValImages(sets[f"val/{n}"], self.scale) for n in self.val_sources}

    def train_dataloader(self) -> DataLoader | DevicePatches:
        """Built once (the crop generator carries on across epochs); both paths yield uint8
        (N, 3, crop, crop) crops that :meth:`on_after_batch_transfer` degrades."""
        if self.train_batches is not None:
            return self.train_batches
        ds, trainer = self.train_set, self.trainer
        device = trainer.strategy.root_device if trainer is not None else torch.device("cpu")
        rank, world = (trainer.global_rank, trainer.world_size) if trainer is not None else (0, 1)
        seed = (torch.initial_seed() + rank) % 2**63  # L.seed_everything(seed) sets initial_seed
        if use_device_path(self.device_resident, device, sum(im.numel() for im in ds.images)):
            self.train_batches = DevicePatches(ds.images, ds.crop, self.batch_size,
                                               self.patches_per_epoch // world, device, seed,
                                               self.augment)
        else:
            self.train_batches = DataLoader(
                ds, batch_size=self.batch_size, sampler=ds.sampler(self.batch_size, seed),
                num_workers=self.num_workers, drop_last=True,
                persistent_workers=self.num_workers > 0)
        return self.train_batches

    def val_dataloader(self) -> list[DataLoader]:
        # Several processes: each scores its own shard, no image twice (srnet.data.sharding).
        return [DataLoader(ds, batch_size=1, collate_fn=_collate_one,
                           sampler=eval_sampler(ds, self.trainer))
                for ds in self.val_sets.values()]

    def on_after_batch_transfer(self, batch, dataloader_idx: int = 0):
        s, m = self.scale, self.degrader.margin
        if isinstance(batch, dict):  # a whole validation image
            name, hr = self.val_names[dataloader_idx], batch["hr"].float().div(255)
            if "lr" in batch and self.degrader.classic:
                lr = batch["lr"].float().div(255)
            else:  # the same LR in every run: seeded by the set and the image
                lr = self.degrader(hr, s, seeded(f"{name}/{batch['name']}"))
            return {"lr": lr, "hr": hr, "name": batch["name"], "set": name}
        big = batch.float().div(255)  # (N, 3, (p + 2m) s, (p + 2m) s) training crops with context
        lr = self.degrader(big, s)[..., m:-m, m:-m]  # (N, 3, p, p)
        hr = big[..., m * s : -m * s, m * s : -m * s]  # (N, 3, s p, s p)
        return {"lr": lr, "hr": hr}


def check_sizes(train: Sequence, val: Mapping, patch_size, batch_size, patches_per_epoch) -> None:
    """Every problem with the datamodule's arguments in one ValueError, each naming its key."""
    problems = [] if train else ["data.train is empty: give at least one training source (a "
                                 "folder path or a source with _target_)"]
    if not val:
        problems.append("data.val is empty: configure at least one validation set")
    sizes = {"patch_size": patch_size, "batch_size": batch_size,
             "patches_per_epoch": patches_per_epoch}
    bad = {k: v for k, v in sizes.items() if not isinstance(v, int) or isinstance(v, bool) or v < 1}
    problems += [f"data.{k}={v!r}: must be a positive integer" for k, v in bad.items()]
    if not bad and patches_per_epoch < batch_size:
        problems.append(f"data.patches_per_epoch={patches_per_epoch} is less than one batch "
                        f"(data.batch_size={batch_size}): an epoch would have no step")
    if problems:
        raise ValueError("; ".join(problems))


def _collate_one(items: list[dict]) -> dict:
    """Batch of one whole image: add the batch axis to tensors, keep the name a string."""
    (item,) = items
    return {k: (v[None] if hasattr(v, "shape") else v) for k, v in item.items()}


if __name__ == "__main__":
    from srnet.data.sources import SampleImages

    dm = SRDataModule([SampleImages("train")], {"sample": SampleImages("val")}, scale=3)
    dm.setup()
    print(f"train: {len(dm.train_set.images)} images, val: {len(dm.val_sets['sample'])} images")
