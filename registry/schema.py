"""The estate description operators import (YAML or CSV), validated strictly."""

from __future__ import annotations

from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, model_validator

from core.slug import SLUG_PATTERN
from device_profiles.schema import Kind

Slug = Annotated[str, Field(pattern=SLUG_PATTERN)]
Name = Annotated[str, Field(min_length=1, max_length=200)]
# Zigbee2MQTT friendly names: no MQTT wildcards, no leading/trailing "/".
FriendlyName = Annotated[str, Field(pattern=r"^[^/#+\s]([^#+]{0,198}[^/#+\s])?$")]
ChargePointId = Annotated[str, Field(pattern=r"^[A-Za-z0-9._:-]{1,48}$")]


class ImportModel(BaseModel):
    model_config = ConfigDict(extra="forbid")


class UnitIn(ImportModel):
    code: Slug
    name: Name


class BuildingIn(ImportModel):
    code: Slug
    name: Name
    units: list[UnitIn] = Field(default_factory=list)


class DeviceIn(ImportModel):
    id: Slug
    type: Slug
    name: Name | None = None
    building: Slug | None = None
    unit: Slug | None = None
    location: str | None = Field(default=None, max_length=200)
    # Any slug here; the importer checks it against the kinds its type's profile declares.
    kind: Kind | None = None
    reporting_interval_s: Annotated[float, Field(gt=0)] | None = None
    enabled: bool = True
    # Not installed yet: never missed before its first report (see registry/README.md).
    commissioning: bool = False
    # Names a bridge knows the device by (see bridges/): a Zigbee2MQTT friendly name (may
    # contain "/"), an OCPP 1.6 charge point identity (chargeBoxIdentity, at most 48).
    zigbee2mqtt: FriendlyName | None = None
    ocpp: ChargePointId | None = None

    @property
    def bridge_addresses(self) -> dict[str, str]:
        """{bridge: address} of the bridges that know this device."""
        given = {"zigbee2mqtt": self.zigbee2mqtt, "ocpp": self.ocpp}
        return {bridge: address for bridge, address in given.items() if address is not None}

    @model_validator(mode="after")
    def _unit_needs_building(self) -> DeviceIn:
        if self.unit is not None and self.building is None:
            raise ValueError("a device with a unit must name its building")
        return self


class EstateIn(ImportModel):
    id: Slug
    name: Name
    zone: Name | None = None
    timezone: str = "Asia/Shanghai"
    buildings: list[BuildingIn] = Field(default_factory=list)
    devices: list[DeviceIn] = Field(default_factory=list)

    @model_validator(mode="after")
    def _references_resolve(self) -> EstateIn:
        units = {b.code: {u.code for u in b.units} for b in self.buildings}
        if len(units) != len(self.buildings):
            raise ValueError("building codes must be unique within an estate")
        seen: set[str] = set()
        for device in self.devices:
            if device.id in seen:
                raise ValueError(f"device {device.id!r} is listed twice")
            seen.add(device.id)
            if device.building is not None and device.building not in units:
                raise ValueError(f"device {device.id!r}: unknown building {device.building!r}")
            if device.unit is not None and device.unit not in units[device.building or ""]:
                raise ValueError(f"device {device.id!r}: unknown unit {device.unit!r}")
        return self


class ZoneIn(ImportModel):
    """A zone (大区划片) estates belong to: an estate's `zone:` names its id or name."""

    id: Slug
    name: Name


class EstateFile(ImportModel):
    """Top level of an import file: the zones (optional), then one or more estates."""

    zones: list[ZoneIn] = Field(default_factory=list)
    estates: list[EstateIn]

    def zone_of(self, estate: EstateIn) -> ZoneIn | None:
        """The listed zone the estate's `zone:` names (by id or name), if any."""
        for zone in self.zones:
            if estate.zone in (zone.id, zone.name):
                return zone
        return None

    @model_validator(mode="after")
    def _zones_resolve(self) -> EstateFile:
        if len({zone.id for zone in self.zones}) != len(self.zones):
            raise ValueError("zone ids must be unique")
        return self

    def unzoned(self) -> list[int]:
        """Indexes of the estates whose `zone:` names no listed zone, when zones are listed
        (a file listing none keeps `zone:` as a free-text area label)."""
        if not self.zones:
            return []
        return [i for i, estate in enumerate(self.estates)
                if estate.zone is not None and self.zone_of(estate) is None]


CSV_COLUMNS = (
    "estate_id", "estate_name", "zone", "building_code", "building_name", "unit_code",
    "unit_name", "device_id", "device_type", "display_name", "location", "kind",
    "reporting_interval_s", "zigbee2mqtt", "ocpp",
)
