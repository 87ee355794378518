"""Fuzz a real gateway through real Mosquitto: N hostile and normal messages, then what became
of them (accepted, rejected by reason, internal_error) and the gateway's memory.

The gateway is the `estateops gateway` command in its own process (so its RSS is its own),
writing to a real InfluxDB 1.x and a SQLite registry; publishing keeps at most --window
messages ahead of what the gateway has handled, so memory measures what the gateway keeps,
not a backlog in its incoming queue.

Run: .venv/bin/python bench/fuzz_gateway.py [--messages 100000] [--seed 10] [--window 5000]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import re
import signal
import subprocess
import sys
import tempfile
import time
import uuid
from contextlib import ExitStack
from pathlib import Path

import httpx
import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion

from bench.fuzz_messages import DEVICES, ESTATE, fuzz_messages
from bench.process_stats import rss_mb
from core.db import open_database
from device_profiles import load_profiles
from estateops.migrate import ensure_schema
from registry.importer import import_estates
from registry.schema import EstateFile
from tests.fixtures.influx import run_influxd
from tests.fixtures.mosquitto import mosquitto_config
from tests.fixtures.processes import free_port, require_binary, running

METRIC = re.compile(r'^(estateops_\w+?)(?:_total)?(?:\{(\w+)="([^"]*)"\})? ([0-9.e+-]+)$')


def estate_file() -> EstateFile:
    return EstateFile.model_validate({"estates": [{
        "id": ESTATE, "name": "模糊测试小区",
        "devices": [{"id": device_id, "type": device_type,
                     **({"kind": "ebike"} if device_type == "ev_charger" else {})}
                    for device_type, device_id in DEVICES],
    }]})


async def prepare_registry(database_url: str) -> None:
    await ensure_schema(database_url)
    async with open_database(database_url) as sessions:
        await import_estates(sessions, estate_file(), load_profiles())


def scrape(port: int) -> dict[tuple[str, str], float]:
    text = httpx.get(f"http://127.0.0.1:{port}/metrics", timeout=5).text
    values: dict[tuple[str, str], float] = {}
    for line in text.splitlines():
        match = METRIC.match(line)
        if match:
            name, _, label, value = match.groups()
            values[(name, label or "")] = float(value)
    return values


def handled(values: dict[tuple[str, str], float]) -> int:
    """Messages the gateway is done with: those with a parsed topic, and bad topics."""
    received = sum(v for (name, _), v in values.items() if name == "estateops_messages_received")
    return int(received + values.get(("estateops_messages_rejected", "bad_topic"), 0))


def wait_for(condition: object, what: str, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if callable(condition) and condition():
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    raise SystemExit(f"timed out waiting for {what}")


def reaches_gateway(topic: str) -> bool:
    """Whether the gateway's subscription (estates/+/+/+/+) matches the topic."""
    return topic.count("/") == 4 and topic.startswith("estates/")


def publish(broker_port: int, messages: list[tuple[str, bytes]], metrics_port: int,
            window: int, gateway_pid: int) -> list[tuple[int, float]]:
    client = mqtt.Client(CallbackAPIVersion.VERSION2, client_id=f"fuzz-{uuid.uuid4().hex[:6]}")
    client.max_inflight_messages_set(500)
    client.connect("127.0.0.1", broker_port)
    client.loop_start()
    samples: list[tuple[int, float]] = []
    delivered = 0
    try:
        for start in range(0, len(messages), 1000):
            chunk = messages[start:start + 1000]
            infos = [client.publish(topic, body, qos=1) for topic, body in chunk]
            for info in infos:
                info.wait_for_publish(timeout=120)
            delivered += sum(reaches_gateway(topic) for topic, _ in chunk)
            wait_for(lambda due=delivered: handled(scrape(metrics_port)) >= due - window,
                     "the gateway to catch up", 600)
            sent = start + len(chunk)
            if sent % 10_000 == 0:
                samples.append((sent, rss_mb(gateway_pid)[0]))
                print(f"  {sent} sent, gateway RSS {samples[-1][1]:.0f} MB", flush=True)
    finally:
        client.loop_stop()
        client.disconnect()
    return samples


