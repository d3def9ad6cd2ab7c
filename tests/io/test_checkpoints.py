"""Checkpoints: plain weights files, bundled names, safe loading and the refusals.

The Lightning ``.ckpt`` written by a real training run is tested in ``test_infer_cli.py``.
"""

from __future__ import annotations

import pickle
import runpy
import sys
from pathlib import Path

import pytest
import torch

from srnet.io import checkpoints as checkpoint
from srnet.io.checkpoints import CheckpointError, check_compatible, load_net, save_weights
from srnet.io.init_from import load_matching
from srnet.nets.fsrcnn import FSRCNN


def tiny(scale: int = 2, color_mode: str = "y", seed: int = 0) -> FSRCNN:
    torch.manual_seed(seed)
    return FSRCNN(scale=scale, color_mode=color_mode, d=8, s=4, m=1)


@pytest.mark.parametrize("scale,mode", [(2, "y"), (3, "rgb"), (4, "y")])
def test_weights_roundtrip_same_outputs(tmp_path, scale, mode):
    net = tiny(scale, mode)
    path = save_weights(net, tmp_path / "w.pt", degradation="bicubic")
    loaded = load_net(path)
    assert loaded.cfg == net.cfg and loaded.degradation == {"name": "bicubic"} and loaded.source == str(path)
    assert not loaded.training
    x = torch.rand(1, net.cfg.channels, 7, 5)
    with torch.no_grad():
        torch.testing.assert_close(loaded(x), net.eval()(x), rtol=0, atol=0)
    assert [p.name for p in tmp_path.iterdir()] == ["w.pt"]  # no temporary file left behind


def test_weights_file_is_plain_and_loads_with_weights_only(tmp_path):
    path = save_weights(tiny(), tmp_path / "w.pt")
    blob = torch.load(path, weights_only=True)
    assert blob["format"] == 1 and blob["net"]["scale"] == 2 and blob["degradation"] == {"name": "bicubic"}
    assert set(blob["state_dict"]) == set(tiny().state_dict())
    assert path.stat().st_size < 50_000


def test_save_weights_refuses_other_modules(tmp_path):
    with pytest.raises(TypeError, match="FSRCNN"):
        save_weights(torch.nn.Conv2d(1, 1, 3), tmp_path / "w.pt")


def test_bundled_name_missing_says_a_checkpoint_is_needed(tmp_path, monkeypatch):
    monkeypatch.setattr(checkpoint, "WEIGHTS_DIR", tmp_path)
    with pytest.raises(FileNotFoundError, match=r"ckpt_path=.*fsrcnn_x3\.pt|fsrcnn_x3\.pt.*ckpt_path="):
        load_net("x3")
    with pytest.raises(CheckpointError, match="x5"):
        checkpoint.bundled_path("x5")


def test_bundled_name_loads_the_file(tmp_path, monkeypatch):
    monkeypatch.setattr(checkpoint, "WEIGHTS_DIR", tmp_path)
    save_weights(tiny(3), tmp_path / "fsrcnn_x3.pt")
    assert load_net("x3").scale == 3


def test_missing_file_and_folder(tmp_path):
    with pytest.raises(FileNotFoundError, match="nope.ckpt"):
        load_net(tmp_path / "nope.ckpt")
    with pytest.raises(CheckpointError, match="folder"):
        load_net(tmp_path)


@pytest.mark.parametrize("content,match", [
    (b"", "cannot be read"),
    (b"this is a text file, not a checkpoint\n", "cannot be read"),
    (b"PK\x03\x04 truncated zip", "cannot be read"),
])
def test_corrupt_files_are_refused_naming_the_file(tmp_path, content, match):
    path = tmp_path / "bad.ckpt"
    path.write_bytes(content)
    with pytest.raises(CheckpointError, match=match) as err:
        load_net(path)
    assert str(path) in str(err.value)


def test_truncated_real_checkpoint_is_refused(tmp_path):
    path = save_weights(tiny(), tmp_path / "w.pt")
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])
    with pytest.raises(CheckpointError, match="cannot be read"):
        load_net(path)


@pytest.mark.parametrize("obj,match", [
    ({"foo": 1, "bar": [1, 2]}, r"keys \['foo', 'bar'\]"),
    ({"w": torch.zeros(2)}, "bare state dict"),
    ([1, 2, 3], "holds a list"),
])
def test_foreign_checkpoints_are_refused_saying_what_they_hold(tmp_path, obj, match):
    path = tmp_path / "foreign.pt"
    torch.save(obj, path)
    with pytest.raises(CheckpointError, match=match) as err:
        load_net(path)
    assert str(path) in str(err.value) and "not an srnet checkpoint" in str(err.value)


