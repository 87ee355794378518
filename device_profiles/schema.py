"""The declarative shape of a device profile: fields, units, synonyms and storage mapping.

Profiles are operator files, so the schema is strict: an unknown key is an error.
"""

from __future__ import annotations

import re
from enum import StrEnum
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, model_validator

SLUG_PATTERN = r"^[a-z0-9][a-z0-9_-]{0,63}$"
FIELD_NAME_PATTERN = r"^[a-z][a-z0-9_]{0,63}$"
RESERVED_FIELDS = frozenset({"ts", "seq", "event"})


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
        return self


FieldName = Annotated[str, Field(pattern=FIELD_NAME_PATTERN)]


class DeviceProfile(StrictModel):
    """Everything EstateOps knows about one device type, declared as data."""

    device_type: Annotated[str, Field(pattern=SLUG_PATTERN)]
    name: LocalizedName
    reporting_interval_s: Annotated[float, Field(gt=0)]
    measurement: Annotated[str, Field(pattern=FIELD_NAME_PATTERN)]
    kinds: tuple[str, ...] = ()
    telemetry: dict[FieldName, FieldSpec]
    events: dict[FieldName, dict[FieldName, FieldSpec]] = Field(default_factory=dict)

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
