"""A chart's data as one table: what the page shows as an accessible table, what the CSV download
contains, and what the chart library draws are all built from the same rows."""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from common.money import currency_exponent

# Cell kinds: how a raw value is written in the table and the CSV.
COUNT, MONEY, PERCENT, TEXT = "count", "money", "percent", "text"


@dataclass
class ChartTable:
    key: str  # URL-safe name: the CSV is /dashboard/<key>.csv
    title: str
    counts_by: str  # which date the rows count by, said beside the chart
    window: str  # which days it covers
    columns: list[tuple[str, str]]  # (heading, cell kind)
    rows: list[list[Any]]
    chart: dict[str, Any] = field(default_factory=dict)  # Chart.js type, labels and datasets
    note: str = ""
    currency: str = "EUR"

    def cell(self, value: Any, kind: str) -> str:
        if value is None:
            return ""
        if kind == MONEY:
            return str(Decimal(int(value)).scaleb(-currency_exponent(self.currency)))
        if kind == PERCENT:
            return f"{value * 100:.1f}"
        if kind == COUNT:
            return str(round(value, 1)) if isinstance(value, float) else str(value)
        return str(value)

    @property
    def headings(self) -> list[str]:
        return [heading for heading, _kind in self.columns]

    @property
    def formatted_rows(self) -> list[list[str]]:
        kinds = [kind for _heading, kind in self.columns]
        return [[self.cell(value, kind) for value, kind in zip(row, kinds, strict=True)]
                for row in self.rows]  # fmt: skip

    def as_csv(self) -> str:
        out = io.StringIO()
        writer = csv.writer(out)
        writer.writerow(self.headings)
        kinds = [kind for _heading, kind in self.columns]
        for row in self.formatted_rows:
            writer.writerow([_inert(cell) if kind == TEXT else cell
                             for cell, kind in zip(row, kinds, strict=True)])  # fmt: skip
        return out.getvalue()


def _inert(text: str) -> str:
    """A name a spreadsheet would run as a formula ("=HYPERLINK(...)") is written as text."""
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text
