"""Read an estate import file (YAML or CSV) strictly; every error names the file, line and field."""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml
from pydantic import PrivateAttr, ValidationError

from device_profiles.loader import line_index
from registry.schema import CSV_COLUMNS, EstateFile

Loc = tuple[str | int, ...]


class RegistryImportError(Exception):
    """An import file or its content is wrong; `where` is "file:line" (or a path in the data)."""

    def __init__(self, where: str, problem: str) -> None:
        self.where = where
        self.problem = problem
        super().__init__(f"{where}: {problem}")


@dataclass(frozen=True)
class SourceMap:
    """Where each part of a loaded file came from (data location -> 1-based line), and how
    the file names a field (a dotted path in YAML, a column in CSV)."""

    path: Path
    lines: Mapping[Loc, int]
    label: Callable[[Loc], str]

    def where(self, loc: Loc) -> str:
        for end in range(len(loc), -1, -1):
            if loc[:end] in self.lines:
                return f"{self.path}:{self.lines[loc[:end]]}"
        return str(self.path)


class SourcedEstateFile(EstateFile):
    """An EstateFile that remembers the file and line of each estate, building and device."""

    _source: SourceMap | None = PrivateAttr(default=None)

    @property
    def source(self) -> SourceMap | None:
        return self._source


def dotted(loc: Loc) -> str:
    """("estates", 0, "devices", 2, "kind") -> "estates[0].devices[2].kind"."""
    text = ""
    for part in loc:
        text += f"[{part}]" if isinstance(part, int) else f".{part}"
    return text.lstrip(".") or "(top level)"


def locate(estates: EstateFile, loc: Loc) -> tuple[str, str]:
    """(where, field) of the field at `loc`: ("file:line", its name in the file) if `estates`
    came from load_estate_file, else (its data path, its key)."""
    source = estates.source if isinstance(estates, SourcedEstateFile) else None
    if source is not None:
        return source.where(loc), source.label(loc)
    return dotted(loc[:-1]), str(loc[-1])


# A model-level error of an estate names the device at fault only in its message.
_DEVICE_IN_MESSAGE = re.compile(r"device '(?P<id>[^']+)'(?P<rest>.*)")


def _refine(data: Any, loc: Loc, message: str) -> Loc:
    """Point an estate-level reference error at the device (and key) it is about."""
    match = _DEVICE_IN_MESSAGE.search(message)
    if match is None or len(loc) != 2:
        return loc
    try:
        devices = data["estates"][loc[1]]["devices"]
        indexes = [i for i, device in enumerate(devices) if device.get("id") == match["id"]]
    except (KeyError, IndexError, TypeError, AttributeError):
        return loc
    if not indexes:
        return loc
    rest = match["rest"]
    key = "building" if "building" in rest else "unit" if "unit" in rest else "id"
    index = indexes[-1] if "twice" in rest else indexes[0]
    return (*loc, "devices", index, key)


def _problem(error: Mapping[str, Any]) -> str:
    message = str(error["msg"]).removeprefix("Value error, ")
    value = error.get("input")
    if isinstance(value, str | int | float) and error["type"] != "missing":
        message += f" (got {value!r})"
    return message


def validate(data: Any, source: SourceMap) -> SourcedEstateFile:
    try:
        estates = SourcedEstateFile.model_validate(data)
    except ValidationError as exc:
        error = exc.errors()[0]
        loc = _refine(data, tuple(error["loc"]), str(error["msg"]))
        problem = f"{source.label(loc)}: {_problem(error)}"
        raise RegistryImportError(source.where(loc), problem) from exc
    estates._source = source
    check_zones(estates)
    return estates


def check_zones(estates: EstateFile) -> None:
    """Every estate's `zone:` names a zone the file lists (if it lists any)."""
    for i in estates.unzoned():
        where, name = locate(estates, ("estates", i, "zone"))
        known = ", ".join(zone.id for zone in estates.zones)
        raise RegistryImportError(where, f"{name}: unknown zone {estates.estates[i].zone!r}; "
                                         f"the file lists {known}")


def _read_text(path: Path) -> str:
    try:
        # utf-8-sig: spreadsheet programs often start a UTF-8 CSV with a byte-order mark.
        return path.read_bytes().decode("utf-8-sig")
    except (OSError, UnicodeDecodeError) as exc:
        raise RegistryImportError(str(path), f"cannot read the file: {exc}") from exc


def load_yaml(path: Path) -> SourcedEstateFile:
    text = _read_text(path)
    try:
        node = yaml.compose(text)
        data: Any = yaml.safe_load(text)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark
        where = f"{path}:{mark.line + 1}" if mark is not None else str(path)
        context = f" ({exc.context})" if exc.context else ""
        raise RegistryImportError(where, f"not valid YAML: {exc.problem}{context}") from exc
    except yaml.YAMLError as exc:
        raise RegistryImportError(str(path), f"not valid YAML: {exc}") from exc
    if node is None or not isinstance(data, dict):
        raise RegistryImportError(f"{path}:1", "expected a mapping with an 'estates' list")
    return validate(data, SourceMap(path, line_index(node), dotted))


REQUIRED_COLUMNS = ("estate_id", "estate_name", "device_id", "device_type")
DEVICE_COLUMNS = {
    "id": "device_id", "type": "device_type", "name": "display_name", "building": "building_code",
    "unit": "unit_code", "location": "location", "kind": "kind",
    "reporting_interval_s": "reporting_interval_s", "zigbee2mqtt": "zigbee2mqtt", "ocpp": "ocpp",
}
# Model field -> CSV column, per kind of entity, so that errors name the column.
CSV_COLUMN_OF = {
    "estates": {"id": "estate_id", "name": "estate_name"},
    "buildings": {"code": "building_code", "name": "building_name"},
    "units": {"code": "unit_code", "name": "unit_name"},
    "devices": DEVICE_COLUMNS,
}
Row = Mapping[str, str | None]


