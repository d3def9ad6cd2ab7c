"""The shapes raced by ``scripts/benchmark.py part=shapes`` (srnet/benchmarks/shapes.py)."""

from srnet.benchmarks.shapes import SHAPES, shape_methods


def test_a_shape_runs_only_at_its_scales() -> None:
    shapes = {k: v for k, v in SHAPES.items() if k in ("slim d16 m5", "slim d16 m5 k6")}
    at2 = {k: f for k, (_, f) in shape_methods(2, shapes).items() if k.startswith("srnet")}
    at3 = {k for k in shape_methods(3, shapes) if k.startswith("srnet")}
    assert set(at2) == {"srnet slim d16 m5", "srnet slim d16 m5 k6"}
    assert at3 == {"srnet slim d16 m5"}  # the kernel-6 shape is x2's only
    k8, k6 = at2["srnet slim d16 m5"], at2["srnet slim d16 m5 k6"]
    assert k8["params"] - k6["params"] == 16 * (8 * 8 - 6 * 6)  # the tail's 16 x k x k weights
    assert k6["macs"] < k8["macs"]
