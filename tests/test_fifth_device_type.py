"""Issue 6: a new device type is one YAML profile, for real.

A smoke detector (烟雾探测器) is added from a profile directory the test writes, passed the
way operators pass it (`--profile-dir`, Settings.profile_dirs), with no Python for it
anywhere. Then, on real servers (Mosquitto, InfluxDB 1.x, SQLite or PostgreSQL): the registry
imports an estate with one such detector in a unit, the production wiring (open_resources +
open_operations: gateway, rules, work-order intake, notifier) ingests its MQTT messages, the
readings land in InfluxDB and are read back, the profile's smoke rule raises exactly one work
order, and both the safety team's alert route and the unit's resident get the alert.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import subprocess
import sys
import textwrap
import time
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import aiomqtt
import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from connectors.store.base import Aggregate, HistoryBucket, HistoryQuery
from core.db import open_database
from core.vocabulary import Category, Priority, Team
from device_profiles import load_profiles
from estateops.registry_import import import_file
from estateops.resources import Resources, open_resources
from estateops.run import open_operations
from estateops.settings import Settings
from registry.importer import RegistryImportError
from registry.tables import Building, Device, Estate, Unit
from services.workorders.model import Status
from services.workorders.recipients import add_alert_route
from services.workorders.schemas import EventKind
from services.workorders.service import get
from services.workorders.tables import UnitContact, WorkOrder
from tests.fixtures.influx import HttpServer, influx_rows, unique_name
from tests.fixtures.mosquitto import Broker
from tests.services.workorders.webhook import Webhook, running_webhook
from tests.utils.estates import unique_estate_id
from tests.utils.gateway import eventually

ROOT = Path(__file__).resolve().parents[1]
DEVICE_TYPE = "smoke_detector"
DEVICE_ID = "smoke-7-1-kitchen"
PLACE = "7号楼 1单元 厨房"

SMOKE_DETECTOR_PROFILE = """\
# Smoke detector (烟雾探测器): an operator's profile, no code.
device_type: smoke_detector
name: {en: Smoke detector, zh: 烟雾探测器}
reporting_interval_s: 600
measurement: smoke_detector
kinds: [ceiling, wall]
telemetry:
  smoke: {type: bool, required: true, synonyms: [alarm], description: smoke detected}
  obscuration_pct_m: {type: float, unit: "%/m", min: 0, max: 100, description: smoke density}
  battery: {type: float, unit: "%", min: 0, max: 100}
events:
  test_button: {}
rules:
  smoke:
    title: {en: Smoke detected, zh: 检测到烟雾}
    priority: P1
    team: safety
    category: simple
    when:
      any:
        - {field: smoke, eq: true}
        - {field: obscuration_pct_m, ge: 4, by_kind: {wall: 3}}
    notify_residents: true
  low_battery:
    title: {en: Smoke detector battery low, zh: 烟雾探测器电量低}
    priority: P4
    team: telecom
    category: simple
    when: {field: battery, lt: 15}
  offline:
    title: {en: Smoke detector offline, zh: 烟雾探测器离线}
    priority: P3
    team: telecom
    category: simple
    silence_intervals: 3
    offline_status: true