def csv_label(loc: Loc) -> str:
    if not loc or isinstance(loc[-1], int):
        return "row"
    names = [part for part in loc if isinstance(part, str)]
    entity = names[-2] if len(names) >= 2 else ""
    return CSV_COLUMN_OF.get(entity, {}).get(names[-1], names[-1])


class _CsvGatherer:
    """Builds EstateFile data from one-device rows, each estate, building and unit once."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.estates: list[dict[str, Any]] = []
        self.lines: dict[Loc, int] = {}
        self._found: dict[tuple[str, ...], tuple[Loc, dict[str, Any]]] = {}

    def _entity(self, line: int, key: tuple[str, ...], into: list[dict[str, Any]],
                list_loc: Loc, fresh: dict[str, Any]) -> tuple[Loc, dict[str, Any]]:
        if key not in self._found:
            loc = (*list_loc, len(into))
            into.append(fresh)
            self.lines[loc] = line
            self._found[key] = (loc, fresh)
        return self._found[key]

    def _merge(self, line: int, entity: dict[str, Any], field: str, column: str,
               value: str | None) -> None:
        known = entity.get(field)
        if value is None or known == value:
            return
        if known is not None:
            problem = f"{column}: {value!r} differs from {known!r} in an earlier row"
            raise RegistryImportError(f"{self.path}:{line}", problem)
        entity[field] = value

    def _require_codes(self, line: int, row: Row) -> None:
        for name, code in (("building_name", "building_code"), ("unit_name", "unit_code")):
            if row.get(name) is not None and row.get(code) is None:
                raise RegistryImportError(f"{self.path}:{line}", f"{name} given without {code}")

    def add(self, line: int, row: Row) -> None:
        estate_id = row.get("estate_id")
        if estate_id is None:
            raise RegistryImportError(f"{self.path}:{line}", "estate_id: required in every row")
        self._require_codes(line, row)
        estate_loc, estate = self._entity(
            line, (estate_id,), self.estates, ("estates",),
            {"id": estate_id, "buildings": [], "devices": []},
        )
        self._merge(line, estate, "name", "estate_name", row.get("estate_name"))
        self._merge(line, estate, "zone", "zone", row.get("zone"))
        self._add_place(line, row, estate_loc, estate)
        device = {field: row.get(column) for field, column in DEVICE_COLUMNS.items()}
        self.lines[(*estate_loc, "devices", len(estate["devices"]))] = line
        estate["devices"].append({key: value for key, value in device.items() if value is not None})

    def _add_place(self, line: int, row: Row, estate_loc: Loc, estate: dict[str, Any]) -> None:
        building_code, unit_code = row.get("building_code"), row.get("unit_code")
        if building_code is None:
            return
        building_loc, building = self._entity(
            line, (estate["id"], building_code), estate["buildings"], (*estate_loc, "buildings"),
            {"code": building_code, "units": []},
        )
        self._merge(line, building, "name", "building_name", row.get("building_name"))
        if unit_code is None:
            return
        _, unit = self._entity(
            line, (estate["id"], building_code, unit_code), building["units"],
            (*building_loc, "units"), {"code": unit_code},
        )
        self._merge(line, unit, "name", "unit_name", row.get("unit_name"))


def _check_header(path: Path, header: list[str]) -> None:
    where = f"{path}:1"
    for column in header:
        if column not in CSV_COLUMNS:
            raise RegistryImportError(
                where, f"unknown column {column!r}; the columns are {', '.join(CSV_COLUMNS)}"
            )
    if len(set(header)) != len(header):
        raise RegistryImportError(where, "a column is named twice")
    for column in REQUIRED_COLUMNS:
        if column not in header:
            raise RegistryImportError(where, f"missing column {column!r}")


def _csv_rows(path: Path, text: str) -> Iterator[tuple[int, Row]]:
    reader = csv.reader(io.StringIO(text, newline=""), strict=True)
    try:
        header = [cell.strip() for cell in next(reader, [])]
        if not header:
            raise RegistryImportError(f"{path}:1", "empty file: expected a header row")
        _check_header(path, header)
        for cells in reader:
            if not any(cell.strip() for cell in cells):
                continue
            if len(cells) != len(header):
                raise RegistryImportError(
                    f"{path}:{reader.line_num}",
                    f"malformed row: {len(cells)} fields, the header has {len(header)}",
                )
            yield reader.line_num, {
                column: cell.strip() or None for column, cell in zip(header, cells, strict=True)
            }
    except csv.Error as exc:
        raise RegistryImportError(f"{path}:{reader.line_num}", f"malformed CSV: {exc}") from exc


def load_csv(path: Path) -> SourcedEstateFile:
    gatherer = _CsvGatherer(path)
    for line, row in _csv_rows(path, _read_text(path)):
        gatherer.add(line, row)
    if not gatherer.estates:
        raise RegistryImportError(f"{path}:2", "no rows: expected one row per device")
    data = {"estates": gatherer.estates}
    return validate(data, SourceMap(path, gatherer.lines, csv_label))


def load_estate_file(path: Path) -> EstateFile:
    """Read and validate an estate file, YAML (.yaml/.yml) or CSV (.csv), by its suffix."""
    suffix = path.suffix.lower()
    if suffix in (".yaml", ".yml"):
        return load_yaml(path)
    if suffix == ".csv":
        return load_csv(path)
    raise RegistryImportError(str(path), f"unknown file type {suffix!r}: use .yaml, .yml or .csv")