class _Payload:
    """Unpickling this would create a file: weights_only loading must refuse before that."""

    def __init__(self, marker: str) -> None:
        self.marker = marker

    def __reduce__(self):
        return (Path.touch, (Path(self.marker),))


@pytest.mark.filterwarnings("ignore::UserWarning")  # pickle protocol note from torch
def test_arbitrary_pickle_never_runs(tmp_path):
    marker = tmp_path / "pwned"
    path = tmp_path / "evil.ckpt"
    with open(path, "wb") as f:
        pickle.dump({"state_dict": {}, "srnet": _Payload(str(marker))}, f)
    torch.save({"state_dict": {}, "srnet": _Payload(str(marker))}, tmp_path / "evil2.ckpt")
    for p in (path, tmp_path / "evil2.ckpt"):
        with pytest.raises(CheckpointError, match="cannot be read"):
            load_net(p)
    assert not marker.exists()


def test_weights_not_matching_the_declared_architecture(tmp_path):
    path = save_weights(tiny(), tmp_path / "w.pt")
    blob = torch.load(path, weights_only=True)
    blob["net"]["d"] = 16  # declares d=16 but holds d=8 weights
    torch.save(blob, path)
    with pytest.raises(CheckpointError, match="do not match.*d=16"):
        load_net(path)
    blob["state_dict"]["extra.weight"] = torch.zeros(1)
    blob["net"]["d"] = 8
    torch.save(blob, path)
    with pytest.raises(CheckpointError, match="extra.weight"):  # strict=True
        load_net(path)


def test_unbuildable_architecture(tmp_path):
    path = save_weights(tiny(), tmp_path / "w.pt")
    blob = torch.load(path, weights_only=True)
    blob["net"]["scale"] = 5
    torch.save(blob, path)
    with pytest.raises(CheckpointError, match="cannot build.*scale=5"):
        load_net(path)


def test_check_compatible_says_what_the_checkpoint_holds():
    cfg = tiny(3).cfg.to_dict()
    check_compatible(cfg, {"scale": 3, "color_mode": "y", "arch": None})  # no error
    with pytest.raises(CheckpointError) as err:
        check_compatible(cfg, {"scale": 2, "color_mode": "rgb"}, "run.ckpt")
    msg = str(err.value)
    assert "run.ckpt holds an x3 FSRCNN on Y" in msg
    assert "scale=2 was asked but the checkpoint has scale=3" in msg
    assert "color_mode='rgb' was asked but the checkpoint has color_mode='y'" in msg


@pytest.mark.filterwarnings("ignore::RuntimeWarning")  # runpy on an imported module
def test_export_command(tmp_path, monkeypatch, capsys):
    """``python -m srnet.io.checkpoints <src> <out.pt>`` (run in-process)."""
    src = save_weights(tiny(4, "rgb"), tmp_path / "a.pt")
    out = tmp_path / "b.pt"
    monkeypatch.setattr(sys, "argv", ["srnet.io.checkpoints", str(src), str(out)])
    runpy.run_module("srnet.io.checkpoints", run_name="__main__")
    assert "x4 FSRCNN on RGB" in capsys.readouterr().out
    assert load_net(out).cfg == load_net(src).cfg
    with pytest.raises(SystemExit, match="exists"):  # never overwrites
        runpy.run_module("srnet.io.checkpoints", run_name="__main__")


def test_load_matching_carries_a_body_across_scales_but_refuses_another_shape(tmp_path):
    from srnet.nets.fsrcnn import build_net

    slim = {"d": 16, "s": None, "m": 4, "first_kernel": 3, "shrink": False}
    save_weights(build_net({"scale": 3, **slim}), tmp_path / "slim_x3.pt")
    x2 = build_net({"scale": 2, **slim})
    copied = load_matching(x2, tmp_path / "slim_x3.pt")
    assert len([k for k in copied if k.startswith("body.")]) == 15  # the whole body
    assert "tail.deconv.weight" not in copied  # the tail's kernel is another size: fitted anew
    classic = build_net({"scale": 3})  # one tensor (the tail's bias) would match by chance
    with pytest.raises(CheckpointError, match=r"another network's shape: body\.0\.weight"):
        load_matching(classic, tmp_path / "slim_x3.pt")
