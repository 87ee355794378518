"""What the residents' pages send and get back (pydantic v2)."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, Field

from services.residents.categories import ResidentCategory
from services.workorders.model import Status

# 8 MB of photo as base64, and a little.
MAX_PHOTO_BASE64 = 8 * 1024 * 1024 * 4 // 3 + 16
PHONE_PATTERN = r"^\+?[0-9][0-9 -]{5,19}$"


class CategoryOption(BaseModel):
    value: ResidentCategory
    label: str


class LinkPlace(BaseModel):
    """Where a scanned code is: shown at the top of the report page."""

    estate_name: str
    place: str
    categories: list[CategoryOption]


class ReportSubmit(BaseModel):
    category: ResidentCategory
    description: str = Field(default="", max_length=1000)
    phone: str | None = Field(default=None, pattern=PHONE_PATTERN)
    photo_base64: str | None = Field(default=None, max_length=MAX_PHOTO_BASE64)


class ReportAccepted(BaseModel):
    progress_url: str
    joined: bool = Field(description="joined an open work order of the same problem")


class NotePublic(BaseModel):
    at: datetime
    by: str
    text: str


class PhotoPublic(BaseModel):
    id: int
    url: str
    by: str
    by_resident: bool
    note: str | None
    at: datetime


class ProgressPublic(BaseModel):
    title: str
    place: str | None
    status: Status
    reported_at: datetime  # the report's time; a notice's link: when the work order began
    via_notice: bool = False  # a link sent with a notice (a sensor found it), not a report
    acknowledged_at: datetime | None
    resolved_at: datetime | None
    taken_by: str | None
    notes: list[NotePublic]
    photos: list[PhotoPublic]
    can_rate: bool
    rating: int | None
    rating_comment: str | None


class RatingSubmit(BaseModel):
    rating: int = Field(ge=1, le=5)
    comment: str | None = Field(default=None, max_length=500)


class RatingAccepted(BaseModel):
    rating: int
    review_requested: bool
