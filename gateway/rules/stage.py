"""The rules stage of the gateway: feeds the engine, ticks its deadlines, saves its state,
refreshes per-estate overrides and hands anomalies to the outbox.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Coroutine, Iterable
from datetime import UTC, datetime
from typing import Any, TypeVar

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from core.clock import NS_PER_S, Clock, SystemClock
from core.vocabulary import Anomaly, AnomalySink
from device_profiles import ProfileSet
from gateway.decode import StatusChange
from gateway.model import Reading
from gateway.partition import WHOLE, Partition
from gateway.rules import metrics
from gateway.rules.compile import compile_profiles
from gateway.rules.engine import LATENESS_INTERVALS, RuleEngine
from gateway.rules.outbox import AnomalyOutbox
from gateway.rules.overrides import load_overrides
from gateway.rules.persistence import load_rule_states, save_rule_states
from gateway.shielded import flush_every
from registry.queries import DeviceRef

log = logging.getLogger(__name__)

M = TypeVar("M", Reading, StatusChange)
TICK_S = 1.0


class RuleStage:
    def __init__(self, engine: RuleEngine, outbox: AnomalyOutbox,
                 sessions: async_sessionmaker[AsyncSession], *, clock: Clock,
                 flush_interval_s: float, refresh_s: float, tick_s: float = TICK_S,
                 partition: Partition = WHOLE) -> None:
        self.engine = engine
        self.partition = partition  # only its devices' state is loaded, watched and saved
        self.outbox = outbox
        self.clock = clock
        self._sessions = sessions
        self._flush_interval_s = flush_interval_s
        self._refresh_s = refresh_s
        self._tick_s = tick_s
        self._deadline_set = asyncio.Event()  # wakes a ticker that had nothing to wait for

    @classmethod
    def build(cls, profiles: ProfileSet, sessions: async_sessionmaker[AsyncSession], *,
              sink: AnomalySink | None, clock: Clock | None = None,
              flush_interval_s: float = 0.5, refresh_s: float = 30.0,
              tick_s: float = TICK_S,
              lateness_intervals: float = LATENESS_INTERVALS,
              partition: Partition = WHOLE) -> RuleStage:
        engine = RuleEngine(compile_profiles(profiles), lateness_intervals=lateness_intervals)
        return cls(engine, AnomalyOutbox(sink), sessions,
                   clock=clock or SystemClock(), flush_interval_s=flush_interval_s,
                   refresh_s=refresh_s, tick_s=tick_s, partition=partition)

    async def start(self) -> None:
        """Load overrides, then saved states (whose deadlines depend on them)."""
        await self.refresh_overrides()
        restored = await load_rule_states(self._sessions)
        restored = [saved for saved in restored
                    if self.partition.owns(saved[0].estate_id, saved[0].device_id)]
        for device, rule, state in restored:
            self.engine.restore(device, rule, state)
        log.info("rule engine restored %d states, %d waiting for a deadline",
                 len(restored), self.engine.pending_deadlines)

    def background(self) -> dict[str, Coroutine[Any, Any, None]]:
        """The stage's long-running loops, by task name, for the gateway's TaskGroup."""
        return {"rule-ticker": self.run_ticker(), "rule-state-flusher": self.run_flusher(),
                "anomaly-outbox": self.outbox.run(),
                "rule-overrides-refresh": self.run_override_refresh()}

    # --- inputs ------------------------------------------------------------------------

    async def on_reading(self, device: DeviceRef, reading: Reading) -> None:
        await self._emit(self._evaluate(self.engine.reading, device, reading))
        self._wake_ticker()

    async def on_status(self, device: DeviceRef, change: StatusChange) -> None:
        await self._emit(self._evaluate(self.engine.status, device, change))
        self._wake_ticker()

    def watch(self, devices: Iterable[DeviceRef]) -> None:
        """The registry as just read: devices never heard from are missed after their window
        (only this gateway's: another gateway's partition misses its own)."""
        self.engine.watch(self.partition.owned(devices))
        self._wake_ticker()

    def _wake_ticker(self) -> None:
        if not self._deadline_set.is_set() and self.engine.next_due_ns() is not None:
            self._deadline_set.set()

    async def tick(self) -> None:
        await self._emit(self.engine.due(self.clock.now_ns()))
        metrics.RULE_DEADLINES.set(self.engine.pending_deadlines)

    def _evaluate(self, method: Callable[[DeviceRef, M], list[Anomaly]], device: DeviceRef,
                  message: M) -> list[Anomaly]:
        try:
            return [*method(device, message), *self.engine.take_ongoing()]
        except Exception:  # a rule bug must not cost the message, which is already stored
            metrics.RULE_ERRORS.inc()
            log.exception("rule evaluation failed for %s/%s", device.estate_id,
                          device.device_id)
            return []

    async def _emit(self, anomalies: list[Anomaly]) -> None:
        if anomalies:
            await self.outbox.put(anomalies)

    # --- loops -------------------------------------------------------------------------

    async def run_ticker(self) -> None:
        """Wakes at the next deadline (no deadline: not at all until one is set)."""
        while True:
            if self.engine.next_due_ns() is None:
                self._deadline_set.clear()
                await self._deadline_set.wait()
            await asyncio.sleep(self._until_due_s())
            try:
                await self.tick()
            except Exception:  # keep ticking; the states are still there
                log.exception("rule tick failed")

    def _until_due_s(self) -> float:
        """Sleep to the next deadline, at most `tick_s` (a hand-moved clock may jump)."""
        due_ns = self.engine.next_due_ns()
        if due_ns is None:
            return 0.0
        return min(max((due_ns - self.clock.now_ns()) / NS_PER_S, 0.0), self._tick_s)

    async def run_flusher(self) -> None:
        await flush_every(self._flush_interval_s, self.flush, what="rule state")

    async def flush(self) -> None:
        """Save changed rule state."""
        changes = self.engine.take_changes()
        if not changes:
            return
        try:
            await save_rule_states(self._sessions, changes, datetime.now(UTC))
        except BaseException:
            self.engine.mark_changed(set(changes))
            raise

    async def refresh_overrides(self) -> None:
        async with self._sessions() as session:
            self.engine.set_overrides(await load_overrides(session))
        self._wake_ticker()

    async def run_override_refresh(self) -> None:
        while True:
            await asyncio.sleep(self._refresh_s)
            try:
                await self.refresh_overrides()
            except Exception as exc:  # noqa: BLE001 - keep the last good overrides
                log.warning("rule override refresh failed, keeping the last ones: %s", exc)
