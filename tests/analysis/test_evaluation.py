"""The evaluation protocol and ``scripts/evaluate.py``.

Offline: a hand-computed score through the whole pipeline, the output files, and (once
``srnet.io.checkpoints`` exists) the model row against training's own validation. On
../shared/datasets/benchmark (skipped when absent): srnet's LR against the MATLAB-made LR files, and
the published bicubic baselines from the given and from srnet-made LR.
"""

from __future__ import annotations

import csv
import importlib.util
import json
import math
import subprocess
import sys

import numpy as np
import pytest
import torch
from helpers import ROOT, compose_train, write_images
from PIL import Image

from srnet.analysis.evaluation import evaluate, load_pair
from srnet.data.sources import PairedBenchmark
from srnet.io.images import read_rgb, to_uint8
from srnet.io.pictures import to_tensor
from srnet.ops.resize import BASELINES, bicubic_down
from srnet.train.run import train

spec = importlib.util.spec_from_file_location("evaluate_script", ROOT / "scripts" / "evaluate.py")
ev = importlib.util.module_from_spec(spec)
sys.modules["evaluate_script"] = ev
spec.loader.exec_module(ev)

# Published bicubic Y-PSNR (e.g. the SRCNN / FSRCNN / VDSR tables), x2 / x3 / x4.
PUBLISHED = {"Set5": {2: 33.66, 3: 30.39, 4: 28.42}, "BSD100": {2: 29.56, 3: 27.21, 4: 25.96}}


def make_benchmark(root, name="Set2", scale=2, n=2, h=30, w=36):
    """``root/benchmark/<name>/X<scale>/{HR,LR}`` with LR made by srnet's degradation."""
    (root / "benchmark" / name / f"X{scale}" / "LR").mkdir(parents=True)
    for p in write_images(root / "benchmark" / name / f"X{scale}" / "HR", n, h, w):
        lr = bicubic_down(to_tensor(read_rgb(p)), scale)
        Image.fromarray(to_uint8(lr)).save(root / "benchmark" / name / f"X{scale}" / "LR" / p.name)


def test_flat_images_give_the_hand_computed_scores(tmp_path):
    # HR grey 100, LR grey 110: every baseline returns grey 110, so
    # Y differs by 10 * 219/255 everywhere: PSNR = 20 log10(255 / 8.588...) and, with no variance,
    # SSIM = (2 mu_x mu_y + C1) / (mu_x^2 + mu_y^2 + C1) on the Y levels 16 + 219 v / 255.
    for sub, v, size in (("HR", 100, 24), ("LR", 110, 12)):
        (tmp_path / "X2" / sub).mkdir(parents=True)
        Image.fromarray(np.full((size, size, 3), v, np.uint8)).save(tmp_path / "X2" / sub / "a.png")
    scores = evaluate(None, PairedBenchmark(tmp_path, 2).records(), 2, lr="given")
    diff = 10 * 219 / 255
    mx, my = 16 + 219 * 110 / 255, 16 + 219 * 100 / 255
    c1 = (0.01 * 255) ** 2
    for m in BASELINES:
        assert scores[m]["psnr"] == pytest.approx(20 * math.log10(255 / diff), abs=1e-9)
        assert scores[m]["ssim"] == pytest.approx((2 * mx * my + c1) / (mx**2 + my**2 + c1), abs=1e-9)
        assert scores[m]["images"] == 1


def test_given_lr_is_required_for_lr_given(tmp_path):
    write_images(tmp_path / "X2" / "HR", 1, 20, 20)
    (rec,) = PairedBenchmark(tmp_path, 2, use_lr=False).records()
    with pytest.raises(ValueError, match="lr=make"):
        load_pair(rec, 2, "given")
    with pytest.raises(ValueError, match="given"):
        load_pair(rec, 2, "other")


