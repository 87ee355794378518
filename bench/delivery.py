"""End-to-end delivery throughput, all consumers in ONE run on the same broker and backlog.

A backlog of sequenced QoS 1 leak telemetry is queued in Mosquitto (deploy/'s in-flight
limit) for one persistent session per consumer, then each consumer drains it in turn while
nothing else runs: mosquitto_sub (the limit here), a bare paho subscriber doing
json.loads, and `estateops gateway` processes (PostgreSQL registry and state) into InfluxDB
1.6 and into VictoriaMetrics, then 2 and 4 partitioned gateway processes into InfluxDB
(`--gateways`; each reads every message and takes in its partition's). A gateway's rate
counts only what landed: the clock stops when the store holds every point. Then leak → work
order under a live load: first the live rate one gateway keeps up with while the load
generator runs (stepping down from the backlog rate), then probes' leaks at `--load-share`
of it. Last, the gateway's RSS and CPU per message at several estate sizes. The publishers
write pre-rendered packets on raw sockets, so the load takes little of the CPU the gateway
is measured with.

Run: .venv/bin/python -m bench.delivery [--messages 200000] [--devices 10000]
     [--sizes 1000,10000,50000] [--gateways 1,2,4] [--profile DIR]
The smoke (`--messages 2000 --devices 50 --sizes 50`) is what tests/bench runs.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import multiprocessing
import os
import selectors
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Callable, Iterator, Sequence
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from pathlib import Path

import httpx
import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion
from sqlalchemy import delete, select

from bench.process_stats import cpu_seconds, rss_mb
from core.db import open_database
from device_profiles import load_profiles
from estateops.migrate import upgrade
from gateway.partition import WHOLE, Partition
from gateway.rules.tables import OutboxAnomaly, RecentMessage, StoredRuleState, StoredSeqWindow
from registry.importer import import_estates
from registry.schema import EstateFile
from registry.tables import Device
from services.workorders.tables import WorkOrder
from tests.fixtures.influx import HttpServer, run_influxd, run_victoria_metrics
from tests.fixtures.mosquitto import mosquitto_config
from tests.fixtures.postgres import start_postgres
from tests.fixtures.processes import free_port, require_binary, running

ESTATEOPS = Path(sys.executable).with_name("estateops")
DEPLOY_CONF = Path(__file__).resolve().parent.parent / "deploy" / "mosquitto" / "mosquitto.conf"
PUBLISH_WINDOW = 2_000  # unacknowledged QoS 1 publishes per publisher
DRAIN_TIMEOUT_S = 600.0


def deploy_inflight() -> int:
    """deploy/'s max_inflight_messages: the bench runs the broker the way compose does."""
    for line in DEPLOY_CONF.read_text().splitlines():
        if line.startswith("max_inflight_messages"):
            return int(line.split()[1])
    raise SystemExit(f"no max_inflight_messages in {DEPLOY_CONF}")




