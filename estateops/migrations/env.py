"""Alembic environment: the URL is config.attributes["database_url"] (see estateops.migrate)."""

from __future__ import annotations

from typing import Any

from alembic import context
from sqlalchemy import Connection, Engine, create_engine, event, pool, text

from core.db import sync_url
from estateops.migrations import target_metadata

# Several processes (gateway, API) may upgrade the same database at start-up. Each upgrade is
# one transaction that first takes a lock (PostgreSQL: an advisory lock; SQLite: BEGIN
# IMMEDIATE), so a second process waits, then finds the schema at head and does nothing.
POSTGRES_MIGRATION_LOCK = 4_242_001
SQLITE_LOCK_WAIT_S = 60


def database_url() -> str:
    url = context.config.attributes.get("database_url")
    if not isinstance(url, str):  # the alembic command line, from alembic.ini
        from estateops.settings import Settings

        url = Settings().effective_database_url
    return sync_url(url)


def run_offline() -> None:
    context.configure(url=database_url(), target_metadata=target_metadata(), literal_binds=True)
    with context.begin_transaction():
        context.run_migrations()


def _sqlite_begin_immediate(engine: Engine) -> None:
    """SQLAlchemy's pysqlite recipe: let SQLAlchemy emit BEGIN, and make it BEGIN IMMEDIATE
    (the driver would otherwise run DDL outside any transaction)."""

    def on_connect(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.isolation_level = None
        dbapi_connection.execute(f"PRAGMA busy_timeout={SQLITE_LOCK_WAIT_S * 1000}")

    def on_begin(connection: Connection) -> None:
        connection.exec_driver_sql("BEGIN IMMEDIATE")

    event.listen(engine, "connect", on_connect)
    event.listen(engine, "begin", on_begin)


def run_on(connection: Connection) -> None:
    is_sqlite = connection.dialect.name == "sqlite"
    context.configure(
        connection=connection, target_metadata=target_metadata(), render_as_batch=is_sqlite,
        transactional_ddl=True,
    )
    with context.begin_transaction():
        if connection.dialect.name == "postgresql":
            connection.execute(
                text("SELECT pg_advisory_xact_lock(:key)"), {"key": POSTGRES_MIGRATION_LOCK}
            )
        context.run_migrations()


def run_online() -> None:
    engine = create_engine(database_url(), poolclass=pool.NullPool)
    if engine.dialect.name == "sqlite":
        _sqlite_begin_immediate(engine)
    try:
        with engine.connect() as connection:
            run_on(connection)
    finally:
        engine.dispose()


if context.is_offline_mode():
    run_offline()
else:
    run_online()
