"""TensorBoardInspector on a tiny training run, read back with TensorBoard's event reader."""

from __future__ import annotations

import pytest
import torch
from helpers import IMAGES, SCALARS, compose_train, read_events, tiny_run

from srnet.analysis.kernels import tail_kernels
from srnet.nets.fsrcnn import FSRCNN
from srnet.train.callbacks import TensorBoardInspector, resolved_yaml

# The error views (srnet.analysis.error_views) on the first validation set, at x2.
ERROR_SCALARS = {"checkerboard/real", "checkerboard/peak_ratio",
                 *(f"error_phase/{i}_{j}" for i in range(2) for j in range(2))}
ERROR_IMAGES = {"checkerboard/error_phase_means", "checkerboard/error_spectrum"}


def test_inspector_logs_its_tags(tmp_path):
    acc = read_events(tiny_run(tmp_path))
    tags = acc.Tags()
    assert SCALARS <= set(tags["scalars"])
    assert "val/gen/gain_over_bicubic" in tags["scalars"]  # the system's, next to ours
    assert IMAGES <= set(tags["images"])
    assert {f"images/gen/img_00{i}/{k}" for i in (0, 1)
            for k in ("1_HR", "2_srnet", "3_bicubic", "4_bilinear", "5_LR", "6_errors")
            } <= set(tags["images"])
    assert "weights/tail.deconv.weight" in tags["histograms"]
    assert "config/text_summary" in tags["tensors"]
    assert ERROR_SCALARS <= set(tags["scalars"]) and ERROR_IMAGES <= set(tags["images"])
    # once per validation of the fit (2 epochs); the final trainer.validate repeats the last step
    assert [e.step for e in acc.Scalars("error_phase/0_0")] == [4, 8]
    assert all(e.value > 0 for e in acc.Scalars("checkerboard/peak_ratio"))
    assert acc.Images("checkerboard/error_spectrum")[-1].width > 44 * 3  # 44-pixel tiles, x3
    assert "_hparams_/session_start_info" in acc.PluginTagToContent("hparams")

    # hp_metric is the best val/psnr so far
    best = max(e.value for e in acc.Scalars("val/psnr"))
    assert acc.Scalars("hp_metric")[-1].value == pytest.approx(best, abs=1e-4)
    assert all(e.value > 0 for e in acc.Scalars("train/patches_per_sec"))
    # the sample images: the 48-pixel HR crops (the whole 48x60 image) shown 192 pixels a side
    # or more, the zoomed box beside them, within TensorBoard's 350-pixel cards; the overlap
    # map's 6 x 6 cells of 56 pixels
    srnet = acc.Images("images/gen/img_000/2_srnet")[-1]
    errors = acc.Images("images/gen/img_000/6_errors")[-1]
    assert srnet.height >= 192 + 16 and 240 < srnet.width <= 350
    assert errors.height >= 192 + 16 and errors.width >= 2 * 240
    overlap = acc.Images("checkerboard/overlap_map")[-1]
    assert 330 <= overlap.width <= 350 and overlap.height >= 330
    text = acc.Tensors("config/text_summary")[0].tensor_proto.string_val[0].decode()
    assert "patches_per_epoch: 16" in text and "${" not in text  # resolved


def test_every_n_epochs_skips_epochs(tmp_path):
    acc = read_events(tiny_run(tmp_path, ("trainer.max_epochs=3",
                                          "callbacks.inspector.every_n_epochs=2")))
    # after epochs 2 and 3 (the last) of fit; the final trainer.validate repeats step 12 -> skipped
    assert [e.step for e in acc.Scalars("checkerboard/score")] == [8, 12]
    assert [e.step for e in acc.Scalars("checkerboard/real")] == [8, 12]
    assert len(acc.Scalars("val/psnr")) == 4  # 3 in fit + the final validate


def test_error_views_can_be_switched_off(tmp_path):
    tags = read_events(tiny_run(tmp_path, ("+callbacks.inspector.error_images=0",))).Tags()
    assert not ERROR_IMAGES & set(tags["images"]) and "checkerboard/real" not in tags["scalars"]
    assert "checkerboard/pattern" in tags["images"]  # the rest of the inspector still logs


def test_tail_kernels_split_by_phase():
    net = FSRCNN(scale=3, d=4, s=2, m=0)  # deconv 9x9, padding 3
    phases, all_k = tail_kernels(net.tail)
    assert all_k.shape == (4, 9, 9) and len(phases) == 9
    assert all(p.shape == (4, 3, 3) for p in phases.values())
    # output pixel y = 3x + t - 3 takes tap t: phase 0 holds taps 0, 3, 6
    assert torch.equal(phases[(0, 0)], all_k[:, 0::3, 0::3])
    # phase sums equal (smooth init): a flat input gives a flat output
    sums = torch.stack([p.sum((-1, -2)) for p in phases.values()])
    assert torch.allclose(sums, sums[0].expand_as(sums), atol=1e-6)
    ps = tail_kernels(FSRCNN(scale=2, d=4, s=2, m=0, tail="pixelshuffle").tail)[0]
    assert len(ps) == 4 and ps[(1, 1)].shape == (4, 3, 3)
    assert tail_kernels(FSRCNN(scale=2, d=4, s=2, m=0, tail="resize_conv").tail) is None


def test_config_is_resolved_and_validated(tmp_path):
    cfg = compose_train([], tmp_path)
    text = resolved_yaml(cfg)
    assert not any(line.startswith("hydra:") for line in text.splitlines())
    assert "scale: 2" in text and "${" not in text
    with pytest.raises(ValueError, match="every_n_epochs"):
        TensorBoardInspector(every_n_epochs=0)
