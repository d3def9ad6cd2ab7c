"""``infer.py`` under faults: listing problems are per file, a killed folder run is finished by a
rerun with ``skip_existing=true``, writes never clobber a file that appears meanwhile, usage
errors exit 2 before any work and name what was typed, any file name can be passed (quoted for
Hydra, ``@list.txt``, stdin), ``max_pixels=``, truncated checkpoints and videos."""

from __future__ import annotations

import io
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
from helpers import ROOT, compose_infer, smooth_image, tiny_weights, write_images
from PIL import Image

from srnet.app import outputs as outputs_mod
from srnet.app import stills
from srnet.app.app import infer
from srnet.app.inputs import list_inputs, scan_inputs
from srnet.cli import check_argv
from srnet.io import images
from srnet.io.files import TMP_MARK, temp_path

ENV = {**os.environ, "OMP_NUM_THREADS": "1", "PYTHONPATH": str(ROOT)}


@pytest.fixture(scope="module")
def weights(tmp_path_factory) -> Path:
    return tiny_weights(tmp_path_factory.mktemp("w") / "w.pt")


def run(tmp_path: Path, weights: Path | None, *overrides: str) -> int:
    ckpt = [f"ckpt_path={weights}"] if weights else []
    return infer(compose_infer(tmp_path, *ckpt, "progress=false", *overrides))


def temps(folder: Path) -> list[str]:
    return [p.name for p in folder.iterdir() if TMP_MARK in p.name]


def size(path: Path) -> tuple[int, int]:
    with Image.open(path) as im:
        return im.size


def test_symlink_loop_and_broken_link_are_failed_files_the_rest_is_done(tmp_path, capsys, weights):
    good = write_images(tmp_path / "in", 2, 12, 10)
    (tmp_path / "in" / "loop.png").symlink_to(tmp_path / "in" / "loop.png")
    (tmp_path / "in" / "gone.png").symlink_to(tmp_path / "nowhere.png")
    paths, problems = scan_inputs(str(tmp_path / "in"))
    assert paths == good and sorted(p.name for p, _ in problems) == ["gone.png", "loop.png"]
    assert run(tmp_path, weights, f"input={tmp_path / 'in'}", f"output={tmp_path / 'o'}") == 1
    out = capsys.readouterr().out
    assert "summary: 2 of 4 image(s) done" in out and "2 failed" in out
    assert "loop.png: a symlink loop" in out and "gone.png: a broken symlink" in out
    assert sorted(p.name for p in (tmp_path / "o").iterdir()) == [p.name for p in good]


def _start(tmp_path: Path, weights: Path, *extra: str) -> subprocess.Popen:
    cmd = [sys.executable, str(ROOT / "infer.py"), f"input={tmp_path / 'in'}",
           f"output={tmp_path / 'out'}", f"ckpt_path={weights}", "progress=false", *extra]
    return subprocess.Popen(cmd, cwd=tmp_path, env=ENV, stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, text=True)


def _stop_while_writing(proc: subprocess.Popen, out: Path, sig: int) -> bool:
    """Send ``sig`` once an output is done and another is being written; True if caught so."""
    deadline = time.time() + 120
    while proc.poll() is None and time.time() < deadline:
        names = os.listdir(out) if out.is_dir() else []
        if any(TMP_MARK in n for n in names) and any(TMP_MARK not in n for n in names):
            proc.send_signal(sig)
            proc.wait(60)
            return True
        time.sleep(0.002)
    proc.wait(60)
    return False


def test_kill_9_mid_folder_then_a_rerun_finishes_with_exit_0(tmp_path, weights):
    paths = write_images(tmp_path / "in", 8, 400, 500)
    proc = _start(tmp_path, weights)
    if not _stop_while_writing(proc, tmp_path / "out", signal.SIGKILL):
        pytest.skip("the run ended before it could be killed mid-write (a very fast machine)")
    left = temps(tmp_path / "out")
    assert proc.returncode == -signal.SIGKILL and left  # what a killed writer leaves
    assert not any(TMP_MARK in p.name for p in list_inputs(str(tmp_path / "out")))
    rerun = _start(tmp_path, weights, "skip_existing=true")
    text = rerun.communicate(timeout=300)[0]
    assert rerun.returncode == 0, text
    assert "skipped (output exists)" in text and "0 failed" in text
    assert temps(tmp_path / "out") == []  # the dead run's temporary file is gone
    for p in paths:
        assert size(tmp_path / "out" / p.name) == (1000, 800)
    again = _start(tmp_path, weights)  # without skip_existing: every file says how to go on
    text = again.communicate(timeout=300)[0]
    assert again.returncode == 1 and "skip_existing=true" in text


def test_sigterm_stops_like_ctrl_c_and_leaves_no_partial_file(tmp_path, weights):
    write_images(tmp_path / "in", 8, 400, 500)
    proc = _start(tmp_path, weights)
    if not _stop_while_writing(proc, tmp_path / "out", signal.SIGTERM):
        pytest.skip("the run ended before it could be stopped mid-write")
    assert proc.returncode == 143, proc.stdout.read()
    assert temps(tmp_path / "out") == [] and "interrupted" in proc.stdout.read()
    for p in (tmp_path / "out").iterdir():
        assert size(p) == (1000, 800)


