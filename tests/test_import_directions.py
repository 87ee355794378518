"""The allowed import directions between EstateOps's top-level packages (the README's map).

Walks every module's imports with ast, so an import against the map fails here, with the
file and line, before it becomes a cycle.
"""

from __future__ import annotations

import ast
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]

# Lowest first. Each package may import itself and the packages listed for it, nothing else.
ALLOWED: dict[str, frozenset[str]] = {
    "core": frozenset(),
    "device_profiles": frozenset({"core"}),
    "connectors": frozenset({"core"}),
    "registry": frozenset({"core", "device_profiles"}),
    "gateway": frozenset({"core", "device_profiles", "connectors", "registry"}),
    "services": frozenset({"core", "device_profiles", "connectors", "registry", "gateway"}),
    "simulators": frozenset({"core", "device_profiles", "connectors", "registry"}),
    "bridges": frozenset({"core", "device_profiles", "connectors", "registry"}),
    "estateops": frozenset({"core", "device_profiles", "connectors", "registry", "gateway",
                            "services", "simulators", "bridges"}),
}
# Of the gateway, the services read only the tables it writes (last state, dead letters),
# and administer the rule overrides it reads (checked the way the engine applies them).
NARROW: dict[tuple[str, str], frozenset[str]] = {
    ("services", "gateway"): frozenset({"gateway.tables", "gateway.rules.tables",
                                        "gateway.rules.overrides", "gateway.rules.compile"}),
}
# The core holds the shared vocabulary: it must stay importable with no heavy dependency
# but SQLAlchemy (its declarative Base) and orjson (one C module, which renders the bulk
# upsert's rows for PostgreSQL).
CORE_THIRD_PARTY = frozenset({"sqlalchemy", "orjson"})


@dataclass(frozen=True)
class Import:
    source: Path
    line: int
    module: str

    @property
    def package(self) -> str:
        return self.source.relative_to(ROOT).parts[0]

    @property
    def target(self) -> str:
        return self.module.split(".")[0]

    def __str__(self) -> str:
        return f"{self.source.relative_to(ROOT)}:{self.line} imports {self.module}"


def imports_of(path: Path) -> Iterator[Import]:
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield Import(path, node.lineno, alias.name)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            for alias in node.names:
                # `from gateway import tables` names the module gateway.tables
                yield Import(path, node.lineno, f"{node.module}.{alias.name}")


def package_imports() -> list[Import]:
    found = []
    for package in ALLOWED:
        for path in sorted((ROOT / package).rglob("*.py")):
            found.extend(imports_of(path))
    return found


def violations(found: list[Import]) -> list[str]:
    wrong = []
    for one in found:
        if one.target not in ALLOWED or one.target == one.package:
            continue
        if one.target not in ALLOWED[one.package]:
            wrong.append(f"{one}: {one.package} may not import {one.target}")
            continue
        narrow = NARROW.get((one.package, one.target))
        if narrow is not None and not any(
            one.module == allowed or one.module.startswith(f"{allowed}.") for allowed in narrow
        ):
            wrong.append(f"{one}: {one.package} may import only {sorted(narrow)} of {one.target}")
    return wrong


def package_graph(found: list[Import]) -> dict[str, set[str]]:
    graph: dict[str, set[str]] = {package: set() for package in ALLOWED}
    for one in found:
        if one.target in ALLOWED and one.target != one.package:
            graph[one.package].add(one.target)
    return graph


def find_cycle(graph: dict[str, set[str]]) -> list[str] | None:
    visiting: list[str] = []
    done: set[str] = set()

    def visit(node: str) -> list[str] | None:
        if node in visiting:
            return [*visiting[visiting.index(node):], node]
        if node in done:
            return None
        visiting.append(node)
        for neighbour in sorted(graph[node]):
            cycle = visit(neighbour)
            if cycle:
                return cycle
        visiting.pop()
        done.add(node)
        return None

    for start in sorted(graph):
        cycle = visit(start)
        if cycle:
            return cycle
    return None


def test_every_import_follows_the_map() -> None:
    assert violations(package_imports()) == []


def test_the_packages_form_no_cycle() -> None:
    assert find_cycle(package_graph(package_imports())) is None


def test_the_map_itself_has_no_cycle() -> None:
    assert find_cycle({package: set(allowed) for package, allowed in ALLOWED.items()}) is None


def test_nothing_imports_the_composition_root() -> None:
    importers = [str(one) for one in package_imports()
                 if one.target == "estateops" and one.package != "estateops"]
    assert importers == []


def test_the_core_imports_nothing_of_ours_and_little_else() -> None:
    found = [one for one in package_imports() if one.package == "core"]
    ours = [str(one) for one in found if one.target in ALLOWED and one.target != "core"]
    stdlib = sys.stdlib_module_names
    heavy = [str(one) for one in found
             if one.target not in ALLOWED and one.target not in stdlib
             and one.target not in CORE_THIRD_PARTY]
    assert (ours, heavy) == ([], [])


@pytest.mark.parametrize(("source", "bad"), [
    ("from services.workorders.model import Status\n", "core may not import services"),
    ("import gateway.runner\n", "core may not import gateway"),
])
def test_an_import_against_the_map_is_reported_with_its_line(
        tmp_path: Path, source: str, bad: str) -> None:
    path = ROOT / "core" / "_probe_for_import_test.py"
    found = [Import(path, 1, one.module) for one in imports_of(_write(tmp_path, source))]
    assert [message.split(": ", 1)[1] for message in violations(found)] == [bad]


def test_services_may_read_the_gateway_tables_but_not_its_runner() -> None:
    path = ROOT / "services" / "_probe.py"
    found = [Import(path, 1, "gateway.tables.DeviceState"), Import(path, 2, "gateway.runner"),
             Import(path, 3, "gateway.rules.tables.RuleOverride"),
             Import(path, 4, "gateway.rules.engine")]
    assert violations(found) == [
        "services/_probe.py:2 imports gateway.runner: services may import only "
        "['gateway.rules.compile', 'gateway.rules.overrides', 'gateway.rules.tables', "
        "'gateway.tables'] of gateway",
        "services/_probe.py:4 imports gateway.rules.engine: services may import only "
        "['gateway.rules.compile', 'gateway.rules.overrides', 'gateway.rules.tables', "
        "'gateway.tables'] of gateway"]


def test_a_cycle_is_found() -> None:
    assert find_cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == ["a", "b", "c", "a"]


def _write(folder: Path, source: str) -> Path:
    path = folder / "probe.py"
    path.write_text(source)
    return path


def test_loading_device_profiles_loads_no_database_and_no_service() -> None:
    # Simulators and tools read profiles; that must not drag in the SQL store or the API.
    code = ("import sys, device_profiles; device_profiles.load_profiles(); "
            "print(sorted({m.split('.')[0] for m in sys.modules}))")
    result = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True,
                            text=True, timeout=60, check=True)
    loaded = set(ast.literal_eval(result.stdout.strip()))
    assert loaded & {"sqlalchemy", "services", "gateway", "registry", "estateops", "fastapi"} \
        == set()
