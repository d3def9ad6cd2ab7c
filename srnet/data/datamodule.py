"""The LightningDataModule: training patches and validation sets from configured sources.

Run on its own for a quick look: ``python -m srnet.data.datamodule`` prints the default sample
set's sizes.

Batches leave the DataLoader as uint8 and become float in [0, 1] on the device in
:meth:`SRDataModule.on_after_batch_transfer`, where LR is made from HR by the configured
degradation (unless the validation set gives LR files). A batch is then
``{"lr": (N, 3, h, w), "hr": (N, 3, s*h, s*w)}`` float RGB in [0, 1], plus ``"set"`` (validation).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import lightning as L
from torch.utils.data import DataLoader

from srnet.data.datasets import MARGIN, TrainPatches, ValImages
from srnet.degradation import check_degradation, degrade


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
        degradation: how LR is made from HR (``bicubic``).
    """

    def __init__(self, train: Sequence, val: Mapping, scale: int, patch_size: int = 32,
                 batch_size: int = 16, patches_per_epoch: int = 16000, num_workers: int = 0,
                 degradation: str = "bicubic", augment: bool = True) -> None:
        super().__init__()
        if not val:
            raise ValueError("data.val is empty: configure at least one validation set")
        self.train_sources, self.val_sources = list(train), dict(val)
        self.scale, self.patch_size, self.batch_size = int(scale), int(patch_size), int(batch_size)
        self.patches_per_epoch, self.num_workers = int(patches_per_epoch), int(num_workers)
        self.degradation, self.augment = check_degradation(degradation), augment
        self.train_set: TrainPatches | None = None
        self.val_sets: dict[str, ValImages] = {}

    @property
    def val_names(self) -> list[str]:
        return list(self.val_sources)

    def setup(self, stage: str | None = None) -> None:
        if stage in (None, "fit") and self.train_set is None:
            records = [r for src in self.train_sources for r in src.records()]
            self.train_set = TrainPatches(records, self.scale, self.patch_size,
                                          self.patches_per_epoch, self.augment)
        if not self.val_sets:
            self.val_sets = {n: ValImages(src.records(), self.scale)
                             for n, src in self.val_sources.items()}

    def train_dataloader(self) -> DataLoader:
        return DataLoader(self.train_set, batch_size=self.batch_size, shuffle=False,
                          num_workers=self.num_workers, drop_last=True,
                          persistent_workers=self.num_workers > 0)

    def val_dataloader(self) -> list[DataLoader]:
        return [DataLoader(ds, batch_size=1, collate_fn=_collate_one)
                for ds in self.val_sets.values()]

    def on_after_batch_transfer(self, batch, dataloader_idx: int = 0):
        s = self.scale
        if isinstance(batch, dict):  # a whole validation image
            hr = batch["hr"].float().div(255)
            lr = batch["lr"].float().div(255) if "lr" in batch else degrade(hr, s, self.degradation)
            return {"lr": lr, "hr": hr, "name": batch["name"], "set": self.val_names[dataloader_idx]}
        big = batch.float().div(255)  # (N, 3, (p + 2m) s, (p + 2m) s) training crops with context
        lr = degrade(big, s, self.degradation)[..., MARGIN:-MARGIN, MARGIN:-MARGIN]
        hr = big[..., MARGIN * s : -MARGIN * s, MARGIN * s : -MARGIN * s]
        return {"lr": lr, "hr": hr}


def _collate_one(items: list[dict]) -> dict:
    """Batch of one whole image: add the batch axis to tensors, keep the name a string."""
    (item,) = items
    return {k: (v[None] if hasattr(v, "shape") else v) for k, v in item.items()}


if __name__ == "__main__":
    from srnet.data.sources import SampleImages

    dm = SRDataModule([SampleImages("train")], {"sample": SampleImages("val")}, scale=3)
    dm.setup()
    print(f"train: {len(dm.train_set.images)} images, val: {len(dm.val_sets['sample'])} images")
