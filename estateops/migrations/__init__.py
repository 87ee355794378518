"""Alembic migrations of the SQL store, shipped inside the package (run them via
estateops.migrate).

The schema is the union of every package's tables, so it is composed here, in the
composition root: a new tables module is imported below, together with a revision under
versions/.
"""

from __future__ import annotations

from sqlalchemy import MetaData

import gateway.rules.tables
import gateway.tables
import registry.credentials
import registry.tables
import services.auth.tables
import services.residents.tables
import services.workorders.tables
from core.db import Base

TABLE_MODULES = (
    registry.tables,
    registry.credentials,
    gateway.tables,
    gateway.rules.tables,
    services.auth.tables,
    services.workorders.tables,
    services.residents.tables,
)


def target_metadata() -> MetaData:
    """Base.metadata with every tables module imported."""
    return Base.metadata
