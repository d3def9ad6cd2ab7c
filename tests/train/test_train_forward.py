"""The old/new training-forward benchmark gives one row per (scale, forward) with a speed-up."""

import torch

from srnet.benchmarks import train_forward


class Compiled(torch.nn.Module):
    """Stands in for torch.compile's OptimizedModule (the real one costs seconds per fit)."""

    made = 0

    def __init__(self, module: torch.nn.Module, **kwargs) -> None:
        super().__init__()
        self.orig = module
        Compiled.made += 1

    def forward(self, x):
        return self.orig(x)


def test_compare_forwards_rows(monkeypatch) -> None:
    monkeypatch.setattr(torch, "compile", Compiled)
    monkeypatch.setattr("srnet.train.throughput.find_cxx", lambda: "/usr/bin/g++")
    rows = train_forward.compare_forwards(scales=(2,), batch_size=2, steps=1, warmup=1, rounds=1)
    assert [(r["scale"], r["subpixel"], r["channels_last"], r["compile"]) for r in rows] == [
        (2, True, True, False), (2, True, False, True), (2, False, False, False)]  # by name
    assert Compiled.made == 1  # only the compiled row went through torch.compile
    assert all(r["lr_pixels_per_s"] > 0 for r in rows)
    old = next(r for r in rows if not r["subpixel"])
    assert old["speedup_vs_old"] == 1.0
    table = train_forward.forward_table(rows)
    assert "| x2 | new: sub-pixel, compiled, NCHW |" in table and "| x2 | old: " in table
