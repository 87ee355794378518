"""SQL tables of the device registry: estates, buildings, units and devices."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import (
    Boolean,
    DateTime,
    Float,
    ForeignKey,
    Integer,
    String,
    UniqueConstraint,
    false,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship, validates

from core.clock import utcnow
from core.db import Base, UtcDateTime
from core.slug import KIND_LENGTH, SLUG_LENGTH

BRIDGE_LENGTH = 32
ADDRESS_LENGTH = 200


class TimestampMixin:
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), default=utcnow, onupdate=utcnow
    )


class Zone(TimestampMixin, Base):
    """A group of estates (大区划片) run together; staff linked to a zone see all its estates."""

    __tablename__ = "zones"

    id: Mapped[str] = mapped_column(String(SLUG_LENGTH), primary_key=True)
    name: Mapped[str] = mapped_column(String(200))


class Estate(TimestampMixin, Base):
    __tablename__ = "estates"

    id: Mapped[str] = mapped_column(String(SLUG_LENGTH), primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    # A free-text area label (a district); `zone_id` is the zone the estate belongs to.
    zone: Mapped[str | None] = mapped_column(String(200))
    zone_id: Mapped[str | None] = mapped_column(
        ForeignKey("zones.id", ondelete="SET NULL"), index=True)
    timezone: Mapped[str] = mapped_column(String(64), default="Asia/Shanghai")

    buildings: Mapped[list[Building]] = relationship(back_populates="estate")


class Building(TimestampMixin, Base):
    __tablename__ = "buildings"
    __table_args__ = (UniqueConstraint("estate_id", "code"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    estate_id: Mapped[str] = mapped_column(ForeignKey("estates.id", ondelete="CASCADE"))
    code: Mapped[str] = mapped_column(String(SLUG_LENGTH))
    name: Mapped[str] = mapped_column(String(200))

    estate: Mapped[Estate] = relationship(back_populates="buildings")
    units: Mapped[list[Unit]] = relationship(back_populates="building")


class Unit(TimestampMixin, Base):
    __tablename__ = "units"
    __table_args__ = (UniqueConstraint("building_id", "code"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    building_id: Mapped[int] = mapped_column(ForeignKey("buildings.id", ondelete="CASCADE"))
    code: Mapped[str] = mapped_column(String(SLUG_LENGTH))
    name: Mapped[str] = mapped_column(String(200))

    building: Mapped[Building] = relationship(back_populates="units")


class Device(TimestampMixin, Base):
    __tablename__ = "devices"
    __table_args__ = (UniqueConstraint("estate_id", "device_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    estate_id: Mapped[str] = mapped_column(ForeignKey("estates.id", ondelete="CASCADE"), index=True)
    device_id: Mapped[str] = mapped_column(String(SLUG_LENGTH))
    device_type: Mapped[str] = mapped_column(String(SLUG_LENGTH), index=True)
    display_name: Mapped[str | None] = mapped_column(String(200))
    building_id: Mapped[int | None] = mapped_column(
        ForeignKey("buildings.id", ondelete="SET NULL"), index=True
    )
    unit_id: Mapped[int | None] = mapped_column(ForeignKey("units.id", ondelete="SET NULL"))
    location: Mapped[str | None] = mapped_column(String(200))
    kind: Mapped[str | None] = mapped_column(String(KIND_LENGTH))
    reporting_interval_s: Mapped[float | None] = mapped_column(Float)
    enabled: Mapped[bool] = mapped_column(Boolean, default=True)
    # Commissioning: not yet installed, so a device never heard from is not missed; once it
    # has reported, silence counts as for any device.
    commissioning: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    # When it was registered, enabled or left commissioning: a device never heard from since
    # is missed (rule `offline`) after its silence window counted from here.
    watched_since: Mapped[datetime | None] = mapped_column(UtcDateTime(), default=utcnow)

    building: Mapped[Building | None] = relationship()
    unit: Mapped[Unit | None] = relationship()

    @validates("enabled", "commissioning")
    def _watch_again(self, key: str, value: bool) -> bool:
        before = getattr(self, key, None)
        starts = (before is False and value) if key == "enabled" else (before and not value)
        if starts:
            self.watched_since = utcnow()
        return value


class BridgeLink(TimestampMixin, Base):
    """How a bridge names a device: a Zigbee2MQTT friendly name, an OCPP charge point id.

    `bridge` is the bridge's name (`zigbee2mqtt`, `ocpp`); `address` is unique per bridge,
    so a bridge finds the one estate and device a name stands for.
    """

    __tablename__ = "bridge_links"
    __table_args__ = (UniqueConstraint("bridge", "address"),
                      UniqueConstraint("device_pk", "bridge"))

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    device_pk: Mapped[int] = mapped_column(ForeignKey("devices.id", ondelete="CASCADE"))
    bridge: Mapped[str] = mapped_column(String(BRIDGE_LENGTH))
    address: Mapped[str] = mapped_column(String(ADDRESS_LENGTH))
