"""Fixtures of the registry tests: the built-in profiles and the sample estate files."""

from __future__ import annotations

from pathlib import Path

import pytest

from device_profiles import ProfileSet, load_profiles
from tests.registry.samples import DATA


@pytest.fixture(scope="session")
def profiles() -> ProfileSet:
    return load_profiles()


@pytest.fixture
def longdi_yaml(tmp_path: Path) -> Path:
    """A private copy of the sample YAML, so a test may edit it."""
    path = tmp_path / "longdi.yaml"
    path.write_text((DATA / "longdi.yaml").read_text(encoding="utf-8"), encoding="utf-8")
    return path


@pytest.fixture
def longdi_csv() -> Path:
    return DATA / "longdi.csv"
