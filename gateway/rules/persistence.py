"""Save the rule stage's effects to SQL and load them back at start-up.

One transaction holds a flush's rule state (table rule_state), the anomalies it raised or
cleared (anomaly_outbox) and the seq de-duplication of the messages behind it (seq_windows,
recent_messages): after a crash the database never says "raised" without the anomaly, nor
"seen" without the rule state that message moved.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, cast

from sqlalchemy import Integer, Table, any_, bindparam, delete, insert, select, tuple_
from sqlalchemy.dialects import postgresql
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from core.upsert import Upsert, upsert_rows
from gateway.rules.state import RuleState
from gateway.rules.tables import (
    OutboxAnomaly,
    RecentMessage,
    StoredRuleState,
    StoredSeqWindow,
)
from registry.queries import DeviceRef
from registry.tables import Device

log = logging.getLogger(__name__)

CHUNK = 500
StateKey = tuple[int, str]
Restored = tuple[DeviceRef, str, RuleState]


@dataclass
class Effects:
    """What one flush saves: rule states (None: delete), outbox anomalies (as JSON, in
    order), seq windows (device_pk -> high, bitmap), messages without seq (digest ->
    received_ns) and the receipt time before which saved ones may go."""

    states: dict[StateKey, dict[str, Any] | None] = field(default_factory=dict)
    anomalies: list[dict[str, Any]] = field(default_factory=list)
    seq_windows: dict[int, tuple[int, bytes]] = field(default_factory=dict)
    recent: dict[bytes, int] = field(default_factory=dict)
    recent_before_ns: int = 0
    owner: str = ""  # the gateway saving them (outbox.py)

    def __bool__(self) -> bool:
        return bool(self.states or self.anomalies or self.seq_windows or self.recent)


async def load_rule_states(sessions: async_sessionmaker[AsyncSession]) -> list[Restored]:
    """Every saved state with the registry entry of its device."""
    query = select(
        StoredRuleState.rule, StoredRuleState.state, Device.id, Device.estate_id,
        Device.device_id, Device.device_type, Device.kind, Device.reporting_interval_s,
        Device.enabled, Device.commissioning, Device.watched_since,
    ).join(Device, Device.id == StoredRuleState.device_pk)
    async with sessions() as session:
        rows = (await session.execute(query)).all()
    restored: list[Restored] = []
    for row in rows:
        device = DeviceRef(pk=row.id, estate_id=row.estate_id, device_id=row.device_id,
                           device_type=row.device_type, kind=row.kind,
                           reporting_interval_s=row.reporting_interval_s, enabled=row.enabled,
                           commissioning=row.commissioning, watched_since=row.watched_since)
        state = row.state if isinstance(row.state, dict) else {}
        restored.append((device, row.rule, RuleState.from_json(state)))
    return restored


async def save_rule_states(sessions: async_sessionmaker[AsyncSession],
                           changes: Mapping[StateKey, dict[str, Any] | None],
                           now: datetime) -> None:
    """Upsert changed states and delete forgotten ones, in one transaction."""
    await save_effects(sessions, Effects(states=dict(changes)), now)


async def save_effects(sessions: async_sessionmaker[AsyncSession], effects: Effects,
                       now: datetime) -> None:
    """All of `effects` in one transaction, a statement per chunk of rows."""
    async with sessions.begin() as session:
        existing = await _existing_devices(
            session, {pk for (pk, _), state in effects.states.items() if state is not None}
            | set(effects.seq_windows))
        await _save_states(session, effects.states, existing, now)
        await _save_anomalies(session, effects.anomalies, effects.owner, now)
        await _save_seq_windows(session, effects.seq_windows, existing)
        await _save_recent(session, effects.recent, effects.recent_before_ns)


async def _save_states(session: AsyncSession, changes: Mapping[StateKey, dict[str, Any] | None],
                       existing: set[int], now: datetime) -> None:
    gone = [key for key, state in changes.items() if state is None]
    kept = {key: state for key, state in changes.items() if state is not None}
    for start in range(0, len(gone), CHUNK):
        chunk = gone[start:start + CHUNK]
        await session.execute(delete(StoredRuleState).where(
            tuple_(StoredRuleState.device_pk, StoredRuleState.rule).in_(chunk)))
    rows = [{"device_pk": pk, "rule": rule, "state": state, "updated_at": now}
            for (pk, rule), state in kept.items() if pk in existing]
    if len(rows) < len(kept):
        log.info("not saving rule state of %d devices removed from the registry",
                 len({pk for pk, _ in kept} - existing))
    await upsert_rows(await session.connection(), _STATE_UPSERT, rows)


async def _save_anomalies(session: AsyncSession, anomalies: list[dict[str, Any]], owner: str,
                          now: datetime) -> None:
    rows = [{"owner": owner, "anomaly": anomaly, "created_at": now} for anomaly in anomalies]
    if rows:  # an executemany, row by row: the ids follow the list's order
        await session.execute(insert(_table(OutboxAnomaly)), rows)


async def _save_seq_windows(session: AsyncSession, windows: Mapping[int, tuple[int, bytes]],
                            existing: set[int]) -> None:
    rows = [{"device_pk": pk, "high": high, "seen": seen}
            for pk, (high, seen) in windows.items() if pk in existing]
    await upsert_rows(await session.connection(), _SEQ_UPSERT, rows)


async def _save_recent(session: AsyncSession, recent: Mapping[bytes, int],
                       before_ns: int) -> None:
    rows = [{"digest": digest, "received_ns": received_ns}
            for digest, received_ns in recent.items()]
    await upsert_rows(await session.connection(), _RECENT_INSERT, rows)
    if rows or before_ns:
        await session.execute(delete(RecentMessage).where(RecentMessage.received_ns < before_ns))


async def load_seq_windows(sessions: async_sessionmaker[AsyncSession],
                           ) -> list[tuple[int, int, bytes]]:
    async with sessions() as session:
        rows = await session.execute(
            select(StoredSeqWindow.device_pk, StoredSeqWindow.high, StoredSeqWindow.seen))
        return [(row.device_pk, row.high, row.seen) for row in rows]


async def load_recent_messages(sessions: async_sessionmaker[AsyncSession],
                               since_ns: int) -> list[tuple[bytes, int]]:
    """Messages without seq received since `since_ns`, oldest first."""
    async with sessions() as session:
        rows = await session.execute(
            select(RecentMessage.digest, RecentMessage.received_ns)
            .where(RecentMessage.received_ns >= since_ns).order_by(RecentMessage.received_ns))
        return [(row.digest, row.received_ns) for row in rows]


async def _existing_devices(session: AsyncSession, pks: set[int]) -> set[int]:
    """Which of `pks` are still registered (a device removed since its message came has
    no state to save: its row would break the foreign key)."""
    if not pks:
        return set()
    connection = await session.connection()
    if connection.dialect.name == "postgresql":
        return set((await connection.execute(_EXISTING_ANY, {"pks": list(pks)})).scalars())
    found: set[int] = set()
    ordered = sorted(pks)
    for start in range(0, len(ordered), CHUNK):
        chunk = ordered[start:start + CHUNK]
        found.update((await connection.execute(
            select(Device.id).where(Device.id.in_(chunk)))).scalars())
    return found


# One array parameter: the same query text for any number of devices, which psycopg parses
# once. An IN list is a new text for every length, parsed again every flush: a quarter of
# a live flush's CPU.
_EXISTING_ANY = select(Device.id).where(
    Device.id == any_(bindparam("pks", type_=postgresql.ARRAY(Integer))))


def _table(mapped: type[Any]) -> Table:
    return cast(Table, mapped.__table__)


_STATE_UPSERT = Upsert(_table(StoredRuleState), keys=("device_pk", "rule"),
                       update=("state", "updated_at"))
_SEQ_UPSERT = Upsert(_table(StoredSeqWindow), keys=("device_pk",), update=("high", "seen"))
_RECENT_INSERT = Upsert(_table(RecentMessage), keys=("digest",), update=())
