"""A small estate with devices, last state and dead letters, written straight to the tables."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from connectors.store.base import HistoryBucket, HistoryQuery, StoreError
from core.telemetry import Point
from gateway.tables import DeadLetter, DeviceState
from registry.tables import Building, Device, Estate, Unit

SEEN_AT = datetime(2026, 11, 22, 0, 0, tzinfo=UTC)
LETTERS_SINCE = datetime(2026, 11, 21, 0, 0, tzinfo=UTC)
SPLIT_PAYLOAD = ("x" + "é" * 2500).encode()  # 5001 bytes: the 4 KiB cut falls inside an "é"

ALL_DEVICES = [
    "longdi/charger-001", "longdi/leak-001", "longdi/light-001", "longdi/mystery-001",
    "songhua/leak-001",
]


def _places() -> tuple[list[Estate], Building, Building, Unit]:
    longdi = Estate(id="longdi", name="龙涤小区")
    songhua = Estate(id="songhua", name="松花小区")
    b41 = Building(estate=longdi, code="b41", name="41号楼")
    b42 = Building(estate=longdi, code="b42", name="42号楼")
    u2 = Unit(building=b41, code="u2", name="2单元")
    return [longdi, songhua], b41, b42, u2


def _state(online: bool | None, telemetry: dict[str, object] | None = None) -> DeviceState:
    return DeviceState(online=online, last_seen_at=SEEN_AT, last_telemetry=telemetry,
                       last_telemetry_at=SEEN_AT if telemetry else None,
                       last_event={"event": "triggered"}, last_event_at=SEEN_AT)


async def seed_registry(sessions: async_sessionmaker[AsyncSession]) -> None:
    estates, b41, b42, u2 = _places()
    devices = [
        (Device(estate_id="longdi", device_id="leak-001", device_type="leak_sensor",
                display_name="地下室漏水", building=b41, unit=u2, location="B1 pump room"),
         _state(True, {"leak": False, "battery": 96})),
        (Device(estate_id="longdi", device_id="light-001", device_type="voice_light",
                building=b42), _state(False)),
        (Device(estate_id="longdi", device_id="charger-001", device_type="ev_charger",
                kind="car", reporting_interval_s=30), None),
        (Device(estate_id="longdi", device_id="mystery-001", device_type="heat_pump"), None),
        (Device(estate_id="songhua", device_id="leak-001", device_type="leak_sensor"),
         _state(True, {"leak": True})),
    ]
    async with sessions() as session, session.begin():
        session.add_all([*estates, b41, b42, u2])
        for device, _ in devices:
            session.add(device)
        await session.flush()
        for device, state in devices:
            if state is not None:
                state.device_pk = device.id
                session.add(state)


def _letter(minutes: int, reason: str, estate: str | None, device: str | None,
            payload: bytes) -> DeadLetter:
    return DeadLetter(
        received_at=LETTERS_SINCE + timedelta(minutes=minutes), reason=reason,
        topic=f"estates/{estate}/leak_sensor/{device}/telemetry", detail=f"{reason} detail",
        estate_id=estate, device_id=device, payload=payload, payload_size=len(payload),
    )


async def seed_dead_letters(sessions: async_sessionmaker[AsyncSession]) -> None:
    letters = [
        _letter(1, "invalid_json", "longdi", "leak-001", b"{not json"),
        _letter(2, "invalid_json", "longdi", "leak-002", b"\xff\xfe{"),
        _letter(3, "payload_too_large", "longdi", "leak-001", SPLIT_PAYLOAD),
        _letter(4, "unknown_device", "songhua", "ghost-9", b"{}"),
        _letter(5, "invalid_json", "songhua", "leak-001", b"[1, 2]"),
        _letter(6, "unknown_device", None, None, b"{}"),
    ]
    async with sessions() as session, session.begin():
        session.add_all(letters)


@dataclass
class FakeStore:
    """A TelemetryStore stand-in for validation and error paths (never for storage behaviour)."""

    buckets: list[HistoryBucket] = field(default_factory=list)
    error: StoreError | None = None
    alive: bool = True
    queries: list[HistoryQuery] = field(default_factory=list)

    async def write(self, points: Sequence[Point]) -> None:
        raise AssertionError("the API never writes telemetry")

    async def history(self, query: HistoryQuery) -> list[HistoryBucket]:
        self.queries.append(query)
        if self.error is not None:
            raise self.error
        return self.buckets

    async def ping(self) -> bool:
        if self.error is not None:
            raise self.error
        return self.alive

    async def aclose(self) -> None:
        return None
