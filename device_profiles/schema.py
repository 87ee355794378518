"""The declarative shape of a device profile: fields, units, synonyms, storage and rules.

Profiles are operator files, so the schema is strict: an unknown key is an error.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from enum import StrEnum
from typing import Annotated, Any

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    StrictBool,
    StrictFloat,
    StrictInt,
    StrictStr,
    TypeAdapter,
    ValidationInfo,
    ValidatorFunctionWrapHandler,
    field_validator,
    model_validator,
)

from core.slug import KIND_LENGTH, SLUG_PATTERN, slug_pattern
from core.vocabulary import Category, Priority, Team

FIELD_NAME_PATTERN = r"^[a-z][a-z0-9_]{0,63}$"
# A registry kind (e.g. car, ebike): a slug short enough for the registry's kind column.
KIND_PATTERN = slug_pattern(KIND_LENGTH)
RESERVED_FIELDS = frozenset({"ts", "seq", "event"})
# Names the gateway writes into an event point itself: its tag and its one field.
RESERVED_EVENT_FIELDS = frozenset({"event", "occurred"})
MAX_TAG_VALUES = 1024


class FieldType(StrEnum):
    BOOL = "bool"
    INT = "int"
    FLOAT = "float"
    STRING = "string"
    ENUM = "enum"


class StrictModel(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class LocalizedName(StrictModel):
    en: str
    zh: str


class FieldSpec(StrictModel):
    """One measured quantity or event attribute, with its unit kept as metadata."""

    type: FieldType
    required: bool = False
    nullable: bool = False
    unit: str | None = None
    description: str | None = None
    values: tuple[str, ...] | None = None
    min: float | None = None
    max: float | None = None
    synonyms: tuple[str, ...] = ()
    max_length: int = 256
    tag: bool = Field(default=False, description="store as an InfluxDB tag instead of a field")

    @model_validator(mode="after")
    def _check_consistency(self) -> FieldSpec:
        if self.type is FieldType.ENUM and not self.values:
            raise ValueError("an enum field needs 'values'")
        if self.type is not FieldType.ENUM and self.values is not None:
            raise ValueError("'values' is only for enum fields")
        numeric = self.type in (FieldType.INT, FieldType.FLOAT)
        if not numeric and (self.min is not None or self.max is not None):
            raise ValueError("'min'/'max' are only for int and float fields")
        if self.tag and not self.bounded:
            raise ValueError("a tag needs bounded values (enum, bool, or int with min and max "
                             f"at most {MAX_TAG_VALUES} apart): store free text as a field")
        return self

    @property
    def bounded(self) -> bool:
        """Few possible values: each one is an InfluxDB series of its own when a tag."""
        if self.type in (FieldType.ENUM, FieldType.BOOL):
            return True
        return (self.type is FieldType.INT and self.min is not None and self.max is not None
                and self.max - self.min < MAX_TAG_VALUES)


FieldName = Annotated[str, Field(pattern=FIELD_NAME_PATTERN)]
Kind = Annotated[str, Field(pattern=KIND_PATTERN)]
RuleName = Annotated[str, Field(pattern=SLUG_PATTERN)]
RuleValue = StrictBool | StrictInt | StrictFloat | StrictStr | None
ORDERED_OPS = ("lt", "le", "gt", "ge")
COMPARISON_OPS = ("eq", "ne", *ORDERED_OPS)
_PROFILE_CONTEXT = "device_profile"


def _profile_context(info: ValidationInfo) -> Mapping[str, Any] | None:
    context = info.context
    return context.get(_PROFILE_CONTEXT) if isinstance(context, dict) else None


def _check_value(name: str, spec: FieldSpec, op: str, value: RuleValue) -> None:
    numeric = isinstance(value, int | float) and not isinstance(value, bool)
    if value is None:
        if op in ORDERED_OPS or not spec.nullable:
            raise ValueError(f"null is only compared (eq/ne) with nullable fields, not {name!r}")
    elif op in ORDERED_OPS or spec.type in (FieldType.INT, FieldType.FLOAT):
        if spec.type not in (FieldType.INT, FieldType.FLOAT) or not numeric:
            raise ValueError(f"{op} {value!r}: {name!r} is a {spec.type} field")
    elif spec.type is FieldType.BOOL and not isinstance(value, bool):
        raise ValueError(f"{name!r} is a bool field: compare it with true or false")
    elif spec.type is FieldType.ENUM and value not in (spec.values or ()):
        raise ValueError(f"{value!r} is not one of {name!r}'s values {list(spec.values or ())}")
    elif spec.type is FieldType.STRING and not isinstance(value, str):
        raise ValueError(f"{name!r} is a string field")


class ConditionSpec(StrictModel):
    """A comparison of one telemetry field (`field` and one of eq, ne, lt, le, gt, ge), or
    `all` / `any` of conditions. `by_kind` replaces the compared value for devices whose
    registry kind it names (e.g. `{field: temperature_c, ge: 70, by_kind: {ebike: 60}}`)."""

    field: FieldName | None = None
    eq: RuleValue = None
    ne: RuleValue = None
    lt: RuleValue = None
    le: RuleValue = None
    gt: RuleValue = None
    ge: RuleValue = None
    by_kind: dict[str, RuleValue] = Field(default_factory=dict)
    all: tuple[ConditionSpec, ...] | None = Field(default=None, min_length=1)
    any: tuple[ConditionSpec, ...] | None = Field(default=None, min_length=1)

    @property
    def op(self) -> str | None:
        """The comparison operator, or None for an all/any group."""
        return next((op for op in COMPARISON_OPS if op in self.model_fields_set), None)

    @property
    def value(self) -> RuleValue:
        op = self.op
        return None if op is None else getattr(self, op)

    @model_validator(mode="after")
    def _check_form(self, info: ValidationInfo) -> ConditionSpec:
        ops = [op for op in COMPARISON_OPS if op in self.model_fields_set]
        groups = [self.all, self.any]
        if self.field is not None:
            if len(ops) != 1 or any(group is not None for group in groups):
                raise ValueError("a comparison has `field` and exactly one of "
                                 + ", ".join(COMPARISON_OPS))
        elif ops or self.by_kind or sum(group is not None for group in groups) != 1:
            raise ValueError("a condition is a comparison (`field` and an operator), "
                             "or exactly one of `all` / `any`")
        profile = _profile_context(info)
        if profile is not None and self.field is not None:
            self._check_against(profile)
        return self

    def _check_against(self, profile: Mapping[str, Any]) -> None:
        assert self.field is not None
        assert self.op is not None
        spec = profile.get("telemetry", {}).get(self.field)
        if spec is None:
            raise ValueError(f"{self.field!r} is not a telemetry field of this profile")
        for value in (self.value, *self.by_kind.values()):
            _check_value(self.field, spec, self.op, value)
        unknown = sorted(set(self.by_kind) - set(profile.get("kinds", ())))
        if unknown:
            raise ValueError(f"by_kind names {unknown}, not kinds of this profile")


class RuleDeclaration(StrictModel):
    """One anomaly rule. Its trigger is exactly one of: a condition on telemetry (`when`,
    optionally held `for_s` seconds or `in_a_row` readings), `count` events named `event`
    within `within_s` seconds, or silence (`silence_intervals` × the reporting interval)
    and/or an `offline` status."""

    title: LocalizedName
    priority: Priority
    team: Team
    category: Category
    description: str | None = None
    when: ConditionSpec | None = None
    clear: ConditionSpec | None = None
    for_s: Annotated[float, Field(gt=0)] | None = None
    in_a_row: Annotated[int, Field(ge=1)] | None = None
    event: FieldName | None = None
    count: Annotated[int, Field(ge=1)] | None = None
    within_s: Annotated[float, Field(gt=0)] | None = None
    silence_intervals: Annotated[float, Field(gt=0)] | None = None
    offline_status: bool = False
    notify_residents: StrictBool = Field(
        default=False,
        description="a new work order of this rule in a unit also tells the unit's residents",
    )

    @model_validator(mode="after")
    def _check_trigger(self, info: ValidationInfo) -> RuleDeclaration:
        silence = self.silence_intervals is not None or self.offline_status
        if (self.when is not None) + (self.event is not None) + silence != 1:
            raise ValueError("a rule has exactly one trigger: `when`, `event`, or "
                             "`silence_intervals` / `offline_status`")
        reading_keys = (self.clear, self.for_s, self.in_a_row)
        if self.when is None and any(key is not None for key in reading_keys):
            raise ValueError("`clear`, `for_s` and `in_a_row` belong to `when` rules")
        if (self.event is None) != (self.count is None) or \
                (self.event is None) != (self.within_s is None):
            raise ValueError("an event rule has `event`, `count` and `within_s`, together")
        profile = _profile_context(info)
        if profile is not None and self.event is not None and \
                self.event not in profile.get("events", {}):
            raise ValueError(f"event {self.event!r} is not an event of this profile")
        return self


_RULES = TypeAdapter(dict[RuleName, RuleDeclaration])
EventSpecs = dict[FieldName, dict[FieldName, FieldSpec]]


class DeviceProfile(StrictModel):
    """Everything EstateOps knows about one device type, declared as data."""

    device_type: Annotated[str, Field(pattern=SLUG_PATTERN)]
    name: LocalizedName
    reporting_interval_s: Annotated[float, Field(gt=0)]
    measurement: Annotated[str, Field(pattern=FIELD_NAME_PATTERN)]
    kinds: tuple[Kind, ...] = ()
    telemetry: dict[FieldName, FieldSpec]
    events: EventSpecs = Field(default_factory=dict)
    rules: dict[RuleName, RuleDeclaration] = Field(default_factory=dict)

    @field_validator("kinds")
    @classmethod
    def _kinds_unique(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        repeated = sorted({kind for kind in value if value.count(kind) > 1})
        if repeated:
            raise ValueError(f"kinds {repeated} are listed more than once")
        return value

    @field_validator("rules", mode="wrap")
    @classmethod
    def _check_rules(cls, value: Any, _handler: ValidatorFunctionWrapHandler,
                     info: ValidationInfo) -> dict[str, RuleDeclaration]:
        # Rules name the profile's fields, events and kinds: validate them knowing those, so
        # an error keeps its exact place (rules.<name>.when.all.0.field) for the line number.
        known = {key: info.data[key] for key in ("telemetry", "events", "kinds")
                 if key in info.data}
        return _RULES.validate_python(value, context={_PROFILE_CONTEXT: known})

    @model_validator(mode="after")
    def _check_names(self) -> DeviceProfile:
        for name in self.telemetry:
            if name in RESERVED_FIELDS:
                raise ValueError(f"telemetry field {name!r} is reserved by the contract")
        seen: dict[str, str] = {}
        for name, spec in self.telemetry.items():
            for alias in (name, *spec.synonyms):
                if alias in seen:
                    raise ValueError(f"{alias!r} names both {seen[alias]!r} and {name!r}")
                if not re.match(FIELD_NAME_PATTERN, alias):
                    raise ValueError(f"synonym {alias!r} is not a valid field name")
                seen[alias] = name
        return self

    @field_validator("events")
    @classmethod
    def _check_event_attributes(cls, events: EventSpecs) -> EventSpecs:
        # All events share one measurement, where a field has one type (InfluxDB's rule).
        declared: dict[str, tuple[FieldType, bool]] = {}
        for event, specs in events.items():
            for name, spec in specs.items():
                if name in RESERVED_FIELDS | RESERVED_EVENT_FIELDS:
                    raise ValueError(f"event {event!r}: attribute {name!r} is reserved")
                first = declared.setdefault(name, (spec.type, spec.tag))
                if first != (spec.type, spec.tag):
                    raise ValueError(f"event attribute {name!r} is declared with another type "
                                     "or tag in another event: all events share one measurement")
        return events

    @property
    def events_measurement(self) -> str:
        return f"{self.measurement}_event"

    def canonical_field(self, name: str) -> str | None:
        """The telemetry field that `name` means (itself or a synonym), or None if unknown."""
        if name in self.telemetry:
            return name
        for canonical, spec in self.telemetry.items():
            if name in spec.synonyms:
                return canonical
        return None
