"""SQL tables of the rule engine: per-estate rule overrides, saved rule state, the anomaly
outbox and the seq de-duplication saved with them (in one transaction: see persistence.py)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
)
from sqlalchemy.orm import Mapped, mapped_column

from core.clock import utcnow
from core.db import Base
from core.slug import SLUG_LENGTH

OWNER_LENGTH = 200


class RuleOverride(Base):
    """An estate's change to one profile rule: switched off, or other numbers (`params`)."""

    __tablename__ = "rule_overrides"

    estate_id: Mapped[str] = mapped_column(
        ForeignKey("estates.id", ondelete="CASCADE"), primary_key=True
    )
    device_type: Mapped[str] = mapped_column(String(SLUG_LENGTH), primary_key=True)
    rule: Mapped[str] = mapped_column(String(SLUG_LENGTH), primary_key=True)
    enabled: Mapped[bool] = mapped_column(Boolean, default=True)
    params: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    updated_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), default=utcnow, onupdate=utcnow
    )


class StoredRuleState(Base):
    """The engine's memory of one (device, rule): timers, counters and the open episode."""

    __tablename__ = "rule_state"

    device_pk: Mapped[int] = mapped_column(
        ForeignKey("devices.id", ondelete="CASCADE"), primary_key=True
    )
    rule: Mapped[str] = mapped_column(String(SLUG_LENGTH), primary_key=True)
    state: Mapped[dict[str, Any]] = mapped_column(JSON)
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class OutboxAnomaly(Base):
    """An anomaly raised or cleared, saved with the rule state that says so, kept until the
    work-order intake has it (gateway/rules/outbox.py); `id` is the order to deliver in.
    `owner`: the gateway that saved it (its MQTT client id), the only one to deliver it: two
    gateways delivering one row between other rows would count it as a recurrence."""

    __tablename__ = "anomaly_outbox"
    __table_args__ = (Index("ix_anomaly_outbox_owner_id", "owner", "id"),)

    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"),
                                    primary_key=True, autoincrement=True)
    owner: Mapped[str] = mapped_column(String(OWNER_LENGTH))
    anomaly: Mapped[dict[str, Any]] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class StoredSeqWindow(Base):
    """A device's seq de-duplication: the highest seq seen and a bitmap of the ones before."""

    __tablename__ = "seq_windows"

    device_pk: Mapped[int] = mapped_column(
        ForeignKey("devices.id", ondelete="CASCADE"), primary_key=True
    )
    high: Mapped[int] = mapped_column(BigInteger)
    seen: Mapped[bytes] = mapped_column(LargeBinary)


class RecentMessage(Base):
    """A message without seq recently taken in (hash of topic, ts and payload), by receipt
    time; pruned as the gateway forgets it."""

    __tablename__ = "recent_messages"

    digest: Mapped[bytes] = mapped_column(LargeBinary(16), primary_key=True)
    received_ns: Mapped[int] = mapped_column(BigInteger, index=True)
