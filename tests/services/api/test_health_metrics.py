"""/healthz, /metrics, the OpenAPI schema, and resources opened by the lifespan itself."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from pathlib import Path

import pytest
from fastapi import FastAPI
from prometheus_client import REGISTRY, Counter
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker, create_async_engine

from connectors.store.base import StoreError
from core.db import session_factory
from estateops.settings import Settings
from services.api import create_app
from tests.services.api.conftest import serving
from tests.services.api.factories import ALL_DEVICES, FakeStore


async def test_healthz_ok_when_database_and_store_answer(
    build_app: Callable[..., FastAPI],
) -> None:
    async with serving(build_app()) as client:
        response = await client.get("/healthz")

    assert response.status_code == 200
    assert response.json() == {"status": "ok", "database": True, "store": True}


@pytest.mark.parametrize(
    "store",
    [FakeStore(alive=False), FakeStore(error=StoreError("influx down", retryable=True))],
    ids=["ping-false", "ping-raises"],
)
async def test_healthz_degraded_when_store_is_down(
    build_app: Callable[..., FastAPI], store: FakeStore
) -> None:
    async with serving(build_app(store=store)) as client:
        response = await client.get("/healthz")

    assert response.status_code == 503
    assert response.json() == {"status": "degraded", "database": True, "store": False}


async def test_healthz_degraded_when_database_is_unreachable(
    build_app: Callable[..., FastAPI], tmp_path: Path
) -> None:
    missing_dir = tmp_path / "no-such-dir" / "db.sqlite3"
    engine = create_async_engine(f"sqlite+aiosqlite:///{missing_dir}")
    try:
        async with serving(build_app(sessions=session_factory(engine))) as client:
            response = await client.get("/healthz")
    finally:
        await engine.dispose()

    assert response.status_code == 503
    assert response.json() == {"status": "degraded", "database": False, "store": True}


async def test_metrics_expose_the_default_registry(build_app: Callable[..., FastAPI]) -> None:
    name = f"estateops_test_{uuid.uuid4().hex[:8]}"
    counter = Counter(name, "a counter only this test registers")
    counter.inc(3)
    try:
        async with serving(build_app()) as client:
            response = await client.get("/metrics")
    finally:
        REGISTRY.unregister(counter)

    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/plain; version=")
    assert f"{name}_total 3.0" in response.text
    assert "# TYPE python_info gauge" in response.text


async def test_openapi_schema_and_docs_load(build_app: Callable[..., FastAPI]) -> None:
    async with serving(build_app()) as client:
        schema = await client.get("/openapi.json")
        docs = await client.get("/docs")

    assert schema.status_code == 200
    paths = schema.json()["paths"]
    assert set(paths) >= {
        "/api/v1/devices", "/api/v1/estates/{estate_id}/devices/{device_id}",
        "/api/v1/estates/{estate_id}/devices/{device_id}/history",
        "/api/v1/dead-letters", "/api/v1/dead-letters/reasons", "/healthz",
    }
    assert docs.status_code == 200
    assert "swagger" in docs.text.lower()


async def test_lifespan_opens_the_database_from_settings(
    settings: Settings, seeded: async_sessionmaker[AsyncSession], fake_store: FakeStore,
    admin_headers: dict[str, str],
) -> None:
    app = create_app(settings, store=fake_store)

    async with serving(app, admin_headers) as client:
        body = (await client.get("/api/v1/devices")).json()

    assert body["count"] == len(ALL_DEVICES)
    assert not hasattr(app.state, "resources")
