"""The demo's QR link: one for 41号楼2单元 (where the scripted leak is), printed in its banner
so a newcomer can open the residents' report page on a phone."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from estateops.settings import Settings
from registry.schema import EstateFile
from services.residents import links
from services.residents.signing import SignedCode, link_key

LEAK_PLACE = ("b41", "u2")


def _place(estate: EstateFile) -> links.PlaceRef | None:
    entry = estate.estates[0]
    units = [(building.code, unit.code) for building in entry.buildings
             for unit in building.units]
    if not units:
        return None
    building, unit = LEAK_PLACE if LEAK_PLACE in units else units[0]
    return links.PlaceRef(entry.id, building, unit)


def _key(settings: Settings) -> bytes:
    auth = settings.auth
    jwt = auth.jwt_secret.get_secret_value() if auth.jwt_secret else ""
    return link_key(auth.qr_secret.get_secret_value() if auth.qr_secret else None, jwt)


async def demo_qr_link(sessions: async_sessionmaker[AsyncSession], estate: EstateFile,
                       settings: Settings) -> str | None:
    """The link at the leak's unit (or the first unit), as a full URL; None: no units."""
    place = _place(estate)
    if place is None:
        return None
    async with sessions.begin() as session:
        link = await links.issue_once(session, place, now=datetime.now(UTC))
        link_id, label = link.id, link.label
    path = SignedCode(place.estate_id, link_id).path(_key(settings))
    base = settings.api.link_base or settings.api.local_base()
    return f"{label}  {base}{path}"
