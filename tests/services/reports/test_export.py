"""Exports never hand a spreadsheet program a formula written by a person."""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime

from openpyxl import load_workbook

from core.vocabulary import Team
from services.reports import Figures, to_csv, to_xlsx
from services.reports.schemas import OverdueItem
from services.workorders.model import LedgerColour, Status

AT = datetime(2026, 11, 2, tzinfo=UTC)


def figures_with_title(title: str) -> Figures:
    item = OverdueItem(id=7, estate_id="longdi", title_zh=title, colour=LedgerColour.GREEN,
                       team=Team.REPAIR, status=Status.OPEN, due_at=AT)
    return Figures(period_start=AT, period_end=AT, label="", estates=[], board=[], ledger=[],
                   overdue=[item], weeks=[], repeats=[], ranking=[])


def test_a_title_that_looks_like_a_formula_is_written_as_text() -> None:
    figures = figures_with_title("=HYPERLINK(\"http://x\")")

    row = next(csv.DictReader(io.StringIO(to_csv(figures, "overdue").lstrip("\ufeff"))))
    sheet = load_workbook(io.BytesIO(to_xlsx(figures)))["overdue"]

    assert row["title_zh"] == "'=HYPERLINK(\"http://x\")"
    cell = sheet.cell(row=2, column=3)
    assert (cell.value, cell.data_type) == ("'=HYPERLINK(\"http://x\")", "s")


def test_plain_titles_are_kept() -> None:
    figures = figures_with_title("41号楼漏水")
    sheet = load_workbook(io.BytesIO(to_xlsx(figures)))["overdue"]
    assert sheet.cell(row=2, column=3).value == "41号楼漏水"
