"""The on-disk spool on a real SQLite file: order, bound, reopen, a killed writer process and
a write that the operating system refuses (file size limit, as on a full disk)."""

from __future__ import annotations

import math
import subprocess
import sys
import time
from pathlib import Path

import pytest

from core.telemetry import Point
from gateway.spool import Spool, SpoolError, SpoolFull, Synchronous

T0_NS = 1_795_305_600 * 1_000_000_000
MB = 1024 * 1024


def batch(number: int, size: int = 100) -> list[Point]:
    return [Point("leak_sensor", {"estate": "e1", "device": f"leak-{n % 50}"},
                  {"leak": n % 7 == 0, "battery": 90 - n % 3, "temperature": 20.5 + n / 10,
                   "firmware": "1.2.3", "seq": number * size + n},
                  T0_NS + number * size + n) for n in range(size)]


async def drained(spool: Spool) -> list[list[Point]]:
    batches = []
    while (oldest := await spool.oldest()) is not None:
        batches.append(oldest.points)
        await spool.remove(oldest.last_id)
    return batches


async def test_batches_come_back_oldest_first_as_the_same_points(tmp_path: Path) -> None:
    spool = Spool(tmp_path / "spool.sqlite3", max_bytes=64 * MB)
    await spool.open()
    for number in range(5):
        await spool.append(batch(number))
    assert spool.points == 500
    assert await drained(spool) == [batch(number) for number in range(5)]
    assert spool.points == 0
    await spool.close()


async def test_small_batches_are_read_back_together_up_to_a_store_write(
        tmp_path: Path) -> None:
    spool = Spool(tmp_path / "spool.sqlite3", max_bytes=64 * MB)
    await spool.open()
    for number in range(5):
        await spool.append(batch(number, size=40))
    first = await spool.oldest(max_points=100)  # 40 + 40 fit, a third would not
    assert first is not None
    assert first.points == batch(0, size=40) + batch(1, size=40)
    await spool.remove(first.last_id)
    assert spool.points == 120
    rest = await spool.oldest(max_points=1000)
    assert rest is not None
    assert rest.points == batch(2, size=40) + batch(3, size=40) + batch(4, size=40)
    big = await spool.oldest(max_points=10)  # a batch larger than the limit comes alone
    assert big is not None
    assert big.points == batch(2, size=40)
    await spool.close()


async def test_field_types_and_non_finite_floats_read_back_unchanged(tmp_path: Path) -> None:
    odd = [Point("meter", {"estate": "e1", "device": "m,1 x"},
                 {"flag": True, "count": 3, "ratio": 3.0, "big": 2**62, "note": 'a "q"\n',
                  "inf": math.inf}, T0_NS)]
    spool = Spool(tmp_path / "spool.sqlite3", max_bytes=MB)
    await spool.open()
    await spool.append(odd)
    [back] = await drained(spool)
    assert back == odd
    assert [type(value) for value in back[0].fields.values()] == [bool, int, float, int, str,
                                                                  float]
    await spool.close()


async def test_an_append_past_the_bound_is_refused_and_space_comes_back(
        tmp_path: Path) -> None:
    spool = Spool(tmp_path / "spool.sqlite3", max_bytes=MB)
    await spool.open()
    appended = 0
    try:
        while True:
            await spool.append(batch(appended, size=1000))
            appended += 1
    except SpoolFull:
        pass
    assert appended > 10
    assert spool.bytes <= MB
    assert spool.points == appended * 1000
    oldest = await spool.oldest()
    assert oldest is not None
    await spool.remove(oldest.last_id)
    await spool.append(batch(appended, size=1000))  # freed pages are used again
    await spool.close()
    file_bytes = (tmp_path / "spool.sqlite3").stat().st_size
    print(f"\n{appended} batches of 1000 points in a 1 MB spool: "
          f"{MB / (appended * 1000):.1f} bytes per point; file {file_bytes} bytes")
    assert file_bytes <= MB + 2 * 4096 * 10


async def test_a_reopened_spool_has_every_batch_not_removed(tmp_path: Path) -> None:
    path = tmp_path / "spool.sqlite3"
    spool = Spool(path, max_bytes=64 * MB, synchronous=Synchronous.NORMAL)
    await spool.open()
    for number in range(4):
        await spool.append(batch(number))
    oldest = await spool.oldest()
    assert oldest is not None
    await spool.remove(oldest.last_id)
    await spool.close()
    again = Spool(path, max_bytes=64 * MB)
    await again.open()
    assert again.points == 300
    assert await drained(again) == [batch(number) for number in (1, 2, 3)]
    await again.close()


APPENDER = """
import asyncio, resource, signal, sys
from pathlib import Path
from gateway.spool import Spool, SpoolError
from tests.gateway.test_spool import batch

async def main(path, limit):
    if limit:
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # a write past it fails (EFBIG)
        resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))
    spool = Spool(Path(path), max_bytes=1 << 30)
    await spool.open()
    number = 0
    while True:
        try:
            await spool.append(batch(number))
        except SpoolError as exc:
            print("refused", type(exc).__name__, exc, flush=True)
            await asyncio.sleep(60)
        print("appended", number, flush=True)
        number += 1

asyncio.run(main(sys.argv[1], int(sys.argv[2])))
"""


def appender(path: Path, file_size_limit: int = 0) -> subprocess.Popen[str]:
    return subprocess.Popen([sys.executable, "-c", APPENDER, str(path), str(file_size_limit)],
                            stdout=subprocess.PIPE, text=True, cwd=Path(__file__).parents[2])


def read_until(process: subprocess.Popen[str], wanted: str) -> list[str]:
    assert process.stdout is not None
    lines = []
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        line = process.stdout.readline()
        assert line, f"the appender exited: {lines[-3:]}"
        lines.append(line.strip())
        if line.startswith(wanted):
            return lines
    raise AssertionError(f"no {wanted!r} within 30 s: {lines[-3:]}")


async def test_every_append_a_killed_process_reported_done_is_still_there(
        tmp_path: Path) -> None:
    path = tmp_path / "spool.sqlite3"
    process = appender(path)
    try:
        read_until(process, "appended 200")
        process.kill()  # SIGKILL mid-stream: between, or inside, appends
        assert process.stdout is not None
        reported = 201 + sum(1 for line in process.stdout if line.startswith("appended"))
    finally:
        process.kill()
        process.wait()
    spool = Spool(path, max_bytes=1 << 30)
    await spool.open()
    back = await drained(spool)
    await spool.close()
    assert len(back) >= reported  # one more may have been in flight when killed
    assert back == [batch(number) for number in range(len(back))]


async def test_a_write_refused_by_the_os_is_a_clear_error_and_loses_nothing(
        tmp_path: Path) -> None:
    path = tmp_path / "spool.sqlite3"
    process = appender(path, file_size_limit=256 * 1024)
    try:
        lines = read_until(process, "refused")
    finally:
        process.kill()
        process.wait()
    appended = sum(1 for line in lines if line.startswith("appended"))
    assert appended > 5
    # EFBIG is SQLite's I/O error (ENOSPC would be SQLITE_FULL: SpoolFull): both SpoolError.
    assert lines[-1].startswith("refused Spool"), lines[-1]
    spool = Spool(path, max_bytes=1 << 30)
    await spool.open()
    assert await drained(spool) == [batch(number) for number in range(appended)]
    await spool.close()


async def test_a_spool_that_is_not_open_refuses_clearly(tmp_path: Path) -> None:
    spool = Spool(tmp_path / "spool.sqlite3", max_bytes=MB)
    with pytest.raises(SpoolError, match="not open"):
        await spool.append(batch(0))
