"""The rules stage of the gateway: feeds the engine, ticks its deadlines, saves its effects
and refreshes per-estate overrides.

Effects are durable before acknowledgement. What a message changed (rule state, the
anomalies it raised or cleared, its seq in the de-duplication) is saved in one transaction
by the next flush (gateway/rules/persistence.py); a message is acknowledged only once the
flush that holds its effects has committed (`when_saved`). Flushes are numbered
(generations): a message handled while generation g is being filled waits for a commit of
g or later. A flush also waits until the points of the messages it covers are in the store,
so the saved de-duplication never says "seen" of a message the store does not have.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import math
from collections.abc import Callable, Coroutine, Iterable, Iterator
from datetime import UTC, datetime
from typing import Any, TypeVar

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from core.clock import NS_PER_S, Clock, SystemClock
from core.vocabulary import Anomaly, AnomalyKind, AnomalySink
from device_profiles import ProfileSet
from gateway.acks import Ack, AcksInOrder, flush_due
from gateway.decode import StatusChange
from gateway.dedupe import Deduplicator
from gateway.model import Reading
from gateway.partition import WHOLE, Partition
from gateway.rules import metrics
from gateway.rules.compile import compile_profiles
from gateway.rules.engine import LATENESS_INTERVALS, RuleEngine
from gateway.rules.outbox import AnomalyOutbox, anomaly_from_json, anomaly_to_json, count
from gateway.rules.overrides import load_overrides
from gateway.rules.persistence import (
    Effects,
    load_recent_messages,
    load_rule_states,
    load_seq_windows,
    save_effects,
)
from gateway.shielded import Shielded
from registry.queries import DeviceRef

log = logging.getLogger(__name__)

M = TypeVar("M", Reading, StatusChange)
# Calls its argument once every point put so far is in the store, without waiting for the
# writer's batch timer (PointWriter.when_written_now).
WhenStored = Callable[[Ack], None]
TICK_S = 1.0
TICK_SLICE = 100  # deadlines judged between two yields to the event loop (~3 ms here)
ACK_FLUSH_DELAY_S = 0.01  # with acknowledgements waiting, flush this soon (group commit)
STORE_WAIT_S = 2.0  # a flush waits this long for the store, then tries again later
FLUSH_RETRY_DELAY_S = 2.0


class RuleStage:
    def __init__(self, engine: RuleEngine, outbox: AnomalyOutbox,
                 sessions: async_sessionmaker[AsyncSession], *, clock: Clock,
                 flush_interval_s: float, refresh_s: float, tick_s: float = TICK_S,
                 partition: Partition = WHOLE,
                 dedupe: Deduplicator | None = None, when_stored: WhenStored | None = None,
                 tick_slice: int = TICK_SLICE) -> None:
        self.engine = engine
        self.partition = partition  # only its devices' state is loaded, watched and saved
        self.outbox = outbox
        self.clock = clock
        self.dedupe = dedupe or Deduplicator()
        self._sessions = sessions
        self._when_stored = when_stored
        self._flush_interval_s = flush_interval_s
        self._refresh_s = refresh_s
        self._tick_s = tick_s
        self._tick_slice = tick_slice
        self._deadline_set = asyncio.Event()  # wakes a ticker that had nothing to wait for
        self._unsaved: list[Anomaly] = []  # raised or cleared since the last flush, in order
        self._ongoing: dict[tuple[int, str], Anomaly] = {}  # the newest, since then
        self._generation = 1  # the flush now being filled
        self._acks = AcksInOrder()  # its count: the newest flush committed
        self._flush_wanted = asyncio.Event()  # an ack or a raise/clear waits for a flush
        self._flushing = asyncio.Lock()
        self._putting = 0  # messages whose effects are recorded but points not yet queued
        self._points_queued = asyncio.Event()
        self._points_queued.set()

    @classmethod
    def build(cls, profiles: ProfileSet, sessions: async_sessionmaker[AsyncSession], *,
              sink: AnomalySink | None, clock: Clock | None = None,
              flush_interval_s: float = 0.5, refresh_s: float = 30.0,
              tick_s: float = TICK_S, lateness_intervals: float = LATENESS_INTERVALS,
              partition: Partition = WHOLE,
              dedupe: Deduplicator | None = None, when_stored: WhenStored | None = None,
              owner: str = "") -> RuleStage:
        """`owner`: who this gateway is across restarts (its MQTT client id)."""
        engine = RuleEngine(compile_profiles(profiles), lateness_intervals=lateness_intervals)
        return cls(engine, AnomalyOutbox(sink, sessions, owner=owner), sessions,
                   clock=clock or SystemClock(), flush_interval_s=flush_interval_s,
                   refresh_s=refresh_s, tick_s=tick_s, partition=partition, dedupe=dedupe,
                   when_stored=when_stored)

    async def start(self) -> None:
        """Load overrides, then saved states (whose deadlines depend on them), then the
        de-duplication."""
        await self.refresh_overrides()
        restored = await load_rule_states(self._sessions)
        restored = [saved for saved in restored
                    if self.partition.owns(saved[0].estate_id, saved[0].device_id)]
        for device, rule, state in restored:
            self.engine.restore(device, rule, state)
        log.info("rule engine restored %d states, %d waiting for a deadline",
                 len(restored), self.engine.pending_deadlines)
        self.dedupe.seqs.restore(await load_seq_windows(self._sessions))
        unsequenced = self.dedupe.unsequenced
        unsequenced.restore(await load_recent_messages(
            self._sessions, self.clock.now_ns() - unsequenced.window_ns))
        log.info("de-duplication restored: %d devices' seqs, %d messages without seq",
                 len(self.dedupe.seqs), len(unsequenced))

    def background(self) -> dict[str, Coroutine[Any, Any, None]]:
        """The stage's long-running loops, by task name, for the gateway's TaskGroup."""
        last_save = self.outbox.expect_last_save()
        return {"rule-ticker": self.run_ticker(),
                "rule-state-flusher": self.run_flusher(last_save),
                "anomaly-outbox": self.outbox.run(),
                "rule-overrides-refresh": self.run_override_refresh()}

    # --- inputs ------------------------------------------------------------------------

    async def on_reading(self, device: DeviceRef, reading: Reading) -> None:
        self._emit(self._evaluate(self.engine.reading, device, reading))
        self._wake_ticker()

    async def on_status(self, device: DeviceRef, change: StatusChange) -> None:
        self._emit(self._evaluate(self.engine.status, device, change))
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
        """Judge the deadlines due now, `tick_slice` at a time, yielding to the event loop
        between slices: 50 000 falling due at once must not stall message intake."""
        now_ns = self.clock.now_ns()
        slices = math.ceil(self.engine.pending_deadlines / self._tick_slice) + 1
        for _ in range(slices):  # bounded: a rule re-arming at `now` cannot loop forever
            self._emit(self.engine.due(now_ns, self._tick_slice))
            next_due = self.engine.next_due_ns()
            if next_due is None or next_due > now_ns:
                break
            await asyncio.sleep(0)
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

    def _emit(self, anomalies: list[Anomaly]) -> None:
        """Count them, and keep them for the next flush (ONGOING: the newest per device and
        rule, handed to the outbox once the flush committed; see outbox.py)."""
        if not anomalies:
            return
        count(anomalies)
        if not self.outbox.enabled:
            return
        for anomaly in anomalies:
            if anomaly.kind is AnomalyKind.ONGOING:
                self._ongoing[(anomaly.device_pk, anomaly.rule)] = anomaly
            else:
                self._unsaved.append(anomaly)
                # A raise or clear (a deadline's too) goes out within ACK_FLUSH_DELAY_S,
                # not at the next periodic flush: the 5341 clock is running.
                self._flush_wanted.set()

    # --- acknowledgement ---------------------------------------------------------------

    @property
    def generation(self) -> int:
        """The flush that will hold the effects of what is handled now."""
        return self._generation

    @contextlib.contextmanager
    def recording(self) -> Iterator[None]:
        """Around handling messages whose effects (seq, rule state) are recorded before
        their points are queued: a flush waits for the block's end, so it never saves a
        message's seq while its points are not yet queued for the store (after a crash the
        saved seq would then suppress the redelivery whose points were never stored)."""
        self._putting += 1
        self._points_queued.clear()
        try:
            yield
        finally:
            self._putting -= 1
            if self._putting == 0:
                self._points_queued.set()

    def when_saved(self, ack: Ack, generation: int) -> None:
        """Call `ack` once flush `generation` has committed (now, if it has). Called in
        receive order, so acknowledgements leave in receive order (MQTT 3.1.1 4.6)."""
        self._acks.call_when(ack, generation)
        if self._acks:
            self._flush_wanted.set()

    def _release(self, committed: int) -> None:
        self._acks.reach(committed)
        if not self._acks and not self._unsaved:
            self._flush_wanted.clear()

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

    async def run_flusher(self, last_save: asyncio.Event | None = None) -> None:
        """Flush every `flush_interval_s`, or `ACK_FLUSH_DELAY_S` after a message started
        waiting for one; on cancel, let a flush in flight finish, flush once more, and set
        `last_save` (the outbox delivers after it)."""
        in_flight = Shielded()
        try:
            while True:
                await flush_due(self._flush_wanted, self._flush_interval_s, ACK_FLUSH_DELAY_S)
                try:
                    await in_flight.run(self.flush())
                except Exception as exc:  # noqa: BLE001 - the effects are kept: try again
                    log.warning("could not save rule effects (%s); retrying", exc)
                    await asyncio.sleep(FLUSH_RETRY_DELAY_S)
        except asyncio.CancelledError:
            try:
                await in_flight.settle()
                await self.flush()
            finally:
                if last_save is not None:
                    last_save.set()
            raise

    async def flush(self) -> None:
        """Save what changed since the last flush in one transaction, once the points of
        the messages behind it are stored; then acknowledge the messages it covers. One at
        a time: an empty flush must not release acks while an earlier one still commits."""
        async with self._flushing:
            await self._flush()

    async def _flush(self) -> None:
        await self._points_queued.wait()
        generation = self._generation
        self._generation += 1
        effects = self._take_effects()
        ongoing, self._ongoing = self._ongoing, {}
        if not effects:
            self._release(generation)
            self.outbox.add_ongoing(ongoing.values())
            return
        try:
            if not await self._points_stored():
                self._give_back(effects, ongoing)  # the store is away: next time, with more
                return
            await save_effects(self._sessions, effects, datetime.now(UTC))
        except BaseException:
            self._give_back(effects, ongoing)
            raise
        self._release(generation)
        self.outbox.add_ongoing(ongoing.values())
        if effects.anomalies:
            self.outbox.wake()

    async def settle(self) -> None:
        """Flush, then deliver the outbox (tests, and anything that wants effects seen now)."""
        await self.flush()
        await self.outbox.drain()

    def _take_effects(self) -> Effects:
        anomalies, self._unsaved = self._unsaved, []
        recent, before_ns = self.dedupe.unsequenced.take_changes()
        return Effects(states=self.engine.take_changes(),
                       anomalies=[anomaly_to_json(anomaly) for anomaly in anomalies],
                       seq_windows=self.dedupe.seqs.take_changes(), recent=recent,
                       recent_before_ns=before_ns, owner=self.outbox.owner)

    def _give_back(self, effects: Effects, ongoing: dict[tuple[int, str], Anomaly]) -> None:
        """A flush that did not commit: its effects go with the next one (newest states)."""
        self._ongoing = {**ongoing, **self._ongoing}
        self.engine.mark_changed(set(effects.states))
        self.dedupe.seqs.mark_changed(effects.seq_windows)
        self.dedupe.unsequenced.mark_changed(effects.recent)
        self._unsaved[:0] = [anomaly_from_json(data) for data in effects.anomalies]

    async def _points_stored(self) -> bool:
        """Wait until every point put so far is stored; False after STORE_WAIT_S."""
        if self._when_stored is None:
            return True
        stored: asyncio.Future[None] = asyncio.get_running_loop().create_future()

        def done() -> None:
            if not stored.done():
                stored.set_result(None)

        self._when_stored(done)
        try:
            async with asyncio.timeout(STORE_WAIT_S):
                await stored
        except TimeoutError:
            return False
        return True

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
