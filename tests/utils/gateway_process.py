"""A real `estateops gateway` subprocess on real servers, and a sequenced QoS 1 stream of
leak telemetry from many simulated devices (for the delivery fault tests)."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import aiomqtt
import httpx
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from device_profiles import load_profiles
from registry.importer import import_estates
from registry.schema import EstateFile
from tests.fixtures.influx import HttpServer, influx_query, unique_name
from tests.fixtures.mosquitto import Broker
from tests.utils.estates import unique_estate_id
from tests.utils.waiting import wait_until

ESTATEOPS = Path(sys.executable).with_name("estateops")


async def register_leak_sensors(sessions: async_sessionmaker[AsyncSession], count: int) -> str:
    estate_id = unique_estate_id()
    await import_estates(sessions, EstateFile.model_validate({"estates": [{
        "id": estate_id, "name": "龙涤小区",
        "devices": [{"id": f"leak-{n}", "type": "leak_sensor"} for n in range(count)],
    }]}), load_profiles())
    return estate_id


async def influx_database(influx: HttpServer) -> str:
    database = unique_name("delivery")
    async with httpx.AsyncClient(base_url=influx.url) as client:
        created = await client.post("/query", params={"q": f"CREATE DATABASE {database}"})
        created.raise_for_status()
    return database


async def stored_points(influx: HttpServer, database: str) -> int:
    series = await influx_query(influx.url, database, "SELECT count(leak) FROM leak_sensor")
    return int(series[0]["values"][0][1]) if series else 0


def gateway_env(*, mosquitto: Broker, influx: HttpServer, influx_db: str, database_url: str,
                data_dir: Path, estate_id: str, client_id: str) -> dict[str, str]:
    return {**os.environ, "ESTATEOPS_DATABASE_URL": database_url,
            "ESTATEOPS_DATA_DIR": str(data_dir), "ESTATEOPS_MQTT__URL": mosquitto.url,
            "ESTATEOPS_MQTT__CLIENT_ID": client_id,
            "ESTATEOPS_MQTT__TOPIC": f"estates/{estate_id}/+/+/+",
            "ESTATEOPS_INFLUX__URL": influx.url, "ESTATEOPS_INFLUX__API_VERSION": "1",
            "ESTATEOPS_INFLUX__DATABASE": influx_db}


@contextmanager
def gateway_process(env: dict[str, str], log: Path) -> Iterator[subprocess.Popen[bytes]]:
    with log.open("ab") as out:
        process = subprocess.Popen([str(ESTATEOPS), "gateway"], env=env, stdout=out,
                                   stderr=subprocess.STDOUT)
    try:
        yield process
    finally:
        if process.poll() is None:
            process.kill()
            process.wait(timeout=10)


def tail(log: Path) -> str:
    return log.read_text(errors="replace")[-3000:]


async def subscribed(process: subprocess.Popen[bytes], log: Path, times: int) -> None:
    """Wait until the log shows the `times`-th subscription (this process's)."""
    def ready() -> bool:
        assert process.poll() is None, tail(log)
        return log.read_text(errors="replace").count("subscribed to") >= times

    assert await wait_until(ready, within=60), tail(log)


async def terminated_within(process: subprocess.Popen[bytes], seconds: float) -> float | None:
    """SIGTERM, then how long the process took to exit (None: still running)."""
    started = time.monotonic()
    process.send_signal(signal.SIGTERM)
    exited = await wait_until(lambda: process.poll() is not None, within=seconds,
                              interval=0.05)
    return time.monotonic() - started if exited else None


@dataclass
class LeakStream:
    """Sequenced QoS 1 leak telemetry, round-robin over `devices` sensors of one estate, each
    message with its own `ts` (base + seq ms), so a stored point names the message it came
    from and a redelivery lands on itself."""

    broker: Broker
    estate_id: str
    devices: int
    rate: float
    publishers: int = 4
    leaking: set[int] = field(default_factory=set)  # sensors (by number) that report leak=true
    leaked: set[int] = field(default_factory=set)  # those that did send one
    sent: int = 0
    base_ms: int = field(default_factory=lambda: (int(time.time()) - 3600) * 1000)
    stop: asyncio.Event = field(default_factory=asyncio.Event)
    _rate_from: tuple[float, int] = (0.0, 0)

    async def run(self, *, limit: int | None = None) -> None:
        """Publish the next messages until `limit` messages were sent in all, or `stop`."""
        self._rate_from = (time.monotonic(), self.sent)
        async with asyncio.TaskGroup() as tasks:
            for _ in range(self.publishers):
                tasks.create_task(self._publish(limit))

    def payload(self, device: int, seq: int) -> str:
        leak = device in self.leaking
        if leak:
            self.leaked.add(device)
        return json.dumps({"seq": seq, "ts": self.base_ms + seq, "leak": leak})

    async def _publish(self, limit: int | None) -> None:
        async with aiomqtt.Client(self.broker.host, self.broker.port) as client:
            while self.more(limit):
                index = self.sent  # taken before the await: each index goes out once
                self.sent += 1
                await client.publish(*self.message(index), qos=1)
                await self.pace()

    def more(self, limit: int | None) -> bool:
        return not self.stop.is_set() and (limit is None or self.sent < limit)

    def message(self, index: int) -> tuple[str, str]:
        """The topic and payload of the `index`-th message."""
        device, seq = index % self.devices, index // self.devices
        return (f"estates/{self.estate_id}/leak_sensor/leak-{device}/telemetry",
                self.payload(device, seq))

    async def pace(self) -> None:
        started, before = self._rate_from
        ahead = (self.sent - before) / self.rate - (time.monotonic() - started)
        if ahead > 0:
            await asyncio.sleep(ahead)
