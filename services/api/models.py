"""Response models: what the API promises to return, one family per resource."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any

from pydantic import AfterValidator, BaseModel, ConfigDict, Field

from connectors.store.base import Aggregate


def _assume_utc(moment: datetime) -> datetime:
    # SQLite hands back naive datetimes; everything EstateOps stores is UTC.
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


UtcDatetime = Annotated[datetime, AfterValidator(_assume_utc)]


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


class DeviceList(PublicModel):
    data: list[DevicePublic]
    count: int = Field(description="devices matching the filters, ignoring limit and offset")


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
