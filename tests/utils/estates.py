"""Factories of small registered estates for tests."""

from __future__ import annotations

import uuid

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from device_profiles import load_profiles
from registry.importer import import_estates
from registry.schema import EstateFile

# One device of each contract type; ids are per estate, so tests stay apart.
DEVICES = {
    "leak_sensor": "leak-1",
    "voice_light": "light-1",
    "ev_charger": "ebike-1",
    "barrier_gate": "gate-1",
}


def unique_estate_id() -> str:
    return f"t{uuid.uuid4().hex[:10]}"


def small_estate(estate_id: str) -> EstateFile:
    return EstateFile.model_validate({"estates": [{
        "id": estate_id,
        "name": "龙涤小区",
        "buildings": [
            {"code": "b41", "name": "41号楼", "units": [{"code": "u2", "name": "2单元"}]},
        ],
        "devices": [
            {"id": "leak-1", "type": "leak_sensor", "name": "水表间漏水", "building": "b41",
             "unit": "u2", "location": "水表间"},
            {"id": "light-1", "type": "voice_light", "building": "b41", "location": "3F"},
            {"id": "ebike-1", "type": "ev_charger", "kind": "ebike", "building": "b41"},
            {"id": "gate-1", "type": "barrier_gate", "location": "north-in"},
        ],
    }]})


async def register_small_estate(sessions: async_sessionmaker[AsyncSession]) -> str:
    estate_id = unique_estate_id()
    await import_estates(sessions, small_estate(estate_id), load_profiles())
    return estate_id


def topic(estate_id: str, device_type: str, channel: str = "telemetry",
          device_id: str | None = None) -> str:
    return f"estates/{estate_id}/{device_type}/{device_id or DEVICES[device_type]}/{channel}"
