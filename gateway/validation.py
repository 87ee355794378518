"""Pydantic models built from device profiles, and the reasons a payload is rejected.

Models are built once per profile (see `models_for`) so per-message work is one
pydantic validation of a small dict.
"""

from __future__ import annotations

import math
import reprlib
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from enum import StrEnum
from functools import partial
from typing import Annotated, Any, Literal, Optional

from pydantic import (
    AliasChoices,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    ValidationError,
    create_model,
)
from pydantic.fields import FieldInfo
from pydantic_core import ErrorDetails

from core.telemetry import FieldValue
from device_profiles.schema import RESERVED_FIELDS, DeviceProfile, FieldSpec, FieldType

INT64_MIN = -(2**63)
INT64_MAX = 2**63 - 1
MAX_CACHED_PROFILES = 1024
_INPUT_PREVIEW_CHARS = 60
_PREVIEW_INT_BITS = 256


class RejectReason(StrEnum):
    """Why a device message was not accepted (a metrics label and a dead-letter column)."""

    bad_topic = "bad_topic"
    not_json_object = "not_json_object"
    not_utf8 = "not_utf8"
    too_large = "too_large"
    too_deep = "too_deep"
    wrong_type = "wrong_type"
    non_finite = "non_finite"
    out_of_range = "out_of_range"
    invalid_value = "invalid_value"
    missing_field = "missing_field"
    ts_in_future = "ts_in_future"
    ts_too_old = "ts_too_old"
    bad_ts = "bad_ts"
    unknown_device_type = "unknown_device_type"
    unknown_event = "unknown_event"
    bad_status = "bad_status"
    unknown_device = "unknown_device"
    type_mismatch = "type_mismatch"
    # Not the device's fault, but dead-lettered all the same so nothing is lost silently:
    store_rejected = "store_rejected"  # the telemetry store refused the point as bad data
    internal_error = "internal_error"  # a bug in EstateOps costs this one message


class Rejected(Exception):
    """A device message that breaks the wire contract; `detail` names the field and the fault."""

    def __init__(self, reason: RejectReason, detail: str) -> None:
        super().__init__(f"{reason}: {detail}")
        self.reason = reason
        self.detail = detail


PAYLOAD_CONFIG = ConfigDict(extra="allow", allow_inf_nan=False)

_REASON_BY_ERROR_TYPE = {
    "missing": RejectReason.missing_field,
    "literal_error": RejectReason.invalid_value,
    "greater_than_equal": RejectReason.out_of_range,
    "less_than_equal": RejectReason.out_of_range,
    "greater_than": RejectReason.out_of_range,
    "less_than": RejectReason.out_of_range,
    "string_too_long": RejectReason.out_of_range,
    "string_unicode": RejectReason.invalid_value,
    "finite_number": RejectReason.non_finite,
}


Values = dict[str, FieldValue | None]


@dataclass(frozen=True, slots=True)
class FieldCheck:
    """A field's plain case, checked without pydantic: a value of exactly the declared type
    and inside its bounds, which the model takes as it is. Anything else (a missing required
    field, a null, an integral float for an int, a value out of bounds) goes to the model,
    which decides and words the rejection."""

    canonical: str
    keys: tuple[str, ...]  # the name, then its synonyms: the model's alias order
    required: bool
    nullable: bool
    plain: Callable[[Any], Any]  # the value the model would return, or NOT_PLAIN


