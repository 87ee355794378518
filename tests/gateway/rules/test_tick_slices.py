"""50 000 deadlines falling due at once (an estate-wide power cut) are judged in slices,
with the event loop free between them: message intake is not stalled for the whole lot."""

from __future__ import annotations

import asyncio
import itertools
import time
from dataclasses import replace

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from core.vocabulary import Anomaly
from device_profiles import load_profiles
from gateway.rules import RuleEngine, RuleStage, compile_profiles
from gateway.rules.outbox import AnomalyOutbox
from tests.gateway.rules.support import T0, device, manual_clock, set_clock

DEVICES = 50_000
SLICE = 100


class SliceRecordingEngine(RuleEngine):
    """The real engine, recording how many anomalies each call of `due` judged, and how
    often a probe task ran in between."""

    def __init__(self) -> None:
        super().__init__(compile_profiles(load_profiles()))
        self.slices: list[int] = []
        self.probe_runs_at_slice: list[int] = []
        self.probe_runs = 0

    def due(self, now_ns: int, limit: int | None = None) -> list[Anomaly]:
        judged = super().due(now_ns, limit)
        self.slices.append(len(judged))
        self.probe_runs_at_slice.append(self.probe_runs)
        return judged


async def test_a_power_cut_is_judged_in_slices_with_the_loop_free_between() -> None:
    sessions: async_sessionmaker[AsyncSession] = async_sessionmaker()  # a tick saves nothing
    engine = SliceRecordingEngine()
    lights = [replace(device("voice_light", pk=pk), watched_since=T0)
              for pk in range(1, DEVICES + 1)]
    engine.watch(lights)  # never heard from: each missed after 3 × 60 s
    clock = manual_clock()
    stage = RuleStage(engine, AnomalyOutbox(None, sessions), sessions, clock=clock,
                      flush_interval_s=0.5, refresh_s=30, tick_slice=SLICE)
    set_clock(clock, 181)
    lags: list[float] = []

    async def probe() -> None:
        while True:
            before = time.perf_counter()
            await asyncio.sleep(0)
            lags.append(time.perf_counter() - before)
            engine.probe_runs += 1

    prober = asyncio.create_task(probe())
    await asyncio.sleep(0)
    started = time.perf_counter()
    await stage.tick()
    took = time.perf_counter() - started
    prober.cancel()
    assert sum(engine.slices) == DEVICES  # every light missed
    assert max(engine.slices) <= SLICE
    assert len(engine.slices) >= DEVICES // SLICE
    runs = engine.probe_runs_at_slice
    assert all(later > earlier for earlier, later in itertools.pairwise(runs))
    assert engine.pending_deadlines == 0
    lags.sort()
    print(f"\n{DEVICES} deadlines in {len(engine.slices)} slices of {SLICE}: tick {took:.2f} s,"
          f" loop stalls median {lags[len(lags) // 2] * 1000:.1f} ms, p99 "
          f"{lags[len(lags) * 99 // 100] * 1000:.1f} ms, max {lags[-1] * 1000:.1f} ms")