@dataclass(frozen=True)
class Backlog:
    estate: str
    devices: int
    messages: int
    probes: int = 0  # leak sensors `probe-NNN` besides the loaded ones (latency)
    leaks: bool = True  # every 997th reading is a leak (False: a dry estate)
    first: int = 0  # the number of its first message (0, or where an earlier part ended)
    base_ms: int = field(default_factory=lambda: time.time_ns() // 1_000_000 - 3_600_000)

    @property
    def topic_filter(self) -> str:
        return f"estates/{self.estate}/+/+/+"

    def message(self, n: int) -> tuple[str, bytes]:
        device, seq = n % self.devices, n // self.devices
        body = {"ts": self.base_ms + n, "seq": seq, "leak": self.leaks and n % 997 == 0,
                "battery": 50 + n % 50, "rssi": -60 - n % 30}
        return (f"estates/{self.estate}/leak_sensor/leak-{device:05d}/telemetry",
                json.dumps(body).encode())

    def estate_file(self) -> EstateFile:
        return EstateFile.model_validate({"estates": [{
            "id": self.estate, "name": "压测小区",
            "devices": [{"id": name, "type": "leak_sensor"} for name in self.device_ids()]}]})

    def device_ids(self) -> list[str]:
        return ([f"leak-{n:05d}" for n in range(self.devices)]
                + [f"probe-{n:03d}" for n in range(self.probes)])


def paho_client(port: int, client_id: str, *, persistent: bool) -> mqtt.Client:
    client = mqtt.Client(CallbackAPIVersion.VERSION2, client_id=client_id,
                         clean_session=not persistent)
    client.max_inflight_messages_set(1000)  # publishing; receiving is the broker's limit
    client.connect("127.0.0.1", port)
    return client


def open_session(port: int, client_id: str, topic_filter: str) -> None:
    """Create a persistent session so the broker queues the backlog for `client_id`."""
    client = paho_client(port, client_id, persistent=True)
    subscribed = threading.Event()
    client.on_subscribe = lambda *_args: subscribed.set()
    client.loop_start()
    client.subscribe(topic_filter, qos=1)
    if not subscribed.wait(10):
        raise SystemExit(f"no SUBACK for {client_id}")
    client.disconnect()
    client.loop_stop()


def publish(port: int, backlog: Backlog, publishers: int = 2,
            rate: float | None = None) -> float:
    """Publish the backlog at QoS 1 from `publishers` processes (at `rate` msg/s in all, or
    as fast as they can); msg/s."""
    started = time.perf_counter()
    share_rate = rate / publishers if rate else None
    with multiprocessing.Pool(publishers) as pool:
        pool.starmap(publish_share, [(port, backlog, share, publishers, share_rate)
                                     for share in range(publishers)])
    return backlog.messages / (time.perf_counter() - started)


def publish_share(port: int, backlog: Backlog, share: int, shares: int,
                  rate: float | None = None) -> None:
    """Publish every `shares`-th message from `share` at QoS 1 (at `rate` msg/s, or as fast
    as the broker takes them), at most PUBLISH_WINDOW unacknowledged.

    The load must not take the CPU the gateway is measured with: paho costs ~90 µs of
    Python per QoS 1 message (a packet object, a callback and a scan of the in-flight
    messages per PUBACK), a third of a core at 3 000 msg/s on this 2-core machine. Here the
    PUBLISH packets are rendered before the clock starts and written on a raw socket in
    large writes; PUBACKs are counted by their bytes, not parsed."""
    numbers = range(backlog.first + share, backlog.first + backlog.messages, shares)
    packets = [publish_packet(*backlog.message(n), message_id=1 + index % 65_535)
               for index, n in enumerate(numbers)]
    with raw_connection(port, f"pub-{uuid.uuid4().hex[:6]}") as sock:
        send_paced(sock, packets, rate)


PUBACK_BYTES = 4  # MQTT 3.1.1 PUBACK: 0x40, remaining length 2, the message id
PACE_TICK_S = 0.005


def send_paced(sock: socket.socket, packets: Sequence[bytes], rate: float | None) -> None:
    """Write `packets` (QoS 1 PUBLISHes) at `rate` a second in one write per tick, at most
    PUBLISH_WINDOW unacknowledged; return once the broker acknowledged every one."""
    sent, acked_bytes = 0, 0
    readable = selectors.DefaultSelector()
    readable.register(sock, selectors.EVENT_READ)
    started = time.perf_counter()
    while acked_bytes < PUBACK_BYTES * len(packets):
        elapsed = time.perf_counter() - started
        due = len(packets) if rate is None else min(len(packets), int(elapsed * rate) + 1)
        window_end = min(due, acked_bytes // PUBACK_BYTES + PUBLISH_WINDOW)
        if window_end > sent:
            sock.sendall(b"".join(packets[sent:window_end]))
            sent = window_end
        if readable.select(PACE_TICK_S):
            chunk = sock.recv(1 << 16)
            if not chunk:
                raise SystemExit("the broker closed the publisher's connection")
            acked_bytes += len(chunk)


@contextmanager
def raw_connection(port: int, client_id: str) -> Iterator[socket.socket]:
    """A clean-session MQTT 3.1.1 connection without keepalive, CONNACK checked."""
    sock = socket.create_connection(("127.0.0.1", port))
    try:
        identifier = client_id.encode()
        body = (b"\x00\x04MQTT\x04\x02\x00\x00"  # protocol 4, clean session, keepalive 0
                + len(identifier).to_bytes(2, "big") + identifier)
        sock.sendall(b"\x10" + remaining_length(len(body)) + body)
        connack = sock.recv(4)
        if connack[:2] != b"\x20\x02" or connack[3:4] != b"\x00":
            raise SystemExit(f"broker refused the publisher: {connack!r}")
        yield sock
        sock.sendall(b"\xe0\x00")  # DISCONNECT
    finally:
        sock.close()


def publish_packet(topic: str, payload: bytes, *, message_id: int) -> bytes:
    """One QoS 1 PUBLISH packet (MQTT 3.1.1)."""
    name = topic.encode()
    body = len(name).to_bytes(2, "big") + name + message_id.to_bytes(2, "big") + payload
    return b"\x32" + remaining_length(len(body)) + body


def remaining_length(length: int) -> bytes:
    encoded = bytearray()
    while True:
        length, digit = divmod(length, 128)
        encoded.append(digit | (0x80 if length else 0))
        if not length:
            return bytes(encoded)


@dataclass
class Result:
    path: str
    rate: float
    landed: int
    sent: int
    cpu_us_per_msg: float | None = None
    rss_mb: float | None = None


def mosquitto_sub_rate(port: int, client_id: str, backlog: Backlog) -> Result:
    binary = require_binary("mosquitto_sub", "mosquitto-clients")
    started = time.perf_counter()
    done = subprocess.run(
        [binary, "-h", "127.0.0.1", "-p", str(port), "-i", client_id, "-c", "-q", "1",
         "-t", backlog.topic_filter, "-C", str(backlog.messages), "-W", "600"],
        stdout=subprocess.DEVNULL, check=False)
    elapsed = time.perf_counter() - started
    landed = backlog.messages if done.returncode == 0 else 0
    return Result("Mosquitto → mosquitto_sub (the limit here)", backlog.messages / elapsed,
                  landed, backlog.messages)


def bare_paho_rate(port: int, client_id: str, backlog: Backlog) -> Result:
    received = 0
    done = threading.Event()

    def on_message(_client: mqtt.Client, _userdata: object, message: mqtt.MQTTMessage) -> None:
        nonlocal received
        json.loads(message.payload)
        received += 1
        if received == backlog.messages:
            done.set()

    started = time.perf_counter()
    client = paho_client(port, client_id, persistent=True)
    client.on_message = on_message
    client.loop_start()
    done.wait(timeout=DRAIN_TIMEOUT_S)
    elapsed = time.perf_counter() - started
    client.disconnect()
    client.loop_stop()
    return Result("→ bare paho subscriber, json.loads", received / elapsed, received,
                  backlog.messages)


@dataclass(frozen=True)
class Servers:
    mqtt_port: int
    influx: HttpServer
    victoria: HttpServer
    database_url: str


@dataclass(frozen=True)
class Store:
    """Where a gateway writes, and how to count what landed there."""

    name: str
    env: dict[str, str]
    count: Callable[[], int]


def influx_store(server: HttpServer) -> Store:
    database = f"bench_{uuid.uuid4().hex[:8]}"

    def count() -> int:
        answer = httpx.get(f"{server.url}/query", timeout=30, params={
            "db": database, "q": "SELECT count(battery) FROM leak_sensor"}).json()
        series = answer["results"][0].get("series")
        return int(series[0]["values"][0][1]) if series else 0

    return Store("InfluxDB 1.6", {"ESTATEOPS_INFLUX__URL": server.url,
                                  "ESTATEOPS_INFLUX__API_VERSION": "1",
                                  "ESTATEOPS_INFLUX__DATABASE": database}, count)


def victoria_store(server: HttpServer, estate: str) -> Store:
    def count() -> int:
        httpx.get(f"{server.url}/internal/force_flush", timeout=30)
        answer = httpx.get(f"{server.url}/api/v1/query", timeout=30, params={
            "query": f'sum(count_over_time(leak_sensor_battery{{estate="{estate}"}}[3h]))',
            "nocache": "1"}).json()
        result = answer["data"]["result"]
        return int(float(result[0]["value"][1])) if result else 0

    return Store("VictoriaMetrics (v2 write)", {"ESTATEOPS_INFLUX__URL": server.url,
                                                "ESTATEOPS_INFLUX__API_VERSION": "2",
                                                "ESTATEOPS_INFLUX__BUCKET": "bench",
                                                "ESTATEOPS_INFLUX__TOKEN": "unused"}, count)


def gateway_env(servers: Servers, store: Store, backlog: Backlog, client_id: str,
                work: Path, partition: Partition = WHOLE) -> dict[str, str]:
    """`client_id` is the gateways' common base: a partition suffixes it (its session)."""
    env = {**os.environ, "ESTATEOPS_DATABASE_URL": servers.database_url,
           "ESTATEOPS_DATA_DIR": str(work), "ESTATEOPS_MQTT__CLIENT_ID": client_id,
           "ESTATEOPS_MQTT__URL": f"mqtt://127.0.0.1:{servers.mqtt_port}",
           "ESTATEOPS_MQTT__TOPIC": backlog.topic_filter, **store.env}
    if not partition.whole:
        env["ESTATEOPS_GATEWAY__PARTITION"] = str(partition)
    return env


def partitions(count: int) -> list[Partition]:
    return [Partition(index, count) for index in range(count)]


def open_gateway_sessions(port: int, base_id: str, count: int, backlog: Backlog) -> None:
    """Before the backlog is published, each partition's session under the id it connects
    with, so the broker queues the whole backlog for every gateway."""
    for partition in partitions(count):
        open_session(port, partition.client_id(base_id), backlog.topic_filter)


@contextmanager
def gateways(envs: Sequence[dict[str, str]], work: Path,
             profile: Path | None) -> Iterator[list[subprocess.Popen[bytes]]]:
    processes: list[subprocess.Popen[bytes]] = []
    spies: list[subprocess.Popen[bytes]] = []
    try:
        for index, env in enumerate(envs):
            log = (work / f"gateway-{index}.log").open("wb")
            processes.append(subprocess.Popen([str(ESTATEOPS), "gateway"], env=env,
                                              stdout=log, stderr=subprocess.STDOUT))
        if profile is not None:
            spies = [py_spy(process.pid, profile) for process in processes]
        yield processes
    finally:
        for spy in spies:  # SIGINT: py-spy writes its profile and exits
            spy.send_signal(signal.SIGINT)
            spy.wait(timeout=60)
        for process in processes:
            if process.poll() is None:
                process.terminate()
                process.wait(timeout=30)


def py_spy(pid: int, out: Path) -> subprocess.Popen[bytes]:
    out.mkdir(parents=True, exist_ok=True)
    uvx = Path(sys.executable).parents[2] / ".tools" / "bin" / "uvx"  # .venv/bin/python
    # --nonblocking: py-spy otherwise stops the gateway for every sample, 200 times a second
    # (leak → work order p99 19 s at 5 500 msg/s profiled that way, 0.5-1.1 s unprofiled).
    return subprocess.Popen([str(uvx), "py-spy", "record", "--nonblocking", "--gil", "-r", "200",
                             "-f", "raw",
                             "-o", str(out / f"gateway-{pid}.txt"), "-p", str(pid)],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def wait_for_log(work: Path, count: int, text: str) -> None:
    deadline = time.monotonic() + 120
    logs = [work / f"gateway-{index}.log" for index in range(count)]
    while not all(text in log.read_text(errors="replace") for log in logs):
        if time.monotonic() > deadline:
            tails = "\n".join(f"--- {log.name}\n" + "\n".join(log_tail(log)) for log in logs)
            raise SystemExit(f"a gateway never logged {text!r} (its work dir goes):\n{tails}")
        time.sleep(0.01)


def log_tail(log: Path, lines: int = 25) -> list[str]:
    return log.read_text(errors="replace").splitlines()[-lines:]


def wait_landed(store: Store, expected: int, timeout_s: float = DRAIN_TIMEOUT_S) -> int:
    deadline = time.monotonic() + timeout_s
    landed = store.count()
    while landed < expected and time.monotonic() < deadline:
        time.sleep(0.25)
        landed = store.count()
    return landed


def gateway_rate(servers: Servers, store: Store, backlog: Backlog, base_id: str, count: int,
                 work: Path, profile: Path | None) -> Result:
    envs = [gateway_env(servers, store, backlog, base_id, work, partition)
            for partition in partitions(count)]
    asyncio.run(forget_gateway_memory(servers.database_url))
    with gateways(envs, work, profile) as processes:
        wait_for_log(work, count, "gateway knows")
        started = time.perf_counter()
        cpu_before = sum(cpu_seconds(process.pid) for process in processes[:count])
        landed = wait_landed(store, backlog.messages)
        elapsed = time.perf_counter() - started
        cpu = sum(cpu_seconds(process.pid) for process in processes[:count]) - cpu_before
        rss = max(rss_mb(process.pid)[1] for process in processes[:count])
    label = f"→ {count} × estateops gateway → {store.name}"
    return Result(label, landed / elapsed, landed, backlog.messages,
                  cpu_us_per_msg=cpu / max(landed, 1) * 1e6, rss_mb=rss)


WORK_ORDER_WAIT_S = 30.0
LIVE_WARMUP_SHARE = 0.25  # of a live step, before its rate is counted
KEEP_UP_S = 1.0  # a gateway lagging less than this much of its load keeps up with it
RATE_STEPS = 4


@dataclass(frozen=True)
class Latency:
    load_share: float
    sustained_rate: float  # the live rate one gateway kept up with (load generator running)
    sustained_found: bool  # False: it fell behind at every rate tried, the last is shown
    load_rate: float
    achieved_rate: float
    latencies_ms: list[float]
    probes: int
    cpu_us_per_msg: float  # the gateway's, from the load's start until the work orders

    def percentile(self, share: float) -> float:
        ordered = sorted(self.latencies_ms)
        return ordered[min(len(ordered) - 1, int(share * len(ordered)))] if ordered else 0.0


def sustained_rate(servers: Servers, options: Options, work: Path,
                   backlog_rate: float) -> tuple[float, bool]:
    """The live rate one gateway keeps up with while the load generator runs beside it,
    and whether it was found: a backlog drain has the machine to itself, a live stream
    shares it with the publishers and the broker's receiving side. Each step offers a rate
    for `options.latency_s / 2` to a fresh gateway; it keeps up if, as the load ends, the
    store lacks less than KEEP_UP_S of it. The first step offers the backlog rate; a step
    that falls behind is followed by one at 0.8 × what landed during it. A gateway that
    falls behind does not fall behind a little: its rule flushes cover more devices each,
    and the broker's queue grows until its in-flight limit (see bench/RESULTS.md)."""
    offered = backlog_rate
    for _step in range(RATE_STEPS):
        step = live_step(servers, options, work, offered)
        print(f"live step: offered {offered:,.0f} msg/s, landed {step.landed_rate:,.0f} "
              f"msg/s at {step.cpu_us_per_msg:.0f} µs of gateway CPU a message, "
              f"{'kept up' if step.kept_up else 'fell behind'}", flush=True)
        if step.kept_up:
            return offered, True
        offered = 0.8 * min(offered, step.landed_rate)
    return offered, False


@dataclass(frozen=True)
class LiveStep:
    landed_rate: float
    cpu_us_per_msg: float
    kept_up: bool


def live_step(servers: Servers, options: Options, work: Path, offered: float) -> LiveStep:
    """Offer `offered` msg/s live to a fresh gateway, with probes' leaks as often as the
    latency phase sends them (each is a work order made in the gateway's process, ~10-30 ms
    of its CPU): the rate that landed after a warm-up and the gateway's CPU per message
    landed then, and whether the store held all but KEEP_UP_S of the load as it ended. A
    gateway left behind is stopped, not waited for:
    the next step has its own estate, session and gateway."""
    seconds = options.latency_s / 2
    backlog = Backlog(f"live-{uuid.uuid4().hex[:6]}", options.devices, int(offered * seconds),
                      probes=max(1, options.probes // 2), leaks=options.leaky_load)
    asyncio.run(register(servers.database_url, backlog))
    store = influx_store(servers.influx)
    env = gateway_env(servers, store, backlog, f"gw-live-{backlog.estate}", work)
    with gateways([env], work, None) as processes:
        wait_for_log(work, 1, "subscribed to")
        load = threading.Thread(target=publish, args=(servers.mqtt_port, backlog),
                                kwargs={"rate": offered})
        probes = threading.Thread(target=send_probes, args=(servers.mqtt_port, backlog, seconds))
        load.start()
        probes.start()
        time.sleep(LIVE_WARMUP_SHARE * seconds)
        counted_from, landed_before = time.perf_counter(), store.count()
        cpu_before = cpu_seconds(processes[0].pid)
        load.join()
        probes.join()
        landed = store.count() - landed_before
        cpu = cpu_seconds(processes[0].pid) - cpu_before
        rate = landed / (time.perf_counter() - counted_from)
        behind = backlog.messages - landed_before - landed
    return LiveStep(rate, cpu / max(landed, 1) * 1e6, behind <= offered * KEEP_UP_S)


def leak_latency(servers: Servers, options: Options, work: Path, full_rate: float,
                 found: bool = True) -> Latency:
    """Leak → work order while one gateway runs at `options.load_share` of `full_rate`, the
    live rate it sustains (live QoS 1 load), after one reading from every device:
    `options.probes` sensors that never leaked send leak=true, spread over the load; each
    latency is the work order's created_at (the gateway's clock) minus the publish time."""
    rate = options.load_share * full_rate
    warm_up = Backlog(f"lat-{uuid.uuid4().hex[:6]}", options.devices, options.devices,
                      probes=options.probes, leaks=options.leaky_load)
    backlog = replace(warm_up, messages=int(rate * options.latency_s), first=warm_up.messages)
    asyncio.run(register(servers.database_url, backlog))
    store = influx_store(servers.influx)
    env = gateway_env(servers, store, backlog, f"gw-lat-{backlog.estate}", work)
    with gateways([env], work, options.profile and options.profile / "latency") as processes:
        wait_for_log(work, 1, "subscribed to")
        # A gateway in service knows its devices: one reading from each before the clock
        # starts (a first reading creates the device's rule state, seq window and state row).
        publish(servers.mqtt_port, warm_up)
        wait_landed(store, warm_up.messages)
        cpu_before = cpu_seconds(processes[0].pid)
        achieved: list[float] = []
        load = threading.Thread(target=lambda: achieved.append(
            publish(servers.mqtt_port, backlog, rate=rate)))
        load.start()
        sent_at = send_probes(servers.mqtt_port, backlog, options.latency_s)
        load.join()
        made = asyncio.run(wait_for_work_orders(servers.database_url, backlog))
        cpu = cpu_seconds(processes[0].pid) - cpu_before
    latencies = [(made[device] - sent).total_seconds() * 1000
                 for device, sent in sent_at.items() if device in made]
    return Latency(options.load_share, full_rate, found, rate,
                   achieved[0] if achieved else 0.0, latencies, backlog.probes,
                   cpu / backlog.messages * 1e6)


def send_probes(port: int, backlog: Backlog, load_s: float) -> dict[str, datetime]:
    """One leak per probe, spread over the middle 80 % of the load's `load_s`."""
    client = paho_client(port, f"probe-{backlog.estate}", persistent=False)
    client.loop_start()
    time.sleep(0.1 * load_s)
    interval = 0.8 * load_s / backlog.probes
    sent_at: dict[str, datetime] = {}
    for n in range(backlog.probes):
        device = f"probe-{n:03d}"
        now = datetime.now(UTC)
        body = json.dumps({"ts": int(now.timestamp() * 1000), "leak": True, "battery": 90})
        client.publish(f"estates/{backlog.estate}/leak_sensor/{device}/telemetry", body,
                       qos=1).wait_for_publish(10)
        sent_at[device] = now
        time.sleep(interval)
    client.loop_stop()
    client.disconnect()
    return sent_at


async def wait_for_work_orders(database_url: str, backlog: Backlog) -> dict[str, datetime]:
    """The probes' water_leak work orders (device id → created_at), once all are made or
    WORK_ORDER_WAIT_S has passed."""
    query = (select(Device.device_id, WorkOrder.created_at)
             .join(WorkOrder, WorkOrder.device_pk == Device.id)
             .where(Device.estate_id == backlog.estate, Device.device_id.like("probe-%"),
                    WorkOrder.rule == "water_leak"))
    deadline = time.monotonic() + WORK_ORDER_WAIT_S
    async with open_database(database_url) as sessions:
        while True:
            async with sessions() as session:
                made: dict[str, datetime] = dict((await session.execute(query)).all())
            if len(made) >= backlog.probes or time.monotonic() > deadline:
                return made
            await asyncio.sleep(0.5)


async def forget_gateway_memory(database_url: str) -> None:
    """Each consumer drains the same backlog as a gateway meeting it for the first time:
    the seqs, rule state and outbox the previous one saved would make it all duplicates."""
    async with open_database(database_url) as sessions, sessions.begin() as session:
        for table in (StoredSeqWindow, RecentMessage, StoredRuleState, OutboxAnomaly):
            await session.execute(delete(table))


async def register(database_url: str, backlog: Backlog) -> None:
    async with open_database(database_url) as sessions:
        await import_estates(sessions, backlog.estate_file(), load_profiles())


@contextmanager
def servers(work: Path) -> Iterator[Servers]:
    work.chmod(0o755)  # PostgreSQL runs as its own user and must reach its directory
    with ExitStack() as stack:
        port = free_port()
        (work / "mosquitto.conf").write_text(
            mosquitto_config(port, work, max_inflight=deploy_inflight()))
        stack.enter_context(running(
            [require_binary("mosquitto", "mosquitto", search=["/usr/sbin/mosquitto"]), "-c",
             str(work / "mosquitto.conf")], log=work / "mosquitto.log", what="mosquitto",
            port=port))
        for name in ("influxd", "victoria", "postgres"):
            (work / name).mkdir()
        influx = stack.enter_context(run_influxd(work / "influxd"))
        victoria = stack.enter_context(run_victoria_metrics(work / "victoria"))
        postgres = stack.enter_context(contextmanager(start_postgres)(work / "postgres"))
        database_url = postgres.url()
        upgrade(database_url)
        yield Servers(port, influx, victoria, database_url)


@dataclass(frozen=True)
class Options:
    messages: int
    devices: int
    sizes: list[int]
    size_messages: int
    gateways: list[int]  # process counts for the scale-out rows; 1 is the InfluxDB row
    profile: Path | None
    latency: bool = True
    latency_s: float = 40.0
    probes: int = 100
    load_share: float = 0.8
    leaky_load: bool = False


def throughput(servers: Servers, options: Options, work: Path) -> list[Result]:
    """All consumers drain the same backlog, queued once for each one's session: the four
    paths of the table, then each scale-out count above 1 (into InfluxDB)."""
    backlog = Backlog(f"bench-{uuid.uuid4().hex[:6]}", options.devices, options.messages)
    asyncio.run(register(servers.database_url, backlog))
    sub, paho = "sub-" + backlog.estate, "paho-" + backlog.estate
    influx_id, victoria_id = "gw-influx-" + backlog.estate, "gw-vm-" + backlog.estate
    for client_id in (sub, paho):
        open_session(servers.mqtt_port, client_id, backlog.topic_filter)
    scale_out = [count for count in options.gateways if count > 1]
    scale_ids = {count: f"gw-x{count}-{backlog.estate}" for count in scale_out}
    for base_id in (influx_id, victoria_id):
        open_gateway_sessions(servers.mqtt_port, base_id, 1, backlog)
    for count, base_id in scale_ids.items():
        open_gateway_sessions(servers.mqtt_port, base_id, count, backlog)
    rate = publish(servers.mqtt_port, backlog)
    print(f"published {backlog.messages} QoS 1 messages at {rate:,.0f} msg/s", flush=True)
    influx = influx_store(servers.influx)
    victoria = victoria_store(servers.victoria, backlog.estate)
    profile = options.profile
    return [mosquitto_sub_rate(servers.mqtt_port, sub, backlog),
            bare_paho_rate(servers.mqtt_port, paho, backlog),
            gateway_rate(servers, influx, backlog, influx_id, 1, work,
                         profile and profile / "influx"),
            gateway_rate(servers, victoria, backlog, victoria_id, 1, work, None),
            *(gateway_rate(servers, influx_store(servers.influx), backlog, base_id, count, work,
                           None) for count, base_id in scale_ids.items())]


def sizes(servers: Servers, options: Options, work: Path) -> list[tuple[int, Result]]:
    """One gateway into InfluxDB draining a backlog from estates of each size."""
    results = []
    for devices in options.sizes:
        messages = max(options.size_messages, 2 * devices)
        backlog = Backlog(f"size-{uuid.uuid4().hex[:6]}", devices, messages)
        asyncio.run(register(servers.database_url, backlog))
        client_id = f"gw-size-{backlog.estate}"
        open_session(servers.mqtt_port, client_id, backlog.topic_filter)
        publish(servers.mqtt_port, backlog)
        store = influx_store(servers.influx)
        results.append((devices, gateway_rate(servers, store, backlog, client_id, 1, work,
                                              None)))
    return results


def print_throughput(results: list[Result], options: Options) -> None:
    limit = results[0].rate
    print(f"\n{options.messages} QoS 1 leak messages from {options.devices} devices, "
          "drained from a Mosquitto backlog (deploy/'s in-flight limit), one run")
    print("| path | msg/s | landed / sent | ÷ mosquitto_sub | CPU µs/msg | peak RSS MB |")
    print("|---|---|---|---|---|---|")
    for result in results:
        cpu = f"{result.cpu_us_per_msg:.0f}" if result.cpu_us_per_msg is not None else ""
        rss = f"{result.rss_mb:.0f}" if result.rss_mb is not None else ""
        print(f"| {result.path} | {result.rate:,.0f} | {result.landed} / {result.sent} | "
              f"{result.rate / limit:.2f} | {cpu} | {rss} |")


def print_sizes(results: list[tuple[int, Result]]) -> None:
    print("\n| devices | messages | gateway msg/s | landed / sent | CPU µs/msg | peak RSS MB |")
    print("|---|---|---|---|---|---|")
    for devices, result in results:
        print(f"| {devices:,} | {result.sent:,} | {result.rate:,.0f} | "
              f"{result.landed} / {result.sent} | {result.cpu_us_per_msg or 0:.0f} | "
              f"{result.rss_mb or 0:.0f} |")


def parse_options(argv: Sequence[str] | None = None) -> Options:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--messages", type=int, default=200_000)
    parser.add_argument("--devices", type=int, default=10_000)
    parser.add_argument("--sizes", default="1000,10000,50000",
                        help="estate sizes (devices) for RSS and CPU; empty: skip")
    parser.add_argument("--size-messages", type=int, default=100_000)
    parser.add_argument("--gateways", default="1,2,4",
                        help="gateway process counts into InfluxDB, from the same backlog")
    parser.add_argument("--profile", type=Path,
                        help="py-spy raw profiles of the gateway here (drain and latency)")
    parser.add_argument("--no-latency", dest="latency", action="store_false",
                        help="skip leak → work order under load")
    parser.add_argument("--latency-seconds", type=float, default=40.0,
                        help="how long the 80 %% load runs")
    parser.add_argument("--probes", type=int, default=100, help="leaks sent during it")
    parser.add_argument("--load-share", type=float, default=0.8,
                        help="the load, as a share of the live rate one gateway sustains "
                        "(measured first, for half of --latency-seconds)")
    parser.add_argument("--leaky-load", action="store_true",
                        help="every 997th reading of the live load is a leak too (a work "
                        "order and a clear every ~500 messages); default: only the probes leak")
    args = parser.parse_args(argv)
    return Options(args.messages, args.devices,
                   [int(size) for size in args.sizes.split(",") if size.strip()],
                   args.size_messages,
                   [int(count) for count in args.gateways.split(",") if count.strip()],
                   args.profile, args.latency,
                   args.latency_seconds, args.probes, args.load_share, args.leaky_load)


@dataclass
class Report:
    throughput: list[Result]
    latency: Latency | None
    by_size: list[tuple[int, Result]]


def run(options: Options) -> Report:
    with tempfile.TemporaryDirectory(prefix="estateops-bench-") as tmp, \
            servers(Path(tmp)) as running_servers:
        results = throughput(running_servers, options, Path(tmp))
        print_throughput(results, options)
        latency = None
        if options.latency:
            live, found = sustained_rate(running_servers, options, Path(tmp), results[2].rate)
            latency = leak_latency(running_servers, options, Path(tmp), live, found)
            print_latency(latency)
        by_size = sizes(running_servers, options, Path(tmp))
        if by_size:
            print_sizes(by_size)
        return Report(results, latency, by_size)


def print_latency(latency: Latency) -> None:
    print(f"\nleak → work order, {latency.probes} probes while one gateway takes "
          f"{latency.load_rate:,.0f} msg/s ({latency.load_share:.0%} of the "
          f"{latency.sustained_rate:,.0f} msg/s it "
          f"{'kept up with' if latency.sustained_found else 'did NOT keep up with'} live; "
          "the publishers achieved "
          f"{latency.achieved_rate:,.0f}): made "
          f"{len(latency.latencies_ms)} of {latency.probes}, "
          f"p50 {latency.percentile(0.5):,.0f} ms, p99 {latency.percentile(0.99):,.0f} ms, "
          f"max {max(latency.latencies_ms, default=0):,.0f} ms; gateway CPU "
          f"{latency.cpu_us_per_msg:.0f} µs a message", flush=True)


def main(argv: Sequence[str] | None = None) -> None:
    run(parse_options(argv))


if __name__ == "__main__":
    main()
