"""kill -9 of a real `estateops gateway` process in the middle of a `for` run and of a silence
window: after a restart, each rule fires within one flush interval of its true time.

The gate's `stuck_open` runs 30 s (an estate override); the leak sensor reports every 10 s, so
it is missed after 30 s of silence (long enough for a restart on a busy machine). The sensor
is heard three times, 1.5 s apart, before the kill: each "heard again" must be saved, or the
restarted gateway misses it seconds early.
"""

from __future__ import annotations

import asyncio
import json
import os
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path

import aiomqtt
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from device_profiles import load_profiles
from gateway.rules.tables import RuleOverride
from registry.importer import import_estates
from registry.schema import EstateFile
from registry.tables import Device
from services.workorders.tables import WorkOrder
from tests.fixtures.mosquitto import Broker
from tests.utils.estates import unique_estate_id
from tests.utils.gateway import eventually
from tests.utils.waiting import wait_until

FLUSH_S = 0.5  # the gateway's state flush interval
FOR_S = 30.0
LEAK_INTERVAL_S = 10.0  # silence: 3 × 10 s
HEARD_EVERY_S = 1.5
ESTATEOPS = Path(sys.executable).with_name("estateops")
Sessions = async_sessionmaker[AsyncSession]


async def register(sessions: Sessions) -> str:
    estate_id = unique_estate_id()
    await import_estates(sessions, EstateFile.model_validate({"estates": [{
        "id": estate_id, "name": "龙涤小区",
        "devices": [{"id": "gate-1", "type": "barrier_gate", "reporting_interval_s": 600},
                    {"id": "leak-1", "type": "leak_sensor",
                     "reporting_interval_s": LEAK_INTERVAL_S}],
    }]}), load_profiles())
    async with sessions.begin() as session:
        session.add(RuleOverride(estate_id=estate_id, device_type="barrier_gate",
                                 rule="stuck_open", enabled=True, params={"for_s": FOR_S}))
    return estate_id


def gateway_env(mosquitto: Broker, database_url: str, data_dir: Path, estate_id: str,
                client_id: str) -> dict[str, str]:
    return {**os.environ, "ESTATEOPS_DATABASE_URL": database_url,
            "ESTATEOPS_DATA_DIR": str(data_dir), "ESTATEOPS_MQTT__URL": mosquitto.url,
            "ESTATEOPS_MQTT__CLIENT_ID": client_id,
            "ESTATEOPS_MQTT__TOPIC": f"estates/{estate_id}/+/+/+",
            "ESTATEOPS_GATEWAY__STATE_FLUSH_INTERVAL_S": str(FLUSH_S)}


@contextmanager
def gateway_process(env: dict[str, str], log: Path) -> Iterator[subprocess.Popen[bytes]]:
    with log.open("ab") as out:
        process = subprocess.Popen([str(ESTATEOPS), "gateway"], env=env, stdout=out,
                                   stderr=subprocess.STDOUT)
    try:
        yield process
    finally:
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)
            process.wait(timeout=30)


def tail(log: Path) -> str:
    return log.read_text(errors="replace")[-2000:]


async def subscribed(process: subprocess.Popen[bytes], log: Path, times: int) -> None:
    """Wait until the log shows the `times`-th subscription (this process's)."""
    def ready() -> bool:
        assert process.poll() is None, tail(log)
        return log.read_text(errors="replace").count("subscribed to") >= times

    assert await wait_until(ready, within=60), tail(log)


async def created_at(sessions: Sessions, estate_id: str, device_id: str,
                     rule: str) -> datetime | None:
    """When the newest work order of the device and rule was made."""
    async with sessions() as session:
        return await session.scalar(select(func.max(WorkOrder.created_at)).join(
            Device, Device.id == WorkOrder.device_pk).where(
            Device.estate_id == estate_id, Device.device_id == device_id, WorkOrder.rule == rule))


async def test_kill_9_mid_for_and_mid_silence_fires_each_within_one_flush_interval(
        mosquitto: Broker, database_url: str, sessions: Sessions, tmp_path: Path) -> None:
    estate_id = await register(sessions)
    env = gateway_env(mosquitto, database_url, tmp_path, estate_id, f"gw-{uuid.uuid4().hex[:8]}")
    log = tmp_path / "gateway.log"
    prefix = f"estates/{estate_id}"
    async with aiomqtt.Client(mosquitto.host, mosquitto.port) as device:
        with gateway_process(env, log) as first:
            await subscribed(first, log, 1)
            opened_at = time.time()
            await device.publish(f"{prefix}/barrier_gate/gate-1/telemetry", json.dumps(
                {"position": "open", "loop_occupied": False}), qos=1)
            for _ in range(3):
                heard_at = time.time()
                await device.publish(f"{prefix}/leak_sensor/leak-1/telemetry",
                                     json.dumps({"leak": False}), qos=1)
                await asyncio.sleep(HEARD_EVERY_S)
            first.kill()  # SIGKILL: no shutdown flush, no goodbye
            first.wait(timeout=10)
        assert time.time() < opened_at + FOR_S - 5, "too slow to kill in the middle"
        with gateway_process(env, log) as second:
            await subscribed(second, log, 2)
            assert time.time() < opened_at + FOR_S, "restarted too late to tell"

            async def fired() -> list[datetime | None]:
                return [await created_at(sessions, estate_id, "gate-1", "stuck_open"),
                        await created_at(sessions, estate_id, "leak-1", "offline")]

            def after_the_kill(times: list[datetime | None]) -> bool:
                return all(moment is not None and moment.timestamp() > heard_at
                           for moment in times)

            found = await eventually(fired, after_the_kill, within=FOR_S + 3 * LEAK_INTERVAL_S,
                                     interval=0.05)
    stuck_open, offline = found
    assert stuck_open is not None
    assert offline is not None
    for_off_by = stuck_open.timestamp() - (opened_at + FOR_S)
    silence_off_by = offline.timestamp() - (heard_at + 3 * LEAK_INTERVAL_S)
    assert abs(for_off_by) <= FLUSH_S, f"stuck_open off by {for_off_by:.3f} s"
    assert abs(silence_off_by) <= FLUSH_S, f"offline off by {silence_off_by:.3f} s"
