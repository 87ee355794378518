"""The API application: built by `create_app`, resources opened in its lifespan."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, AsyncExitStack, asynccontextmanager

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from device_profiles import load_profiles
from estateops.settings import Settings, get_settings
from gateway.store.base import TelemetryStore
from services.api.deps import ApiResources
from services.api.errors import ApiError
from services.api.routes import dead_letters, devices, health, metrics, telemetry
from services.db import open_database

Lifespan = Callable[[FastAPI], AbstractAsyncContextManager[None]]


async def _open_sessions(
    settings: Settings, stack: AsyncExitStack
) -> async_sessionmaker[AsyncSession]:
    return await stack.enter_async_context(open_database(settings.effective_database_url))


async def _open_store(settings: Settings, stack: AsyncExitStack) -> TelemetryStore:
    # Imported here so the store backends load only when the API opens its own store.
    from gateway.store.factory import open_store

    return await stack.enter_async_context(
        open_store(settings.influx, settings.embedded_telemetry_path)
    )


def _lifespan(
    settings: Settings,
    store: TelemetryStore | None,
    sessions: async_sessionmaker[AsyncSession] | None,
) -> Lifespan:
    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        async with AsyncExitStack() as stack:
            app.state.resources = ApiResources(
                settings=settings,
                sessions=await _open_sessions(settings, stack) if sessions is None else sessions,
                store=await _open_store(settings, stack) if store is None else store,
                profiles=await asyncio.to_thread(load_profiles, settings.profile_dirs),
            )
            try:
                yield
            finally:
                del app.state.resources

    return lifespan


async def _api_error_response(_request: Request, exc: Exception) -> JSONResponse:
    """The one place where domain errors become HTTP responses."""
    if not isinstance(exc, ApiError):
        raise exc
    return JSONResponse(exc.body(), status_code=exc.status_code)


def create_app(
    settings: Settings,
    *,
    store: TelemetryStore | None = None,
    sessions: async_sessionmaker[AsyncSession] | None = None,
) -> FastAPI:
    """The API; a given `store` or `sessions` is used as is and left open for its owner."""
    app = FastAPI(
        title="EstateOps API",
        summary="Devices, last state, telemetry history and dead letters of residential estates",
        version="1",
        lifespan=_lifespan(settings, store, sessions),
    )
    app.add_exception_handler(ApiError, _api_error_response)
    for router in (devices.router, telemetry.router, dead_letters.router, health.router,
                   metrics.router):
        app.include_router(router)
    return app


def app_from_environment() -> FastAPI:
    """For `uvicorn --factory services.api.main:app_from_environment`."""
    return create_app(get_settings())
