"""The holdout split and the rescaled training copies."""

import numpy as np
import pytest
import torch

from srnet.data.datasets import TrainPatches
from srnet.data.sources import Holdout, Record


class _Listed:
    def __init__(self, names):
        self.names = names

    def records(self):
        return [Record(n, np.zeros((8, 8, 3), np.uint8)) for n in self.names]


def test_holdout_parts_are_disjoint_and_cover_everything():
    srcs = [_Listed([f"a{i}" for i in range(7)]), _Listed([f"b{i}" for i in range(8)])]
    val = [r.name for r in Holdout(srcs, "val", every=5).records()]
    train = [r.name for r in Holdout(srcs, "train", every=5).records()]
    assert val == ["a0", "a5", "b3"]
    assert not set(val) & set(train) and len(val) + len(train) == 15
    with pytest.raises(ValueError, match="every"):
        Holdout(srcs, "val", every=1)
    with pytest.raises(ValueError, match="part"):
        Holdout(srcs, "test")


def test_rescaled_copies_added_and_too_small_ones_left_out():
    rng = np.random.default_rng(0)
    recs = [Record("big", rng.integers(0, 256, (100, 120, 3), dtype=np.uint8)),
            Record("small", rng.integers(0, 256, (60, 64, 3), dtype=np.uint8))]
    ds = TrainPatches(recs, scale=2, patch_size=20, length=8, rescales=[1.0, 0.8, 0.5])
    sizes = sorted(tuple(im.shape[1:]) for im in ds.images)  # crop side (20 + 4) * 2 = 48
    assert sizes == [(48, 51), (50, 60), (60, 64), (80, 96), (100, 120)]  # small x0.5: left out
    assert ds.images[0].dtype == torch.uint8
    with pytest.raises(ValueError, match="rescales"):
        TrainPatches(recs, scale=2, patch_size=20, length=8, rescales=[1.5])
