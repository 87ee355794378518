"""SQL tables the gateway writes: each device's last state, and the messages it refused."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    DateTime,
    ForeignKey,
    Integer,
    LargeBinary,
    String,
    Text,
)
from sqlalchemy.orm import Mapped, mapped_column

from core.db import Base
from core.slug import SLUG_LENGTH


class DeviceState(Base):
    """The last thing each device said, kept by the gateway."""

    __tablename__ = "device_state"

    device_pk: Mapped[int] = mapped_column(
        ForeignKey("devices.id", ondelete="CASCADE"), primary_key=True
    )
    online: Mapped[bool | None] = mapped_column(Boolean)
    status_changed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    last_seen_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    last_telemetry_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    last_telemetry: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    last_event_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    last_event: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    last_seq: Mapped[int | None] = mapped_column(BigInteger)


class DeadLetter(Base):
    """A message the gateway refused, kept with its reason for inspection."""

    __tablename__ = "dead_letters"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    received_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), index=True)
    topic: Mapped[str] = mapped_column(Text)
    reason: Mapped[str] = mapped_column(String(64), index=True)
    detail: Mapped[str] = mapped_column(Text)
    estate_id: Mapped[str | None] = mapped_column(String(SLUG_LENGTH))
    device_id: Mapped[str | None] = mapped_column(String(SLUG_LENGTH))
    payload: Mapped[bytes] = mapped_column(LargeBinary)
    payload_size: Mapped[int] = mapped_column(Integer)
