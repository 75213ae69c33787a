"""A chart's data as one table: what the page shows as an accessible table, what the CSV download
contains, and what the chart library draws are all built from the same rows.

The CSV is for machines: English column headings, ISO days and plain decimals whatever the
viewer's language, so a script or a spreadsheet import reads the same file from every owner. The
page shows the same cells in the viewer's language (French: "lun. 7 déc.", "1 234,50")."""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import Any

from django.utils import translation
from django.utils.formats import date_format, number_format
from django.utils.translation import pgettext
from django_stubs_ext import StrOrPromise

from common.money import currency_exponent

# Cell kinds: how a raw value is written in the table and the CSV (DAY: an ISO date string).
COUNT, DAY, MONEY, PERCENT, TEXT = "count", "day", "money", "percent", "text"


def day_label(iso_day: str) -> str:
    """A day as the page shows it in the active language (the English page keeps ISO days)."""
    # Translators: a Django date format for a day in the dashboard's tables and chart labels;
    # French "D. j N" gives "lun. 7 déc.".
    return date_format(date.fromisoformat(iso_day), pgettext("dashboard day format", "Y-m-d"))


def localized_number(value: float | int | Decimal, decimals: int | None = None) -> str:
    """A number in the active language's separators, thousands grouped ("1 234,5" in French)."""
    return number_format(value, decimals, force_grouping=True)


@dataclass
class ChartTable:
    key: str  # URL-safe name: the CSV is /dashboard/<key>.csv
    title: str
    counts_by: StrOrPromise  # which date the rows count by, said beside the chart
    window: str  # which days it covers
    columns: list[tuple[StrOrPromise, str]]  # (heading, cell kind); lazy: the CSV's are English
    rows: list[list[Any]]
    chart: dict[str, Any] = field(default_factory=dict)  # Chart.js type, labels and datasets
    note: str = ""
    currency: str = "EUR"

    def cell(self, value: Any, kind: str) -> str:
        """A cell as the CSV writes it (machine format; see the module's docstring)."""
        if value is None:
            return ""
        if kind == MONEY:
            return str(Decimal(int(value)).scaleb(-currency_exponent(self.currency)))
        if kind == PERCENT:
            return f"{value * 100:.1f}"
        if kind == COUNT:
            return str(round(value, 1)) if isinstance(value, float) else str(value)
        return str(value)

    def shown_cell(self, value: Any, kind: str) -> str:
        """A cell as the page's table shows it, in the active language."""
        if value is None:
            return ""
        if kind == DAY:
            return day_label(str(value))
        if kind == MONEY:
            exponent = currency_exponent(self.currency)
            return localized_number(Decimal(int(value)).scaleb(-exponent), exponent)
        if kind == PERCENT:
            return localized_number(value * 100, 1)
        if kind == COUNT:
            return localized_number(round(value, 1) if isinstance(value, float) else value)
        return str(value)

    @property
    def headings(self) -> list[str]:
        return [str(heading) for heading, _kind in self.columns]

    @property
    def shown_rows(self) -> list[list[str]]:
        """The rows of the page's accessible table (the CSV's cells, in the viewer's language)."""
        kinds = [kind for _heading, kind in self.columns]
        return [[self.shown_cell(value, kind) for value, kind in zip(row, kinds, strict=True)]
                for row in self.rows]  # fmt: skip

    @property
    def formatted_rows(self) -> list[list[str]]:
        kinds = [kind for _heading, kind in self.columns]
        return [[self.cell(value, kind) for value, kind in zip(row, kinds, strict=True)]
                for row in self.rows]  # fmt: skip

    def as_csv(self) -> str:
        """The CSV download: English headings and weekday names, whatever the page's language."""
        out = io.StringIO()
        writer = csv.writer(out)
        with translation.override("en"):
            writer.writerow(self.headings)
            kinds = [kind for _heading, kind in self.columns]
            for row in self.formatted_rows:
                writer.writerow([_inert(cell) if kind == TEXT else cell
                                 for cell, kind in zip(row, kinds, strict=True)])  # fmt: skip
        return out.getvalue()


def _inert(text: str) -> str:
    """A name a spreadsheet would run as a formula ("=HYPERLINK(...)") is written as text."""
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text
