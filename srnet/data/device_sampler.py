"""The device-resident training path: training images held on the GPU, patches cut there.

FSRCNN is so small that a GPU outruns any DataLoader: :class:`DevicePatches` uploads the decoded
training images once, as one flat uint8 buffer, and cuts each batch's crops, flips and rotations
with a single batched gather on the device. It yields the same uint8 crops (with their context
margin) as the DataLoader path, for the same seed, because both draw with
:func:`srnet.data.datasets.draw_crops`; ``SRDataModule.on_after_batch_transfer`` then degrades
both alike on the device.

Switch: ``data.device_resident: auto | true | false`` (auto: on when training on a CUDA device
and the images fit in half its free memory; the DataLoader path serves bigger sets).

Run ``python -m srnet.data.device_sampler`` to cut one batch from the embedded sample images on
the CPU and print its shape.
"""

from __future__ import annotations

from collections.abc import Iterator

import torch
from torch import Tensor

from srnet.data.datasets import Crops, draw_crops

DEVICE_RESIDENT = ("auto", "true", "false")


def parse_switch(value: bool | str) -> str:
    """``data.device_resident`` as one of ``auto`` / ``true`` / ``false``."""
    text = str(value).lower()
    if text not in DEVICE_RESIDENT:
        raise ValueError(f"data.device_resident={value!r}: choose one of {DEVICE_RESIDENT}")
    return text


def use_device_path(value: bool | str, device: torch.device, nbytes: int) -> bool:
    """Whether to train from device-resident images (``auto``: CUDA and under half its free memory)."""
    value = parse_switch(value)
    if value != "auto":
        return value == "true"
    if device.type != "cuda":
        return False
    free, _ = torch.cuda.mem_get_info(device)
    return nbytes < free // 2


def source_coords(crops: Crops, crop: int) -> tuple[Tensor, Tensor]:
    """Where each pixel of the augmented crops comes from inside the unaugmented crops.

    The augmentation is ``srnet.data.datasets.augment``: horizontal flip, then ``rot`` quarter
    turns of ``torch.rot90`` (counter-clockwise). Returns rows and columns, int64 (n, crop, crop).
    """
    dev, last = crops.rot.device, crop - 1
    i = torch.arange(crop, device=dev).view(1, crop, 1)  # output row
    j = torch.arange(crop, device=dev).view(1, 1, crop)  # output column
    rot = crops.rot.view(-1, 1, 1)
    # rot90 k times: out[i, j] = in[i, j] / in[j, last-i] / in[last-i, last-j] / in[last-j, i]
    rows = torch.where(rot == 0, i, torch.where(rot == 1, j, torch.where(rot == 2, last - i, last - j)))
    cols = torch.where(rot == 0, j, torch.where(rot == 1, last - i, torch.where(rot == 2, last - j, i)))
    cols = torch.where(crops.flip.view(-1, 1, 1) == 1, last - cols, cols)  # the flip came first
    return rows, cols


class DevicePatches:
    """Iterable of training batches cut on ``device``: uint8 (N, 3, crop, crop) each.

    Args:
        images: decoded training images, uint8 (3, H, W) each (``TrainPatches.images``).
        crop: crop side in HR pixels (``TrainPatches.crop``: patch plus context margin).
        batch_size: crops per batch.
        length: crops per epoch; an epoch is ``length // batch_size`` batches (drop_last).
        device: where the images live and the crops are cut.
        seed: seeds the crop generator (the same seed gives ``CropSampler``'s crops).
        augment: random flips and 90-degree rotations.
    """

    def __init__(self, images: list[Tensor], crop: int, batch_size: int, length: int,
                 device: torch.device | str, seed: int, augment: bool = True) -> None:
        if length < batch_size:
            raise ValueError(f"data.patches_per_epoch={length} is less than one batch "
                             f"(data.batch_size={batch_size})")
        self.crop, self.batch_size, self.length, self.augment = crop, batch_size, length, augment
        self.device = torch.device(device)
        self.sizes = torch.tensor([im.shape[1:] for im in images])  # int64 (K, 2): H, W (CPU)
        numel = torch.tensor([im.numel() for im in images])
        offsets = torch.cumsum(numel, 0) - numel  # where each image starts in the flat buffer
        self.flat = torch.cat([im.reshape(-1) for im in images]).to(self.device)  # uint8 (sum 3HW,)
        self.offsets = offsets.to(self.device)  # int64 (K,)
        self.dims = self.sizes.to(self.device)  # int64 (K, 2)
        # Source rows / columns of the 8 flips x rotations, looked up per crop: (2, 8, crop, crop).
        flip, rot = torch.arange(8) // 4, torch.arange(8) % 4
        zero = torch.zeros(8, dtype=torch.long)
        self.maps = torch.stack(source_coords(Crops(zero, zero, zero, flip, rot), crop))
        self.maps = self.maps.to(self.device)
        # Draws run on the CPU (a few hundred ints per batch) so the crops match the DataLoader
        # path's on any device; only the small draw table travels.
        self.generator = torch.Generator().manual_seed(seed)

    @property
    def nbytes(self) -> int:
        return self.flat.numel()

    def __len__(self) -> int:
        return self.length // self.batch_size

    def __iter__(self) -> Iterator[Tensor]:
        for _ in range(len(self)):
            yield self.cut(draw_crops(self.generator, self.batch_size, self.sizes, self.crop,
                                      self.augment))

    def cut(self, crops: Crops) -> Tensor:
        """Cut the drawn crops: uint8 (n, 3, crop, crop) on the device, one gather."""
        table = torch.stack(list(crops))  # int64 (5, n)
        if self.device.type == "cuda":
            table = table.pin_memory().to(self.device, non_blocking=True)
        crops = Crops(*table.to(self.device))
        rows, cols = self.maps[:, crops.flip * 4 + crops.rot]  # (n, crop, crop) each
        h, w = self.dims[crops.index, 0], self.dims[crops.index, 1]  # (n,)
        n = len(crops.index)
        plane = (h * w).view(n, 1, 1, 1)
        channel = torch.arange(3, device=self.device).view(1, 3, 1, 1)
        pos = (crops.top.view(n, 1, 1) + rows) * w.view(n, 1, 1) + crops.left.view(n, 1, 1) + cols
        index = self.offsets[crops.index].view(n, 1, 1, 1) + channel * plane + pos[:, None]
        return self.flat[index]  # uint8 (n, 3, crop, crop)


if __name__ == "__main__":
    from srnet.data.datasets import TrainPatches
    from srnet.data.sources import SampleImages

    ds = TrainPatches(SampleImages("train").records(), scale=2, patch_size=32, length=64)
    patches = DevicePatches(ds.images, ds.crop, batch_size=16, length=64, device="cpu", seed=0)
    batch = next(iter(patches))
    print(f"{len(ds.images)} images, {patches.nbytes / 2**20:.1f} MiB on {patches.device}; "
          f"batch {tuple(batch.shape)} {batch.dtype}, {len(patches)} batches per epoch")
