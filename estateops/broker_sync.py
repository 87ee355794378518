"""`estateops broker sync`: one broker account per enabled registered device.

Passwords: issued once per device (192 random bits), stored only as the Mosquitto hash in
`device_credentials`, and handed out once, in the `--export` file, for provisioning. A
later sync keeps every existing password; a device removed from the registry loses its
row (and so its account); a disabled device keeps its row but gets no account.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from estateops.broker_access import (
    DeviceAccount,
    device_username,
    mosquitto_hash,
    new_password,
    write_atomically,
)
from registry.credentials import DeviceCredential
from registry.tables import Device

EXPORT_MODE = 0o600
EXPORT_COLUMNS = ("estate_id", "device_id", "device_type", "username", "password", "topic")


class UnexportedPasswords(RuntimeError):
    """New devices need passwords, and nowhere was given to hand them out."""

    def __init__(self, count: int) -> None:
        super().__init__(f"{count} device(s) have no broker password yet; give --export FILE "
                         "to issue them (each password is shown once, in that file)")
        self.count = count


@dataclass(frozen=True, slots=True)
class IssuedPassword:
    account: DeviceAccount
    password: str = field(repr=False)


@dataclass(frozen=True, slots=True)
class SyncResult:
    accounts: list[DeviceAccount]
    issued: list[IssuedPassword]
    removed: int


async def _drop_orphans(session: AsyncSession) -> int:
    """Credentials of devices no longer registered (SQLite without foreign keys, old rows)."""
    orphans = delete(DeviceCredential).where(DeviceCredential.device_pk.not_in(select(Device.id)))
    result = await session.execute(orphans)
    return int(getattr(result, "rowcount", 0) or 0)


def _issue(session: AsyncSession, device: Device) -> IssuedPassword:
    password = new_password()
    password_hash = mosquitto_hash(password)
    session.add(DeviceCredential(device_pk=device.id, password_hash=password_hash))
    return IssuedPassword(_account(device, password_hash), password)


def _account(device: Device, password_hash: str) -> DeviceAccount:
    return DeviceAccount(estate_id=device.estate_id, device_id=device.device_id,
                         device_type=device.device_type, password_hash=password_hash)


async def sync_credentials(sessions: async_sessionmaker[AsyncSession], *,
                           may_issue: bool) -> SyncResult:
    """Every enabled device's account; issues passwords for those without one (only when
    `may_issue`, else UnexportedPasswords and nothing changes)."""
    async with sessions() as session, session.begin():
        removed = await _drop_orphans(session)
        query = (select(Device, DeviceCredential.password_hash)
                 .outerjoin(DeviceCredential, DeviceCredential.device_pk == Device.id)
                 .where(Device.enabled.is_(True))
                 .order_by(Device.estate_id, Device.device_id))
        rows = (await session.execute(query)).all()
        missing = [device for device, password_hash in rows if password_hash is None]
        if missing and not may_issue:
            raise UnexportedPasswords(len(missing))
        issued = [_issue(session, device) for device in missing]
        known = [_account(device, password_hash) for device, password_hash in rows
                 if password_hash is not None]
    accounts = sorted([*known, *(item.account for item in issued)],
                      key=lambda account: account.username)
    return SyncResult(accounts=accounts, issued=issued, removed=removed)


def export_text(issued: list[IssuedPassword]) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(EXPORT_COLUMNS)
    for item in issued:
        account = item.account
        writer.writerow((account.estate_id, account.device_id, account.device_type,
                         device_username(account.estate_id, account.device_id),
                         item.password, account.topic))
    return out.getvalue()


def write_export(path: Path, issued: list[IssuedPassword]) -> None:
    """The new passwords, for provisioning: readable by the file's owner only."""
    write_atomically(path, export_text(issued), mode=EXPORT_MODE)
