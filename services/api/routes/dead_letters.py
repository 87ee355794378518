"""Messages the gateway refused, for people to inspect."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from core.db import MAX_SQL_INTEGER
from services.api.deps import EstateScope, SessionDep
from services.api.models import DeadLetterList, ReasonCountList
from services.api.queries.dead_letters import DeadLetterFilters, count_by_reason, list_dead_letters

router = APIRouter(prefix="/api/v1/dead-letters", tags=["dead letters"])


@router.get("", response_model=DeadLetterList)
async def read_dead_letters(
    *,
    session: SessionDep,
    scope: EstateScope,
    reason: Annotated[str | None, Query(description="e.g. invalid_json")] = None,
    estate: Annotated[str | None, Query(description="estate id")] = None,
    device: Annotated[str | None, Query(description="device id")] = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
    offset: Annotated[int, Query(ge=0, le=MAX_SQL_INTEGER)] = 0,
) -> DeadLetterList:
    filters = DeadLetterFilters(reason=reason, estate_id=estate, device_id=device, estates=scope)
    letters, total = await list_dead_letters(session, filters=filters, limit=limit, offset=offset)
    return DeadLetterList(data=letters, count=total)


@router.get("/reasons", response_model=ReasonCountList)
async def read_reason_counts(
    session: SessionDep,
    scope: EstateScope,
    estate: Annotated[str | None, Query(description="estate id")] = None,
) -> ReasonCountList:
    counts = await count_by_reason(session, estate_id=estate, estates=scope)
    return ReasonCountList(data=counts, count=len(counts))
