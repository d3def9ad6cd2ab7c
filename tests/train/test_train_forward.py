"""The old/new training-forward benchmark gives one row per (scale, forward) with a speed-up."""

from srnet.benchmarks import train_forward


def test_compare_forwards_rows(monkeypatch) -> None:
    rows = train_forward.compare_forwards(scales=(2,), batch_size=2, steps=1, warmup=1, rounds=1)
    assert [(r["scale"], r["subpixel"], r["channels_last"]) for r in rows] == [
        (2, True, True), (2, False, False)]  # sorted by forward name: "new..." < "old..."
    assert all(r["lr_pixels_per_s"] > 0 for r in rows)
    old = next(r for r in rows if not r["subpixel"])
    assert old["speedup_vs_old"] == 1.0
    assert "| x2 | new: sub-pixel, channels_last |" in train_forward.forward_table(rows)
