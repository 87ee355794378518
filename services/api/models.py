"""Response models: what the API promises to return, one family per resource."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Annotated, Any

from fastapi import Path
from pydantic import AfterValidator, BaseModel, BeforeValidator, ConfigDict, Field

from connectors.store.base import Aggregate
from core.db import MAX_SQL_INTEGER


def _assume_utc(moment: datetime) -> datetime:
    # SQLite hands back naive datetimes; everything EstateOps stores is UTC.
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


UtcDatetime = Annotated[datetime, AfterValidator(_assume_utc)]

_NUMBER = re.compile(r"\s*[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?\s*")


def _iso_only(value: object) -> object:
    """pydantic reads a bare number as a Unix time; the API documents ISO 8601 only."""
    if isinstance(value, str) and _NUMBER.fullmatch(value):
        raise ValueError("expected an ISO 8601 date-time, e.g. 2026-12-01T08:00:00+08:00")
    return value


# A row id in a path: what an SQL BIGINT holds, so a larger one is a 422, not a driver error.
RowId = Annotated[int, Path(ge=1, le=MAX_SQL_INTEGER)]

# A date-time a caller sends (query parameters): ISO 8601, as the OpenAPI format says.
IsoDatetime = Annotated[datetime, BeforeValidator(_iso_only)]


class PublicModel(BaseModel):
    model_config = ConfigDict(frozen=True)


class ErrorPublic(PublicModel):
    """The body of every domain error (extra keys such as `valid_fields` may follow)."""

    model_config = ConfigDict(extra="allow", frozen=True)

    error: str = Field(description="stable machine-readable code, e.g. not_found")
    detail: str = Field(description="what went wrong, for people")


class PlacePublic(PublicModel):
    code: str
    name: str


class ChartField(PublicModel):
    """A telemetry field of the device's profile that the history API can chart."""

    field: str
    type: str = Field(description="bool, int or float")
    unit: str | None


class DevicePublic(PublicModel):
    device_id: str
    estate_id: str
    device_type: str
    display_name: str | None
    building: PlacePublic | None
    unit: PlacePublic | None
    location: str | None
    kind: str | None
    enabled: bool
    reporting_interval_s: float | None = Field(
        description="the device's own interval, else its profile's default; null if unknown type"
    )
    online: bool | None = Field(description="last status message; null if never reported")
    last_seen_at: UtcDatetime | None
    last_telemetry: dict[str, Any] | None
    last_telemetry_at: UtcDatetime | None
    last_event: dict[str, Any] | None
    last_event_at: UtcDatetime | None
    estate_name: str | None = None
    type_name_zh: str | None = Field(default=None, description="the profile's name, 中文")
    type_name_en: str | None = None
    chart_fields: list[ChartField] = Field(default_factory=list)
    rule_fields: dict[str, list[str]] = Field(
        default_factory=dict, description="per rule of the profile, the fields it compares")
    anomaly: bool = Field(default=False,
                          description="a sensor work order of this device is still active")


class DeviceList(PublicModel):
    data: list[DevicePublic]
    count: int = Field(description="devices matching the filters, ignoring limit and offset")


class DeviceCounts(PublicModel):
    """How the devices of one building (or of no building) of an estate are doing."""

    estate_id: str
    estate_name: str
    building_code: str | None
    building_name: str | None
    total: int
    online: int
    offline: int
    never: int = Field(description="never reported a status")
    anomaly: int = Field(description="with an active sensor work order")


class DeviceCountsList(PublicModel):
    data: list[DeviceCounts] = Field(description="per estate and building, in name order")
    count: int


class HistoryBucketPublic(PublicModel):
    start: UtcDatetime
    value: float | None


class HistoryPublic(PublicModel):
    estate_id: str
    device_id: str
    measurement: str
    field: str
    aggregate: Aggregate
    interval_s: int
    start: UtcDatetime
    end: UtcDatetime
    data: list[HistoryBucketPublic]
    count: int


class DeadLetterPublic(PublicModel):
    id: int
    received_at: UtcDatetime
    topic: str
    reason: str
    detail: str
    estate_id: str | None
    device_id: str | None
    payload: str = Field(description="payload as UTF-8 text (bad bytes replaced), cut to 4 KiB")
    payload_size: int = Field(description="size of the whole payload in bytes")
    payload_truncated: bool


class DeadLetterList(PublicModel):
    data: list[DeadLetterPublic]
    count: int = Field(description="dead letters matching the filters, ignoring limit and offset")


class ReasonCount(PublicModel):
    reason: str
    count: int


class ReasonCountList(PublicModel):
    data: list[ReasonCount]
    count: int = Field(description="number of distinct reasons")


class HealthPublic(PublicModel):
    status: str = Field(description="ok when every check passed, else degraded")
    database: bool
    store: bool


class EstatePublic(PublicModel):
    model_config = ConfigDict(from_attributes=True, frozen=True)

    id: str
    name: str
    timezone: str


class EstateList(PublicModel):
    data: list[EstatePublic]
    count: int


class UnitPublic(PublicModel):
    model_config = ConfigDict(from_attributes=True, frozen=True)

    id: int
    building_code: str
    building_name: str
    code: str
    name: str


class UnitList(PublicModel):
    data: list[UnitPublic]
    count: int


def error_responses(**described: str) -> dict[int | str, dict[str, Any]]:
    """OpenAPI `responses` for a router or route: {status: description}, each in the one
    error shape, e.g. error_responses(e404="no such work order")."""
    return {int(status.removeprefix("e")): {"model": ErrorPublic, "description": description}
            for status, description in described.items()}