def report(values: dict[tuple[str, str], float], sent: int, due: int, before: tuple[float, float],
           after: tuple[float, float], samples: list[tuple[int, float]], tracebacks: int) -> None:
    rejected = {label: int(v) for (name, label), v in values.items()
                if name == "estateops_messages_rejected"}
    message_rejections = {reason: n for reason, n in rejected.items()
                          if reason != "store_rejected"}
    duplicates = int(values.get(("estateops_messages_duplicate", ""), 0))
    accepted = handled(values) - sum(message_rejections.values()) - duplicates
    print(f"\nmessages sent          {sent:>8} (outside estates/+/+/+/+, never delivered: "
          f"{sent - due})")
    print(f"handled by the gateway {handled(values):>8}")
    print(f"accepted (incl. status){accepted:>8}")
    print(f"duplicates (seq)       {duplicates:>8}")
    print(f"points written         {int(values.get(('estateops_points_written', ''), 0)):>8}")
    unsaved = int(values.get(("estateops_dead_letters_unsaved", ""), 0))
    print(f"dead letters unsaved   {unsaved:>8}")
    print("rejected by reason:")
    for reason, count in sorted(rejected.items(), key=lambda item: -item[1]):
        print(f"  {reason:<22}{count:>8}")
    print(f"internal_error         {rejected.get('internal_error', 0):>8}")
    print(f"tracebacks in log      {tracebacks:>8}")
    print(f"gateway RSS before     {before[0]:>8.1f} MB")
    print(f"gateway RSS after      {after[0]:>8.1f} MB (peak {after[1]:.1f} MB)")
    print("RSS while sending:     " + ", ".join(f"{n // 1000}k: {mb:.0f}" for n, mb in samples))


def gateway_env(work: Path, broker_port: int, influx_url: str, metrics_port: int) -> dict[str, str]:
    return {**os.environ,
            "ESTATEOPS_DATA_DIR": str(work),
            "ESTATEOPS_DATABASE_URL": f"sqlite:///{work / 'registry.sqlite3'}",
            "ESTATEOPS_MQTT__URL": f"mqtt://127.0.0.1:{broker_port}",
            "ESTATEOPS_MQTT__CLIENT_ID": f"fuzz-gw-{uuid.uuid4().hex[:6]}",
            "ESTATEOPS_INFLUX__URL": influx_url,
            "ESTATEOPS_INFLUX__API_VERSION": "1",
            "ESTATEOPS_INFLUX__DATABASE": f"fuzz_{uuid.uuid4().hex[:8]}",
            "ESTATEOPS_GATEWAY__METRICS_PORT": str(metrics_port)}


def run(args: argparse.Namespace, work: Path, stack: ExitStack) -> None:
    broker_port = free_port()
    (work / "mosquitto.conf").write_text(mosquitto_config(broker_port, work))
    stack.enter_context(running(
        [require_binary("mosquitto", "mosquitto", search=["/usr/sbin/mosquitto"]),
         "-c", str(work / "mosquitto.conf")],
        log=work / "mosquitto.log", what="mosquitto", port=broker_port))
    influx = stack.enter_context(run_influxd(work))
    asyncio.run(prepare_registry(f"sqlite:///{work / 'registry.sqlite3'}"))
    messages = fuzz_messages(args.messages, seed=args.seed)
    print(f"{len(messages)} messages, {sum(len(body) for _, body in messages) / 2**20:.0f} MiB",
          flush=True)
    metrics_port = free_port()
    log = (work / "gateway.log").open("w")
    gateway = subprocess.Popen(
        [str(Path(sys.executable).with_name("estateops")), "gateway"],
        env=gateway_env(work, broker_port, influx.url, metrics_port),
        stdout=log, stderr=subprocess.STDOUT)
    stack.callback(gateway.wait, 30)
    stack.callback(gateway.terminate)
    wait_for(lambda: scrape(metrics_port).get(("estateops_broker_connected", "")) == 1,
             "the gateway to connect", 60)
    before = rss_mb(gateway.pid)
    started = time.monotonic()
    samples = publish(broker_port, messages, metrics_port, args.window, gateway.pid)
    due = sum(reaches_gateway(topic) for topic, _ in messages)
    wait_for(lambda: handled(scrape(metrics_port)) >= due, "the last messages", 600)
    time.sleep(2)  # last writes and flushes
    elapsed = time.monotonic() - started
    after = rss_mb(gateway.pid)
    values = scrape(metrics_port)
    log_text = (work / "gateway.log").read_text(errors="replace")
    if args.keep_log is not None:
        args.keep_log.write_text(log_text)
    report(values, len(messages), due, before, after, samples, log_text.count("Traceback"))
    print(f"SQL saves retried      {log_text.count('could not save'):>8}")
    print(f"elapsed                {elapsed:>8.1f} s ({len(messages) / elapsed:.0f} msg/s)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--messages", type=int, default=100_000)
    parser.add_argument("--seed", type=int, default=10)
    parser.add_argument("--window", type=int, default=5000,
                        help="most messages published ahead of what the gateway has handled")
    parser.add_argument("--keep-log", type=Path, help="copy the gateway's log here")
    args = parser.parse_args()
    # So that a timeout's SIGTERM still stops the servers and the gateway it started.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(1))
    with ExitStack() as stack:
        work = Path(stack.enter_context(tempfile.TemporaryDirectory()))
        run(args, work, stack)


if __name__ == "__main__":
    main()
