"""Failed logins are limited per account and per client address; hashing stays off the
event loop with bounded concurrency, so other requests stay fast during a login storm."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from core.clock import ManualClock
from estateops.settings import Settings
from services.api import create_app
from tests.services.api.conftest import serving
from tests.services.api.factories import FakeStore
from tests.services.auth.conftest import UNREACHABLE_BROKER
from tests.services.auth.test_login import log_in
from tests.utils.auth import JWT_SECRET, PASSWORD, add_staff

PER_ACCOUNT = 10
PER_ADDRESS = 14


@pytest.fixture
async def limited(tmp_path: Path, database_url: str, sessions: async_sessionmaker[AsyncSession],
                  clock: ManualClock) -> AsyncIterator[httpx.AsyncClient]:
    settings = Settings(data_dir=tmp_path, database_url=database_url,
                        mqtt={"url": UNREACHABLE_BROKER},
                        auth={"jwt_secret": JWT_SECRET, "failed_logins_per_account": PER_ACCOUNT,
                              "failed_logins_per_address": PER_ADDRESS})
    app: FastAPI = create_app(settings, store=FakeStore(), sessions=sessions, clock=clock)
    async with serving(app) as client:
        yield client


def assert_too_many(response: httpx.Response) -> None:
    assert response.status_code == 429, response.text
    retry_after = int(response.headers["retry-after"])
    assert 1 <= retry_after <= 60
    body = response.json()
    assert body["error"] == "too_many_attempts"
    assert body["retry_after_s"] == retry_after


async def test_the_11th_wrong_password_in_a_minute_is_429(
    limited: httpx.AsyncClient, sessions: async_sessionmaker[AsyncSession]
) -> None:
    staff = await add_staff(sessions)
    codes = [(await log_in(limited, staff.username, "wrong password")).status_code
             for _ in range(PER_ACCOUNT)]
    assert codes == [401] * PER_ACCOUNT

    assert_too_many(await log_in(limited, staff.username, "wrong password"))
    # Locked for the window, even with the right password; other accounts are not.
    assert_too_many(await log_in(limited, staff.username, PASSWORD))
    other = await add_staff(sessions)
    assert (await log_in(limited, other.username, PASSWORD)).status_code == 200


async def test_parallel_guesses_cannot_slip_past_the_count(
    limited: httpx.AsyncClient, sessions: async_sessionmaker[AsyncSession]
) -> None:
    staff = await add_staff(sessions)
    guesses = await asyncio.gather(*(log_in(limited, staff.username, f"guess {n}")
                                     for n in range(PER_ACCOUNT + 3)))
    codes = sorted(guess.status_code for guess in guesses)
    assert codes == [401] * PER_ACCOUNT + [429] * 3


async def test_one_address_trying_many_accounts_is_429(
    limited: httpx.AsyncClient, sessions: async_sessionmaker[AsyncSession]
) -> None:
    codes = [(await log_in(limited, f"nobody-{n}", "guess")).status_code
             for n in range(PER_ADDRESS)]
    assert codes == [401] * PER_ADDRESS
    staff = await add_staff(sessions)
    assert_too_many(await log_in(limited, staff.username, PASSWORD))


async def test_a_login_storm_leaves_healthz_fast(
    limited: httpx.AsyncClient, sessions: async_sessionmaker[AsyncSession]
) -> None:
    staff = [await add_staff(sessions) for _ in range(8)]

    async def timed_health() -> float:
        started = time.perf_counter()
        assert (await limited.get("/healthz")).status_code == 200
        return time.perf_counter() - started

    logins = [asyncio.create_task(log_in(limited, member.username, PASSWORD))
              for member in staff]
    await asyncio.sleep(0.05)  # the hashes are under way
    latencies = [await timed_health() for _ in range(5)]
    answers = await asyncio.gather(*logins)
    assert [answer.status_code for answer in answers] == [200] * 8
    # One argon2 check costs ~0.5 s here: on the event loop, each /healthz would wait for
    # several of them.
    assert max(latencies) < 0.4, latencies
