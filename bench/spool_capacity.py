"""Bytes per point and append rate of the gateway's on-disk spool (gateway/spool.py).

Run: .venv/bin/python bench/spool_capacity.py [--points 500000] [--devices 10000]
         [--batch 5000] [--dir /path/on/the/spool's/disk]
Points as the gateway makes them, the devices round-robin (one batch holds thousands of
devices, the worst case for compression), for three shapes of reading. Prints, per shape and
fsync policy: bytes of spool per point, points/s appended, and what one hour at 20 000
points/s needs. With --replay, also how fast a spool drains into a real InfluxDB 1.6 (started
here) with nothing else writing: what bounds how long a backlog takes to clear.
"""

from __future__ import annotations

import argparse
import asyncio
import random
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from connectors.store import InfluxV1Store
from core.telemetry import FieldValue, Point
from gateway.spool import Spool, Synchronous
from tests.fixtures.influx import run_influxd, unique_name

T0_NS = 1_795_305_600_000_000_000
HOUR_AT_20K = 20_000 * 3600
Fields = Callable[[random.Random, int], dict[str, FieldValue]]


def leak_only(rng: random.Random, seq: int) -> dict[str, FieldValue]:
    """The fault tests' and the throughput bench's message: {"seq", "ts", "leak"}."""
    return {"leak": rng.random() < 0.001}


def leak_full(rng: random.Random, seq: int) -> dict[str, FieldValue]:
    return {"leak": rng.random() < 0.001, "battery": round(rng.uniform(20, 100), 1),
            "rssi": float(rng.randint(-95, -40)), "temperature_c": round(rng.gauss(21, 3), 1)}


def charger(rng: random.Random, seq: int) -> dict[str, FieldValue]:
    return {"status": rng.choice(["available", "charging", "finishing"]),
            "power_kw": round(rng.uniform(0, 7.4), 2), "energy_kwh": round(seq * 0.37, 2),
            "temperature_c": round(rng.gauss(30, 5), 1)}


SHAPES: dict[str, tuple[str, Fields]] = {
    "leak {leak}": ("leak_sensor", leak_only),
    "leak {leak, battery, rssi, temperature_c}": ("leak_sensor", leak_full),
    "charger {status, power_kw, energy_kwh, temperature_c}": ("ev_charger", charger),
}


def batches(measurement: str, fields: Fields, points: int, devices: int,
            batch: int) -> list[list[Point]]:
    rng = random.Random(7)
    made = [Point(measurement, {"estate": "longdi-garden", "device": f"dev-{n % devices:05d}"},
                  fields(rng, n // devices), T0_NS + n * 1_000_000) for n in range(points)]
    return [made[start:start + batch] for start in range(0, points, batch)]


async def measure(path: Path, work: list[list[Point]], synchronous: Synchronous) -> tuple[
        float, float]:
    spool = Spool(path, max_bytes=1 << 40, synchronous=synchronous)
    await spool.open()
    started = time.perf_counter()
    for one in work:
        await spool.append(one)
    seconds = time.perf_counter() - started
    points = spool.points
    bytes_per_point = spool.bytes / points
    await spool.close()
    return bytes_per_point, points / seconds


async def replay_rate(tmp: Path, work: list[list[Point]], batch: int) -> float:
    """Points/s from a full spool into InfluxDB, store-sized writes, removed once stored."""
    spool = Spool(tmp / "replay.sqlite3", max_bytes=1 << 40)
    await spool.open()
    for one in work:
        await spool.append(one)
    (tmp / "influxd").mkdir()
    with run_influxd(tmp / "influxd") as influx:
        store = InfluxV1Store(influx.url, unique_name("replay"))
        started = time.perf_counter()
        replayed = 0
        while (oldest := await spool.oldest(batch)) is not None:
            await store.write(oldest.points)
            await spool.remove(oldest.last_id)
            replayed += len(oldest.points)
        seconds = time.perf_counter() - started
        await store.aclose()
    await spool.close()
    return replayed / seconds


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--points", type=int, default=500_000)
    parser.add_argument("--devices", type=int, default=10_000)
    parser.add_argument("--batch", type=int, default=5_000)
    parser.add_argument("--dir", type=Path, default=None)
    parser.add_argument("--replay", action="store_true", help="also replay into InfluxDB")
    args = parser.parse_args()
    print(f"{args.points} points, {args.devices} devices round-robin, batches of {args.batch}")
    print("| reading | fsync | bytes/point | points/s appended | 1 h at 20 000/s |")
    print("|---|---|---|---|---|")
    with tempfile.TemporaryDirectory(dir=args.dir) as tmp:
        for name, (measurement, fields) in SHAPES.items():
            work = batches(measurement, fields, args.points, args.devices, args.batch)
            for synchronous in Synchronous:
                path = Path(tmp) / f"spool-{len(name)}-{synchronous}.sqlite3"
                per_point, rate = await measure(path, work, synchronous)
                print(f"| {name} | {synchronous} | {per_point:.1f} | {rate:,.0f} | "
                      f"{per_point * HOUR_AT_20K / 1e9:.2f} GB |")
        if args.replay:
            measurement, fields = SHAPES["leak {leak, battery, rssi, temperature_c}"]
            work = batches(measurement, fields, args.points, args.devices, args.batch)
            rate = await replay_rate(Path(tmp), work, args.batch)
            print(f"replay into InfluxDB 1.6 (4-field leak readings): {rate:,.0f} points/s")


if __name__ == "__main__":
    asyncio.run(main())
