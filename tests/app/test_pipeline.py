"""infer.py's folder pipeline (srnet/app/pipeline.py): batched, overlapped runs give the files and
lines of one-at-a-time runs, in input order; a bad file mid-folder is reported in its turn; Ctrl-C
mid-folder leaves only complete files and names the one it stopped."""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np
import pytest
import torch
from helpers import compose_train, write_images
from PIL import Image

from srnet import cli
from srnet.app import pipeline
from srnet.io.checkpoints import save_weights
from srnet.nets.fsrcnn import FSRCNN


@pytest.fixture(scope="module")
def weights(tmp_path_factory) -> Path:
    torch.manual_seed(0)
    return save_weights(FSRCNN(scale=2, d=8, s=4, m=1), tmp_path_factory.mktemp("w") / "w.pt")


def folder(root: Path) -> list[Path]:
    """Mixed sizes, with runs of one size (batched) and a size coming back later."""
    paths = write_images(root, 3, 40, 56, seed=0)
    paths += write_images(root / "b", 2, 33, 47, seed=10)
    paths += write_images(root / "c", 3, 40, 56, seed=20)
    return [p.rename(root / f"{i}_{p.name}") for i, p in enumerate(paths)]


def infer(tmp_path: Path, *overrides: str) -> int:
    return cli.run_infer(compose_train(list(overrides), tmp_path / "hydra", config_name="infer"))


def test_batched_pipeline_equals_one_at_a_time(tmp_path, weights, monkeypatch, capsys):
    srcs = folder(tmp_path / "in")
    listing = tmp_path / "list.txt"
    listing.write_text("\n".join(map(str, srcs)) + "\n")
    monkeypatch.setattr(pipeline, "AHEAD", 8)  # let the reader get ahead, so batches form
    calls, plain = [], pipeline.upscale_to

    def slow_first(*a):  # the first file waits: the reader decodes the rest meanwhile
        calls.append(1)
        time.sleep(0.5 if len(calls) == 1 else 0)
        return plain(*a)

    monkeypatch.setattr(pipeline, "upscale_to", slow_first)
    outs = {}
    for batch in (1, 4):
        out = tmp_path / f"b{batch}"
        capsys.readouterr()
        assert infer(tmp_path, f"input=@{listing}", f"output={out}", f"ckpt_path={weights}",
                     f"batch={batch}", "progress=false", "suffix=_x2") == 0
        lines = [ln for ln in capsys.readouterr().out.splitlines() if ") -> " in ln]
        assert [ln.split(" (")[0] for ln in lines] == [str(s) for s in srcs]  # input order
        outs[batch] = {p.name: np.asarray(Image.open(p)) for p in out.iterdir()}
    assert len(calls) < 8 + 8  # batch=4 put several pictures through one call
    assert outs[1].keys() == outs[4].keys() and len(outs[1]) == len(srcs)
    for name in outs[1]:
        assert np.array_equal(outs[1][name], outs[4][name]), name


def test_writers_finishing_out_of_order_report_in_input_order(tmp_path, weights, monkeypatch,
                                                              capsys):
    srcs = folder(tmp_path / "in")
    plain, delays = pipeline.write_still, iter([0.4, 0.0, 0.2, 0.0, 0.0, 0.3, 0.0, 0.0])

    def uneven(*a):  # earlier files take longer: later ones finish first in other writers
        time.sleep(next(delays, 0.0))
        return plain(*a)

    monkeypatch.setattr(pipeline, "write_still", uneven)
    assert infer(tmp_path, f"input={tmp_path / 'in'}", f"output={tmp_path / 'o'}",
                 f"ckpt_path={weights}", "writers=3", "batch=1", "progress=false") == 0
    lines = [ln.split(" (")[0] for ln in capsys.readouterr().out.splitlines() if ") -> " in ln]
    assert lines == [str(s) for s in sorted(srcs)]
    assert sorted(p.name for p in (tmp_path / "o").iterdir()) == sorted(s.name for s in srcs)


