"""The manager figures as CSV (one table) and XLSX (one sheet per table): the same numbers."""

from __future__ import annotations

import csv
import io
from collections.abc import Callable, Mapping, Sequence
from datetime import datetime
from typing import Any

from openpyxl import Workbook
from pydantic import BaseModel

from services.reports.schemas import (
    Figures,
    LedgerRow,
    OverdueItem,
    RankRow,
    RepeatFault,
    WeekRow,
)

Table = tuple[list[str], list[list[Any]]]
STEPS = ("ack", "simple", "complex", "plan")
BOARD_COLUMNS = ["group", "key", "name", "count",
                 *(f"{step}_{part}" for step in STEPS for part in ("on_time", "late", "pct"))]


def board_table(figures: Figures) -> Table:
    rows = []
    for row in figures.board:
        shares = (row.ack, row.simple, row.complex, row.plan)
        rows.append([row.group, row.key, _plain(row.name), row.count,
                     *(value for s in shares for value in (s.on_time, s.late, s.pct))])
    return BOARD_COLUMNS, rows


# A cell starting with one of these is a formula to a spreadsheet program (and to openpyxl):
# text from people (a work order's title) is written with a leading apostrophe instead.
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def _plain(value: Any) -> Any:
    """Cells hold text and numbers: enums as their value, times in ISO 8601 (UTC offset kept),
    text never as a formula."""
    if isinstance(value, datetime):
        return value.isoformat()
    value = getattr(value, "value", value)
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return value


def _rows(model: type[BaseModel]) -> Callable[[Sequence[BaseModel]], Table]:
    columns = list(model.model_fields)
    return lambda items: (columns, [[_plain(getattr(item, c)) for c in columns] for item in items])


TABLES: Mapping[str, Callable[[Figures], Table]] = {
    "board": board_table,
    "ledger": lambda f: _rows(LedgerRow)(f.ledger),
    "overdue": lambda f: _rows(OverdueItem)(f.overdue),
    "weeks": lambda f: _rows(WeekRow)(f.weeks),
    "repeats": lambda f: _rows(RepeatFault)(f.repeats),
    "ranking": lambda f: _rows(RankRow)(f.ranking),
}


def to_csv(figures: Figures, table: str) -> str:
    """One table as CSV with a header row (UTF-8 with a BOM, so spreadsheet programs read
    the Chinese names right)."""
    columns, rows = TABLES[table](figures)
    out = io.StringIO()
    out.write("\ufeff")
    writer = csv.writer(out)
    writer.writerow(columns)
    writer.writerows(["" if cell is None else cell for cell in row] for row in rows)
    return out.getvalue()


def to_xlsx(figures: Figures) -> bytes:
    """Every table on its own sheet, named as in TABLES, after a sheet naming the period."""
    book = Workbook()
    about = book.active
    assert about is not None
    about.title = "period"
    about.append(["from", figures.period_start.isoformat()])
    about.append(["until", figures.period_end.isoformat()])
    about.append(["estates", ", ".join(info.id for info in figures.estates)])
    for name, build in TABLES.items():
        columns, rows = build(figures)
        sheet = book.create_sheet(name)
        sheet.append(columns)
        for row in rows:
            sheet.append(row)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()
