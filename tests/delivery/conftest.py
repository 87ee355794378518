"""What every delivery test sets up, so each test file states only its scenario: a fresh
estate of leak sensors on PostgreSQL, an InfluxDB database of its own, `estateops gateway`
processes on a fresh client id (tests/delivery/restarts.py), a paced QoS 1 stream, and
counting what was stored. Everything a test starts is stopped when it ends.

Servers: PostgreSQL and the InfluxDB the test does not kill are the session's (each test has
its own database in them); a Mosquitto configured like deploy/'s (persistence, an unbounded
queue, an in-flight limit set on purpose) and an InfluxDB a test kills are the test's own.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from tests.delivery.restarts import (
    Gateways,
    InfluxServer,
    MosquittoServer,
    running_until_closed,
)
from tests.fixtures.influx import HttpServer, unique_name
from tests.fixtures.mosquitto import Broker
from tests.fixtures.postgres import PostgresServer, fresh_database
from tests.utils.gateway import eventually
from tests.utils.gateway_process import (
    LeakStream,
    influx_database,
    register_leak_sensors,
    stored_points,
)


@pytest.fixture
def database_url(postgres_server: PostgresServer, migrated_postgres: str) -> Iterator[str]:
    """PostgreSQL only, as compose runs it: several gateway processes write one database.
    The SQL dialect does not matter to delivery (the rest of the suite runs both)."""
    with fresh_database(postgres_server, template=migrated_postgres) as url:
        yield url


@pytest.fixture
def persistent_mosquitto(tmp_path: Path) -> Iterator[MosquittoServer]:
    """This test's Mosquitto, running: kill it, start it again on the same port and data."""
    with running_until_closed(MosquittoServer(tmp_path)) as server:
        yield server


@pytest.fixture
def own_influxd(tmp_path: Path) -> Iterator[InfluxServer]:
    """This test's InfluxDB, not started yet (a store that is down): `start()` it."""
    with running_until_closed(InfluxServer(tmp_path), started=False) as server:
        yield server


@dataclass
class Delivery:
    """One test's estate of `devices` leak sensors, its InfluxDB database, and the gateways
    that take its topics (`gateways.start()`; unpartitioned when there is one)."""

    broker: Broker
    influx: HttpServer
    influx_db: str
    estate_id: str
    devices: int
    gateways: Gateways
    _publishing: list[asyncio.Task[None]] = field(default_factory=list)

    def stream(self, rate: float, kind: type[LeakStream] = LeakStream) -> LeakStream:
        """A stream round-robin over the estate's sensors at `rate` messages a second."""
        return kind(self.broker, self.estate_id, self.devices, rate)

    def publish(self, stream: LeakStream, *, limit: int | None = None) -> asyncio.Task[None]:
        """`stream` running in the background until `limit` messages were sent (or its
        `stop`); cancelled when the test ends, if it has not finished."""
        task = asyncio.create_task(stream.run(limit=limit))
        self._publishing.append(task)
        return task

    async def create_store_database(self) -> None:
        """For a store started during the test: its database exists before the gateway's
        first write creates it, so counting starts from 0."""
        async with httpx.AsyncClient(base_url=self.influx.url) as client:
            created = await client.post("/query",
                                        params={"q": f"CREATE DATABASE {self.influx_db}"})
            created.raise_for_status()

    async def stored(self) -> int:
        return await stored_points(self.influx, self.influx_db)

    async def all_stored(self, stream: LeakStream, *, within: float = 60.0) -> int:
        """Stored points, once every message `stream` sent is stored (or `within` passed)."""
        return await eventually(self.stored, lambda count: count >= stream.sent,
                                within=within)

    async def storing(self, points: int, *, within: float = 30.0) -> None:
        """Wait until `points` more are stored than now: the gateways are in full flow."""
        before = await self.stored()
        now = await eventually(self.stored, lambda count: count >= before + points,
                               within=within)
        assert now >= before + points, (f"{now - before} of {points} points stored in "
                                        f"{within} s:\n{self.gateways.tails()}")

    async def close(self) -> None:
        for task in self._publishing:
            task.cancel()
        await asyncio.gather(*self._publishing, return_exceptions=True)
        self.gateways.close()


class SetUp(Protocol):
    async def __call__(self, *, devices: int, broker: Broker, influx: HttpServer,
                       gateways: int = 1, store_up: bool = True,
                       settings: Mapping[str, str] | None = None) -> Delivery:
        """`devices` sensors, `gateways` gateways with these `settings` (ESTATEOPS_GATEWAY__);
        `store_up`: the store answers now (else its database is created by
        `create_store_database` or the gateway's first write)."""


@pytest.fixture
async def delivery(database_url: str, sessions: async_sessionmaker[AsyncSession],
                   tmp_path: Path) -> AsyncIterator[SetUp]:
    made: list[Delivery] = []

    async def set_up(*, devices: int, broker: Broker, influx: HttpServer, gateways: int = 1,
                     store_up: bool = True,
                     settings: Mapping[str, str] | None = None) -> Delivery:
        estate_id = await register_leak_sensors(sessions, devices)
        influx_db = await influx_database(influx) if store_up else unique_name("delivery")
        fleet = Gateways.of(gateways, broker=broker, influx=influx, influx_db=influx_db,
                            database_url=database_url, estate_id=estate_id, tmp_path=tmp_path,
                            settings=settings or {})
        made.append(Delivery(broker, influx, influx_db, estate_id, devices, fleet))
        return made[-1]

    yield set_up
    for one in made:
        await one.close()