def test_a_file_appearing_at_the_target_during_encoding_survives(tmp_path, capsys, monkeypatch,
                                                                 weights):
    write_images(tmp_path / "in", 2, 12, 10)
    real = images.write_png

    def racing(f, *args, **kw):  # the user's file appears while ours is encoded
        name = Path(f.name).name[1:].split(TMP_MARK)[0]
        if name == "img_000.png":
            (Path(f.name).parent / name).write_bytes(b"the user's file")
        return real(f, *args, **kw)

    monkeypatch.setattr(images, "write_png", racing)
    args = (f"input={tmp_path / 'in'}", f"output={tmp_path / 'o'}")
    assert run(tmp_path, weights, *args) == 1
    out = capsys.readouterr().out
    assert "appeared while it was being written" in out and "kept, not replaced" in out
    assert (tmp_path / "o" / "img_000.png").read_bytes() == b"the user's file"
    assert size(tmp_path / "o" / "img_001.png") == (20, 24) and temps(tmp_path / "o") == []
    (tmp_path / "o" / "img_000.png").unlink()
    (tmp_path / "o" / "img_001.png").unlink()
    assert run(tmp_path, weights, *args, "skip_existing=true") == 0  # resuming: it is skipped
    assert "1 of 2 image(s) done, 1 skipped" in capsys.readouterr().out


@pytest.mark.slow
def test_two_runs_into_one_folder_write_each_file_once(tmp_path, weights):
    paths = write_images(tmp_path / "in", 10, 300, 300)
    runs = [_start(tmp_path, weights) for _ in range(2)]
    texts = [r.communicate(timeout=600)[0] for r in runs]
    done = [int(t.split("summary: ")[1].split(" of ")[0]) for t in texts]
    assert sum(done) == len(paths), texts  # each output completed by exactly one run
    assert temps(tmp_path / "out") == []
    assert all(size(tmp_path / "out" / p.name) == (600, 600) for p in paths)


def test_usage_errors_exit_2_before_any_work(tmp_path, capsys, monkeypatch, weights):
    write_images(tmp_path / "in", 1, 12, 10)
    (tmp_path / "notes.txt").write_text("mine")
    inp, o = f"input={tmp_path / 'in'}", f"output={tmp_path / 'o'}"
    cases = {(inp, f"output={tmp_path / 'notes.txt'}"): "is an existing file, not a folder",
             (inp, f"output={tmp_path / 'report.txt'}"): "ends in .txt, which is no image",
             (inp, o, "overwrite=true", "skip_existing=true"): "choose one",
             (inp, o, "overwrite=maybe"): "overwrite='maybe': give true or false",
             (inp, o, "max_pixels=-1"): "max_pixels=-1"}
    for args, msg in cases.items():
        assert run(tmp_path, weights, *args) == 2, args
        assert msg in capsys.readouterr().err, args
    assert run(tmp_path, None, inp, o, "scale=7") == 2  # bundled weights: named as typed
    err = capsys.readouterr().err
    assert "scale=7: srnet has no bundled network for x7 (bundled: x2, x3, x4)" in err
    assert "ckpt_path" not in err.split("bundled:")[0]

    def readonly(*a, **kw):
        raise OSError(30, "Read-only file system")

    monkeypatch.setattr(outputs_mod.os, "open", readonly)
    monkeypatch.setattr(stills, "upscale_image", lambda *a, **kw: pytest.fail("work was done"))
    assert run(tmp_path, weights, inp, o) == 2
    assert "files cannot be created there (Read-only file system)" in capsys.readouterr().err


def test_unknown_key_and_unparsable_values_exit_2_through_infer_py(tmp_path):
    res = subprocess.run([sys.executable, str(ROOT / "infer.py"), "input=x.png", "ovewrite=true"],
                         capture_output=True, text=True, env=ENV, cwd=tmp_path)
    assert res.returncode == 2 and "HYDRA_FULL_ERROR" not in res.stderr
    assert res.stderr.strip() == ("error: ovewrite=true: infer.py has no setting 'ovewrite' (did "
                                  "you mean overwrite?); its settings are in configs/infer.yaml "
                                  "(python infer.py --cfg job shows them)")
    Image.fromarray(smooth_image(10, 12)).save(tmp_path / "фото_日本.png")
    res = subprocess.run([sys.executable, str(ROOT / "infer.py"), "input=фото_日本.png",
                          "output=o", "scale=2", "progress=false"],
                         capture_output=True, text=True, env=ENV, cwd=tmp_path)
    assert res.returncode == 0, res.stderr
    assert size(tmp_path / "o" / "фото_日本.png") == (24, 20)
    with pytest.raises(SystemExit) as exit_:
        check_argv("infer", ["input=x.png", "tile=a b,c"])
    assert exit_.value.code == 2