def test_script_writes_table_json_csv(tmp_path, capsys):
    make_benchmark(tmp_path / "data", "Set2", 2)
    make_benchmark(tmp_path / "data", "Set2", 3, h=33, w=36)
    rows = ev.main([f"data_root={tmp_path / 'data'}", "datasets=[Set2]", "scales=[2,3]",
                    "lr=given", f"out_dir={tmp_path / 'out'}"])
    out = capsys.readouterr().out
    assert "| method | Set2 x2 | Set2 x3 |" in out and "Y channel (ITU-R BT.601" in out
    assert "LR: the set's own LR files" in out
    saved = json.loads((tmp_path / "out" / "results.json").read_text())
    assert saved == rows and len(rows) == 6
    assert set(rows[0]) == {"dataset", "scale", "degradation", "method", "psnr", "ssim", "images"}
    with open(tmp_path / "out" / "results.csv") as f:
        table = list(csv.DictReader(f))
    assert [(r["scale"], r["method"]) for r in table] == [(str(s), m) for s in (2, 3) for m in BASELINES]
    direct = evaluate(None, PairedBenchmark(tmp_path / "data" / "benchmark" / "Set2", 3).records(), 3)
    assert rows[5]["psnr"] == pytest.approx(direct["bicubic"]["psnr"])


def test_script_finds_div2k_and_needs_its_lr_for_lr_given(tmp_path):
    write_images(tmp_path / "DIV2K" / "DIV2K_valid_HR", 2, 40, 48)
    rows = ev.main([f"data_root={tmp_path}", "datasets=[DIV2K]", "scales=[4]", "lr=make",
                    "methods=[bicubic]", f"out_dir={tmp_path / 'out'}"])
    assert [(r["dataset"], r["scale"], r["method"], r["images"]) for r in rows] == [
        ("DIV2K", 4, "bicubic", 2)]
    with pytest.raises(FileNotFoundError, match=r"DIV2K_valid_LR_bicubic/X4"):
        ev.main([f"data_root={tmp_path}", "datasets=[DIV2K]", "scales=[4]", "lr=given",
                 f"out_dir={tmp_path / 'out'}"])


def test_script_refuses_bad_keys_and_values(tmp_path):
    with pytest.raises(SystemExit, match="allowed keys"):
        ev.main(["dataset=[Set5]"])
    with pytest.raises(ValueError, match="given"):
        ev.main(["lr=matlab"])
    with pytest.raises(FileNotFoundError, match="Set9"):
        ev.main([f"data_root={tmp_path}", "datasets=[Set9]", f"out_dir={tmp_path}"])


def test_model_row_equals_training_validation(tmp_path):
    data = tmp_path / "data"
    write_images(data / "photos", 2, 64, 64)
    make_benchmark(data, "Set5", 2, n=2, h=40, w=44)
    cfg = compose_train([
        "data=folder", f"data.train.0.root={data / 'photos'}", f"paths.data_dir={data}",
        "scale=2", "trainer=cpu", "trainer.max_steps=2", "trainer.max_epochs=1",
        "model.net.d=8", "model.net.s=4", "model.net.m=1", "data.patch_size=8",
        "data.batch_size=2", "data.patches_per_epoch=4", "+trainer.enable_progress_bar=false",
    ], tmp_path / "run")
    metrics = train(cfg)
    ckpt = tmp_path / "run" / "checkpoints" / "last.ckpt"
    rows = ev.main([f"ckpt_path={ckpt}", f"data_root={data}", "datasets=[Set5]",
                    f"out_dir={tmp_path / 'out'}", "device=cpu"])
    model = next(r for r in rows if r["method"] == "model")
    assert model["scale"] == 2 and model["images"] == 2
    assert model["psnr"] == pytest.approx(metrics["val/Set5/psnr"], abs=1e-4)
    assert model["ssim"] == pytest.approx(metrics["val/Set5/ssim"], abs=1e-5)


# ---- on ../shared/datasets/benchmark (skipped when absent) ----

@pytest.mark.parametrize("name", ["Set5", "Set14", pytest.param("BSD100", marks=pytest.mark.slow)])
def test_srnet_lr_matches_matlab_lr_files(shared_data, name):
    for s in (2, 3, 4):
        for rec in PairedBenchmark(shared_data / "benchmark" / name, s).records():
            lr, hr = load_pair(rec, s, "given")
            rgb_psnr = 10 * torch.log10(1 / (bicubic_down(hr, s) - lr).pow(2).mean())
            assert rgb_psnr > 45, f"{rec.lr}: srnet's LR is only {rgb_psnr:.2f} dB from the file"