"""


def estate_yaml(estate_id: str, *, kind: str | None = "ceiling") -> str:
    kind_text = f"kind: {kind}, " if kind is not None else ""
    return textwrap.dedent(f"""\
        estates:
          - id: {estate_id}
            name: 龙涤小区
            buildings:
              - code: b7
                name: 7号楼
                units:
                  - {{code: u1, name: 1单元}}
            devices:
              - {{id: {DEVICE_ID}, type: {DEVICE_TYPE}, {kind_text}name: 厨房烟感,
                 building: b7, unit: u1, location: 厨房}}
        """)


@pytest.fixture
def profile_dir(tmp_path: Path) -> Path:
    directory = tmp_path / "profiles"
    directory.mkdir()
    (directory / f"{DEVICE_TYPE}.yaml").write_text(SMOKE_DETECTOR_PROFILE, encoding="utf-8")
    return directory


def write(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path


def line_of(path: Path, needle: str) -> int:
    lines = path.read_text(encoding="utf-8").splitlines()
    return next(number for number, line in enumerate(lines, 1) if needle in line)


def estateops_cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "estateops", *args], cwd=ROOT,
                          capture_output=True, text=True, timeout=120, check=False)


# --- the type comes from the profile alone ---------------------------------------------


def test_the_profile_directory_alone_adds_the_fifth_type(profile_dir: Path) -> None:
    assert DEVICE_TYPE not in load_profiles()  # not built in
    profiles = load_profiles(Settings(profile_dirs=[profile_dir]).profile_dirs)
    assert len(profiles.device_types) == 5
    profile = profiles.by_type[DEVICE_TYPE]
    assert profile.kinds == ("ceiling", "wall")
    assert profile.canonical_field("alarm") == "smoke"
    assert profile.telemetry["obscuration_pct_m"].unit == "%/m"
    assert profile.rules["smoke"].notify_residents is True
    assert profile.rules["low_battery"].notify_residents is False


def test_no_python_outside_the_tests_mentions_the_fifth_type() -> None:
    mentions = []
    for path in sorted(ROOT.rglob("*.py")):
        parts = path.relative_to(ROOT).parts
        if parts[0] == "tests" or any(part.startswith(".") for part in parts):
            continue  # the tests, and the virtualenv, caches and tools in hidden folders
        if DEVICE_TYPE in path.read_text(encoding="utf-8", errors="replace"):
            mentions.append(str(path.relative_to(ROOT)))
    assert mentions == []
    assert not list((ROOT / "device_profiles" / "profiles").glob(f"{DEVICE_TYPE}.*"))


async def test_a_kind_its_profile_does_not_declare_is_refused_at_import(
        tmp_path: Path, profile_dir: Path, database_url: str) -> None:
    profiles = load_profiles([profile_dir])
    estate_id = unique_estate_id()
    cases = [
        ("floor", "kind: floor", "kind: device type smoke_detector needs kind ceiling or wall "
                                 "(got 'floor')"),
        (None, DEVICE_ID, "kind: device type smoke_detector needs kind ceiling or wall"),
    ]
    for kind, needle, problem in cases:
        path = write(tmp_path / f"estate-{kind}.yaml", estate_yaml(estate_id, kind=kind))
        with pytest.raises(RegistryImportError) as caught:
            await import_file(database_url, path, profiles)
        where = f"{path}:{line_of(path, needle)}"
        assert str(caught.value) == f"{where}: estates[0].devices[0].{problem}"
    # Without the operator's profile directory the type itself is unknown.
    path = write(tmp_path / "estate.yaml", estate_yaml(estate_id))
    with pytest.raises(RegistryImportError, match="unknown device type 'smoke_detector'"):
        await import_file(database_url, path, load_profiles())
    async with open_database(database_url) as sessions, sessions() as session:
        assert await session.get(Estate, estate_id) is None  # nothing was saved


async def test_a_kind_on_a_type_that_declares_none_is_refused(
        tmp_path: Path, profile_dir: Path, database_url: str) -> None:
    profile = SMOKE_DETECTOR_PROFILE.replace("kinds: [ceiling, wall]\n", "").replace(
        ", by_kind: {wall: 3}", "")
    write(profile_dir / f"{DEVICE_TYPE}.yaml", profile)
    path = write(tmp_path / "estate.yaml", estate_yaml(unique_estate_id()))
    with pytest.raises(RegistryImportError) as caught:
        await import_file(database_url, path, load_profiles([profile_dir]))
    assert str(caught.value) == (
        f"{path}:{line_of(path, 'kind: ceiling')}: estates[0].devices[0].kind: "
        "device type smoke_detector has no kinds; remove kind 'ceiling'")


# --- end to end on real servers ----------------------------------------------------------


async def register_detector(resources: Resources, estate_id: str, hook: Webhook) -> int:
    """The resident of 7号楼1单元 and the estate's safety team get apprise alerts."""
    async with resources.sessions.begin() as session:
        device = await session.scalar(select(Device).where(
            Device.estate_id == estate_id, Device.device_id == DEVICE_ID))
        assert device is not None
        assert (device.device_type, device.kind) == (DEVICE_TYPE, "ceiling")
        unit_id = await session.scalar(
            select(Unit.id).join(Building, Building.id == Unit.building_id)
            .where(Building.estate_id == estate_id, Unit.code == "u1"))
        assert unit_id is not None
        assert device.unit_id == unit_id
        session.add(UnitContact(unit_id=unit_id, name="王女士", phone="13800000000",
                                apprise_url=hook.url("resident")))
        assert await add_alert_route(session, estate_id=estate_id, team=Team.SAFETY,
                                     apprise_url=hook.url("safety-group"))
        return device.id


