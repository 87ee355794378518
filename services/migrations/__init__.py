"""Alembic migrations of the SQL store, shipped inside the package (run them via services.migrate).

Every module that defines tables on services.db.Base is listed in TABLE_MODULES, so that
Base.metadata is complete whenever migrations run or are compared with the models.
A new tables module goes in this list together with a revision under versions/.
"""

from __future__ import annotations

import importlib

from sqlalchemy import MetaData

from services.db import Base

TABLE_MODULES = (
    "services.registry.tables",
    "services.workorders.tables",
    "gateway.rules.tables",
)


def target_metadata() -> MetaData:
    """Base.metadata with every tables module imported."""
    for module in TABLE_MODULES:
        importlib.import_module(module)
    return Base.metadata
