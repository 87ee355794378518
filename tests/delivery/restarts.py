"""Crash and restart the real servers of a delivery test: Mosquitto with deploy/'s persistence,
InfluxDB, and one or more (partitioned) `estateops gateway` processes; a device stream that
lives through a broker restart; stored points counted per device."""

from __future__ import annotations

import asyncio
import contextlib
import re
import signal
import subprocess
import uuid
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TypeVar

import aiomqtt
import httpx

from gateway.partition import Partition
from tests.fixtures.influx import HttpServer, answers, influx_query, influxd_config
from tests.fixtures.mosquitto import Broker, mosquitto_config
from tests.fixtures.processes import free_port, port_open, require_binary, stop, wait_until
from tests.utils.gateway import eventually
from tests.utils.gateway_process import (
    LeakStream,
    gateway_env,
    gateway_process,
    stored_points,
    subscribed,
    tail,
    terminated_within,
)
from tests.utils.waiting import wait_until as wait_for

INFLIGHT = 1_000  # unacknowledged per client: below the streams, so it shows (deploy: 20 000)
PUBLISH_TIMEOUT_S = 2.0  # a device gives up on a PUBACK after this, reconnects, sends again
RECONNECT_S = 0.2
NS_PER_MS = 1_000_000


def persistent_mosquitto_config(port: int, data_dir: Path) -> str:
    """deploy/'s delivery settings: persistence, an unbounded queue, an in-flight limit."""
    return mosquitto_config(port, data_dir, persistence=True, max_inflight=INFLIGHT)


class RestartableServer:
    """A server subprocess a test kills with SIGKILL and starts again on the same port and
    data, as a crash and a supervisor's restart do."""

    def __init__(self, args: Sequence[str], *, port: int, log: Path, what: str,
                 ready: Callable[[], bool] | None = None) -> None:
        self.args, self.port, self.log, self.what = list(args), port, log, what
        self._ready = ready or (lambda: port_open(port))
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        with self.log.open("ab") as out:
            self.process = subprocess.Popen(self.args, stdout=out, stderr=subprocess.STDOUT,
                                            start_new_session=True)
        wait_until(self._ready, timeout=30, what=self.what, process=self.process, log=self.log)

    def kill(self) -> None:
        assert self.process is not None
        self.process.kill()
        self.process.wait(timeout=10)

    def terminate(self) -> None:
        """SIGTERM, as `docker compose restart` does: Mosquitto saves its state and exits."""
        assert self.process is not None
        stop(self.process)

    def signal(self, number: int) -> None:
        assert self.process is not None
        self.process.send_signal(number)

    def close(self) -> None:
        if self.process is not None:
            stop(self.process)


class MosquittoServer(RestartableServer):
    """Mosquitto on deploy/'s persistence and queue settings, its data in `data`."""

    def __init__(self, tmp_path: Path) -> None:
        binary = require_binary("mosquitto", "mosquitto", search=["/usr/sbin/mosquitto"])
        port, self.data = free_port(), tmp_path / "mosquitto"
        self.data.mkdir()
        config = self.data / "mosquitto.conf"
        config.write_text(persistent_mosquitto_config(port, self.data))
        log = self.data / "mosquitto.log"
        super().__init__([binary, "-c", str(config)], port=port, log=log, what="mosquitto")
        self.broker = Broker("127.0.0.1", port, log)

    async def saved_sessions(self) -> None:
        """Make Mosquitto write its persistence file now (SIGUSR1), as its `autosave_interval`
        (deploy: 60 s) does in a broker that has run a while: a kill -9 restores the sessions
        and subscriptions saved last, with their queues, and loses what came after."""
        database = self.data / "mosquitto.db"
        before = database.stat().st_mtime_ns if database.exists() else 0
        self.signal(signal.SIGUSR1)
        assert await wait_for(lambda: database.exists() and database.stat().st_mtime_ns > before,
                              within=10), "mosquitto did not save its sessions"


