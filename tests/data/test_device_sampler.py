"""The device-resident training path cuts the same patches as the DataLoader path (CPU tensors)."""

from __future__ import annotations

import pytest
import torch
from helpers import ArraySource, compose_train
from omegaconf import open_dict
from torch.utils.data import DataLoader

from srnet.data.datamodule import SRDataModule
from srnet.data.datasets import MARGIN, Crops, TrainPatches, augment, draw_crops
from srnet.data.device_sampler import DevicePatches, parse_switch, use_device_path
from srnet.train.run import train

SIZES = [(60, 75), (90, 64), (48, 48), (70, 101)]  # (H, W), varied so offsets matter


def test_every_flip_and_rotation_cut_by_gather_equals_augment() -> None:
    ds = TrainPatches(ArraySource().records(), scale=2, patch_size=4, length=8)  # crop 16
    dev = DevicePatches(ds.images, ds.crop, batch_size=8, length=8, device="cpu", seed=0)
    combos = [(f, r) for f in (0, 1) for r in range(4)]
    crops = Crops(*(torch.tensor(v) for v in zip(*[(3, 5, 7, f, r) for f, r in combos],
                                                  strict=True)))
    cut = dev.cut(crops)  # uint8 (8, 3, 16, 16)
    base = ds.images[3][:, 5:21, 7:23]
    assert len({tuple(b.flatten().tolist()) for b in cut}) == 8  # eight different patches
    for k, (f, r) in enumerate(combos):
        assert torch.equal(cut[k], augment(base, f, r)), (f, r)


@pytest.mark.parametrize("scale,augmented", [(2, True), (3, True), (4, False)])
def test_dataloader_and_device_paths_cut_the_same_crops(scale: int, augmented: bool) -> None:
    ds = TrainPatches(ArraySource().records(), scale, patch_size=6, length=100,
                      augment=augmented)
    loader = DataLoader(ds, batch_size=16, sampler=ds.sampler(16, seed=11), drop_last=True)
    dev = DevicePatches(ds.images, ds.crop, 16, 100, "cpu", seed=11, augment=augmented)
    assert len(loader) == len(dev) == 6
    for a, b in zip(loader, dev, strict=True):
        assert a.dtype == b.dtype == torch.uint8 and a.shape == (16, 3, ds.crop, ds.crop)
        assert torch.equal(a, b)
    # The draws exercised what the equality is about: several images, all flips and rotations.
    drawn = draw_crops(torch.Generator().manual_seed(11), 96, ds.sizes, ds.crop, augmented)
    assert len(set(drawn.index.tolist())) == len(SIZES)
    combos = set(zip(drawn.flip.tolist(), drawn.rot.tolist(), strict=True))
    assert len(combos) == (8 if augmented else 1)
    # A different seed gives different crops.
    other = next(iter(DevicePatches(ds.images, ds.crop, 16, 100, "cpu", seed=12)))
    assert not torch.equal(other, next(iter(dev)))


def test_crops_stay_inside_their_image() -> None:
    sizes = torch.tensor(SIZES)
    crops = draw_crops(torch.Generator().manual_seed(0), 4000, sizes, crop=48, augment=True)
    h, w = sizes[crops.index, 0], sizes[crops.index, 1]
    assert crops.top.min() >= 0 and (crops.top + 48 <= h).all()
    assert crops.left.min() >= 0 and (crops.left + 48 <= w).all()
    assert (crops.top == h - 48).any()  # the last position is reachable (48x48 image: top 0)


def make_dm(resident: str, **kw) -> SRDataModule:
    dm = SRDataModule([ArraySource()], {"gen": ArraySource(SIZES[:1], seed=9)}, scale=3,
                      patch_size=5, batch_size=8, patches_per_epoch=40, device_resident=resident,
                      **kw)
    dm.setup("fit")
    return dm


