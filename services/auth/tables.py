"""SQL tables of staff accounts and the estates each may see."""

from __future__ import annotations

from sqlalchemy import Boolean, ForeignKey, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from core.db import Base, StrEnumColumn
from core.slug import SLUG_LENGTH
from core.vocabulary import Team
from services.auth.principal import Role

NAME_LENGTH = 200


class Staff(Base):
    __tablename__ = "staff"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    username: Mapped[str] = mapped_column(String(SLUG_LENGTH), unique=True)
    display_name: Mapped[str] = mapped_column(String(NAME_LENGTH))
    password_hash: Mapped[str] = mapped_column(String(255))
    role: Mapped[Role] = mapped_column(StrEnumColumn(Role))
    team: Mapped[Team | None] = mapped_column(StrEnumColumn(Team))
    on_duty: Mapped[bool] = mapped_column(Boolean, default=False)
    apprise_url: Mapped[str | None] = mapped_column(Text)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    token_generation: Mapped[int] = mapped_column(Integer, default=0, server_default="0")


class StaffEstate(Base):
    """Which estates a staff member works in (and may see)."""

    __tablename__ = "staff_estates"

    staff_id: Mapped[int] = mapped_column(
        ForeignKey("staff.id", ondelete="CASCADE"), primary_key=True
    )
    estate_id: Mapped[str] = mapped_column(
        ForeignKey("estates.id", ondelete="CASCADE"), primary_key=True, index=True
    )


class StaffZone(Base):
    """Which zones a staff member works in: it sees every estate of each."""

    __tablename__ = "staff_zones"

    staff_id: Mapped[int] = mapped_column(
        ForeignKey("staff.id", ondelete="CASCADE"), primary_key=True
    )
    zone_id: Mapped[str] = mapped_column(
        ForeignKey("zones.id", ondelete="CASCADE"), primary_key=True, index=True
    )
