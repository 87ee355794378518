"""SQL tables of the rule engine: per-estate rule overrides and saved rule state."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Boolean, DateTime, ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from core.clock import utcnow
from core.db import Base
from core.slug import SLUG_LENGTH


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
