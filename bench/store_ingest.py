"""Ingest rate of the three telemetry stores from one writer, batch by batch.

Run: .venv/bin/python bench/store_ingest.py [--points 200000] [--batch 5000]
         [--influx-url http://127.0.0.1:8086] [--vm-url http://127.0.0.1:8428]
Without URLs it starts influxd and victoria-metrics itself in a temporary directory.
"""

from __future__ import annotations

import argparse
import asyncio
import sqlite3
import tempfile
import time
from collections.abc import Awaitable, Callable
from contextlib import ExitStack, closing
from dataclasses import dataclass
from pathlib import Path

from connectors.store import EmbeddedStore, InfluxV1Store, InfluxV2Store, TelemetryStore
from core.telemetry import Point
from tests.fixtures.influx import (
    influx_rows,
    run_influxd,
    run_victoria_metrics,
    sample_count,
    unique_name,
    vm_wait_for_samples,
)

T0_NS = 1_795_305_600_000_000_000
BASELINE = "InfluxDB 1.x v1 /write"


@dataclass(frozen=True)
class Result:
    store: str
    points: int
    seconds: float
    stored: int

    @property
    def rate(self) -> float:
        return self.points / self.seconds


def make_points(measurement: str, count: int) -> list[Point]:
    """EV charger telemetry from 500 devices, one millisecond apart."""
    return [
        Point(measurement, {"estate": "bench", "device": f"charger-{index % 500:03d}"},
              {"power_kw": 1.8 + index % 7 / 10, "energy_kwh": index / 1000,
               "temperature_c": 30 + index % 20 / 2, "connector": index % 2},
              T0_NS + index * 1_000_000)
        for index in range(count)
    ]


async def timed_ingest(store: TelemetryStore, points: list[Point], batch: int) -> float:
    started = time.perf_counter()
    for start in range(0, len(points), batch):
        await store.write(points[start:start + batch])
    return time.perf_counter() - started


async def measure(name: str, store: TelemetryStore, points: list[Point], batch: int,
                  count_stored: Callable[[], Awaitable[int]]) -> Result:
    try:
        seconds = await timed_ingest(store, points, batch)
    finally:
        await store.aclose()
    return Result(name, len(points), seconds, await count_stored())


async def bench_influx_v1(url: str, points: list[Point], batch: int) -> Result:
    database = unique_name("bench")
    measurement = points[0].measurement

    async def count() -> int:
        rows = await influx_rows(url, database, f'SELECT count("power_kw") FROM "{measurement}"')
        return int(rows[0]["count"]) if rows else 0

    return await measure(BASELINE, InfluxV1Store(url, database), points, batch, count)


async def bench_victoria_v2(url: str, points: list[Point], batch: int) -> Result:
    match = f'{{__name__="{points[0].measurement}_power_kw"}}'

    async def count() -> int:
        return sample_count(await vm_wait_for_samples(url, match, expected=len(points)))

    store = InfluxV2Store(url, "bench", "bench", "unused-token")
    return await measure("VictoriaMetrics v2 write API", store, points, batch, count)


async def bench_embedded(path: Path, points: list[Point], batch: int) -> Result:
    def rows() -> int:
        with closing(sqlite3.connect(path)) as db:
            found: int = db.execute(
                "SELECT COUNT(*) FROM samples WHERE field = 'power_kw'").fetchone()[0]
            return found

    async def count() -> int:
        return await asyncio.to_thread(rows)

    return await measure("Embedded SQLite", EmbeddedStore(path), points, batch, count)


def print_table(results: list[Result], batch: int) -> None:
    baseline = next(result.rate for result in results if result.store == BASELINE)
    print(f"\nStore ingest, one writer, batches of {batch:,} points "
          f"(ratio = points/s divided by {BASELINE}):\n")
    print(f"| {'store':<30} | {'points':>9} | {'seconds':>7} | {'points/s':>10} "
          f"| {'vs influxd v1':>13} | {'stored':>9} |")
    print(f"|{'-' * 32}|{'-' * 11}|{'-' * 9}|{'-' * 12}|{'-' * 15}|{'-' * 11}|")
    for result in results:
        print(f"| {result.store:<30} | {result.points:>9,} | {result.seconds:>7.2f} "
              f"| {result.rate:>10,.0f} | {result.rate / baseline:>12.2f}x "
              f"| {result.stored:>9,} |")


async def run(args: argparse.Namespace, influx_url: str, vm_url: str, tmp: Path) -> None:
    points = make_points(unique_name("ev_charger"), args.points)
    results = [
        await bench_influx_v1(influx_url, points, args.batch),
        await bench_victoria_v2(vm_url, points, args.batch),
        await bench_embedded(tmp / "telemetry.sqlite3", points, args.batch),
    ]
    print_table(results, args.batch)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--points", type=int, default=200_000)
    parser.add_argument("--batch", type=int, default=5_000)
    parser.add_argument("--influx-url", help="a running InfluxDB 1.x; default: start influxd")
    parser.add_argument("--vm-url", help="a running VictoriaMetrics; default: start one")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="store-bench-") as tmp_dir, ExitStack() as servers:
        tmp = Path(tmp_dir)
        influx_url = args.influx_url or servers.enter_context(
            run_influxd(_made(tmp / "influxd"))).url
        vm_url = args.vm_url or servers.enter_context(
            run_victoria_metrics(_made(tmp / "victoria-metrics"))).url
        asyncio.run(run(args, influx_url, vm_url, tmp))


def _made(directory: Path) -> Path:
    directory.mkdir(parents=True)
    return directory


if __name__ == "__main__":
    main()
