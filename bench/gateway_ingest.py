"""How fast the gateway drains a backlog: MQTT → validate → InfluxDB, against a bare subscriber.

Messages are queued in Mosquitto for a persistent session first, then the consumer starts,
so publishers do not compete with the consumer for the 2 cores. The comparison is a paho
subscriber that only does json.loads on the same backlog: the ceiling for Python here.

Run: .venv/bin/python bench/gateway_ingest.py [--messages 100000] [--devices 1000]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import tempfile
import threading
import time
import uuid
from contextlib import ExitStack
from pathlib import Path

import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion

from connectors.store import InfluxV1Store
from core.db import open_database
from device_profiles import load_profiles
from estateops.migrate import ensure_schema
from estateops.settings import Settings
from gateway import metrics
from gateway.runner import build_gateway
from registry.importer import import_estates
from registry.schema import EstateFile
from tests.fixtures.influx import influx_rows, run_influxd
from tests.fixtures.mosquitto import mosquitto_config
from tests.fixtures.processes import free_port, require_binary, running

ESTATE = "bench"
# An hour ago: inside the gateway's lateness horizon (gateway.max_ts_age_s, 7 days).
T0_MS = time.time_ns() // 1_000_000 - 3_600_000


def estate(devices: int) -> EstateFile:
    return EstateFile.model_validate({"estates": [{
        "id": ESTATE, "name": "压测小区",
        "devices": [{"id": f"leak-{n:05d}", "type": "leak_sensor"} for n in range(devices)],
    }]})


def payloads(messages: int, devices: int) -> list[tuple[str, bytes]]:
    return [(f"estates/{ESTATE}/leak_sensor/leak-{n % devices:05d}/telemetry",
             json.dumps({"ts": T0_MS + n, "seq": n, "leak": n % 97 == 0,
                         "battery": 50 + n % 50, "rssi": -60 - n % 30}).encode())
            for n in range(messages)]


def subscribe_session(port: int, client_id: str) -> None:
    """Create the persistent session so the broker queues the backlog for it."""
    client = mqtt.Client(CallbackAPIVersion.VERSION2, client_id=client_id, clean_session=False)
    client.connect("127.0.0.1", port)
    client.subscribe(f"estates/{ESTATE}/+/+/+", qos=1)
    client.loop(1.0)
    client.disconnect()


def publish_backlog(port: int, backlog: list[tuple[str, bytes]]) -> None:
    client = mqtt.Client(CallbackAPIVersion.VERSION2, client_id=f"pub-{uuid.uuid4().hex[:6]}")
    client.max_inflight_messages_set(1000)
    client.connect("127.0.0.1", port)
    client.loop_start()
    infos = [client.publish(topic, body, qos=1) for topic, body in backlog]
    for info in infos:
        info.wait_for_publish(timeout=60)
    client.loop_stop()
    client.disconnect()


def bare_subscriber_rate(port: int, backlog: list[tuple[str, bytes]]) -> float:
    client_id = f"bare-{uuid.uuid4().hex[:6]}"
    subscribe_session(port, client_id)
    publish_backlog(port, backlog)
    received = 0
    done = threading.Event()

    def on_message(_client: mqtt.Client, _userdata: object, message: mqtt.MQTTMessage) -> None:
        nonlocal received
        json.loads(message.payload)
        received += 1
        if received == len(backlog):
            done.set()

    client = mqtt.Client(CallbackAPIVersion.VERSION2, client_id=client_id, clean_session=False)
    client.on_message = on_message
    started = time.perf_counter()
    client.connect("127.0.0.1", port)
    client.loop_start()
    done.wait(timeout=300)
    elapsed = time.perf_counter() - started
    client.loop_stop()
    client.disconnect()
    return received / elapsed


async def gateway_rate(port: int, influx_url: str, backlog: list[tuple[str, bytes]],
                       devices: int, work: Path) -> tuple[float, int]:
    database_url = f"sqlite:///{work / 'registry.sqlite3'}"
    await ensure_schema(database_url)
    client_id = f"gw-{uuid.uuid4().hex[:6]}"
    settings = Settings(data_dir=work, database_url=database_url,
                        mqtt={"url": f"mqtt://127.0.0.1:{port}", "client_id": client_id})
    subscribe_session(port, client_id)
    await asyncio.to_thread(publish_backlog, port, backlog)
    database = f"bench_{uuid.uuid4().hex[:8]}"
    async with open_database(database_url) as sessions:
        await import_estates(sessions, estate(devices), load_profiles())
        store = InfluxV1Store(influx_url, database)
        gateway = build_gateway(settings, profiles=load_profiles(), store=store,
                                sessions=sessions)
        written_before = metrics.POINTS_WRITTEN._value.get()
        started = time.perf_counter()
        task = asyncio.create_task(gateway.run())
        while metrics.POINTS_WRITTEN._value.get() - written_before < len(backlog):
            await asyncio.sleep(0.05)
            if task.done():
                task.result()
        elapsed = time.perf_counter() - started
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
        await store.aclose()
    rows = await influx_rows(influx_url, database, "SELECT count(battery) FROM leak_sensor")
    return len(backlog) / elapsed, int(rows[0]["count"])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--messages", type=int, default=100_000)
    parser.add_argument("--devices", type=int, default=1_000)
    args = parser.parse_args()
    backlog = payloads(args.messages, args.devices)
    with ExitStack() as stack:
        work = Path(stack.enter_context(tempfile.TemporaryDirectory()))
        port = free_port()
        (work / "mosquitto.conf").write_text(mosquitto_config(port, work))
        stack.enter_context(running(
            [require_binary("mosquitto", "mosquitto", search=["/usr/sbin/mosquitto"]), "-c",
             str(work / "mosquitto.conf")], log=work / "mosquitto.log", what="mosquitto",
            port=port))
        (work / "influxd").mkdir()
        influx = stack.enter_context(run_influxd(work / "influxd"))
        bare = bare_subscriber_rate(port, backlog)
        gateway, stored = asyncio.run(gateway_rate(port, influx.url, backlog, args.devices, work))
    print(f"\n{args.messages} leak_sensor messages (QoS 1) from {args.devices} devices, "
          f"drained from a Mosquitto backlog")
    print(f"{'consumer':<52} {'msg/s':>10} {'vs bare subscriber':>20}")
    print(f"{'paho subscriber, json.loads only (comparison)':<52} {bare:>10,.0f} {1:>19.2f}x")
    print(f"{'gateway → InfluxDB 1.x (validate, dedupe, state)':<52} {gateway:>10,.0f} "
          f"{gateway / bare:>19.2f}x")
    print(f"points stored in InfluxDB: {stored} of {args.messages}")


if __name__ == "__main__":
    main()