class InfluxServer(RestartableServer):
    """InfluxDB 1.6 with its data in tmp_path/influxd: `influx` is where it answers."""

    def __init__(self, tmp_path: Path) -> None:
        binary = require_binary("influxd", "influxdb", search=["/usr/bin/influxd"])
        port, root = free_port(), tmp_path / "influxd"
        root.mkdir()
        config = root / "influxd.conf"
        config.write_text(influxd_config(port, free_port(), root))
        self.influx = HttpServer("127.0.0.1", port, root / "influxd.log")
        super().__init__([binary, "run", "-config", str(config)], port=port,
                         log=self.influx.process_log, what="influxd",
                         ready=lambda: answers(f"{self.influx.url}/ping", 204))


S = TypeVar("S", bound=RestartableServer)


@contextlib.contextmanager
def running_until_closed(server: S, *, started: bool = True) -> Iterator[S]:
    """`server` (started, unless `started` is False) until the block ends."""
    if started:
        server.start()
    try:
        yield server
    finally:
        server.close()


@dataclass
class ReconnectingLeakStream(LeakStream):
    """A LeakStream whose publishers outlive a broker restart, as devices do: a message not
    acknowledged is sent again after reconnecting (at least once; its `ts` + `seq` key makes
    a second copy land on the first)."""

    resent: int = 0

    async def _publish(self, limit: int | None) -> None:
        unacknowledged: int | None = None
        while unacknowledged is not None or self.more(limit):
            try:
                async with aiomqtt.Client(self.broker.host, self.broker.port) as client:
                    while unacknowledged is not None or self.more(limit):
                        if unacknowledged is None:
                            unacknowledged, self.sent = self.sent, self.sent + 1
                        await client.publish(*self.message(unacknowledged), qos=1,
                                             timeout=PUBLISH_TIMEOUT_S)
                        unacknowledged = None
                        await self.pace()
            except aiomqtt.MqttError:
                self.resent += unacknowledged is not None
                await asyncio.sleep(RECONNECT_S)