@dataclass(frozen=True, slots=True)
class PayloadModel:
    """One channel's model (telemetry, or one event) and how to read its result."""

    model: type[BaseModel]
    canonical_by_attribute: Mapping[str, str]
    tag_fields: frozenset[str]
    profile_keys: frozenset[str]
    checks: tuple[FieldCheck, ...] = ()

    def validate(self, data: Mapping[str, Any]) -> tuple[Values, dict[str, Any]]:
        """Return (values present in `data` by canonical name, keys the profile does not know).

        Raises Rejected naming the first faulty field.
        """
        values = self._plain_values(data)
        if values is not None:
            return values, {key: value for key, value in data.items()
                            if key not in self.profile_keys}
        return self._validated(data)

    def _plain_values(self, data: Mapping[str, Any]) -> Values | None:
        """The values when every field is a plain case (see FieldCheck), else None."""
        values: Values = {}
        for check in self.checks:
            key = next((key for key in check.keys if key in data), None)
            if key is None:
                if check.required:
                    return None
                continue
            value = data[key]
            if value is None:
                if not check.nullable:
                    return None
            else:
                value = check.plain(value)
                if value is NOT_PLAIN:
                    return None
            values[check.canonical] = value
        return values

    def _validated(self, data: Mapping[str, Any]) -> tuple[Values, dict[str, Any]]:
        try:
            instance = self.model.model_validate(data)
        except ValidationError as exc:
            raise rejection_from(exc) from None
        present = instance.model_fields_set
        values = {canonical: getattr(instance, attribute)
                  for attribute, canonical in self.canonical_by_attribute.items()
                  if attribute in present}
        unknown = {key: value for key, value in (instance.__pydantic_extra__ or {}).items()
                   if key not in self.profile_keys}
        return values, unknown


@dataclass(frozen=True, slots=True)
class ProfileModels:
    profile: DeviceProfile
    telemetry: PayloadModel
    events: Mapping[str, PayloadModel]


def _integral_float_to_int(value: object) -> object:
    if type(value) is float and value.is_integer():
        return int(value)
    return value


def _base_annotation(spec: FieldSpec) -> Any:
    if spec.type is FieldType.BOOL:
        return Annotated[bool, Field(strict=True)]
    if spec.type is FieldType.INT:
        low = INT64_MIN if spec.min is None else spec.min
        high = INT64_MAX if spec.max is None else spec.max
        return Annotated[int, BeforeValidator(_integral_float_to_int),
                         Field(strict=True, ge=low, le=high)]
    if spec.type is FieldType.FLOAT:
        return Annotated[float, Field(strict=True, ge=spec.min, le=spec.max)]
    if spec.type is FieldType.STRING:
        return Annotated[str, Field(strict=True, max_length=spec.max_length)]
    return Literal.__getitem__(spec.values)  # enum: the profile checked `values` is set


def _field(name: str, spec: FieldSpec) -> tuple[Any, FieldInfo]:
    annotation = _base_annotation(spec)
    if spec.nullable:
        annotation = Optional[annotation]  # noqa: UP045 - built at runtime, `|` fails on Literal
    default: Any = ... if spec.required else None
    return annotation, FieldInfo(default=default,
                                 validation_alias=AliasChoices(name, *spec.synonyms))


NOT_PLAIN: Any = object()
_EXACT_FLOAT_INT = 2**53  # an int the model turns into a float with no rounding


def _plain_check(spec: FieldSpec) -> Callable[[Any], Any]:
    """The value the model surely returns for `spec`, or NOT_PLAIN to ask the model (a
    subset of what it accepts)."""
    low, high = spec.min, spec.max
    if spec.type is FieldType.BOOL:
        return lambda value: value if type(value) is bool else NOT_PLAIN
    if spec.type is FieldType.INT:
        int_low = INT64_MIN if low is None else low
        int_high = INT64_MAX if high is None else high
        return lambda value: (value if type(value) is int and int_low <= value <= int_high
                              else NOT_PLAIN)
    if spec.type is FieldType.FLOAT:
        return partial(_plain_float, low=low, high=high)
    if spec.type is FieldType.STRING:
        longest = spec.max_length
        return lambda value: (value if type(value) is str and len(value) <= longest
                              and value.isascii() else NOT_PLAIN)
    allowed = frozenset(spec.values or ())
    return lambda value: value if type(value) is str and value in allowed else NOT_PLAIN


def _plain_float(value: Any, *, low: float | None, high: float | None) -> Any:
    """A finite float, or an int the model turns into the same float, inside the bounds."""
    if type(value) is int and -_EXACT_FLOAT_INT <= value <= _EXACT_FLOAT_INT:
        value = float(value)
    elif type(value) is not float or not math.isfinite(value):
        return NOT_PLAIN
    if (low is not None and value < low) or (high is not None and value > high):
        return NOT_PLAIN
    return value


