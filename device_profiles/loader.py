"""Load device profiles from YAML, failing loudly with the file, line and key at fault."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError

from device_profiles.schema import DeviceProfile

BUILTIN_DIR = Path(__file__).parent / "profiles"


class ProfileError(Exception):
    """A profile file is wrong; the message names file, line and problem."""

    def __init__(self, path: Path, line: int | None, problem: str) -> None:
        self.path = path
        self.line = line
        self.problem = problem
        where = f"{path}:{line}" if line is not None else str(path)
        super().__init__(f"device profile {where}: {problem}")


KeyPath = tuple[str | int, ...]


def line_index(node: yaml.Node, path: KeyPath = ()) -> dict[KeyPath, int]:
    """Map each key path in a YAML document to its 1-based line number."""
    lines: dict[KeyPath, int] = {path: node.start_mark.line + 1}
    if isinstance(node, yaml.MappingNode):
        for key_node, value_node in node.value:
            key_path = (*path, str(key_node.value))
            lines.update(line_index(value_node, key_path))
            lines[key_path] = key_node.start_mark.line + 1
    elif isinstance(node, yaml.SequenceNode):
        for index, item in enumerate(node.value):
            lines.update(line_index(item, (*path, index)))
    return lines


def _nearest_line(lines: Mapping[KeyPath, int], loc: KeyPath) -> int | None:
    for end in range(len(loc), -1, -1):
        if loc[:end] in lines:
            return lines[loc[:end]]
    return None


def load_profile(path: Path) -> DeviceProfile:
    text = path.read_text(encoding="utf-8")
    try:
        node = yaml.compose(text)
        data: Any = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = mark.line + 1 if mark is not None else None
        raise ProfileError(path, line, f"not valid YAML: {exc}") from exc
    if node is None or not isinstance(data, dict):
        raise ProfileError(path, 1, "a profile must be a YAML mapping")
    lines = line_index(node)
    try:
        profile = DeviceProfile.model_validate(data)
    except ValidationError as exc:
        first = exc.errors()[0]
        loc = tuple(first["loc"])
        key = ".".join(str(part) for part in loc) or "(top level)"
        raise ProfileError(path, _nearest_line(lines, loc), f"{key}: {first['msg']}") from exc
    if profile.device_type != path.stem:
        raise ProfileError(
            path, lines.get(("device_type",)),
            f"device_type {profile.device_type!r} must match the file name {path.stem!r}",
        )
    return profile


@dataclass(frozen=True)
class ProfileSet:
    """All loaded profiles, by device type."""

    by_type: Mapping[str, DeviceProfile]

    def get(self, device_type: str) -> DeviceProfile | None:
        return self.by_type.get(device_type)

    def __contains__(self, device_type: object) -> bool:
        return device_type in self.by_type

    @property
    def device_types(self) -> list[str]:
        return sorted(self.by_type)


def profile_files(directories: Iterable[Path]) -> list[Path]:
    files: list[Path] = []
    for directory in directories:
        if not directory.is_dir():
            raise ProfileError(directory, None, "profile directory does not exist")
        files.extend(sorted(directory.glob("*.yaml")))
    return files


def load_profiles(extra_dirs: Iterable[Path] = ()) -> ProfileSet:
    """Load the built-in profiles plus any operator directories; later files override earlier."""
    by_type: dict[str, DeviceProfile] = {}
    for path in profile_files([BUILTIN_DIR, *extra_dirs]):
        profile = load_profile(path)
        by_type[profile.device_type] = profile
    return ProfileSet(by_type=by_type)
