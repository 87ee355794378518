"""The API application: built by `create_app`, resources opened in its lifespan."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Callable, Iterable
from contextlib import AbstractAsyncContextManager, AsyncExitStack, asynccontextmanager

from fastapi import APIRouter, Depends, FastAPI
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from connectors.store.base import TelemetryStore
from core.clock import Clock, SystemClock
from core.db import open_database
from device_profiles import load_profiles
from services.api.alert_stream import AlertHub, listen_for_alerts
from services.api.deps import ApiResources, current_staff
from services.api.guards import RequestGuard
from services.api.handlers import add_error_handlers
from services.api.openapi import openapi_with_errors
from services.api.routes import (
    admin,
    alerts,
    auth,
    dead_letters,
    devices,
    health,
    metrics,
    photos,
    reports,
    residents,
    telemetry,
    work_orders,
)
from services.api.settings import ApiConfig
from services.auth.authenticator import Authenticator
from services.auth.errors import MissingJwtSecret
from services.auth.settings import AuthSettings
from services.auth.throttle import LoginThrottle
from services.web import router as staff_page_router
from services.web.admin import router as admin_page_router
from services.web.manager import router as manager_page_router
from services.web.residents import router as resident_pages_router
from services.workorders.alert import AlertSink

Lifespan = Callable[[FastAPI], AbstractAsyncContextManager[None]]

PUBLIC_ROUTERS = (health.router, metrics.router, auth.token_router, staff_page_router,
                  admin_page_router, residents.router, resident_pages_router, manager_page_router)
PROTECTED_ROUTERS = (auth.router, devices.router, telemetry.router, dead_letters.router,
                     photos.router, work_orders.router, alerts.router, admin.router,
                     reports.router)


async def _open_sessions(
    settings: ApiConfig, stack: AsyncExitStack
) -> async_sessionmaker[AsyncSession]:
    return await stack.enter_async_context(open_database(settings.effective_database_url))


async def _open_store(settings: ApiConfig, stack: AsyncExitStack) -> TelemetryStore:
    # Imported here so the store backends load only when the API opens its own store.
    from connectors.store.factory import open_store

    return await stack.enter_async_context(
        open_store(settings.influx, settings.embedded_telemetry_path)
    )


async def _cancel(task: asyncio.Task[None]) -> None:
    task.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await task


def _jwt_secret(settings: ApiConfig) -> str:
    if settings.auth.jwt_secret is None:
        raise MissingJwtSecret()
    return settings.auth.jwt_secret.get_secret_value()


def _throttle(auth: AuthSettings) -> LoginThrottle:
    return LoginThrottle(per_account=auth.failed_logins_per_account,
                         per_address=auth.failed_logins_per_address,
                         window_s=auth.login_window_s)


def _lifespan(
    settings: ApiConfig,
    store: TelemetryStore | None,
    sessions: async_sessionmaker[AsyncSession] | None,
    clock: Clock,
    alert_hub: AlertHub | None,
    notifier: AlertSink | None,
) -> Lifespan:
    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        async with AsyncExitStack() as stack:
            opened = await _open_sessions(settings, stack) if sessions is None else sessions
            hub = AlertHub() if alert_hub is None else alert_hub
            app.state.resources = ApiResources(
                settings=settings, sessions=opened,
                store=await _open_store(settings, stack) if store is None else store,
                profiles=await asyncio.to_thread(load_profiles, settings.profile_dirs),
                authenticator=Authenticator(opened, _jwt_secret(settings),
                                            settings.auth.token_ttl_s, clock,
                                            _throttle(settings.auth)),
                alerts=hub, clock=clock, notifier=notifier,
            )
            listener = asyncio.create_task(listen_for_alerts(settings.mqtt, hub),
                                           name="alert-listener")
            stack.push_async_callback(_cancel, listener)
            try:
                yield
            finally:
                del app.state.resources

    return lifespan


def behind_token(routers: Iterable[APIRouter]) -> APIRouter:
    """The routers' routes, each requiring a valid bearer token: the one place it is applied,
    so a handler that never asks who is calling is protected all the same."""
    protected = APIRouter(dependencies=[Depends(current_staff)])
    for router in routers:
        protected.include_router(router)
    return protected


def create_app(
    settings: ApiConfig,
    *,
    store: TelemetryStore | None = None,
    sessions: async_sessionmaker[AsyncSession] | None = None,
    clock: Clock | None = None,
    alert_hub: AlertHub | None = None,
    notifier: AlertSink | None = None,
) -> FastAPI:
    """The API; a given `store` or `sessions` is used as is and left open for its owner.

    `clock` is the API's "now" (token expiry, deadlines; default: the system clock),
    `alert_hub` the fan-out behind the alert stream, `notifier` who tells people of
    assignments and of new P1/P2 work orders (None: nobody is told by the API).
    """
    _jwt_secret(settings)  # refuse to build an API that could not sign a token
    app = FastAPI(
        title="EstateOps API",
        summary="Devices, telemetry, dead letters and work orders of residential estates",
        version="1",
        docs_url=None,  # served from services.web with local assets, not a CDN
        redoc_url=None,
        lifespan=_lifespan(settings, store, sessions, clock or SystemClock(), alert_hub,
                           notifier),
    )
    add_error_handlers(app)
    app.add_middleware(RequestGuard, max_body_bytes=settings.api.max_body_bytes,
                       max_upload_bytes=settings.api.max_upload_bytes)
    app.openapi = openapi_with_errors(app)  # type: ignore[method-assign]
    for router in PUBLIC_ROUTERS:
        app.include_router(router)
    app.include_router(behind_token(PROTECTED_ROUTERS))
    return app
