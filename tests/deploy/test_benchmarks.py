"""scripts/benchmark.py's inference parts on tiny inputs: every path runs, the tables render
(speed itself is measured by the benchmark, never asserted in tests)."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest
import torch
from helpers import ROOT, write_images

ONE_OPS = True  # see conftest.py


@pytest.fixture
def one_thread():
    threads = torch.get_num_threads()
    yield
    torch.set_num_threads(threads)


def test_infer_benchmark_smoke(one_thread) -> None:
    from srnet.benchmarks import infer_speed, infer_tables

    result = infer_speed.run("cpu", scales=(3,), sizes=[(24, 20)], repeats=1, threads=1)
    names = {r["method"] for r in result["rows"]}
    assert {"srnet deconv (plain)", "srnet rewritten", "srnet deployed fp32",
            "srnet deployed RGB->RGB", infer_speed.USER, "torch bicubic"} <= names
    assert all(r["mp_per_s"] > 0 and r["lr"] == "20x24" for r in result["rows"])
    assert "| srnet deployed fp32 |" in infer_tables.table(result)
    assert all(r["ms_first"] > 0 and r["ms_median"] >= r["ms_min"] for r in result["rows"])
    side = infer_tables.side_by_side(result)
    assert "| x3 | 20x24 |" in side
    if "ECBSR-M4C16 eager" in names:  # the peer's time over srnet's, in the last column
        assert side.splitlines()[-1].split("|")[-2].strip().endswith("x**")
    else:
        assert any("ECBSR-M4C16 skipped" in n for n in result["notes"])
    only = infer_speed.run("cpu", scales=(2,), sizes=[(8, 8)], repeats=1, threads=1,
                           only=["user"])
    assert {r["method"] for r in only["rows"]} == {infer_speed.USER}


def test_exported_rows(one_thread) -> None:
    """The RGB export's rows: onnxruntime, OpenCV dnn and ncnn where installed, noted if not."""
    import importlib.util

    from srnet.benchmarks import infer_speed, peers

    result = infer_speed.run("cpu", scales=(2,), sizes=[(13, 11)], repeats=1, threads=1,
                             only=["RGB export"])
    names = {r["method"] for r in result["rows"]}
    packages = dict(zip(peers.EXPORTED, (["onnxruntime"], ["cv2"], ["pnnx", "ncnn"]),
                        strict=True))
    for name, needs in packages.items():
        there = all(importlib.util.find_spec(p) for p in needs)
        assert (name in names) == there, (name, result["notes"])
        assert there or any(name in n for n in result["notes"])


def test_profile_smoke(one_thread) -> None:
    from srnet.benchmarks import infer_profile

    result = infer_profile.profile(3, (20, 24), repeats=1)
    assert result["network_ms"] > 0 and result["colour_ms"] > 0
    assert "colour = " in infer_profile.table(result)


def test_folder_benchmark_smoke(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """part=folder: every command writes every photo; the speed-ups are reported."""
    cv2 = pytest.importorskip("cv2")
    if not hasattr(cv2, "dnn_superres"):
        pytest.skip("cv2 without dnn_superres: pip install opencv-contrib-python-headless")
    from srnet.benchmarks import infer_folder, peers

    if peers.opencv_superres(2)[0] is None:  # models, cv2.dnn_superres (contrib), OpenCV 4
        pytest.skip(peers.opencv_superres(2)[1])
    monkeypatch.chdir(ROOT)
    sys.path.insert(0, str(ROOT / "scripts"))
    try:
        import benchmark
    finally:
        sys.path.remove(str(ROOT / "scripts"))
    write_images(tmp_path / "photos", 2, 24, 32)
    out = tmp_path / "b.json"
    (result,) = benchmark.main(["part=folder", "scales=[2]", f"folders=[{tmp_path / 'photos'}]",
                                "repeats=1", f"out={out}"])["folder"]
    assert result["images"] == 2 and {r["command"] for r in result["rows"]} == {
        "srnet infer.py", "opencv script", "ECBSR-M4C16 eager"}
    assert result["speedup"]["srnet infer.py"] == 1 and "its time / srnet's" in infer_folder.table(
        [result])
    assert json.loads(out.read_text())["folder"][0]["images"] == 2
    sizes = infer_folder.mixed_sizes()
    assert len(sizes) == 32 and sizes[0] == (64, 48) and sizes[-1] == (1920, 1080)


@pytest.mark.parametrize("text,expected", [
    ("processor\t: 0\nvendor_id\t: AuthenticAMD\ncpu family\t: 25\nmodel\t\t: 17\n"
     "model name\t: AMD EPYC\nprocessor\t: 1\ncpu family\t: 26\n", "AMD EPYC (family 25 model 17)"),
    ("model name\t: Some ARM core\n", "Some ARM core"),
])
def test_cpu_name_says_family_and_model(monkeypatch, text, expected) -> None:
    from srnet.benchmarks import peers

    real = Path.read_text
    monkeypatch.setattr(Path, "read_text", lambda self, *a, **k: text if str(self) == "/proc/cpuinfo"
                        else real(self, *a, **k))
    assert peers.cpu_name() == expected
