"""What handlers receive: the resources opened in the lifespan, as `Annotated` aliases."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import datetime
from typing import Annotated

from fastapi import Depends, Request
from fastapi.security import OAuth2PasswordBearer
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from connectors.store.base import TelemetryStore
from core.clock import Clock
from device_profiles import ProfileSet
from services.api.alert_stream import AlertHub
from services.api.settings import ApiConfig
from services.auth.authenticator import Authenticator
from services.auth.errors import NotAuthenticated
from services.auth.policy import estate_scope, require_admin, require_visible
from services.auth.principal import Principal
from services.workorders.alert import AlertSink

TOKEN_URL = "/api/v1/auth/token"


@dataclass(frozen=True, slots=True)
class ApiResources:
    """Everything the lifespan opens once and every request shares."""

    settings: ApiConfig
    sessions: async_sessionmaker[AsyncSession]
    store: TelemetryStore
    profiles: ProfileSet
    authenticator: Authenticator
    alerts: AlertHub
    clock: Clock
    notifier: AlertSink | None  # tells people of assignments and new P1/P2 work orders


def get_resources(request: Request) -> ApiResources:
    resources = getattr(request.app.state, "resources", None)
    if not isinstance(resources, ApiResources):
        raise RuntimeError("the API's lifespan has not run: resources are not open")
    return resources


ResourcesDep = Annotated[ApiResources, Depends(get_resources)]


def get_config(resources: ResourcesDep) -> ApiConfig:
    return resources.settings


def get_store(resources: ResourcesDep) -> TelemetryStore:
    return resources.store


def get_profiles(resources: ResourcesDep) -> ProfileSet:
    return resources.profiles


async def get_session(resources: ResourcesDep) -> AsyncIterator[AsyncSession]:
    async with resources.sessions() as session:
        yield session


def get_now(resources: ResourcesDep) -> datetime:
    """The request's "now", from the injectable clock (tests move it through deadlines)."""
    return resources.clock.now()


def get_alert_hub(resources: ResourcesDep) -> AlertHub:
    return resources.alerts


def get_notifier(resources: ResourcesDep) -> AlertSink | None:
    return resources.notifier


bearer_token = OAuth2PasswordBearer(tokenUrl=TOKEN_URL, auto_error=False)


async def current_staff(
    resources: ResourcesDep, token: Annotated[str | None, Depends(bearer_token)]
) -> Principal:
    """The caller behind the bearer token. Applied once to every protected router in main.py;
    handlers that need the caller declare `CurrentStaff` too and get the same cached value."""
    if token is None:
        raise NotAuthenticated("a bearer token is required: POST /api/v1/auth/token to get one")
    return await resources.authenticator.principal(token)


ApiConfigDep = Annotated[ApiConfig, Depends(get_config)]
StoreDep = Annotated[TelemetryStore, Depends(get_store)]
ProfilesDep = Annotated[ProfileSet, Depends(get_profiles)]
SessionDep = Annotated[AsyncSession, Depends(get_session)]
NowDep = Annotated[datetime, Depends(get_now)]
AlertHubDep = Annotated[AlertHub, Depends(get_alert_hub)]
NotifierDep = Annotated[AlertSink | None, Depends(get_notifier)]
CurrentStaff = Annotated[Principal, Depends(current_staff)]


def visible_estates(principal: CurrentStaff) -> frozenset[str] | None:
    """The estates the caller may see (None: every estate), for narrowing lists."""
    return estate_scope(principal)


def visible_estate(estate_id: str, principal: CurrentStaff) -> str:
    """The `{estate_id}` of the path, if the caller may see it; else 404 (no disclosure)."""
    require_visible(principal, estate_id, f"estate {estate_id!r}")
    return estate_id


EstateScope = Annotated[frozenset[str] | None, Depends(visible_estates)]
VisibleEstate = Annotated[str, Depends(visible_estate)]


def admin_staff(principal: CurrentStaff) -> Principal:
    """The caller, if an admin (services.auth.policy decides); applied once to the admin
    router, so no admin handler can forget it."""
    require_admin(principal)
    return principal


AdminStaff = Annotated[Principal, Depends(admin_staff)]
