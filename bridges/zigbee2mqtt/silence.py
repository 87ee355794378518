"""Battery devices behind Zigbee2MQTT check in rarely: how long EstateOps waits for them.

Zigbee2MQTT calls a passive device offline after 25 h without a check-in; a contract leak
sensor is silent after 3 × 300 s. A linked device without its own `reporting_interval_s`
gets `offline_timeout_s / silence_intervals` in the registry, so the gateway's silence rule
fires after the profile's timeout, not after 15 minutes. A device with an interval of its
own (the estate file's) keeps it: that is the per-device override.
"""

from __future__ import annotations

from collections.abc import Mapping

from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bridges.zigbee2mqtt.profiles import Z2mProfile
from device_profiles import ProfileSet
from registry.queries import DeviceRef
from registry.tables import Device


def silence_intervals(profiles: ProfileSet, device_type: str) -> float | None:
    """The silence rule's multiple of the reporting interval, if the type has one."""
    profile = profiles.get(device_type)
    if profile is None:
        return None
    counts = [rule.silence_intervals for rule in profile.rules.values()
              if rule.silence_intervals is not None]
    return min(counts) if counts else None


def intervals_to_set(links: Mapping[str, DeviceRef], z2m: Mapping[str, Z2mProfile],
                     profiles: ProfileSet) -> dict[int, float]:
    """{device pk: reporting interval} for linked devices that have none of their own."""
    wanted: dict[int, float] = {}
    for device in links.values():
        bridge_profile = z2m.get(device.device_type)
        intervals = silence_intervals(profiles, device.device_type)
        if device.reporting_interval_s is None and bridge_profile and intervals:
            wanted[device.pk] = bridge_profile.offline_timeout_s / intervals
    return wanted


async def align_reporting_intervals(sessions: async_sessionmaker[AsyncSession],
                                    wanted: Mapping[int, float]) -> None:
    if not wanted:
        return
    async with sessions.begin() as session:
        for pk, interval in wanted.items():
            await session.execute(update(Device).where(
                Device.id == pk, Device.reporting_interval_s.is_(None),
            ).values(reporting_interval_s=interval))
