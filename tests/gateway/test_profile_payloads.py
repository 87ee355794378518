"""The wire contract of every loaded profile, generated from its own field declarations.

For each profile in device_profiles/profiles/ (a new one too, with no test code): a
telemetry message and each event built from the declared fields (types, min/max, enum
values, max_length) is accepted and stored, and each field given a value its declaration
forbids is refused with the right reason, naming the field (tests/utils/profile_cases.py).
"""

from __future__ import annotations

from typing import Any

import pytest

from core.topic import Channel
from device_profiles import DeviceProfile, FieldSpec, FieldType, load_profiles
from gateway.decode import Rejected, RejectReason, decode_message, reading_to_points
from gateway.model import Reading
from tests.utils.payloads import CONTRACT_TS_NS, encode, topic_for
from tests.utils.profile_cases import Refusal, event_payload, refusals, well_formed

PROFILES = load_profiles()
ALL_PROFILES = list(PROFILES.by_type.values())
EVENTS = [(profile, event) for profile in ALL_PROFILES for event in profile.events]
REFUSALS = [refusal for profile in ALL_PROFILES for refusal in refusals(profile)]


def _decode(profile: DeviceProfile, payload: dict[str, Any],
            channel: Channel = Channel.TELEMETRY) -> Reading:
    reading = decode_message(topic_for(profile.device_type, channel), encode(payload), profile,
                             received_ns=CONTRACT_TS_NS)
    assert isinstance(reading, Reading)
    return reading


def _assert_kept(specs: dict[str, FieldSpec], payload: dict[str, Any], reading: Reading) -> None:
    sent = {name: value for name, value in payload.items() if name in specs}
    assert reading.values == sent
    for name, value in reading.values.items():
        expected = {FieldType.FLOAT: float, FieldType.INT: int, FieldType.BOOL: bool}.get(
            specs[name].type, str)
        assert isinstance(value, expected), (name, value)
    assert reading.extras == {}


def _by_type(profile: DeviceProfile) -> str:
    return profile.device_type


@pytest.mark.parametrize("profile", ALL_PROFILES, ids=_by_type)
def test_a_well_formed_telemetry_message_is_accepted_and_stored(profile: DeviceProfile) -> None:
    payload = well_formed(profile.telemetry)
    reading = _decode(profile, payload)
    _assert_kept(profile.telemetry, payload, reading)
    assert reading.event is None
    [point] = reading_to_points(reading, profile)
    assert point.measurement == profile.measurement
    for name, spec in profile.telemetry.items():
        if spec.tag:
            assert point.tags[name] == _tag_text(payload[name])
        else:
            assert point.fields[name] == payload[name]


def _tag_text(value: object) -> str:
    return ("true" if value else "false") if isinstance(value, bool) else str(value)


@pytest.mark.parametrize("profile", ALL_PROFILES, ids=_by_type)
def test_only_the_required_fields_are_enough(profile: DeviceProfile) -> None:
    payload = well_formed(profile.telemetry, required_only=True)
    _assert_kept(profile.telemetry, payload, _decode(profile, payload))


@pytest.mark.parametrize("profile", ALL_PROFILES, ids=_by_type)
def test_each_synonym_is_read_as_its_field(profile: DeviceProfile) -> None:
    payload = well_formed(profile.telemetry)
    for name, spec in profile.telemetry.items():
        for synonym in spec.synonyms:
            renamed = {synonym if key == name else key: value for key, value in payload.items()}
            assert _decode(profile, renamed).values == _decode(profile, payload).values


@pytest.mark.parametrize(("profile", "event"), EVENTS,
                         ids=[f"{profile.device_type}-{event}" for profile, event in EVENTS])
def test_a_well_formed_event_is_accepted_and_stored(profile: DeviceProfile, event: str) -> None:
    payload = event_payload(profile, event)
    reading = _decode(profile, payload, Channel.EVENT)
    assert reading.event == event
    _assert_kept(profile.events[event], payload, reading)
    [point] = reading_to_points(reading, profile)
    assert point.measurement == profile.events_measurement
    assert point.tags["event"] == event
    assert point.fields["occurred"] is True


@pytest.mark.parametrize("refusal", REFUSALS, ids=lambda refusal: refusal.id)
def test_a_value_its_declaration_forbids_is_refused_naming_the_field(refusal: Refusal) -> None:
    profile = PROFILES.by_type[refusal.device_type]
    channel = Channel.TELEMETRY if refusal.event is None else Channel.EVENT
    with pytest.raises(Rejected) as caught:
        _decode(profile, refusal.payload, channel)
    assert caught.value.reason is refusal.reason, caught.value.detail
    assert caught.value.detail.startswith(f"{refusal.field}: ")


def test_the_generated_cases_cover_every_loaded_profile_event_and_field() -> None:
    profiles = load_profiles()
    assert {profile.device_type for profile in ALL_PROFILES} == set(profiles.device_types)
    assert {(profile.device_type, event) for profile, event in EVENTS} == {
        (device_type, event) for device_type, profile in profiles.by_type.items()
        for event in profile.events}
    expected = {(device_type, event, name, reason)
                for device_type, profile in profiles.by_type.items()
                for event, specs in [(None, profile.telemetry), *profile.events.items()]
                for name, spec in specs.items() for reason in _reasons_to_refuse(spec)}
    assert {(one.device_type, one.event, one.field, one.reason) for one in REFUSALS} == expected


def _reasons_to_refuse(spec: FieldSpec) -> set[RejectReason]:
    """What a field's declaration lets the decoder refuse: every field a wrong type."""
    reasons = {RejectReason.wrong_type}
    if spec.required:
        reasons.add(RejectReason.missing_field)
    if spec.type in (FieldType.INT, FieldType.FLOAT):
        reasons.add(RejectReason.non_finite)
        if spec.min is not None or spec.max is not None:
            reasons.add(RejectReason.out_of_range)
    elif spec.type is FieldType.STRING:
        reasons.add(RejectReason.out_of_range)  # longer than max_length
    elif spec.type is FieldType.ENUM:
        reasons.add(RejectReason.invalid_value)
    return reasons
