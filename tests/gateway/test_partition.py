"""Partitions: each device is owned by exactly one of N gateways, by a hash that is the same in
every process, and a partitioned rule stage loads and watches only its own devices."""

from __future__ import annotations

import pytest
from pydantic import ValidationError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from core.clock import ManualClock
from device_profiles import load_profiles
from gateway.partition import Partition
from gateway.rules import RuleStage
from gateway.settings import GatewaySettings
from registry.queries import DeviceRef, load_device_index
from tests.gateway.rules.support import CollectingSink, manual_clock, telemetry
from tests.utils.estates import register_small_estate

COUNT = 4


def partitions(count: int) -> list[Partition]:
    return [Partition(index, count) for index in range(count)]


def test_each_device_has_exactly_one_owner_and_the_owners_share_evenly() -> None:
    keys = [(f"estate-{n % 7}", f"leak-{n}") for n in range(10_000)]
    owners = [[one.index for one in partitions(COUNT) if one.owns(*key)] for key in keys]
    assert all(len(found) == 1 for found in owners)
    shares = [sum(found == [index] for found in owners) for index in range(COUNT)]
    assert all(2_300 <= share <= 2_700 for share in shares), shares


def test_the_owner_does_not_depend_on_the_process() -> None:
    # crc32 of "estate/device": a salted hash() would move devices on every restart.
    assert [one.index for key in ("leak-0", "leak-1", "leak-2")
            for one in partitions(3) if one.owns("estate-1", key)] == [2, 1, 1]


def test_the_topic_names_the_same_owner_as_the_device() -> None:
    for n in range(200):
        topic = f"estates/e{n % 3}/leak_sensor/leak-{n}/telemetry"
        assert [one.owns_topic(topic) for one in partitions(COUNT)] == [
            one.owns(f"e{n % 3}", f"leak-{n}") for one in partitions(COUNT)]


@pytest.mark.parametrize("topic", ["estates/e1", "x/y", "", "estates/e1/t/d/telemetry/extra"])
def test_a_malformed_topic_has_exactly_one_owner_to_refuse_it(topic: str) -> None:
    assert sum(one.owns_topic(topic) for one in partitions(COUNT)) == 1


def test_the_whole_owns_everything() -> None:
    whole = Partition.parse("0/1")
    assert whole.whole
    assert whole.owns_topic("junk")
    assert whole.owns("e", "d")


@pytest.mark.parametrize("spec", ["2/2", "1", "-1/2", "0/0", "a/b", "1/2/3"])
def test_a_partition_outside_its_count_is_refused(spec: str) -> None:
    with pytest.raises(ValueError, match="partition"):
        Partition.parse(spec)
    with pytest.raises(ValidationError):
        GatewaySettings(partition=spec)


def test_the_setting_reads_index_of_count() -> None:
    assert GatewaySettings(partition=" 1/2 ").owned == Partition(1, 2)
    assert GatewaySettings().owned.whole


async def _stage(sessions: async_sessionmaker[AsyncSession], clock: ManualClock,
                 partition: Partition) -> RuleStage:
    stage = RuleStage.build(load_profiles(), sessions, sink=CollectingSink(), clock=clock,
                            partition=partition)
    await stage.start()
    return stage


async def _devices(sessions: async_sessionmaker[AsyncSession],
                   estate_id: str) -> list[DeviceRef]:
    async with sessions() as session:
        index = await load_device_index(session)
    return [device for (estate, _), device in index.items() if estate == estate_id]


def _with_state(stage: RuleStage, devices: list[DeviceRef]) -> set[str]:
    return {device.device_id for device in devices
            if any(stage.engine.state(device.pk, rule) is not None
                   for rule in ("offline", "water_leak"))}


async def test_a_partition_watches_and_restores_only_its_own_devices(
        sessions: async_sessionmaker[AsyncSession]) -> None:
    estate_id = await register_small_estate(sessions)
    devices = await _devices(sessions, estate_id)
    leak = next(device for device in devices if device.device_type == "leak_sensor")
    clock = manual_clock()
    whole = await _stage(sessions, clock, Partition())
    await whole.on_reading(leak, telemetry(leak, 0, leak=True))
    await whole.flush()  # the leak's saved state, as a 0/1 gateway left it

    halves = [await _stage(sessions, clock, one) for one in partitions(2)]
    restored = [_with_state(half, [leak]) for half in halves]
    assert sorted(map(len, restored)) == [0, 1], "the saved leak is restored by one owner"
    whole.watch(devices)
    for half in halves:
        half.watch(devices)  # the registry as loaded: every device, both partitions
    watched = [_with_state(half, devices) for half in halves]
    assert len(_with_state(whole, devices)) >= 2, "too few watched devices to tell"
    assert watched[0] | watched[1] == _with_state(whole, devices)
    assert not watched[0] & watched[1]
    for half, mine in zip(halves, watched, strict=True):
        assert mine <= {device.device_id for device in half.partition.owned(devices)}


def test_each_partition_has_its_own_session_and_the_whole_estate_keeps_the_base_id() -> None:
    assert Partition().client_id("gw") == "gw"
    assert [Partition(index, 3).client_id("gw") for index in range(3)] == ["gw-0", "gw-1", "gw-2"]
