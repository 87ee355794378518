"""A bridge's world in a test: a registered estate with linked devices, a real gateway with
rules and work-order intake on real Mosquitto, and readers of what came out."""

from __future__ import annotations

import contextlib
import uuid
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from connectors.store.embedded import EmbeddedStore
from core.clock import SystemClock
from device_profiles import load_profiles
from gateway.runner import Gateway
from registry.importer import import_estates
from registry.schema import EstateFile
from registry.tables import Device
from services.workorders.notifier import Notifier
from services.workorders.sink import intake_sink
from services.workorders.tables import WorkOrder
from tests.fixtures.mosquitto import Broker
from tests.utils.estates import small_estate, unique_estate_id
from tests.utils.gateway import gateway_settings, running_gateway


def unique_address(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:8]}"


async def register_linked_estate(sessions: async_sessionmaker[AsyncSession],
                                 **links: dict[str, Any]) -> str:
    """The small estate, with `links` ({device id: {"zigbee2mqtt": name, ...}}) added to its
    devices (a device id not in it is added as a car charger)."""
    estate_id = unique_estate_id()
    estate = small_estate(estate_id).estates[0].model_dump()
    by_id = {device["id"]: device for device in estate["devices"]}
    for device_id, fields in links.items():
        if device_id not in by_id:
            by_id[device_id] = {"id": device_id, "type": "ev_charger", "kind": "car"}
            estate["devices"].append(by_id[device_id])
        by_id[device_id].update(fields)
    await import_estates(sessions, EstateFile.model_validate({"estates": [estate]}),
                         load_profiles())
    return estate_id


async def device_row(sessions: async_sessionmaker[AsyncSession], estate_id: str,
                     device_id: str) -> Device:
    async with sessions() as session:
        found = await session.scalar(select(Device).where(
            Device.estate_id == estate_id, Device.device_id == device_id))
    assert found is not None
    return found


async def work_orders_of(sessions: async_sessionmaker[AsyncSession],
                         pk: int) -> list[WorkOrder]:
    async with sessions() as session:
        return list((await session.scalars(
            select(WorkOrder).where(WorkOrder.device_pk == pk))).all())


@contextlib.asynccontextmanager
async def gateway_with_work_orders(
        mosquitto: Broker, database_url: str, sessions: async_sessionmaker[AsyncSession],
        tmp_path: Path, estate_id: str) -> AsyncIterator[Gateway]:
    """The real gateway, its rules and the real work-order intake, on the estate's topics."""
    settings = gateway_settings(broker_url=mosquitto.url, database_url=database_url,
                                data_dir=tmp_path, estate_id=estate_id)
    store = EmbeddedStore(tmp_path / "telemetry.sqlite3")
    clock = SystemClock()
    sink = intake_sink(sessions, Notifier(sessions, mqtt=None), clock)
    try:
        async with running_gateway(settings, store=store, sessions=sessions, anomalies=sink,
                                   clock=clock) as gateway:
            yield gateway
    finally:
        await store.aclose()
