"""The one spelling of an identifier on the wire and in the registry: estates, device types,
device ids, rule names."""

from __future__ import annotations

import re

SLUG_PATTERN = r"^[a-z0-9][a-z0-9_-]{0,63}$"
SLUG = re.compile(SLUG_PATTERN)
SLUG_LENGTH = 64


def is_slug(value: str) -> bool:
    return SLUG.match(value) is not None