@contextlib.asynccontextmanager
async def running_operations(settings: Settings) -> AsyncIterator[Resources]:
    """What `estateops gateway` runs: profiles from settings.profile_dirs, the store, the
    gateway with its rules, the work-order intake and the notifier."""
    async with open_resources(settings) as resources, \
            open_operations(resources) as operations:
        task = asyncio.create_task(operations.gateway.run(), name="gateway-under-test")
        try:
            await asyncio.wait_for(operations.gateway.connected.wait(), timeout=15)
            yield resources
        finally:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task


async def work_orders_of(sessions: async_sessionmaker[AsyncSession],
                         device_pk: int) -> list[WorkOrder]:
    async with sessions() as session:
        ids = (await session.scalars(select(WorkOrder.id).where(
            WorkOrder.device_pk == device_pk).order_by(WorkOrder.id))).all()
        return [await get(session, work_order_id) for work_order_id in ids]


async def stored(influx: HttpServer, database: str, measurement: str,
                 estate_id: str) -> list[dict[str, Any]]:
    with contextlib.suppress(Exception):  # the database appears with the first write
        return await influx_rows(influx.url, database, f'SELECT * FROM "{measurement}" '
                                 f"WHERE \"estate\"='{estate_id}'")
    return []


async def received(hook: Webhook, path: str) -> list[dict[str, Any]]:
    return hook.messages(path)


def highest(buckets: list[HistoryBucket]) -> float | None:
    values = [bucket.value for bucket in buckets if bucket.value is not None]
    return max(values, default=None)


