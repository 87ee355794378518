"""Who hears of a work order: the duty rota, alert routes (with a real test message) and
resident contacts per unit."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, status

from core.vocabulary import Team
from services.api.deps import NowDep, SessionDep
from services.api.errors import NotFound
from services.api.models import IsoDatetime, RowId
from services.workorders import alert_routes, contacts, rota
from services.workorders.schemas import (
    AlertRouteCreate,
    AlertRouteList,
    AlertRoutePublic,
    SendTestPublic,
    ShiftCreate,
    ShiftList,
    ShiftPublic,
    UnitContactCreate,
    UnitContactList,
    UnitContactPublic,
)

router = APIRouter(tags=["admin: alerting"])
EstateQuery = Annotated[str | None, Query(description="estate id")]


def _gone(what: str, found: bool) -> None:
    if not found:
        raise NotFound(f"{what} not found")


@router.get("/shifts", response_model=ShiftList)
async def read_shifts(session: SessionDep, now: NowDep, estate: EstateQuery = None,
                      ending_after: IsoDatetime | None = None) -> ShiftList:
    """Shifts not yet over (or ending after `ending_after`), in start order."""
    rows = await rota.list_shifts(session, estate_id=estate,
                                  ending_after=ending_after or now)
    return ShiftList(data=[ShiftPublic.model_validate(row) for row in rows], count=len(rows))


@router.post("/shifts", response_model=ShiftPublic, status_code=status.HTTP_201_CREATED)
async def add_shift(shift: ShiftCreate, session: SessionDep) -> ShiftPublic:
    row = await rota.add_shift(session, **shift.model_dump())
    await session.commit()
    return ShiftPublic.model_validate(row)


@router.delete("/shifts/{shift_id}", status_code=status.HTTP_204_NO_CONTENT)
async def remove_shift(shift_id: RowId, session: SessionDep) -> None:
    _gone(f"shift {shift_id}", await rota.remove_shift(session, shift_id))
    await session.commit()


@router.get("/alert-routes", response_model=AlertRouteList)
async def read_routes(session: SessionDep, estate: EstateQuery = None,
                      team: Team | None = None) -> AlertRouteList:
    rows = await alert_routes.list_routes(session, estate_id=estate, team=team)
    return AlertRouteList(data=[AlertRoutePublic.model_validate(row) for row in rows],
                          count=len(rows))


@router.post("/alert-routes", response_model=AlertRoutePublic,
             status_code=status.HTTP_201_CREATED)
async def add_route(route: AlertRouteCreate, session: SessionDep) -> AlertRoutePublic:
    row = await alert_routes.add_route(session, **route.model_dump())
    await session.commit()
    return AlertRoutePublic.model_validate(row)


@router.delete("/alert-routes/{route_id}", status_code=status.HTTP_204_NO_CONTENT)
async def remove_route(route_id: RowId, session: SessionDep) -> None:
    _gone(f"alert route {route_id}", await alert_routes.remove_route(session, route_id))
    await session.commit()


@router.post("/alert-routes/{route_id}/test", response_model=SendTestPublic)
async def send_test(route_id: RowId, session: SessionDep) -> SendTestPublic:
    """Send a real test message through apprise to this route; `sent` says if it went."""
    route = await alert_routes.get_route(session, route_id)
    if route is None:
        raise NotFound(f"alert route {route_id} not found")
    await session.close()  # hold no connection while apprise waits on the network
    result = await alert_routes.send_test(route.apprise_url, estate_id=route.estate_id,
                                          team=route.team)
    return SendTestPublic(sent=result.sent, detail=result.detail)


@router.get("/unit-contacts", response_model=UnitContactList)
async def read_contacts(session: SessionDep, estate: EstateQuery = None,
                        unit_id: int | None = None) -> UnitContactList:
    rows = await contacts.list_contacts(session, estate_id=estate, unit_id=unit_id)
    return UnitContactList(data=[UnitContactPublic.model_validate(row) for row in rows],
                           count=len(rows))


@router.post("/unit-contacts", response_model=UnitContactPublic,
             status_code=status.HTTP_201_CREATED)
async def add_contact(contact: UnitContactCreate, session: SessionDep) -> UnitContactPublic:
    row = await contacts.add_contact(session, **contact.model_dump())
    await session.commit()
    return UnitContactPublic.model_validate(row)


@router.put("/unit-contacts/{contact_id}", response_model=UnitContactPublic)
async def edit_contact(contact_id: RowId, contact: UnitContactCreate,
                       session: SessionDep) -> UnitContactPublic:
    row = await contacts.update_contact(session, contact_id, name=contact.name,
                                        phone=contact.phone, apprise_url=contact.apprise_url)
    if row is None:
        raise NotFound(f"resident contact {contact_id} not found")
    await session.commit()
    return UnitContactPublic.model_validate(row)


@router.delete("/unit-contacts/{contact_id}", status_code=status.HTTP_204_NO_CONTENT)
async def remove_contact(contact_id: RowId, session: SessionDep) -> None:
    _gone(f"resident contact {contact_id}", await contacts.remove_contact(session, contact_id))
    await session.commit()
