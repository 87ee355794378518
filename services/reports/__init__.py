"""Manager figures: the 5341 board, the ledger, weekly trends, satisfaction, repeat faults and
the ranking of estates, scoped to the caller and filterable by zone and estate; CSV and XLSX."""

from services.reports.export import TABLES, to_csv, to_xlsx
from services.reports.figures import manager_figures
from services.reports.period import Period, current_month, month_period
from services.reports.schemas import EstateChoice, Figures
from services.reports.scope import visible_estates

__all__ = [
    "TABLES",
    "EstateChoice",
    "Figures",
    "Period",
    "current_month",
    "manager_figures",
    "month_period",
    "to_csv",
    "to_xlsx",
    "visible_estates",
]
