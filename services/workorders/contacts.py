"""Resident contacts per unit: who else hears of a leak in their home (recipients.py)."""

from __future__ import annotations

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from registry.tables import Building, Unit
from services.workorders.alert_routes import check_apprise_url
from services.workorders.errors import InvalidReference
from services.workorders.tables import UnitContact


async def list_contacts(session: AsyncSession, *, estate_id: str | None = None,
                        unit_id: int | None = None) -> list[UnitContact]:
    statement = (select(UnitContact).join(Unit, Unit.id == UnitContact.unit_id)
                 .join(Building, Building.id == Unit.building_id)
                 .order_by(Building.code, Unit.code, UnitContact.id))
    if estate_id is not None:
        statement = statement.where(Building.estate_id == estate_id)
    if unit_id is not None:
        statement = statement.where(UnitContact.unit_id == unit_id)
    return list(await session.scalars(statement))


async def add_contact(session: AsyncSession, *, unit_id: int, name: str,
                      phone: str | None = None, apprise_url: str | None = None) -> UnitContact:
    if await session.get(Unit, unit_id) is None:
        raise InvalidReference("unit_id", unit_id, "no such unit")
    if apprise_url:
        check_apprise_url(apprise_url)
    contact = UnitContact(unit_id=unit_id, name=name, phone=phone or None,
                          apprise_url=apprise_url or None)
    session.add(contact)
    await session.flush()
    return contact


async def update_contact(session: AsyncSession, contact_id: int, *, name: str,
                         phone: str | None, apprise_url: str | None) -> UnitContact | None:
    """The contact changed; None if there is no such contact."""
    contact = await session.get(UnitContact, contact_id)
    if contact is None:
        return None
    if apprise_url:
        check_apprise_url(apprise_url)
    contact.name, contact.phone, contact.apprise_url = name, phone or None, apprise_url or None
    await session.flush()
    return contact


async def remove_contact(session: AsyncSession, contact_id: int) -> bool:
    result = await session.execute(delete(UnitContact).where(UnitContact.id == contact_id))
    return bool(getattr(result, "rowcount", 0))