def _field_check(name: str, spec: FieldSpec) -> FieldCheck:
    return FieldCheck(canonical=name, keys=(name, *spec.synonyms), required=spec.required,
                      nullable=spec.nullable, plain=_plain_check(spec))


def _payload_model(model_name: str, specs: Mapping[str, FieldSpec],
                   profile_keys: frozenset[str]) -> PayloadModel:
    # Attributes get a prefix so a field called e.g. `model_config` cannot clash with pydantic.
    fields: dict[str, Any] = {f"f_{name}": _field(name, spec) for name, spec in specs.items()}
    model: type[BaseModel] = create_model(model_name, __config__=PAYLOAD_CONFIG, **fields)
    return PayloadModel(
        model=model,
        canonical_by_attribute={f"f_{name}": name for name in specs},
        tag_fields=frozenset(name for name, spec in specs.items() if spec.tag),
        profile_keys=profile_keys,
        checks=tuple(_field_check(name, spec) for name, spec in specs.items()),
    )


def _profile_keys(profile: DeviceProfile) -> frozenset[str]:
    keys = set(RESERVED_FIELDS)
    for specs in (profile.telemetry, *profile.events.values()):
        for name, spec in specs.items():
            keys.add(name)
            keys.update(spec.synonyms)
    return frozenset(keys)


def build_models(profile: DeviceProfile) -> ProfileModels:
    keys = _profile_keys(profile)
    telemetry = _payload_model(f"{profile.device_type}_telemetry", profile.telemetry, keys)
    events = {event: _payload_model(f"{profile.device_type}_{event}", specs, keys)
              for event, specs in profile.events.items()}
    return ProfileModels(profile=profile, telemetry=telemetry, events=events)


_models_by_profile_id: dict[int, ProfileModels] = {}


def models_for(profile: DeviceProfile) -> ProfileModels:
    """The models of `profile`, built on first use and cached for the profile object."""
    # Profiles are unhashable (they hold dicts); the cached entry keeps its profile alive,
    # so its id cannot be reused while the entry exists.
    cached = _models_by_profile_id.get(id(profile))
    if cached is not None and cached.profile is profile:
        return cached
    if len(_models_by_profile_id) >= MAX_CACHED_PROFILES:
        _models_by_profile_id.clear()
    built = build_models(profile)
    _models_by_profile_id[id(profile)] = built
    return built


def _reason_for(error: ErrorDetails) -> RejectReason:
    value = error.get("input")
    if isinstance(value, float) and not math.isfinite(value):
        return RejectReason.non_finite
    reason = _REASON_BY_ERROR_TYPE.get(error["type"], RejectReason.wrong_type)
    if reason is RejectReason.invalid_value and not isinstance(value, str):
        return RejectReason.wrong_type
    return reason


def _short_repr() -> reprlib.Repr:
    # Bounded in depth and size: a hostile payload nested 900 deep or holding a 60 000-digit
    # number must not cost a RecursionError or a megabyte of text to describe.
    short = reprlib.Repr()
    short.maxlevel, short.maxdict, short.maxlist = 3, 4, 4
    short.maxstring = short.maxother = short.maxlong = _INPUT_PREVIEW_CHARS
    return short


_SHORT = _short_repr()


def preview(value: object) -> str:
    if isinstance(value, str) and len(value) > _INPUT_PREVIEW_CHARS:
        value = value[:_INPUT_PREVIEW_CHARS + 1]
    if isinstance(value, int) and value.bit_length() > _PREVIEW_INT_BITS:
        return f"<an integer of {value.bit_length()} bits>"
    text = repr(value) if isinstance(value, str | float | bool | None) else _SHORT.repr(value)
    if len(text) > _INPUT_PREVIEW_CHARS:
        return text[:_INPUT_PREVIEW_CHARS] + "…"
    return text


def rejection_from(exc: ValidationError) -> Rejected:
    first = exc.errors(include_url=False, include_context=False)[0]
    field = ".".join(str(part) for part in first["loc"]) or "payload"
    reason = _reason_for(first)
    if reason is RejectReason.missing_field:
        return Rejected(reason, f"{field}: required field is missing")
    return Rejected(reason, f"{field}: {first['msg']}, got {preview(first.get('input'))}")
