"""The old/new training-forward benchmark: one row per (scale, forward), each fit in its own process."""

import pytest

from srnet.benchmarks import train_forward


def fake_fit(calls: list):
    """Stands in for a timed fit: the new forwards 2x the old, the second round a bit faster."""

    def fit(device, scale, batch_size, steps, warmup, opts) -> dict:
        calls.append((scale, opts["subpixel"], opts["compile"]))
        rate = 1e5 * (2 if opts["subpixel"] else 1) * (1 + 0.1 * (len(calls) > 3 * 2))
        return {"scale": scale, "lr_pixels_per_s": rate, "step_ms": 1.0, **opts}

    return fit


def test_rounds_interleave_and_keep_each_rows_best() -> None:
    calls, said = [], []
    rows = train_forward.compare_forwards(scales=(2, 3), rounds=2, fit=fake_fit(calls),
                                          progress=said.append, forwards=train_forward.FORWARDS)
    # every forward of every scale once per round, rounds one after the other
    assert calls[:6] == calls[6:] and len(calls) == 12
    assert len(said) == 12 and said[0].startswith("[1/12] round 1, x2, old:")
    assert [(r["scale"], r["forward"]) for r in rows] == [
        (s, name) for s in (2, 3) for name in train_forward.FORWARDS]  # old first, as listed
    for r in rows:
        assert len(r["rounds"]) == 2 and r["lr_pixels_per_s"] == max(r["rounds"])
        assert r["speedup_vs_old"] == pytest.approx(1.0 if not r["subpixel"] else 2.0)
    table = train_forward.forward_table(rows)
    assert "| x3 | new: sub-pixel, compiled, NCHW | 0.220 | 0.200, 0.220 |" in table


def test_old_row_is_the_old_default() -> None:
    old = train_forward.FORWARDS[train_forward.OLD]
    assert old == {"subpixel": False, "channels_last": False, "compile": False,
                   "keep_freed_memory": False}
    assert all(opts["keep_freed_memory"] for name, opts in train_forward.FORWARDS.items()
               if name != train_forward.OLD)


@pytest.mark.parametrize("native", [False, True])
def test_bf16_row_only_where_the_cpu_has_bf16_in_hardware(monkeypatch, native) -> None:
    monkeypatch.setattr(train_forward, "cpu_has_native_bf16", lambda: native)
    rows = train_forward.compare_forwards(scales=(2,), rounds=1, fit=fake_fit([]),
                                          progress=lambda _: None)
    names = [r["forward"] for r in rows]
    assert (train_forward.OLD in names) and len(names) == 3 + native
    assert any("bf16" in name for name in names) == native
    assert train_forward.forwards_for("cuda") == train_forward.FORWARDS
    (old,) = [r for r in rows if r["forward"] == train_forward.OLD]
    assert old["speedup_vs_old"] == 1.0


@pytest.mark.parametrize("name", [train_forward.OLD, *train_forward.BF16])
def test_a_fit_runs_in_a_fresh_process(name) -> None:
    opts = {**train_forward.FORWARDS, **train_forward.BF16}[name]
    row = train_forward.fit_in_process("cpu", 2, 2, 1, 1, {**opts, "compile": False})
    assert row["subpixel"] is opts["subpixel"] and row["compile"] is False and row["scale"] == 2
    assert row["keep_freed_memory"] is opts["keep_freed_memory"] and row["lr_pixels_per_s"] > 0
    assert row["precision"] == opts.get("precision", "32-true")


def test_a_failing_fit_names_its_command() -> None:
    opts = dict(train_forward.FORWARDS[train_forward.OLD])
    with pytest.raises(RuntimeError, match=r"benchmark fit failed .*\"scale\": 5(.|\n)*scale=5"):
        train_forward.fit_in_process("cpu", 5, 2, 1, 1, opts)
