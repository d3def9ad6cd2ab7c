"""GitHub Markdown tables, the one printer behind every results table of srnet and its scripts."""

from __future__ import annotations

from collections.abc import Iterable, Sequence


def _line(cells: Sequence[object]) -> str:
    """``| a | b |``; ``None`` prints ``-``, an empty cell ``| |``."""
    texts = ["-" if c is None else str(c) for c in cells]
    return "|" + "|".join(f" {t} " if t else " " for t in texts) + "|"


def markdown_table(header: Sequence[str], rows: Iterable[Sequence[object]]) -> str:
    """A Markdown table: the header line, a ``|---|`` separator line, one line per row.

    Cells print as ``str(cell)``, a ``None`` cell as ``-``. Raises :class:`ValueError`, naming
    the row's index, when a row has a different number of cells than the header.
    """
    lines = [_line(header), "|" + "---|" * len(header)]
    for i, row in enumerate(rows):
        if len(row) != len(header):
            raise ValueError(f"row {i} has {len(row)} cells, the header {len(header)}: {row!r}")
        lines.append(_line(row))
    return "\n".join(lines)
