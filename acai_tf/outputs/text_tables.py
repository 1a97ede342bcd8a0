"""Tables as text: Markdown grids and CSV, for the paper tables and the benchmarks' results.

Cells are rendered with str(); a "|" inside a Markdown cell is escaped so that it cannot split
the row, and an empty cell is written "| |" (one space, as a table typed by hand has it).
"""

from __future__ import annotations

import csv
import io
from typing import Iterable, Sequence


def markdown(header: Sequence[str], rows: Iterable[Sequence[object]]) -> list[str]:
    """The lines of a Markdown table: the header, the separator, one line per row."""
    def line(cells: Sequence[object]) -> str:
        texts = (str(cell).replace("|", "\\|") for cell in cells)
        return "|" + "|".join(f" {text} " if text else " " for text in texts) + "|"

    return [line(header), "|" + "---|" * len(header)] + [line(row) for row in rows]


def csv_text(header: Sequence[str], rows: Iterable[Sequence[object]]) -> str:
    """CSV text ("\\n" line ends) of a header and rows."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(header)
    writer.writerows(rows)
    return out.getvalue()