async def test_a_smoke_detector_from_a_profile_alone_raises_one_work_order_and_tells_residents(
        tmp_path: Path, profile_dir: Path, database_url: str, mosquitto: Broker,
        influxdb_v1: HttpServer) -> None:
    estate_id = unique_estate_id()
    estate_file = write(tmp_path / "estate.yaml", estate_yaml(estate_id))

    # The registry, as an operator runs it: the type is known only through --profile-dir.
    imported = estateops_cli("--database-url", database_url, "--profile-dir", str(profile_dir),
                             "registry", "import", str(estate_file))
    assert imported.returncode == 0, imported.stderr
    assert "devices 1 created" in imported.stdout

    database = unique_name("smoke")
    settings = Settings(
        data_dir=tmp_path / "var", database_url=database_url, profile_dirs=[profile_dir],
        mqtt={"url": mosquitto.url, "client_id": f"gw-{uuid.uuid4().hex[:8]}",
              "topic": f"estates/{estate_id}/+/+/+"},
        influx={"url": influxdb_v1.url, "api_version": 1, "database": database},
        gateway={"flush_interval_s": 0.05, "state_flush_interval_s": 0.05},
    )
    prefix = f"estates/{estate_id}/{DEVICE_TYPE}/{DEVICE_ID}"
    start = datetime.now(UTC)
    ts = round(time.time() * 1000)
    messages = [  # (channel, payload) as the detector publishes them
        ("status", "online"),
        ("telemetry", {"ts": ts, "seq": 1, "smoke": False, "obscuration_pct_m": 0.2,
                       "battery": 97}),
        ("event", {"ts": ts + 1000, "seq": 2, "event": "test_button"}),
        ("telemetry", {"ts": ts + 2000, "seq": 3, "smoke": True, "obscuration_pct_m": 6.5,
                       "battery": 97}),
        ("telemetry", {"ts": ts + 3000, "seq": 4, "alarm": True, "obscuration_pct_m": 9.0}),
        ("telemetry", {"ts": ts + 3000, "seq": 4, "alarm": True, "obscuration_pct_m": 9.0}),
    ]
    with running_webhook() as hook:
        async with running_operations(settings) as resources, \
                aiomqtt.Client(mosquitto.host, mosquitto.port) as detector:
            device_pk = await register_detector(resources, estate_id, hook)
            for channel, payload in messages:
                text = payload if isinstance(payload, str) else json.dumps(payload)
                await detector.publish(f"{prefix}/{channel}", text, qos=1)
            raised = await eventually(lambda: work_orders_of(resources.sessions, device_pk),
                                      lambda found: len(found) >= 1)
            told = await eventually(lambda: received(hook, "resident"),
                                    lambda found: len(found) >= 1)
            await detector.publish(f"{prefix}/telemetry", json.dumps(
                {"ts": ts + 4000, "seq": 5, "smoke": False, "obscuration_pct_m": 0.3}), qos=1)
            await eventually(
                lambda: work_orders_of(resources.sessions, device_pk),
                lambda found: any(event.kind is EventKind.CLEARED
                                  for one in found for event in one.events))
            query = HistoryQuery(
                measurement="smoke_detector", device_id=DEVICE_ID, field="obscuration_pct_m",
                start=start - timedelta(minutes=1), end=datetime.now(UTC) + timedelta(minutes=1),
                interval_s=600, aggregate=Aggregate.MAX, estate_id=estate_id)
            history = await eventually(lambda: resources.store.history(query),
                                       lambda found: highest(found) == 9.0)
            final = await work_orders_of(resources.sessions, device_pk)
        await asyncio.sleep(0.5)  # anything late would have arrived by now
        resident_messages, safety_messages = hook.messages("resident"), hook.messages(
            "safety-group")

    # Storage: every reading in the profile's measurement, by canonical field name; the
    # redelivered seq 4 once; the test button in the events measurement.
    rows = await eventually(lambda: stored(influxdb_v1, database, "smoke_detector", estate_id),
                            lambda found: len(found) >= 4)
    assert [(row["device"], row["smoke"], row["obscuration_pct_m"]) for row in rows] == [
        (DEVICE_ID, False, 0.2), (DEVICE_ID, True, 6.5), (DEVICE_ID, True, 9.0),
        (DEVICE_ID, False, 0.3)]
    assert rows[0]["battery"] == 97
    assert "alarm" not in rows[0]
    events = await stored(influxdb_v1, database, "smoke_detector_event", estate_id)
    assert [(row["event"], row["occurred"]) for row in events] == [("test_button", True)]
    assert highest(history) == 9.0  # read back through the store's own history query

    # The rule: exactly one work order, raised once, then cleared on its timeline.
    assert len(raised) == 1
    assert len(final) == 1
    work_order = final[0]
    assert work_order.rule == "smoke"
    assert (work_order.priority, work_order.team, work_order.category) == (
        Priority.P1, Team.SAFETY, Category.SIMPLE)
    assert (work_order.title_en, work_order.title_zh) == ("Smoke detected", "检测到烟雾")
    assert (work_order.status, work_order.recurrence_count) == (Status.OPEN, 0)
    assert work_order.notify_residents is True
    assert [event.kind for event in work_order.events
            if event.kind is not EventKind.ALERTED] == [EventKind.RAISED, EventKind.CLEARED]
    readings = (work_order.events[0].data or {})["readings"]
    assert readings[0]["values"]["smoke"] is True

    # The alerts: the safety team's route, and the unit's resident, once each.
    assert_told_once(told, resident_messages, safety_messages, work_order.id)


def assert_told_once(told: list[dict[str, Any]], resident_messages: list[dict[str, Any]],
                     safety_messages: list[dict[str, Any]], work_order_id: int) -> None:
    assert len(told) == 1
    [resident] = resident_messages
    assert PLACE in resident["message"]
    assert f"#{work_order_id}" in resident["message"]
    # ... in the rule's own words: a smoke alarm is not announced as a water leak.
    assert "检测到烟雾" in resident["title"] + resident["message"]
    assert "漏水" not in resident["title"] + resident["message"]
    [safety] = safety_messages
    assert safety["title"].startswith("[P1] 新工单 new: 检测到烟雾")
    assert PLACE in safety["message"]
