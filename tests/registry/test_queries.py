"""The registry as the gateway reads it: an index of DeviceRef, and single-device lookups."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from device_profiles import ProfileSet
from registry.importer import import_estates, load_estate_file
from registry.queries import DeviceRef, find_device, load_device_index
from tests.registry.rows import read_registry
from tests.registry.samples import replace_in_file


@pytest.fixture
async def imported(
    sessions: async_sessionmaker[AsyncSession], longdi_yaml: Path, profiles: ProfileSet
) -> async_sessionmaker[AsyncSession]:
    replace_in_file(longdi_yaml, "location: north-in}", "location: north-in, enabled: false}")
    await import_estates(sessions, load_estate_file(longdi_yaml), profiles)
    return sessions


async def test_index_holds_every_device_with_its_registry_facts(
    imported: async_sessionmaker[AsyncSession],
) -> None:
    async with imported() as session:
        index = await load_device_index(session)

    rows = await read_registry(imported)
    assert set(index) == set(rows.devices)
    ebike = index[("longdi", "ebike-42-01")]
    assert ebike == DeviceRef(
        pk=rows.device("longdi", "ebike-42-01")["pk"], estate_id="longdi",
        device_id="ebike-42-01", device_type="ev_charger", kind="ebike",
        reporting_interval_s=None, enabled=True, commissioning=False,
        watched_since=ebike.watched_since,
    )
    assert ebike.watched_since is not None
    assert index[("longdi", "light-41-2-3f")].reporting_interval_s == 300.0
    assert index[("longdi", "gate-north")].enabled is False
    assert index[("hongqi", "leak-01")].device_type == "leak_sensor"


async def test_the_index_shares_one_string_per_estate_and_type(
    imported: async_sessionmaker[AsyncSession],
) -> None:
    """The gateway holds the index of every device: 50 000 copies of an estate's name are
    ~3 MB it need not hold."""
    async with imported() as session:
        refs = list((await load_device_index(session)).values())
    estates = {id(ref.estate_id) for ref in refs}
    types = {id(ref.device_type) for ref in refs}
    assert len(estates) == len({ref.estate_id for ref in refs}) < len(refs)
    assert len(types) == len({ref.device_type for ref in refs}) < len(refs)


async def test_find_device_matches_the_index_and_misses_cleanly(
    imported: async_sessionmaker[AsyncSession],
) -> None:
    async with imported() as session:
        index = await load_device_index(session)
        found = await find_device(session, "longdi", "car-01")
        other_estate = await find_device(session, "hongqi", "car-01")
        unknown = await find_device(session, "longdi", "nope")

    assert found == index[("longdi", "car-01")]
    assert found is not None
    assert found.kind == "car"
    assert other_estate is None
    assert unknown is None


async def test_an_empty_registry_has_an_empty_index(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    async with sessions() as session:
        assert await load_device_index(session) == {}


def test_device_ref_is_immutable() -> None:
    ref = DeviceRef(pk=1, estate_id="e", device_id="d", device_type="leak_sensor", kind=None,
                    reporting_interval_s=None, enabled=True)
    with pytest.raises(dataclasses.FrozenInstanceError):
        ref.enabled = False  # type: ignore[misc]
