"""PointWriter with the on-disk spool, on a real InfluxDB 1.6 that is down, then back.

Store down: batches go to the spool and are acknowledged; back: the spool is replayed while
new points keep arriving, and every point is stored once. A full spool acknowledges
nothing more and drops nothing: the writer holds what it has until the store returns.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from pathlib import Path

from connectors.store.influx_v1 import InfluxV1Store
from core.telemetry import Point
from gateway.spool import Spool
from gateway.writer import PointWriter
from tests.fixtures.influx import HttpServer, influx_rows, unique_name
from tests.fixtures.processes import free_port
from tests.gateway.test_resilience import influxd_on
from tests.utils.gateway import eventually
from tests.utils.waiting import metric_value, wait_until

T0_NS = 1_795_305_600 * 1_000_000_000
KB = 1024


def readings(start: int, count: int) -> list[Point]:
    return [Point("leak_sensor", {"estate": "e1", "device": f"leak-{n % 20}"},
                  {"leak": False, "seq": n}, T0_NS + n * 1000) for n in range(start, start + count)]


async def refuse(points: Sequence[Point], reason: str) -> None:
    raise AssertionError(f"{len(points)} points refused: {reason}")


class Acks:
    def __init__(self) -> None:
        self.count = 0

    def one(self) -> None:
        self.count += 1


async def put_acked(writer: PointWriter, points: list[Point], acks: Acks, per: int = 10) -> None:
    """Put `points` as messages of `per` points, each acknowledged once done."""
    for start in range(0, len(points), per):
        await writer.put(points[start:start + per])
        writer.when_written(acks.one)


@asynccontextmanager
async def running(writer: PointWriter) -> AsyncIterator[None]:
    task = asyncio.create_task(writer.run())
    try:
        yield
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)


async def stored(server: HttpServer, database: str) -> int:
    try:
        rows = await influx_rows(server.url, database, "SELECT count(seq) FROM leak_sensor")
    except AssertionError:  # no database before the first write
        return 0
    return int(rows[0]["count"]) if rows else 0


async def test_a_down_store_is_spooled_acknowledged_and_replayed_while_new_points_flow(
        tmp_path: Path) -> None:
    port, root = free_port(), tmp_path / "influxd"
    root.mkdir()
    database = unique_name("spool")
    store = InfluxV1Store(f"http://127.0.0.1:{port}", database, timeout_s=2)
    spool = Spool(tmp_path / "spool.sqlite3", max_bytes=64 * KB * KB)
    writer = PointWriter(store, batch_size=200, flush_interval_s=0.05, queue_size=500,
                         on_rejected=refuse, spool=spool)
    acks = Acks()
    async with running(writer):
        # Ten times the queue, with the store down: only the spool can acknowledge it all.
        await put_acked(writer, readings(0, 5000), acks)
        assert await wait_until(lambda: acks.count == 500, within=30), acks.count
        assert spool.points == 5000
        assert metric_value("estateops_spool_points") == 5000
        with influxd_on(port, root) as server:
            await put_acked(writer, readings(5000, 2000), acks)  # while the replay runs
            count = await eventually(lambda: stored(server, database),
                                     lambda count: count >= 7000, within=60)
            assert await wait_until(lambda: spool.points == 0, within=30)
    await store.aclose()
    assert count == 7000
    assert acks.count == 700


async def test_a_full_spool_acknowledges_no_more_and_drops_nothing(tmp_path: Path) -> None:
    port, root = free_port(), tmp_path / "influxd"
    root.mkdir()
    database = unique_name("spool_full")
    store = InfluxV1Store(f"http://127.0.0.1:{port}", database, timeout_s=2)
    spool = Spool(tmp_path / "spool.sqlite3", max_bytes=48 * KB)
    writer = PointWriter(store, batch_size=200, flush_interval_s=0.05, queue_size=500,
                         on_rejected=refuse, spool=spool)
    acks = Acks()
    total = 20_000
    async with running(writer):
        intake = asyncio.create_task(put_acked(writer, readings(0, total), acks))
        assert await wait_until(lambda: metric_value("estateops_spool_full") == 1, within=30)
        await asyncio.sleep(1.0)
        held_acks, spooled = acks.count, spool.points
        await asyncio.sleep(1.0)
        assert acks.count == held_acks  # no acknowledgement past what the spool holds
        assert acks.count * 10 <= spooled
        assert writer.pending == 500  # the queue is full: put waits, intake pauses
        assert not intake.done()
        with influxd_on(port, root) as server:
            await intake
            count = await eventually(lambda: stored(server, database),
                                     lambda count: count >= total, within=60)
            assert await wait_until(lambda: acks.count == total // 10, within=30)
            assert await wait_until(lambda: spool.points == 0, within=30)
    await store.aclose()
    print(f"\nspool full at {spooled} points ({held_acks} messages acknowledged); "
          f"stored {count} of {total}")
    assert count == total
    assert metric_value("estateops_spool_full") == 0
