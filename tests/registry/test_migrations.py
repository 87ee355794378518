"""The Alembic migrations build exactly the tables the models declare, on both databases."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from typing import Any

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import create_engine, inspect

from core.db import sync_url
from estateops.migrate import downgrade, ensure_schema, heads, upgrade
from estateops.migrations import target_metadata

REPO_ROOT = Path(__file__).resolve().parents[2]
REGISTRY_TABLES = {"estates", "buildings", "units", "devices", "device_state", "dead_letters"}


def schema_differences(database_url: str) -> list[Any]:
    engine = create_engine(sync_url(database_url))
    try:
        with engine.connect() as connection:
            context = MigrationContext.configure(connection, opts={"compare_type": True})
            return list(compare_metadata(context, target_metadata()))
    finally:
        engine.dispose()


def table_names(database_url: str) -> set[str]:
    engine = create_engine(sync_url(database_url))
    try:
        with engine.connect() as connection:
            return set(inspect(connection).get_table_names())
    finally:
        engine.dispose()


def test_migrated_schema_matches_the_models(database_url: str) -> None:
    assert table_names(database_url) >= REGISTRY_TABLES
    assert schema_differences(database_url) == []


def test_an_empty_database_differs_from_the_models(empty_database_url: str) -> None:
    differences = schema_differences(empty_database_url)
    added = {diff[1].name for diff in differences if diff[0] == "add_table"}
    assert added >= REGISTRY_TABLES  # every tables module counts, not only the registry


def test_downgrade_to_base_removes_every_table_and_upgrade_restores_them(
    database_url: str,
) -> None:
    downgrade(database_url, "base")
    assert table_names(database_url) == {"alembic_version"}
    upgrade(database_url)
    assert schema_differences(database_url) == []


async def test_ensure_schema_is_safe_to_repeat(empty_database_url: str) -> None:
    await ensure_schema(empty_database_url)
    await ensure_schema(empty_database_url)
    assert schema_differences(empty_database_url) == []


def test_several_processes_upgrading_at_once_all_succeed(empty_database_url: str) -> None:
    # The gateway and the API both call ensure_schema at start-up, possibly at the same moment.
    code = f"from estateops.migrate import upgrade; upgrade({empty_database_url!r})"
    processes = [
        subprocess.Popen([sys.executable, "-c", code], stderr=subprocess.PIPE) for _ in range(6)
    ]
    errors = [process.communicate(timeout=120)[1] for process in processes]
    failures = [
        error.decode()[-500:] for process, error in zip(processes, errors, strict=True)
        if process.returncode != 0
    ]
    assert failures == []
    assert schema_differences(empty_database_url) == []


def test_the_migrations_have_one_head() -> None:
    assert heads() == ("0010_residents",)


def test_the_alembic_command_line_sees_the_same_one_head() -> None:
    alembic = Path(sys.executable).with_name("alembic")
    result = subprocess.run([str(alembic), "heads"], cwd=REPO_ROOT, capture_output=True,
                            text=True, timeout=60, check=True)
    assert result.stdout.split() == ["0010_residents", "(head)"]