def test_a_picture_written_alone_is_deflated_on_writers_threads(tmp_path, weights, monkeypatch):
    from srnet.io import pngwrite

    src = write_images(tmp_path / "in", 1, 60, 80)[0]
    monkeypatch.setattr(pipeline, "PIPE_PIXELS", 0)  # every still runs alone, as large ones do
    monkeypatch.setattr(pngwrite, "BAND_BYTES", 2000)
    outs = []
    for n in (1, 2):
        outs.append(tmp_path / f"w{n}.png")
        assert infer(tmp_path, f"input={src}", f"output={outs[-1]}", f"ckpt_path={weights}",
                     f"writers={n}", "progress=false") == 0
    assert outs[0].read_bytes() != outs[1].read_bytes()  # bands deflated apart on two threads
    assert np.array_equal(np.asarray(Image.open(outs[0])), np.asarray(Image.open(outs[1])))


@pytest.mark.parametrize("setting", ["writers=0", "batch=-1", "writers=two"])
def test_bad_thread_or_batch_count_is_a_usage_error(tmp_path, weights, capsys, setting):
    assert infer(tmp_path, f"input={tmp_path}", f"output={tmp_path / 'o'}",
                 f"ckpt_path={weights}", setting) == 2
    assert setting.split("=")[0] in capsys.readouterr().err
    assert not (tmp_path / "o").exists()


def test_bad_file_mid_folder_is_reported_in_its_turn(tmp_path, weights, capsys):
    srcs = write_images(tmp_path / "in", 4, 40, 56)
    srcs[1].write_bytes(b"\x89PNG\r\n\x1a\n broken")
    assert infer(tmp_path, f"input={tmp_path / 'in'}", f"output={tmp_path / 'o'}",
                 f"ckpt_path={weights}", "progress=false") == 1
    out = capsys.readouterr().out
    assert f"FAILED {srcs[1]}" in out and "summary: 3 of 4 image(s) done" in out
    assert sorted(p.name for p in (tmp_path / "o").iterdir()) == sorted(
        s.name for s in srcs if s != srcs[1])


def test_ctrl_c_mid_folder_keeps_only_complete_files(tmp_path, weights, monkeypatch, capsys):
    srcs = write_images(tmp_path / "in", 5, 40, 56 + 0)
    for i, s in enumerate(srcs):  # distinct sizes: no batching, one network call per file
        Image.open(s).crop((0, 0, 56 - i, 40)).save(s)
    plain, calls = pipeline.upscale_to, []

    def interrupt_third(*a):
        calls.append(1)
        if len(calls) == 3:
            raise KeyboardInterrupt
        return plain(*a)

    monkeypatch.setattr(pipeline, "upscale_to", interrupt_third)
    assert infer(tmp_path, f"input={tmp_path / 'in'}", f"output={tmp_path / 'o'}",
                 f"ckpt_path={weights}", "progress=false") == 130
    err = capsys.readouterr().err
    assert f"interrupted: {srcs[2]} was not written" in err and "2 file(s) not started" in err
    written = sorted((tmp_path / "o").iterdir())
    assert [p.name for p in written] == [srcs[0].name, srcs[1].name]  # no temporary files
    for p in written:
        Image.open(p).load()  # complete
    assert infer(tmp_path, f"input={tmp_path / 'in'}", f"output={tmp_path / 'o'}",
                 f"ckpt_path={weights}", "progress=false", "skip_existing=true") == 0
    assert len(list((tmp_path / "o").iterdir())) == 5


def test_infer_imports_only_what_it_uses():
    """infer.py's application and load_model pull in no training, data, analysis, Lightning or
    TensorBoard code (start-up time)."""
    import subprocess
    import sys

    code = ("import sys, srnet.cli, srnet.app.app, srnet.infer.models; "
            "print(sorted({m.split('.')[0] if not m.startswith('srnet.') else '.'.join(m.split('.')[:2])"
            " for m in sys.modules}))")
    mods = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          check=True).stdout
    for banned in ("lightning", "tensorboard", "srnet.train", "srnet.data", "srnet.analysis",
                   "torchvision", "torchmetrics", "srnet.benchmarks"):
        assert f"'{banned}'" not in mods, banned
