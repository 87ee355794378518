"""Zigbee2MQTT translation profiles: property -> contract field, per device type (data only)."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Annotated

import yaml
from pydantic import BaseModel, ConfigDict, Field, TypeAdapter, ValidationError

from core.slug import SLUG_PATTERN

BUILTIN = Path(__file__).with_name("profiles.yaml")
FieldName = Annotated[str, Field(pattern=r"^[a-z_][a-z0-9_]{0,63}$")]


class Z2mProfileError(Exception):
    def __init__(self, path: Path, problem: str) -> None:
        super().__init__(f"zigbee2mqtt profiles {path}: {problem}")


class Z2mProfile(BaseModel):
    """One device type as Zigbee2MQTT reports it."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    models: tuple[str, ...] = ()
    offline_timeout_s: Annotated[float, Field(gt=0)] = 90000.0
    fields: dict[FieldName, FieldName]


Z2mProfiles = Mapping[str, Z2mProfile]
_PROFILES = TypeAdapter(dict[Annotated[str, Field(pattern=SLUG_PATTERN)], Z2mProfile])


def load_z2m_profiles(path: Path = BUILTIN) -> dict[str, Z2mProfile]:
    """Strictly: an unknown key or a bad value stops start-up naming the place."""
    try:
        return _PROFILES.validate_python(yaml.safe_load(path.read_text(encoding="utf-8")))
    except (OSError, yaml.YAMLError) as exc:
        raise Z2mProfileError(path, str(exc)) from exc
    except ValidationError as exc:
        error = exc.errors()[0]
        where = ".".join(str(part) for part in error["loc"])
        raise Z2mProfileError(path, f"{where}: {error['msg']}") from exc
