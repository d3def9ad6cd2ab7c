"""Parts of ``scripts/benchmark.py``: the shapes raced (``part=shapes``) and the deployed
executions side by side (``part=modes``)."""

from srnet.benchmarks.shapes import SHAPES, shape_methods


def test_a_shape_runs_only_at_its_scales() -> None:
    names = ("slim d16 m5", "slim d16 m5 k6", "slim d16 m5 k2")
    shapes = {k: v for k, v in SHAPES.items() if k in names}
    at2 = {k: f for k, (_, f) in shape_methods(2, shapes).items() if k.startswith("srnet")}
    at3 = {k for k in shape_methods(3, shapes) if k.startswith("srnet")}
    assert set(at2) == {f"srnet {k}" for k in names}
    assert at3 == {"srnet slim d16 m5"}  # the kernel-6 and kernel-2 shapes are x2's only
    k8, k6, k2 = (at2[f"srnet {k}"] for k in names)
    assert k8["params"] - k6["params"] == 16 * (8 * 8 - 6 * 6)  # the tail's 16 x k x k weights
    assert k6["params"] - k2["params"] == 16 * (6 * 6 - 2 * 2)
    assert k2["macs"] < k6["macs"] < k8["macs"]


def test_modes_times_every_execution_and_counts_page_faults() -> None:
    from srnet.benchmarks.modes import minor_faults, table, time_modes
    from srnet.deploy.engine import MODES

    cfg = {"scale": 2, "skip": "bicubic", "d": 8, "s": None, "m": 1, "first_kernel": 3,
           "shrink": False}
    rows = time_modes(cfg, sizes=((24, 40),), repeats=2)
    (row,) = rows
    assert all(row[m] > 0 and row[f"{m} faults"] >= 0 for m in MODES)
    assert row["fastest"] in MODES and row["rule"] in MODES and row["rule_vs_best"] >= 1
    assert minor_faults() > 0  # a running process has touched pages
    text = table({"rows": rows})
    assert "banded ms (faults)" in text and f"{row['banded']:.2f} (" in text
