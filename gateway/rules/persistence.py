"""Save rule state to SQL (table rule_state) and load it back at start-up."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from datetime import datetime
from typing import Any

from sqlalchemy import delete, select, tuple_
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from gateway.rules.state import RuleState
from gateway.rules.tables import StoredRuleState
from registry.queries import DeviceRef
from registry.tables import Device

log = logging.getLogger(__name__)

CHUNK = 500
StateKey = tuple[int, str]
Restored = tuple[DeviceRef, str, RuleState]


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
    gone = [key for key, state in changes.items() if state is None]
    kept = {key: state for key, state in changes.items() if state is not None}
    async with sessions.begin() as session:
        for start in range(0, len(gone), CHUNK):
            chunk = gone[start:start + CHUNK]
            await session.execute(delete(StoredRuleState).where(
                tuple_(StoredRuleState.device_pk, StoredRuleState.rule).in_(chunk)))
        existing = await _existing_devices(session, {pk for pk, _ in kept})
        rows = [{"device_pk": pk, "rule": rule, "state": state, "updated_at": now}
                for (pk, rule), state in kept.items() if pk in existing]
        if len(rows) < len(kept):
            log.info("not saving rule state of %d devices removed from the registry",
                     len({pk for pk, _ in kept} - existing))
        for start in range(0, len(rows), CHUNK):
            await session.execute(_upsert(session, rows[start:start + CHUNK]))


async def _existing_devices(session: AsyncSession, pks: set[int]) -> set[int]:
    found: set[int] = set()
    ordered = sorted(pks)
    for start in range(0, len(ordered), CHUNK):
        chunk = ordered[start:start + CHUNK]
        found.update(await session.scalars(select(Device.id).where(Device.id.in_(chunk))))
    return found


def _upsert(session: AsyncSession, rows: list[dict[str, Any]]) -> Any:
    dialect = session.get_bind().dialect.name
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    statement = insert(StoredRuleState).values(rows)
    return statement.on_conflict_do_update(
        index_elements=["device_pk", "rule"],
        set_={"state": statement.excluded.state, "updated_at": statement.excluded.updated_at},
    )
