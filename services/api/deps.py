"""What handlers receive: the resources opened in the lifespan, as `Annotated` aliases."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, Request
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from device_profiles import ProfileSet
from estateops.settings import Settings
from gateway.store.base import TelemetryStore


@dataclass(frozen=True, slots=True)
class ApiResources:
    """Everything the lifespan opens once and every request shares."""

    settings: Settings
    sessions: async_sessionmaker[AsyncSession]
    store: TelemetryStore
    profiles: ProfileSet


def get_resources(request: Request) -> ApiResources:
    resources = getattr(request.app.state, "resources", None)
    if not isinstance(resources, ApiResources):
        raise RuntimeError("the API's lifespan has not run: resources are not open")
    return resources


ResourcesDep = Annotated[ApiResources, Depends(get_resources)]


def get_settings(resources: ResourcesDep) -> Settings:
    return resources.settings


def get_store(resources: ResourcesDep) -> TelemetryStore:
    return resources.store


def get_profiles(resources: ResourcesDep) -> ProfileSet:
    return resources.profiles


async def get_session(resources: ResourcesDep) -> AsyncIterator[AsyncSession]:
    async with resources.sessions() as session:
        yield session


SettingsDep = Annotated[Settings, Depends(get_settings)]
StoreDep = Annotated[TelemetryStore, Depends(get_store)]
ProfilesDep = Annotated[ProfileSet, Depends(get_profiles)]
SessionDep = Annotated[AsyncSession, Depends(get_session)]
