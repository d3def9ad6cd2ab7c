"""Datasets: random training patches and whole validation images.

Both return uint8 tensors; the datamodule turns them into float and makes the LR images on the
device (``SRDataModule.on_after_batch_transfer``), so the degradation is written once.
"""

from __future__ import annotations

import torch
from torch import Tensor
from torch.utils.data import Dataset

from srnet.data.sources import Record

# LR pixels of context kept around a training patch while degrading it, so that the patch's LR is
# what degrading the whole image would give (the antialiased bicubic kernel reaches 2 LR pixels).
MARGIN = 2


def to_chw(img) -> Tensor:
    """uint8 numpy (H, W, 3) -> uint8 tensor (3, H, W)."""
    return torch.from_numpy(img).permute(2, 0, 1).contiguous()


def augment(patch: Tensor, flip: int, rot: int) -> Tensor:
    """Dihedral augmentation of (..., H, W): optional horizontal flip, then ``rot`` quarter turns."""
    if flip:
        patch = patch.flip(-1)
    return torch.rot90(patch, rot, dims=(-2, -1)) if rot else patch


class TrainPatches(Dataset):
    """Random HR crops with a context margin, decoded images cached in memory.

    Item: uint8 (3, (p + 2*MARGIN)*s, (p + 2*MARGIN)*s) where p is the LR patch size; the datamodule
    degrades it and trims the margin, leaving LR (3, p, p) and HR (3, p*s, p*s).

    Args:
        records: the HR images.
        scale: SR factor.
        patch_size: LR patch side in pixels.
        length: patches per epoch.
        augment: random flips and 90-degree rotations.
    """

    def __init__(self, records: list[Record], scale: int, patch_size: int, length: int,
                 augment: bool = True) -> None:
        if patch_size < 1:
            raise ValueError(f"data.patch_size must be >= 1, got {patch_size}")
        if length < 1:
            raise ValueError(f"data.patches_per_epoch must be >= 1, got {length}")
        self.scale, self.patch_size, self.length, self.augment = scale, patch_size, length, augment
        self.crop = (patch_size + 2 * MARGIN) * scale
        self.images = [to_chw(r.load_hr()) for r in records]
        small = [f"{r.name} ({im.shape[2]}x{im.shape[1]})" for r, im in zip(records, self.images)
                 if min(im.shape[1:]) < self.crop]
        if small:
            raise ValueError(
                f"data.patch_size={patch_size} at scale {scale} needs HR images of at least "
                f"{self.crop}x{self.crop} pixels (patch plus {MARGIN} LR pixels of context); "
                f"too small: {', '.join(small)}")
        if not self.images:
            raise ValueError("the training set has no images")

    def __len__(self) -> int:
        return self.length

    def __getitem__(self, index: int) -> Tensor:
        img = self.images[int(torch.randint(len(self.images), ()))]
        _, h, w = img.shape
        top = int(torch.randint(h - self.crop + 1, ()))
        left = int(torch.randint(w - self.crop + 1, ()))
        patch = img[:, top : top + self.crop, left : left + self.crop]
        if self.augment:
            patch = augment(patch, int(torch.randint(2, ())), int(torch.randint(4, ())))
        return patch.contiguous()  # uint8 (3, crop, crop)


class ValImages(Dataset):
    """Whole images for validation: HR mod-cropped to a multiple of the scale, plus given LR if any.

    Item: ``{"hr": uint8 (3, H, W), "lr": uint8 (3, H/s, W/s) (only when the set has LR files),
    "name": str}``.
    """

    def __init__(self, records: list[Record], scale: int) -> None:
        if not records:
            raise ValueError("a validation set has no images")
        self.records, self.scale = records, scale
        self.cache: dict[int, dict] = {}

    def __len__(self) -> int:
        return len(self.records)

    def __getitem__(self, index: int) -> dict:
        if index not in self.cache:
            self.cache[index] = self._load(self.records[index])
        return self.cache[index]

    def _load(self, rec: Record) -> dict:
        s = self.scale
        hr = to_chw(rec.load_hr())
        hr = hr[:, : hr.shape[1] - hr.shape[1] % s, : hr.shape[2] - hr.shape[2] % s]
        item = {"hr": hr, "name": rec.name}
        if rec.lr is not None:
            lr = to_chw(rec.load_lr())
            if lr.shape[1] * s != hr.shape[1] or lr.shape[2] * s != hr.shape[2]:
                raise ValueError(
                    f"{rec.lr}: LR is {lr.shape[2]}x{lr.shape[1]} but its HR {rec.hr} mod-cropped "
                    f"to x{s} is {hr.shape[2]}x{hr.shape[1]} (expected LR "
                    f"{hr.shape[2] // s}x{hr.shape[1] // s})")
            item["lr"] = lr
        return item
