"""Runs side by side (srnet.analysis.runs, scripts/runs_table.py): best chosen on the holdout only."""

from pathlib import Path

import pytest
from torch.utils.tensorboard import SummaryWriter

from srnet.analysis.runs import run_dirs, summarise, table


def fake_run(path: Path, holdout: list[float], set5: list[float], every: int = 100) -> Path:
    with SummaryWriter(str(path / "tensorboard" / "version_0")) as w:
        for i, (h, s) in enumerate(zip(holdout, set5, strict=True), 1):
            w.add_scalar("val/holdout/psnr", h, i * every)
            w.add_scalar("val/Set5/psnr", s, i * every)
            w.add_scalar("time/cpu_hours", 0.01 * i, i * every)
    return path


def test_best_is_chosen_on_the_holdout_not_the_test_set(tmp_path: Path) -> None:
    # Set5 peaks at step 300, the holdout at step 200: the holdout decides
    run = fake_run(tmp_path / "a", [29.0, 29.2, 29.1, 29.2], [32.0, 32.1, 32.5, 32.2])
    got = summarise(run, sets=("holdout", "Set5"))
    assert got["run"] == "a" and got["steps"] == 400 and got["cpu_hours"] == pytest.approx(0.04)
    assert got["best_step"] == 200  # the earliest of two equal bests
    assert got["best"] == pytest.approx({"holdout": 29.2, "Set5": 32.1})
    assert got["last"] == pytest.approx({"holdout": 29.2, "Set5": 32.2})
    assert got["last"] | {"Set14": None} == summarise(run, ("holdout", "Set5", "Set14"))["last"]


def test_table_and_run_folders(tmp_path: Path) -> None:
    fake_run(tmp_path / "b", [29.0], [32.0])
    fake_run(tmp_path / "a", [29.5, 29.4], [32.5, 32.6])
    (tmp_path / "not_a_run").mkdir()
    runs = run_dirs(tmp_path)
    assert [p.name for p in runs] == ["a", "b"]
    text = table([summarise(r, ("holdout", "Set5")) for r in runs], ("holdout", "Set5"))
    assert "| a | 200 | 0.020 | 29.400 | 32.600 | 100 | 29.500 | 32.500 |" in text
    assert "| b | 100 | 0.010 | 29.000 | 32.000 | 100 | 29.000 | 32.000 |" in text


def test_missing_things_are_named(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError, match="no such folder"):
        run_dirs(tmp_path / "nowhere")
    with pytest.raises(FileNotFoundError, match="no run folder"):
        run_dirs(tmp_path)
    run = fake_run(tmp_path / "c", [29.0], [32.0])
    with pytest.raises(ValueError, match=r"c: no val/DIV2K/psnr logged"):
        summarise(run, select="DIV2K")


def test_script_writes_a_table_and_never_overwrites(tmp_path: Path, capsys) -> None:
    import importlib.util

    from helpers import ROOT

    spec = importlib.util.spec_from_file_location("runs_table", ROOT / "scripts/runs_table.py")
    script = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(script)
    fake_run(tmp_path / "runs" / "a", [29.0], [32.0])
    out = tmp_path / "table.md"
    text = script.main([f"root={tmp_path / 'runs'}", "sets=[holdout,Set5]", f"out={out}"])
    assert out.read_text() == text + "\n" and "| a | 100 |" in capsys.readouterr().out
    with pytest.raises(SystemExit, match="exists"):
        script.main([f"root={tmp_path / 'runs'}", f"out={out}"])
    with pytest.raises(SystemExit, match="give root="):
        script.main([])
