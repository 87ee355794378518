"""A refused message is acknowledged only once its dead letter is saved, so a gateway stopped
or killed in between gets it again from the broker instead of losing it. On both databases."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from pathlib import Path

import aiomqtt
import pytest
from sqlalchemy import func, select, text
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from connectors.store.embedded import EmbeddedStore
from gateway.deadletters import DeadLetterSink
from gateway.tables import DeadLetter
from gateway.validation import RejectReason
from tests.fixtures.mosquitto import Broker
from tests.utils.estates import register_small_estate, topic
from tests.utils.gateway import eventually, gateway_settings, running_gateway
from tests.utils.waiting import wait_until

Sessions = async_sessionmaker[AsyncSession]


def _refuse(sink: DeadLetterSink, n: int) -> None:
    sink.add(received_at=datetime.now(UTC), topic=f"estates/e/leak_sensor/d{n}/telemetry",
             reason=RejectReason.not_json_object, detail="not JSON", payload=b"\xff")


async def _letters(sessions: Sessions) -> int:
    async with sessions() as session:
        return await session.scalar(select(func.count()).select_from(DeadLetter)) or 0


async def test_acks_wait_for_the_letters_before_them_and_leave_in_order(
        sessions: Sessions) -> None:
    sink = DeadLetterSink(sessions)
    acked: list[str] = []
    sink.when_saved(lambda: acked.append("nothing refused yet"))
    _refuse(sink, 1)
    sink.when_saved(lambda: acked.append("refused"))
    sink.when_saved(lambda: acked.append("after it"))
    assert acked == ["nothing refused yet"]
    await sink.flush()
    assert acked == ["nothing refused yet", "refused", "after it"]
    assert await _letters(sessions) == 1


async def test_while_the_letter_cannot_be_saved_the_message_is_not_acknowledged(
        sessions: Sessions, caplog: pytest.LogCaptureFixture) -> None:
    async with sessions.begin() as session:
        await session.execute(text("ALTER TABLE dead_letters RENAME TO dead_letters_away"))
    sink = DeadLetterSink(sessions)
    writer = asyncio.create_task(sink.run())
    acked: list[int] = []
    try:
        _refuse(sink, 1)
        sink.when_saved(lambda: acked.append(1))
        assert await wait_until(lambda: "could not save 1 dead letters" in caplog.text, within=10)
        assert acked == []
        async with sessions.begin() as session:
            await session.execute(text("ALTER TABLE dead_letters_away RENAME TO dead_letters"))
        assert await wait_until(lambda: acked == [1], within=10)
    finally:
        writer.cancel()
        await asyncio.gather(writer, return_exceptions=True)
    assert await _letters(sessions) == 1


async def _move_table(sessions: Sessions, name: str, to: str) -> None:
    async with sessions.begin() as session:
        await session.execute(text(f"ALTER TABLE {name} RENAME TO {to}"))


async def test_a_refused_message_whose_letter_was_not_saved_comes_back_after_a_restart(
        mosquitto: Broker, database_url: str, sessions: Sessions, tmp_path: Path,
        caplog: pytest.LogCaptureFixture) -> None:
    estate_id = await register_small_estate(sessions)
    settings = gateway_settings(broker_url=mosquitto.url, database_url=database_url,
                                data_dir=tmp_path, estate_id=estate_id)
    store = EmbeddedStore(tmp_path / "telemetry.sqlite3")
    await _move_table(sessions, "dead_letters", "dead_letters_away")
    try:
        async with running_gateway(settings, store=store, sessions=sessions), \
                aiomqtt.Client(mosquitto.host, mosquitto.port) as device:
            await device.publish(topic(estate_id, "leak_sensor"), b"not json", qos=1)
            assert await wait_until(lambda: "could not save 1 dead letters" in caplog.text,
                                    within=15)
        # Stopped while the letter could not be saved: the broker must still hold the message.
        await _move_table(sessions, "dead_letters_away", "dead_letters")
        async with running_gateway(settings, store=store, sessions=sessions):
            letters = await eventually(lambda: _letters(sessions), lambda count: count >= 1)
    finally:
        await store.aclose()
    assert letters == 1
