"""Datasets: random training patches and whole validation images.

Both return uint8 tensors; the datamodule turns them into float and makes the LR images on the
device (``SRDataModule.on_after_batch_transfer``), so the degradation is written once.

The random crops are drawn by :func:`draw_crops`, a batch at a time from one generator, by
:class:`CropSampler` (DataLoader path) and ``srnet.data.device_sampler.DevicePatches`` (the
GPU-resident path) alike, so both paths cut the same patches for the same seed.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from pathlib import Path
from typing import NamedTuple

import torch
import torch.nn.functional as F
from torch import Tensor
from torch.utils.data import Dataset, Sampler
from torchvision.transforms.v2 import functional as TF

from srnet.data.sources import Record

# LR pixels of context kept around a training patch while degrading it, so that the patch's LR is
# what degrading the whole image would give (the antialiased bicubic kernel reaches 2 LR pixels).
MARGIN = 2
log = logging.getLogger("srnet")


def to_chw(img) -> Tensor:
    """uint8 numpy (H, W, 3) -> uint8 tensor (3, H, W)."""
    return torch.from_numpy(img).permute(2, 0, 1).contiguous()


def rescaled(img: Tensor, factor: float) -> Tensor:
    """uint8 (3, H, W) shrunk by ``factor`` with the antialiased bicubic kernel, rounded to uint8."""
    size = [max(1, round(n * factor)) for n in img.shape[1:]]
    out = F.interpolate(img[None].float(), size=size, mode="bicubic", antialias=True,
                        align_corners=False)
    return out[0].round().clamp(0, 255).to(torch.uint8)


def augment(patch: Tensor, flip: int, rot: int) -> Tensor:
    """Dihedral augmentation of (..., H, W): optional horizontal flip, then ``rot`` quarter turns."""
    if flip:
        patch = TF.horizontal_flip(patch)
    return torch.rot90(patch, rot, dims=(-2, -1)) if rot else patch


class Crops(NamedTuple):
    """Where n training patches are cut: each field an int64 tensor (n,)."""

    index: Tensor  # which image
    top: Tensor  # crop's top row
    left: Tensor  # crop's left column
    flip: Tensor  # 1: horizontal flip
    rot: Tensor  # quarter turns (torch.rot90), after the flip


def draw_crops(generator: torch.Generator | None, n: int, sizes: Tensor, crop: int,
               augment: bool = True) -> Crops:
    """Draw n random square crops of side ``crop`` (and their flips/rotations).

    The one place training crops are drawn: both data paths call it a batch at a time, so a seed
    gives the same patches whichever path runs. Draws happen on ``generator``'s device (the
    global CPU generator when None).

    Args:
        generator: random source.
        n: crops to draw.
        sizes: int64 (K, 2) image heights and widths, each side >= ``crop``.
        crop: crop side in pixels.
        augment: draw flips and rotations (else all zero).
    """
    dev = generator.device if generator is not None else torch.device("cpu")
    sizes = sizes.to(dev)
    index = torch.randint(len(sizes), (n,), generator=generator, device=dev)
    room = sizes[index] - crop + 1  # (n, 2) number of valid top / left positions
    u = torch.rand(n, 2, generator=generator, device=dev, dtype=torch.float64)
    top_left = (u * room).long()  # (n, 2) uniform in [0, room)
    if augment:
        flip = torch.randint(2, (n,), generator=generator, device=dev)
        rot = torch.randint(4, (n,), generator=generator, device=dev)
    else:
        flip = rot = torch.zeros(n, dtype=torch.long, device=dev)
    return Crops(index, top_left[:, 0], top_left[:, 1], flip, rot)


class CropSampler(Sampler):
    """Yields ``length`` crops per epoch as tuples of ints (index, top, left, flip, rot).

    Drawn ``batch_size`` at a time with :func:`draw_crops` from a generator seeded once, so the
    crops do not depend on the DataLoader's workers and equal ``DevicePatches``' for the same seed.
    """

    def __init__(self, sizes: Tensor, crop: int, length: int, batch_size: int, seed: int,
                 augment: bool = True) -> None:
        self.sizes, self.crop, self.length = sizes, crop, length
        self.batch_size, self.augment = batch_size, augment
        self.generator = torch.Generator().manual_seed(seed)

    def __len__(self) -> int:
        return self.length

    def __iter__(self):
        left = self.length
        while left > 0:
            crops = draw_crops(self.generator, self.batch_size, self.sizes, self.crop,
                               self.augment)
            rows = torch.stack(list(crops), 1).tolist()  # (batch, 5) python ints
            yield from map(tuple, rows[:left])
            left -= self.batch_size


class TrainPatches(Dataset):
    """Random HR crops with a context margin, decoded images cached in memory.

    Item: uint8 (3, (p + 2*margin)*s, (p + 2*margin)*s) where p is the LR patch size; the datamodule
    degrades it and trims the margin, leaving LR (3, p, p) and HR (3, p*s, p*s).

    Args:
        records: the HR images.
        scale: SR factor.
        patch_size: LR patch side in pixels.
        length: patches per epoch.
        augment: random flips and 90-degree rotations.
        rescales: sizes of each HR image to train on, as fractions (the FSRCNN paper's
            augmentation: 1.0, 0.9, 0.8, 0.7, 0.6); copies too small for one patch are left out.
        margin: LR pixels of context around each patch (the degradation's
            ``Degrader.margin``: the bicubic kernel's reach, or a JPEG block).
    """

    def __init__(self, records: list[Record], scale: int, patch_size: int, length: int,
                 augment: bool = True, rescales: Sequence[float] = (1.0,),
                 margin: int = MARGIN) -> None:
        self.scale, self.patch_size, self.length, self.augment = scale, patch_size, length, augment
        self.margin = margin
        self.crop = (patch_size + 2 * margin) * scale
        self.images = [to_chw(r.load_hr()) for r in records]
        small = [f"{r.hr if isinstance(r.hr, (str, Path)) else r.name} "
                 f"({im.shape[2]}x{im.shape[1]})"
                 for r, im in zip(records, self.images, strict=True) if min(im.shape[1:]) < self.crop]
        if small:
            raise ValueError(
                f"data.patch_size={patch_size} at scale {scale} needs HR images of at least "
                f"{self.crop}x{self.crop} pixels (patch plus {margin} LR pixels of context); "
                f"lower data.patch_size, or set data.skip_bad=true to leave these out; too small: "
                f"{', '.join(small)}")
        if not self.images:
            raise ValueError("the training set has no images")
        bad = [f for f in rescales if not 0 < float(f) <= 1]
        if bad:
            raise ValueError(f"data.rescales={list(rescales)}: each must be in (0, 1]; got {bad}")
        copies = [rescaled(im, float(f)) for f in rescales if float(f) != 1.0 for im in self.images]
        fits = [im for im in copies if min(im.shape[1:]) >= self.crop]
        if len(fits) < len(copies):
            log.info("data.rescales: %d of %d downscaled copies are smaller than a %d px crop, "
                     "left out", len(copies) - len(fits), len(copies), self.crop)
        self.images = (self.images if 1.0 in [float(f) for f in rescales] else []) + fits
        if not self.images:
            raise ValueError(f"data.rescales={list(rescales)} leaves no training image of at least "
                             f"{self.crop} px")
        self.sizes = torch.tensor([im.shape[1:] for im in self.images])  # int64 (K, 2): H, W

    def __len__(self) -> int:
        return self.length

    def sampler(self, batch_size: int, seed: int) -> CropSampler:
        """The crops of one epoch after another, for ``DataLoader(self, sampler=...)``."""
        return CropSampler(self.sizes, self.crop, self.length, batch_size, seed, self.augment)

    def __getitem__(self, item: int | tuple[int, int, int, int, int]) -> Tensor:
        """A crop from :class:`CropSampler` (index, top, left, flip, rot), or, given an int, a
        crop drawn from the global random generator."""
        if not isinstance(item, tuple):
            item = tuple(int(v) for v in draw_crops(None, 1, self.sizes, self.crop, self.augment))
        index, top, left, flip, rot = item
        patch = self.images[index][:, top : top + self.crop, left : left + self.crop]
        return augment(patch, flip, rot).contiguous()  # uint8 (3, crop, crop)


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