async def missing_messages(influx: HttpServer, database: str,
                           stream: LeakStream) -> list[int]:
    """The stream's indexes of the messages not stored (a point's ts is base + seq ms)."""
    series = await influx_query(influx.url, database,
                                "SELECT leak FROM leak_sensor GROUP BY device")
    stored = {(int(one["tags"]["device"].removeprefix("leak-")),
               time_ns // NS_PER_MS - stream.base_ms)
              for one in series for time_ns, _ in one["values"]}
    return [index for index in range(stream.sent)
            if (index % stream.devices, index // stream.devices) not in stored]


@dataclass(frozen=True)
class BrokerKillLoss:
    """Missing messages around a kill -9 of Mosquitto at the stream's `killed_at`-th message.

    Mosquitto acknowledges a QoS 1 message to the device once it is in its memory, and saves
    that memory every `autosave_interval`: what it had acknowledged and not yet written to
    the gateway's socket when killed is gone, and no device sends it again. Everything sent
    from the kill on must arrive (the saved session restored, the devices sending again)."""

    killed_at: int
    missing: list[int]

    @property
    def at_kill(self) -> list[int]:
        return [index for index in self.missing if index < self.killed_at]

    @property
    def after(self) -> list[int]:
        return [index for index in self.missing if index >= self.killed_at]

    @property
    def window(self) -> int:
        """How many messages before the kill the oldest one lost was sent."""
        return self.killed_at - min(self.at_kill, default=self.killed_at)


async def stored_by_device(influx: HttpServer, database: str) -> dict[str, int]:
    series = await influx_query(influx.url, database,
                                "SELECT count(leak) FROM leak_sensor GROUP BY device")
    return {one["tags"]["device"]: int(one["values"][0][1]) for one in series}


async def caught_up(influx: HttpServer, database: str, stream: LeakStream,
                    within: float = 120.0) -> None:
    """Wait until every message sent so far is stored: the gateways have worked through
    the backlog a fault left (they are slower than the stream only on a loaded machine)."""
    sent = stream.sent
    stored = await eventually(lambda: stored_points(influx, database),
                              lambda count: count >= sent, within=within)
    assert stored >= sent, f"{sent - stored} of {sent} not stored after {within} s"


async def gateway_metric(port: int, name: str) -> int:
    """The sum of a gateway metric's samples, from its /metrics (0 when it has none)."""
    async with httpx.AsyncClient(timeout=5) as client:
        text = (await client.get(f"http://127.0.0.1:{port}/metrics")).text
    return sum(int(float(value)) for value in re.findall(
        rf"^{name}(?:\{{[^}}]*\}})? (\S+)$", text, flags=re.MULTILINE))


@dataclass
class Gateways:
    """`count` `estateops gateway` processes, partition i/count each (one: unpartitioned),
    on one client id base (each partition suffixes its index), each with its own log, data
    directory (its spool) and metrics port."""

    env: dict[str, str]
    tmp_path: Path
    count: int
    metrics_ports: list[int]
    _running: dict[int, subprocess.Popen[bytes]] = field(default_factory=dict)
    _stack: contextlib.ExitStack = field(default_factory=contextlib.ExitStack)

    @classmethod
    def of(cls, count: int, *, broker: Broker, influx: HttpServer, influx_db: str,
           database_url: str, estate_id: str, tmp_path: Path,
           settings: Mapping[str, str] | None = None) -> Gateways:
        """`count` gateways on these servers, taking in only `estate_id`'s topics;
        `settings` are more of the gateway's (ESTATEOPS_GATEWAY__<KEY>)."""
        env = gateway_env(mosquitto=broker, influx=influx, influx_db=influx_db,
                          database_url=database_url, data_dir=tmp_path, estate_id=estate_id,
                          client_id=f"gw-{uuid.uuid4().hex[:8]}")
        env.update({f"ESTATEOPS_GATEWAY__{key}": value for key, value in (settings or {}).items()})
        return cls(env, tmp_path, count, [free_port() for _ in range(count)])

    def partition(self, index: int) -> Partition:
        return Partition(index, self.count)

    def log(self, index: int = 0) -> Path:
        return self.tmp_path / f"gateway-{index}.log"

    def subscriptions(self, index: int) -> int:
        log = self.log(index)
        return log.read_text(errors="replace").count("subscribed to") if log.exists() else 0

    async def start(self, index: int = 0) -> subprocess.Popen[bytes]:
        """Gateway `index` started, once it has subscribed."""
        env = {**self.env, "ESTATEOPS_GATEWAY__PARTITION": str(self.partition(index)),
               "ESTATEOPS_DATA_DIR": str(self.tmp_path / f"gateway-{index}"),
               "ESTATEOPS_GATEWAY__METRICS_PORT": str(self.metrics_ports[index])}
        before = self.subscriptions(index)
        process = self._stack.enter_context(gateway_process(env, self.log(index)))
        self._running[index] = process
        await subscribed(process, self.log(index), before + 1)
        return process

    async def start_all(self) -> None:
        """All at once, as compose starts them (one by one doubles the outage on 2 cores)."""
        await asyncio.gather(*(self.start(index) for index in range(self.count)))

    def kill(self, index: int = 0) -> None:
        process = self._running.pop(index)
        process.kill()  # SIGKILL: no flush, no DISCONNECT
        process.wait(timeout=10)

    async def terminate(self, index: int, *, within: float) -> float | None:
        """SIGTERM to gateway `index`; how long it took to exit (None: still running)."""
        return await terminated_within(self._running.pop(index), within)

    async def metric(self, name: str, index: int = 0) -> int:
        return await gateway_metric(self.metrics_ports[index], name)

    async def resubscribed(self, counts: dict[int, int]) -> None:
        """Wait until each gateway subscribed again after `counts` (a broker restart)."""
        for index, process in self._running.items():
            await subscribed(process, self.log(index), counts[index] + 1)

    def alive(self) -> bool:
        return all(process.poll() is None for process in self._running.values())

    def tails(self) -> str:
        return "\n".join(tail(self.log(index)) for index in range(self.count))

    def close(self) -> None:
        self._stack.close()
