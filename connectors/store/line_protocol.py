"""Render points as InfluxDB line protocol (nanosecond timestamps).

Escaping follows the line protocol reference: commas and spaces in measurements; commas,
equals signs and spaces in tag keys, tag values and field keys; double quotes and
backslashes in string field values. A backslash in a name or tag value is written as is,
unless it would escape the next delimiter (or end the token): then it is doubled, which is
what InfluxDB 2.x/3.x read back as one backslash (1.x keeps both, see README.md).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from functools import lru_cache

from core.telemetry import FieldValue, Point

_CONTROL = str.maketrans({"\n": "\\n", "\r": "\\r", "\t": "\\t"})
_STRING_FIELD = str.maketrans({"\\": "\\\\", '"': '\\"'})
_MEASUREMENT_SPECIALS = ", "
_KEY_SPECIALS = ",= "


def _ambiguous_backslash(specials: str) -> re.Pattern[str]:
    # A backslash only needs doubling when it would otherwise escape what follows it.
    return re.compile(r"\\(?=[" + re.escape(specials) + r"\\]|$)")


_AMBIGUOUS = {specials: _ambiguous_backslash(specials)
              for specials in (_MEASUREMENT_SPECIALS, _KEY_SPECIALS)}
_NEEDS_WORK = re.compile(r"[\\,= \n\r\t]")


def _escape(text: str, specials: str) -> str:
    if _NEEDS_WORK.search(text) is None:
        return text
    escaped = _AMBIGUOUS[specials].sub(r"\\\\", text.translate(_CONTROL))
    for char in specials:
        escaped = escaped.replace(char, "\\" + char)
    return escaped


# Names and tag sets repeat from point to point: escaping each only once is most of the speed.
@lru_cache(maxsize=4096)
def escape_measurement(name: str) -> str:
    return _escape(name, _MEASUREMENT_SPECIALS)


@lru_cache(maxsize=65536)
def escape_key(name: str) -> str:
    """Escape a tag key, tag value or field key."""
    return _escape(name, _KEY_SPECIALS)


def render_field_value(value: FieldValue) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return f"{value}i"
    if isinstance(value, float):
        return repr(value)  # shortest text that reads back as the same double
    return '"' + value.translate(_STRING_FIELD) + '"'


def render_tags(tags: Mapping[str, str]) -> str:
    return _render_tag_items(tuple(tags.items()))


@lru_cache(maxsize=65536)
def _render_tag_items(items: tuple[tuple[str, str], ...]) -> str:
    return "".join(
        f",{escape_key(key)}={escape_key(value)}" for key, value in sorted(items) if value != ""
    )


def render_fields(fields: Mapping[str, FieldValue]) -> str:
    return ",".join(
        f"{escape_key(key)}={render_field_value(value)}" for key, value in fields.items()
    )


def render_point(point: Point) -> str:
    """One line of line protocol, without the trailing newline."""
    return (
        f"{escape_measurement(point.measurement)}{render_tags(point.tags)}"
        f" {render_fields(point.fields)} {point.time_ns}"
    )


def render_points(points: Iterable[Point]) -> str:
    return "\n".join(render_point(point) for point in points)
