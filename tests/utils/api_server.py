"""`estateops serve` as a real process on a loopback port, on a seeded database."""

from __future__ import annotations

import asyncio
import sys
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from core.db import open_database
from estateops.migrate import upgrade
from tests.fixtures.processes import free_port, running
from tests.utils.auth import JWT_SECRET, add_staff, bearer
from tests.utils.estates import register_small_estate

START_TIMEOUT_S = 90  # importing everything takes a while on a busy 2-core machine


@dataclass(frozen=True)
class ServedApi:
    port: int
    authorization: str  # "Bearer ..." of an admin

    def url(self, scheme: str = "http") -> str:
        return f"{scheme}://localhost:{self.port}"


def seeded_database(url: str) -> str:
    """Migrate the database at `url`, give it one estate and an admin; a bearer header."""
    upgrade(url)

    async def seed() -> str:
        async with open_database(url) as sessions:
            await register_small_estate(sessions)
            return bearer(await add_staff(sessions), ttl_s=3600)["Authorization"]

    return asyncio.run(seed())


@contextmanager
def serving_api(directory: Path, settings: Mapping[str, str] | None = None, *,
                database_url: str | None = None) -> Iterator[ServedApi]:
    """The API until the block ends, on `database_url` (default: SQLite in `directory`);
    `settings` are more ESTATEOPS_* variables."""
    database_url = database_url or f"sqlite:///{directory / 'api.sqlite3'}"
    authorization = seeded_database(database_url)
    port = free_port()
    env = {"ESTATEOPS_DATABASE_URL": database_url, "ESTATEOPS_DATA_DIR": str(directory),
           "ESTATEOPS_AUTH__JWT_SECRET": JWT_SECRET, "ESTATEOPS_LOG_LEVEL": "WARNING",
           "ESTATEOPS_MQTT__URL": "mqtt://127.0.0.1:9", **(settings or {})}
    command = ["env", *(f"{key}={value}" for key, value in env.items()),
               sys.executable, "-m", "estateops", "serve", "--port", str(port)]
    with running(command, log=directory / "api.log", what="estateops serve", port=port,
                 timeout=START_TIMEOUT_S):
        yield ServedApi(port, authorization)