NAMES = ["фото_日本.png", "x'quote.png", "weird,comma [1].png", "it's \"both\".png", "${x}.png",
         "a=b.png", " lead.png", "back\\slash.png"]


@pytest.mark.parametrize("name", NAMES)
def test_any_file_name_on_the_command_line(tmp_path, name):
    (tmp_path / name).write_bytes(b"")
    args = check_argv("infer", [f"input={tmp_path / name}", "output=o"])
    cfg = compose_infer(tmp_path, *args)
    assert cfg.input == str(tmp_path / name)


def test_hydra_quotes_inside_the_value_as_documented(tmp_path):
    args = check_argv("infer", ["input=x.png", 'output="new,folder [2]"'])  # does not exist yet
    assert compose_infer(tmp_path, *args).output == "new,folder [2]"


def test_list_file_and_stdin_take_any_name(tmp_path, monkeypatch, weights):
    folder = tmp_path / "in"
    folder.mkdir()
    for i, name in enumerate(NAMES):
        Image.fromarray(smooth_image(8, 6, seed=i)).save(folder / name, format="PNG")
    (tmp_path / "list.txt").write_text("\n".join(str(folder / n) for n in NAMES) + "\n")
    assert run(tmp_path, weights, f"input=@{tmp_path / 'list.txt'}", f"output={tmp_path / 'a'}") == 0
    assert sorted(p.name for p in (tmp_path / "a").iterdir()) == sorted(NAMES)
    (tmp_path / "more.txt").write_text(f"{folder / NAMES[0]}\n{folder / 'missing.png'}\n")
    assert run(tmp_path, weights, f"input=@{tmp_path / 'more.txt'}", f"output={tmp_path / 'c'}",
               "overwrite=true") == 1  # a missing line fails alone
    assert [p.name for p in (tmp_path / "c").iterdir()] == [NAMES[0]]
    data = b"\0".join(os.fsencode(folder / n) for n in NAMES)  # find -print0
    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(data)))
    assert run(tmp_path, weights, "input=-", f"output={tmp_path / 'b'}") == 0
    assert sorted(p.name for p in (tmp_path / "b").iterdir()) == sorted(NAMES)


def test_max_pixels_names_the_setting(tmp_path, capsys, weights):
    from PIL import Image as PILImage

    limit = PILImage.MAX_IMAGE_PIXELS
    Image.fromarray(smooth_image(40, 50)).save(tmp_path / "a.png")
    args = (f"input={tmp_path / 'a.png'}", f"output={tmp_path / 'o'}")
    assert run(tmp_path, weights, *args, "max_pixels=1000") == 1
    assert "50x40 = 0.0 MP is more than max_pixels=1000" in capsys.readouterr().out
    assert run(tmp_path, weights, *args, "max_pixels=2000") == 0
    assert PILImage.MAX_IMAGE_PIXELS == limit  # the process setting is put back


def test_truncated_checkpoint_is_described_in_whole_sentences(tmp_path, capsys, weights):
    write_images(tmp_path / "in", 1, 8, 8)
    data = weights.read_bytes()
    (tmp_path / "cut.pt").write_bytes(data[:len(data) // 2])
    assert run(tmp_path, tmp_path / "cut.pt", f"input={tmp_path / 'in'}",
               f"output={tmp_path / 'o'}") == 2
    err = capsys.readouterr().err.strip()
    assert "the file is incomplete or damaged" in err and "If you are seeing" not in err
    assert err.endswith("srnet.io.checkpoints.save_weights")


def test_truncated_mkv_is_refused_with_frames_decoded_of_declared(tmp_path, capsys, weights):
    pytest.importorskip("av")
    from helpers import make_video

    full = make_video(tmp_path / "full.mkv", frames=50)
    data = full.read_bytes()
    (tmp_path / "in").mkdir()
    (tmp_path / "in" / "cut.mkv").write_bytes(data[:len(data) // 2])
    assert run(tmp_path, weights, f"input={tmp_path / 'in'}", f"output={tmp_path / 'o'}") == 1
    out = capsys.readouterr().out
    assert "decoded 25 of 50 frames" in out and "truncated or damaged" in out
    assert list((tmp_path / "o").iterdir()) == []  # no shorter video under the output name


def test_stale_temporary_files_of_dead_runs_are_removed_live_ones_kept(tmp_path, weights):
    write_images(tmp_path / "in", 1, 8, 8)
    (tmp_path / "o").mkdir()
    proc = subprocess.Popen([sys.executable, "-c", "pass"])
    proc.wait()
    dead = temp_path(tmp_path / "o" / "img_000.png", pid=proc.pid)
    live = temp_path(tmp_path / "o" / "other.png")  # this process: another live run
    dead.write_bytes(b"half")
    live.write_bytes(b"half")
    assert run(tmp_path, weights, f"input={tmp_path / 'in'}", f"output={tmp_path / 'o'}") == 0
    assert sorted(temps(tmp_path / "o")) == [live.name]
    assert np.asarray(Image.open(tmp_path / "o" / "img_000.png")).shape == (16, 16, 3)
