"""The one spelling of an identifier on the wire and in the registry: estates, device types,
device ids, rule names."""

from __future__ import annotations

import re

SLUG_LENGTH = 64
KIND_LENGTH = 32  # a device's kind (car, ebike, ceiling): the registry's kind column


def slug_pattern(max_length: int = SLUG_LENGTH) -> str:
    """Lower-case letters, digits, `_` and `-`, starting with a letter or digit."""
    return rf"^[a-z0-9][a-z0-9_-]{{0,{max_length - 1}}}$"


SLUG_PATTERN = slug_pattern()
SLUG = re.compile(SLUG_PATTERN)


def is_slug(value: str) -> bool:
    return SLUG.match(value) is not None