def test_evaluate_cli_set5_bicubic_matches_published(shared_data, tmp_path):
    cmd = [sys.executable, "scripts/evaluate.py", f"data_root={shared_data}", "datasets=[Set5]",
           "scales=[2,3,4]", "lr=given", f"out_dir={tmp_path / 'given'}"]
    done = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    assert "| bicubic | 33.6" in done.stdout
    given = json.loads((tmp_path / "given" / "results.json").read_text())
    made = ev.main([f"data_root={shared_data}", "datasets=[Set5]", "lr=make",
                    "methods=[bicubic]", f"out_dir={tmp_path / 'make'}"])
    for rows in (given, made):
        bicubic = {r["scale"]: r["psnr"] for r in rows if r["method"] == "bicubic"}
        assert bicubic == pytest.approx(PUBLISHED["Set5"], abs=0.03)


@pytest.mark.slow
@pytest.mark.parametrize("lr", ["given", "make"])
def test_evaluate_bsd100_bicubic_matches_published(shared_data, tmp_path, lr):
    rows = ev.main([f"data_root={shared_data}", "datasets=[BSD100]", f"lr={lr}",
                    "methods=[bicubic]", f"out_dir={tmp_path}"])
    assert {r["scale"]: r["images"] for r in rows} == {2: 100, 3: 100, 4: 100}
    assert {r["scale"]: r["psnr"] for r in rows} == pytest.approx(PUBLISHED["BSD100"], abs=0.03)


def test_denoise_rows_follow_the_blend(tmp_path):
    """denoise=[0,1] rows equal the clean and the real checkpoint scored alone; 0.5 lies apart."""
    from srnet.io.checkpoints import save_weights
    from srnet.nets.fsrcnn import FSRCNN

    make_benchmark(tmp_path / "data", "Set2", 2)
    paths = {}
    for name, seed in (("clean", 0), ("real", 1)):
        torch.manual_seed(seed)
        paths[name] = save_weights(FSRCNN(scale=2, d=8, s=4, m=1), tmp_path / f"{name}.pt")
    common = [f"data_root={tmp_path / 'data'}", "datasets=[Set2]", "methods=[bicubic]",
              "device=cpu", "degradation=[jpeg_q50]"]
    alone = {r["method"]: r["psnr"] for r in ev.main(
        [f"ckpt_path=[{paths['clean']},{paths['real']}]", *common, f"out_dir={tmp_path / 'a'}"])}
    knob = {r["method"]: r["psnr"] for r in ev.main(
        [f"ckpt_path={paths['clean']}", f"real={paths['real']}", "denoise=[0,0.5,1]", *common,
         f"out_dir={tmp_path / 'b'}"])}
    assert knob["clean@0"] == pytest.approx(alone["clean"], abs=1e-6)
    assert knob["clean@1"] == pytest.approx(alone["real"], abs=1e-6)
    assert knob["clean@0.5"] not in (knob["clean@0"], knob["clean@1"])


def test_checkpoints_with_one_stem_get_columns_of_their_own() -> None:
    label = ev.labels
    assert label(["x2", "runs/a.pt"]) == ["x2", "a"]
    assert label(["logs/a/checkpoints/last.ckpt", "logs/b/checkpoints/last.ckpt", "x2"]) == [
        "a/checkpoints/last", "b/checkpoints/last", "x2"]
    assert label(["w/a.pt", "w/a.pt"]) == ["w/a (1)", "w/a (2)"]


def test_peers_are_scored_as_rows_of_their_own(tmp_path):
    from srnet.benchmarks.peers import tiny_sr_net

    if tiny_sr_net("ECBSR-M4C16", 2) is None:
        pytest.skip("../shared/peers/tiny-sr is absent")
    make_benchmark(tmp_path / "data", "Set2", 2)
    rows = ev.main([f"data_root={tmp_path / 'data'}", "datasets=[Set2]", "scales=[2]",
                    "peers=[ECBSR-M4C16]", "device=cpu", f"out_dir={tmp_path / 'out'}"])
    peer = [r for r in rows if r["method"] == "ECBSR-M4C16 x2"]
    bicubic = [r for r in rows if r["method"] == "bicubic"]
    assert len(peer) == 1 and peer[0]["images"] == 2 and peer[0]["psnr"] != bicubic[0]["psnr"]
    with pytest.raises(SystemExit, match="peers: 'FSRCNN' unknown"):
        ev.main([f"data_root={tmp_path / 'data'}", "datasets=[Set2]", "scales=[2]",
                 "peers=[FSRCNN]", f"out_dir={tmp_path / 'out2'}"])
