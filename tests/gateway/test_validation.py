"""Models built from profiles: strict types, limits, synonyms, and the reasons they report."""

from __future__ import annotations

from typing import Any

import pytest

from device_profiles import DeviceProfile, load_profiles
from gateway.validation import PayloadModel, Rejected, RejectReason, build_models, models_for

SAMPLE_PROFILE = DeviceProfile.model_validate({
    "device_type": "sample_meter",
    "name": {"en": "Sample meter", "zh": "样例表"},
    "reporting_interval_s": 60,
    "measurement": "sample_meter",
    "telemetry": {
        "flag": {"type": "bool", "required": True, "synonyms": ["is_flag"]},
        "count": {"type": "int", "min": 0, "max": 10},
        "level": {"type": "float", "min": -5, "max": 5},
        "label": {"type": "string", "max_length": 5},
        "mode": {"type": "enum", "values": ["auto", "manual"], "nullable": True},
        "zone": {"type": "enum", "values": ["north", "south"], "tag": True},
        "model_config": {"type": "float"},
    },
    "events": {"reset": {"by": {"type": "string", "required": True}}},
})


def telemetry() -> PayloadModel:
    return models_for(SAMPLE_PROFILE).telemetry


def rejection(payload: dict[str, Any]) -> Rejected:
    with pytest.raises(Rejected) as caught:
        telemetry().validate(payload)
    return caught.value


def test_models_are_built_once_per_profile() -> None:
    assert models_for(SAMPLE_PROFILE) is models_for(SAMPLE_PROFILE)
    assert build_models(SAMPLE_PROFILE) is not models_for(SAMPLE_PROFILE)


@pytest.mark.parametrize("profile", load_profiles().by_type.values(),
                         ids=lambda profile: profile.device_type)
def test_every_builtin_profile_builds_models(profile: DeviceProfile) -> None:
    models = models_for(profile)
    assert set(models.events) == set(profile.events)
    assert set(models.telemetry.canonical_by_attribute.values()) == set(profile.telemetry)


def test_only_present_fields_are_returned_by_canonical_name() -> None:
    values, unknown = telemetry().validate({"is_flag": True, "count": 3, "model_config": 1.5})
    assert values == {"flag": True, "count": 3, "model_config": 1.5}
    assert unknown == {}


def test_unknown_keys_are_returned_apart_from_synonyms_and_reserved_names() -> None:
    payload = {"flag": True, "is_flag": False, "by": "x", "ts": 1, "colour": "red"}
    values, unknown = telemetry().validate(payload)
    assert values == {"flag": True}
    assert unknown == {"colour": "red"}


def test_float_accepts_int_and_returns_float() -> None:
    values, _ = telemetry().validate({"flag": True, "level": 2})
    assert values["level"] == 2.0
    assert isinstance(values["level"], float)


def test_int_accepts_integral_float_as_int() -> None:
    values, _ = telemetry().validate({"flag": True, "count": 4.0})
    assert values["count"] == 4
    assert isinstance(values["count"], int)


@pytest.mark.parametrize(("payload", "field"), [
    ({"flag": "yes"}, "flag"),
    ({"flag": 1}, "flag"),
    ({"flag": None}, "flag"),
    ({"is_flag": "true"}, "is_flag"),
    ({"flag": True, "count": 1.5}, "count"),
    ({"flag": True, "count": "3"}, "count"),
    ({"flag": True, "count": True}, "count"),
    ({"flag": True, "level": "2.5"}, "level"),
    ({"flag": True, "level": False}, "level"),
    ({"flag": True, "label": 5}, "label"),
    ({"flag": True, "label": None}, "label"),
    ({"flag": True, "mode": 1}, "mode"),
    ({"flag": True, "zone": ["a"]}, "zone"),
])
def test_wrong_types_are_rejected_strictly(payload: dict[str, Any], field: str) -> None:
    rejected = rejection(payload)
    assert rejected.reason is RejectReason.wrong_type
    assert rejected.detail.startswith(f"{field}: ")


@pytest.mark.parametrize(("payload", "field"), [
    ({"flag": True, "count": -1}, "count"),
    ({"flag": True, "count": 11}, "count"),
    ({"flag": True, "level": 5.01}, "level"),
    ({"flag": True, "label": "too long"}, "label"),
])
def test_values_outside_profile_limits_are_out_of_range(payload: dict[str, Any],
                                                         field: str) -> None:
    rejected = rejection(payload)
    assert rejected.reason is RejectReason.out_of_range
    assert rejected.detail.startswith(f"{field}: ")


def test_limits_are_inclusive() -> None:
    values, _ = telemetry().validate({"flag": True, "count": 10, "level": -5, "label": "12345"})
    assert values == {"flag": True, "count": 10, "level": -5.0, "label": "12345"}


def test_enum_value_outside_values_is_invalid_value() -> None:
    rejected = rejection({"flag": True, "mode": "turbo"})
    assert rejected.reason is RejectReason.invalid_value
    assert rejected.detail.startswith("mode: ")
    assert "'turbo'" in rejected.detail


def test_nullable_enum_accepts_null() -> None:
    values, _ = telemetry().validate({"flag": True, "mode": None})
    assert values == {"flag": True, "mode": None}


def test_missing_required_field_names_it() -> None:
    rejected = rejection({"count": 1})
    assert rejected.reason is RejectReason.missing_field
    assert rejected.detail == "flag: required field is missing"


@pytest.mark.parametrize("value", [float("inf"), float("-inf"), float("nan")])
@pytest.mark.parametrize("field", ["level", "count"])
def test_non_finite_numbers_are_non_finite(field: str, value: float) -> None:
    rejected = rejection({"flag": True, field: value})
    assert rejected.reason is RejectReason.non_finite
    assert rejected.detail.startswith(f"{field}: ")


def test_event_model_requires_its_attributes() -> None:
    reset = models_for(SAMPLE_PROFILE).events["reset"]
    assert reset.validate({"by": "王师傅"}) == ({"by": "王师傅"}, {})
    with pytest.raises(Rejected) as caught:
        reset.validate({})
    assert caught.value.reason is RejectReason.missing_field
    assert caught.value.detail.startswith("by: ")


def test_tag_fields_come_from_the_profile() -> None:
    assert telemetry().tag_fields == frozenset({"zone"})
