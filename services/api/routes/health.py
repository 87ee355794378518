"""Liveness of the API's dependencies: the SQL database and the telemetry store."""

from __future__ import annotations

import asyncio
import logging

from fastapi import APIRouter
from fastapi.responses import JSONResponse
from sqlalchemy import text

from services.api.deps import ResourcesDep
from services.api.models import HealthPublic

router = APIRouter(tags=["health"])
log = logging.getLogger(__name__)
CHECK_TIMEOUT_S = 2.0


async def database_ok(resources: ResourcesDep) -> bool:
    try:
        async with asyncio.timeout(CHECK_TIMEOUT_S), resources.sessions() as session:
            await session.execute(text("SELECT 1"))
    except Exception:  # any failure means "not healthy"; the reason goes to the log
        log.warning("health check: database unreachable", exc_info=True)
        return False
    return True


async def store_ok(resources: ResourcesDep) -> bool:
    try:
        async with asyncio.timeout(CHECK_TIMEOUT_S):
            return await resources.store.ping()
    except Exception:
        log.warning("health check: telemetry store unreachable", exc_info=True)
        return False


@router.get(
    "/healthz",
    response_model=HealthPublic,
    responses={503: {"model": HealthPublic, "description": "a dependency is down"}},
)
async def read_health(resources: ResourcesDep) -> JSONResponse:
    database, store = await asyncio.gather(database_ok(resources), store_ok(resources))
    health = HealthPublic(status="ok" if database and store else "degraded",
                          database=database, store=store)
    return JSONResponse(health.model_dump(), status_code=200 if health.status == "ok" else 503)
