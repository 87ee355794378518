"""Keep every refused message, with its reason, in the SQL dead-letter table.

A refused message is acknowledged only once its dead letter is saved (`when_saved`): a
gateway killed in between gets the message again from the broker and refuses it again.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import asdict, dataclass
from datetime import datetime

from sqlalchemy import insert
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from gateway import metrics
from gateway.acks import Ack, AcksInOrder, flush_due
from gateway.shielded import Shielded
from gateway.tables import DeadLetter
from gateway.validation import RejectReason

log = logging.getLogger(__name__)

MAX_STORED_PAYLOAD = 65_536
FLUSH_INTERVAL_S = 0.2
ACK_FLUSH_DELAY_S = 0.01  # with an acknowledgement waiting, flush this soon
RETRY_DELAY_S = 2.0


@dataclass(frozen=True, slots=True)
class DeadLetterRecord:
    received_at: datetime
    topic: str
    reason: RejectReason
    detail: str
    estate_id: str | None
    device_id: str | None
    payload: bytes
    payload_size: int


class DeadLetterSink:
    """Bounded buffer in front of the table, in letters and in payload bytes. Overflow policy:
    when the database has been away (or slow) so long that `max_pending` letters or
    `max_pending_bytes` of their payloads wait, further ones are logged and counted
    (estateops_dead_letters_unsaved) rather than held in memory."""

    def __init__(self, sessions: async_sessionmaker[AsyncSession], max_pending: int = 10_000,
                 max_pending_bytes: int = 32 * 2**20):
        self._sessions = sessions
        self._pending: list[DeadLetterRecord] = []
        self._pending_bytes = 0
        self._max_pending = max_pending
        self._max_pending_bytes = max_pending_bytes
        self._wake = asyncio.Event()
        self._flushing = Shielded()
        self._added = 0  # letters taken into the buffer so far
        self._acks = AcksInOrder()  # its count: letters saved (oldest first)
        self._ack_waiting = asyncio.Event()

    def add(self, *, received_at: datetime, topic: str, reason: RejectReason, detail: str,
            payload: bytes, estate_id: str | None = None, device_id: str | None = None) -> None:
        metrics.MESSAGES_REJECTED.labels(reason=reason).inc()
        log.info("rejected %s: %s (%s)", topic, reason, detail)
        record = DeadLetterRecord(received_at, topic, reason, detail, estate_id, device_id,
                                  payload[:MAX_STORED_PAYLOAD], len(payload))
        if (len(self._pending) >= self._max_pending
                or self._pending_bytes + len(record.payload) > self._max_pending_bytes):
            metrics.DEAD_LETTERS_LOST.inc()
            log.error("dead letter not saved (buffer full): %s %s: %s (%d bytes)",
                      record.topic, record.reason, record.detail, record.payload_size)
            return
        self._pending.append(record)
        self._pending_bytes += len(record.payload)
        self._added += 1
        self._wake.set()

    def when_saved(self, ack: Ack) -> None:
        """Call `ack` once every letter taken so far is saved (now, if none waits). Called
        in receive order, acks leave in receive order. A letter dropped because the buffer
        was full is not waited for: it is logged and counted instead."""
        self._acks.call_when(ack, self._added)
        if self._acks:
            self._ack_waiting.set()

    async def run(self) -> None:
        try:
            while True:
                await self._wake.wait()
                self._wake.clear()
                await flush_due(self._ack_waiting, FLUSH_INTERVAL_S, ACK_FLUSH_DELAY_S)
                await self._flush_until_saved()
        except asyncio.CancelledError:
            await self._flushing.settle()
            try:
                await self.flush()
            except Exception as exc:  # noqa: BLE001 - their messages were not acknowledged
                log.warning("stopping with %d dead letters not saved (%s); the broker sends "
                            "their messages again", len(self._pending), exc)
            raise

    async def _flush_until_saved(self) -> None:
        while self._pending:
            try:
                await self._flushing.run(self.flush())
            except Exception as exc:  # noqa: BLE001 - any database failure: keep and retry
                log.warning("could not save %d dead letters (%s); retrying", len(self._pending),
                            exc)
                await asyncio.sleep(RETRY_DELAY_S)

    async def flush(self) -> None:
        batch, self._pending = self._pending, []
        if not batch:
            return
        # Counted until saved: a slow flush still holds the batch's payloads in memory.
        try:
            async with self._sessions.begin() as session:
                # One executemany: a flood of rejections must not hold SQLite's write lock long.
                await session.execute(insert(DeadLetter), [asdict(record) for record in batch])
        except BaseException:
            self._pending[:0] = batch
            raise
        self._pending_bytes -= sum(len(record.payload) for record in batch)
        self._acks.reach(self._acks.reached + len(batch))
        if not self._acks:
            self._ack_waiting.clear()
