"""srnet.io.tables: the one Markdown table printer."""

from __future__ import annotations

import pytest

from srnet.io.tables import markdown_table


def test_format_exactly() -> None:
    got = markdown_table(["method", "PSNR", "n"], [["bicubic", "30.12", 3], ("model", 31.5, 1)])
    assert got == ("| method | PSNR | n |\n"
                   "|---|---|---|\n"
                   "| bicubic | 30.12 | 3 |\n"
                   "| model | 31.5 | 1 |")


def test_no_rows_and_rows_from_a_generator() -> None:
    assert markdown_table(["a", "b"], []) == "| a | b |\n|---|---|"
    assert markdown_table(["a"], ([i] for i in range(2))) == "| a |\n|---|\n| 0 |\n| 1 |"


def test_none_cell_prints_a_dash_and_empty_cell_stays_empty() -> None:
    got = markdown_table(["x", "y", "z"], [[None, "**1.0**", ""]])
    assert got.splitlines()[-1] == "| - | **1.0** | |"


@pytest.mark.parametrize("bad", [["only one"], ["a", "b", "c"]])
def test_mismatched_row_names_its_index(bad: list[str]) -> None:
    with pytest.raises(ValueError, match=r"row 1 has \d cells, the header 2"):
        markdown_table(["h1", "h2"], [["ok", "ok"], bad])
