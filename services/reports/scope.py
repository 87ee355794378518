"""Which estates a report covers: the caller's scope, narrowed to a zone and/or an estate."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from registry.tables import Estate, Zone
from services.auth.errors import OutsideScope
from services.auth.policy import estate_scope
from services.auth.principal import Principal


@dataclass(frozen=True, slots=True)
class EstateInfo:
    id: str
    name: str
    zone_id: str | None
    zone_name: str | None


async def visible_estates(session: AsyncSession, principal: Principal) -> list[EstateInfo]:
    """Every estate the caller may see, with its zone, by id."""
    statement = (select(Estate.id, Estate.name, Estate.zone_id, Zone.name)
                 .outerjoin(Zone, Zone.id == Estate.zone_id).order_by(Estate.id))
    scope = estate_scope(principal)
    if scope is not None:
        statement = statement.where(Estate.id.in_(list(scope)))
    return [EstateInfo(*row) for row in await session.execute(statement)]


async def report_estates(session: AsyncSession, principal: Principal, *, zone: str | None,
                         estate: str | None) -> list[EstateInfo]:
    """The visible estates of `zone` (if given), only `estate` (if given). A zone or estate
    the caller sees nothing of is 'not found', so its existence is not disclosed."""
    estates = await visible_estates(session, principal)
    if zone is not None:
        estates = [info for info in estates if info.zone_id == zone]
        if not estates:
            raise OutsideScope("zone not found")
    if estate is not None:
        estates = [info for info in estates if info.id == estate]
        if not estates:
            raise OutsideScope("estate not found")
    return estates
