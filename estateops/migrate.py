"""Bring a database to the current schema with the Alembic migrations shipped in the package.

No alembic.ini: the configuration is built here, and the URL travels in config.attributes.
"""

from __future__ import annotations

import asyncio
import threading
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.script import ScriptDirectory
from sqlalchemy.engine import make_url

MIGRATIONS_DIR = Path(__file__).parent / "migrations"
# Alembic keeps the running migration context in module globals, so two upgrades in threads
# of one process corrupt each other (seen: KeyError 'script', then a crash); run one at a time.
_ALEMBIC_LOCK = threading.Lock()


def alembic_config(database_url: str) -> Config:
    config = Config()
    # Config values are interpolated by configparser, so a literal % must be doubled.
    config.set_main_option("script_location", str(MIGRATIONS_DIR).replace("%", "%%"))
    config.set_main_option("file_template", "%%(rev)s")  # revision 0002_workorders.py
    config.attributes["database_url"] = database_url
    return config


def _ensure_sqlite_dir(database_url: str) -> None:
    url = make_url(database_url)
    if url.get_backend_name() == "sqlite" and url.database not in (None, "", ":memory:"):
        Path(url.database).parent.mkdir(parents=True, exist_ok=True)


def upgrade(database_url: str, revision: str = "head") -> None:
    """Migrate up to `revision` (blocking: from async code use asyncio.to_thread)."""
    _ensure_sqlite_dir(database_url)
    with _ALEMBIC_LOCK:
        command.upgrade(alembic_config(database_url), revision)


def heads(database_url: str = "sqlite://") -> tuple[str, ...]:
    """The revisions nothing builds on yet: exactly one, or `upgrade("head")` is ambiguous."""
    return tuple(ScriptDirectory.from_config(alembic_config(database_url)).get_heads())


def downgrade(database_url: str, revision: str) -> None:
    """Migrate down to `revision` ("base" removes every table)."""
    with _ALEMBIC_LOCK:
        command.downgrade(alembic_config(database_url), revision)


async def ensure_schema(database_url: str) -> None:
    """Create or upgrade the schema to head; safe to call at every start-up."""
    await asyncio.to_thread(upgrade, database_url)
