"""Peak resident memory of ``python infer.py`` on a generated 4000x3000 PNG at x2 (slow): what the
image adds to a 64x48 run is at most 1.5 times its uint8 input and output arrays
(``srnet.benchmarks.infer_memory``; 12000x9000 with ``scripts/benchmark.py part=memory``)."""

from __future__ import annotations

import pytest

from srnet.benchmarks import infer_memory


@pytest.mark.slow
def test_peak_memory_is_the_arrays_plus_a_fixed_working_set(tmp_path):
    result = infer_memory.run([(4000, 3000)], 2, tmp_path)
    (row,) = result["rows"]
    assert row["output_mb"] > 1 and row["added_over_arrays"] <= 1.5, infer_memory.table(result)
    assert list(tmp_path.iterdir()) == []  # the generated files are gone
