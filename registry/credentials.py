"""Each registered device's broker password, kept only as the hash Mosquitto reads.

`estateops broker sync` issues a password once per device, stores its hash here and hands
the plain password out once (`--export`); the broker's password and ACL files are rendered
from these rows and the registry. A device's row goes with the device (ON DELETE CASCADE).
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import DateTime, ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from core.clock import utcnow
from core.db import Base

HASH_LENGTH = 255


class DeviceCredential(Base):
    __tablename__ = "device_credentials"

    device_pk: Mapped[int] = mapped_column(
        ForeignKey("devices.id", ondelete="CASCADE"), primary_key=True)
    password_hash: Mapped[str] = mapped_column(String(HASH_LENGTH))
    issued_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