def test_datamodule_paths_give_the_same_lr_and_hr() -> None:
    pairs = []
    for resident in ("true", "false"):
        torch.manual_seed(5)  # what L.seed_everything(5) does to the crop seed
        dm = make_dm(resident)
        batches = dm.train_dataloader()
        assert isinstance(batches, DevicePatches if resident == "true" else DataLoader)
        assert dm.train_dataloader() is batches  # built once: the generator carries on
        pairs.append([dm.on_after_batch_transfer(b) for b in batches])
    (dev, loader) = pairs
    assert len(dev) == len(loader) == 5
    for a, b in zip(dev, loader, strict=True):
        assert a["lr"].shape == (8, 3, 5, 5) and a["hr"].shape == (8, 3, 15, 15)
        assert a["lr"].dtype == torch.float32 and 0 <= a["lr"].min() and a["lr"].max() <= 1
        assert torch.equal(a["lr"], b["lr"]) and torch.equal(a["hr"], b["hr"])


def test_patch_lr_is_the_whole_image_lr_thanks_to_the_margin() -> None:
    dm = make_dm("true", augment=False)
    big = next(iter(dm.train_dataloader()))[:1]  # uint8 (1, 3, crop, crop), crop = (5 + 4) * 3
    pair = dm.on_after_batch_transfer(big)
    assert torch.equal(pair["hr"], big[..., 3 * MARGIN : -3 * MARGIN, 3 * MARGIN : -3 * MARGIN]
                       .float().div(255))
    # Degrading the crop without the margin differs at the patch border (the kernel reaches out).
    from srnet.ops.resize import bicubic_down
    assert not torch.equal(bicubic_down(pair["hr"], 3), pair["lr"])


def test_switch_values_and_auto() -> None:
    assert parse_switch(True) == "true" and parse_switch("AUTO") == "auto"
    with pytest.raises(ValueError, match=r"data.device_resident=.*auto"):
        parse_switch("yes")
    with pytest.raises(ValueError, match="data.device_resident"):
        make_dm("sometimes")
    cpu = torch.device("cpu")
    assert not use_device_path("auto", cpu, 10) and use_device_path("true", cpu, 10)
    assert not use_device_path(False, torch.device("cuda"), 10)


def test_auto_uses_the_gpu_only_when_the_images_fit(monkeypatch) -> None:
    monkeypatch.setattr(torch.cuda, "mem_get_info", lambda device=None: (1000, 4000))
    cuda = torch.device("cuda")
    assert use_device_path("auto", cuda, 400)
    assert not use_device_path("auto", cuda, 600)  # over half the free memory: DataLoader path


def test_epoch_shorter_than_a_batch_is_refused() -> None:
    with pytest.raises(ValueError, match="data.patches_per_epoch"):
        DevicePatches([torch.zeros(3, 20, 20, dtype=torch.uint8)], 8, 16, 10, "cpu", 0)


def test_training_runs_on_the_device_path(tmp_path, monkeypatch) -> None:
    cut = []

    class Counting(DevicePatches):
        def cut(self, crops):
            cut.append(len(crops.index))
            return super().cut(crops)

    monkeypatch.setattr("srnet.data.datamodule.DevicePatches", Counting)
    cfg = compose_train(["model=fsrcnn_s", "model.net.d=8", "model.net.s=4", "logger=none",
                         "callbacks=none", "data.device_resident=true", "data.patch_size=6",
                         "data.batch_size=4", "data.patches_per_epoch=12", "trainer.max_epochs=1",
                         "trainer.accelerator=cpu"], tmp_path)
    with open_dict(cfg):
        cfg.data.train = [{"_target_": "helpers.ArraySource"}]
        cfg.data.val = {"gen": {"_target_": "helpers.ArraySource",
                                "sizes": [(48, 60)], "seed": 9}}
    metrics = train(cfg)
    assert cut == [4, 4, 4]  # every training batch came from the device path
    assert torch.isfinite(torch.tensor(metrics["val/psnr"]))
