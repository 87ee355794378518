"""SQL tables of the residents' side: issued QR links, reports and their progress tokens,
and the photos of a work order (residents' and staff's alike)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Integer, LargeBinary, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from core.db import Base, StrEnumColumn, UtcDateTime
from core.slug import SLUG_LENGTH
from services.residents.categories import ResidentCategory

LABEL_LENGTH = 200
TOKEN_HASH_LENGTH = 64  # sha256, hex


class QrLink(Base):
    """A signed link printed as a QR code at one place: an estate, building, unit or device.

    It does not expire; `revoked_at` set refuses it from then on (re-issue makes a new row).
    """

    __tablename__ = "qr_links"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    estate_id: Mapped[str] = mapped_column(ForeignKey("estates.id", ondelete="CASCADE"),
                                           index=True)
    building_id: Mapped[int | None] = mapped_column(ForeignKey("buildings.id",
                                                               ondelete="CASCADE"))
    unit_id: Mapped[int | None] = mapped_column(ForeignKey("units.id", ondelete="CASCADE"))
    device_pk: Mapped[int | None] = mapped_column(ForeignKey("devices.id", ondelete="CASCADE"))
    label: Mapped[str] = mapped_column(String(LABEL_LENGTH))  # written under the code
    created_at: Mapped[datetime] = mapped_column(UtcDateTime())
    revoked_at: Mapped[datetime | None] = mapped_column(UtcDateTime())


class ResidentReport(Base):
    """One resident's report: the work order it opened or joined, and how they rated it."""

    __tablename__ = "resident_reports"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    work_order_id: Mapped[int] = mapped_column(ForeignKey("work_orders.id", ondelete="CASCADE"),
                                               index=True)
    qr_link_id: Mapped[int | None] = mapped_column(ForeignKey("qr_links.id",
                                                              ondelete="SET NULL"))
    # sha256 of the progress token: the token itself is only ever in the resident's link.
    token_hash: Mapped[str] = mapped_column(String(TOKEN_HASH_LENGTH), unique=True)
    category: Mapped[ResidentCategory] = mapped_column(StrEnumColumn(ResidentCategory))
    description: Mapped[str] = mapped_column(Text, default="")
    phone: Mapped[str | None] = mapped_column(String(32))
    joined: Mapped[bool] = mapped_column(default=False)  # joined an open sensor work order
    created_at: Mapped[datetime] = mapped_column(UtcDateTime())
    rating: Mapped[int | None] = mapped_column(Integer)
    rating_comment: Mapped[str | None] = mapped_column(Text)
    rated_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
    # A rating of 2 or less asks a manager to look at the work order (see progress.py).
    review_requested_at: Mapped[datetime | None] = mapped_column(UtcDateTime(), index=True)


class WorkOrderPhoto(Base):
    """A photo of a work order, re-encoded as JPEG without metadata, kept in SQL."""

    __tablename__ = "work_order_photos"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    work_order_id: Mapped[int] = mapped_column(ForeignKey("work_orders.id", ondelete="CASCADE"),
                                               index=True)
    resident_report_id: Mapped[int | None] = mapped_column(
        ForeignKey("resident_reports.id", ondelete="SET NULL"))
    actor: Mapped[str] = mapped_column(String(SLUG_LENGTH))  # staff id or "resident"
    actor_name: Mapped[str] = mapped_column(String(LABEL_LENGTH))
    note: Mapped[str | None] = mapped_column(String(LABEL_LENGTH))
    content_type: Mapped[str] = mapped_column(String(32))
    width: Mapped[int] = mapped_column(Integer)
    height: Mapped[int] = mapped_column(Integer)
    data: Mapped[bytes] = mapped_column(LargeBinary)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime())
