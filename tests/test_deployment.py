"""The production deployment files: docker-compose.yml, the image, and the broker config."""

from __future__ import annotations

import importlib
import os
import re
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import typer.main
import yaml
from pydantic import BaseModel

from estateops.settings import Settings
from gateway.decode import MAX_PAYLOAD_BYTES
from tests.fixtures.processes import free_port, require_binary, running
from tests.utils.tls import make_test_ca

REPO = Path(__file__).resolve().parents[1]
COMPOSE_FILE = REPO / "docker-compose.yml"
ENV_EXAMPLE = REPO / "deploy" / ".env.example"
MOSQUITTO_DIR = REPO / "deploy" / "mosquitto"
DEPLOYMENT_DOC = REPO / "docs" / "deployment.md"
SECRETS = ("POSTGRES_PASSWORD", "MQTT_GATEWAY_PASSWORD", "MQTT_API_PASSWORD",
           "INFLUX_ADMIN_PASSWORD", "INFLUX_ADMIN_TOKEN", "INFLUX_TOKEN", "JWT_SECRET",
           "GRAFANA_ADMIN_PASSWORD")
SERVICES = {"mosquitto", "influxdb", "postgres", "migrate", "gateway", "api", "simulator",
            "grafana"}
# Used until estateops/cli.py exists; then its typer app is the only truth.
KNOWN_COMMANDS: dict[tuple[str, ...], set[str]] = {
    ("migrate",): set(), ("registry", "import"): set(), ("gateway",): {"--metrics-port"},
    ("serve",): {"--host", "--port"}, ("simulate",): {"--buildings"}, ("demo",): set(),
}
DOC_COMMAND = re.compile(r"(?<![\w-])estateops((?: [^\s'\"&;|<>]+)+)")


def compose_config(env_file: Path, *files: Path) -> subprocess.CompletedProcess[str]:
    binary = require_binary("docker-compose", "docker-compose")
    file_args = [arg for file in (files or (COMPOSE_FILE,)) for arg in ("-f", str(file))]
    return subprocess.run(
        [binary, *file_args, "--env-file", str(env_file), "config"],
        capture_output=True, text=True, timeout=60, check=False,
        env={"PATH": os.environ["PATH"], "HOME": os.environ.get("HOME", "/root")},
    )


def resolved(env_file: Path, *files: Path) -> dict[str, Any]:
    result = compose_config(env_file, *files)
    assert result.returncode == 0, result.stderr
    config: dict[str, Any] = yaml.safe_load(result.stdout)
    return config


@pytest.fixture(scope="module")
def env_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """deploy/.env.example with every secret filled in."""
    path = tmp_path_factory.mktemp("compose") / ".env"
    # Long enough for every secret's own rule (the JWT secret needs 32 characters).
    lines = [f"{line}{line[:-1].lower()}0secret0{'x' * 32}" if line.rstrip("=") in SECRETS
             else line
             for line in ENV_EXAMPLE.read_text().splitlines()]
    path.write_text("\n".join(lines) + "\n")
    return path


@pytest.fixture(scope="module")
def compose(env_file: Path) -> dict[str, Any]:
    return resolved(env_file)


def estateops_services(compose: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {name: service for name, service in compose["services"].items()
            if service.get("command", [None])[0] == "estateops"}


def test_compose_file_is_valid_and_has_every_service(compose: dict[str, Any]) -> None:
    assert set(compose["services"]) == SERVICES
    assert compose["services"]["simulator"]["profiles"] == ["simulator"]
    assert set(compose["volumes"]) >= {"postgres-data", "influxdb-data", "mosquitto-data"}


def test_compose_refuses_to_start_without_secrets() -> None:
    example = dict(line.split("=", 1) for line in ENV_EXAMPLE.read_text().splitlines()
                   if line and not line.startswith("#"))
    assert {name: example[name] for name in SECRETS} == dict.fromkeys(SECRETS, "")
    result = compose_config(ENV_EXAMPLE)
    assert result.returncode != 0
    assert any(name in result.stderr for name in SECRETS), result.stderr


def unknown_setting(env_name: str) -> str | None:
    """Why ESTATEOPS_X__Y names no field of Settings, or None when it does."""
    model: type[BaseModel] = Settings
    *groups, leaf = env_name.removeprefix("ESTATEOPS_").lower().split("__")
    for group in groups:
        annotation = model.model_fields[group].annotation if group in model.model_fields else None
        if not (isinstance(annotation, type) and issubclass(annotation, BaseModel)):
            return f"{env_name}: {model.__name__} has no group {group!r}"
        model = annotation
    return None if leaf in model.model_fields else f"{env_name}: {model.__name__} has no {leaf!r}"


def settings_from(env: dict[str, str], monkeypatch: pytest.MonkeyPatch) -> Settings:
    """Settings built from exactly this environment: the values must validate too."""
    for key in [key for key in os.environ if key.startswith("ESTATEOPS_")]:
        monkeypatch.delenv(key)
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    return Settings()


def test_environment_names_only_real_settings(
    compose: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    services = estateops_services(compose)
    assert set(services) == {"migrate", "gateway", "api", "simulator"}
    for name, service in services.items():
        env: dict[str, str] = service["environment"]
        problems = [unknown_setting(key) for key in env if key.startswith("ESTATEOPS_")]
        assert [p for p in problems if p] == [], name
        settings = settings_from(env, monkeypatch)
        assert settings.mqtt.host == "mosquitto", name
        assert settings.influx.url == "http://influxdb:8086", name


def test_services_agree_on_credentials(compose: dict[str, Any]) -> None:
    app_env, broker_env, influx_env, postgres_env, gateway_env = (
        compose["services"][name]["environment"]
        for name in ("api", "mosquitto", "influxdb", "postgres", "gateway"))
    accounts = service_accounts(broker_env)
    for env in (app_env, gateway_env):
        assert accounts[env["ESTATEOPS_MQTT__USERNAME"]] == env["ESTATEOPS_MQTT__PASSWORD"]
    assert app_env["ESTATEOPS_MQTT__USERNAME"] != gateway_env["ESTATEOPS_MQTT__USERNAME"]
    assert app_env["ESTATEOPS_INFLUX__ORG"] == influx_env["DOCKER_INFLUXDB_INIT_ORG"]
    assert app_env["ESTATEOPS_INFLUX__BUCKET"] == influx_env["DOCKER_INFLUXDB_INIT_BUCKET"]
    user, password, database = (postgres_env[f"POSTGRES_{key}"]
                                for key in ("USER", "PASSWORD", "DB"))
    expected_url = f"postgresql+psycopg://{user}:{password}@postgres:5432/{database}"
    assert app_env["ESTATEOPS_DATABASE_URL"] == expected_url


def service_accounts(broker_env: dict[str, str]) -> dict[str, str]:
    """The broker's service accounts as entrypoint.sh writes them: username -> password."""
    written = re.findall(r'mosquitto_passwd -b "\$services" (\S+) "\$(\w+)"',
                         (MOSQUITTO_DIR / "entrypoint.sh").read_text())
    return {user: broker_env[variable] for user, variable in written}


def doc_snippet(header: str) -> str:
    """The ```yaml block of docs/deployment.md whose first line is `# {header}`."""
    found = re.search(rf"```yaml\n(# {re.escape(header)}.*?)```", DEPLOYMENT_DOC.read_text(),
                      re.DOTALL)
    assert found, f"docs/deployment.md has no yaml block headed {header!r}"
    return found.group(1)


def test_documented_influx1_override_is_valid(
    env_file: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    override = tmp_path / "docker-compose.influx1.yml"
    override.write_text(doc_snippet("docker-compose.influx1.yml"))
    services = resolved(env_file, COMPOSE_FILE, override)["services"]
    assert services["influxdb"]["image"].startswith("influxdb:1.")
    for name in ("gateway", "api"):
        env = services[name]["environment"]
        assert [p for p in map(unknown_setting, env) if p] == []
        # Fails while settings.py's Literal[1, 2] rejects the string "1" from the environment.
        assert settings_from(env, monkeypatch).influx.api_version == 1


def test_documented_second_gateway_takes_the_other_partition(
        env_file: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    snippet = doc_snippet("docker-compose.yml, under services:")
    scaled = tmp_path / "docker-compose.yml"
    partition = "ESTATEOPS_GATEWAY__PARTITION: "
    scaled.write_text(COMPOSE_FILE.read_text().replace("\nvolumes:\n", f"{snippet}\nvolumes:\n")
                      .replace(f"{partition}0/1", f"{partition}0/2"))  # as the doc says
    services = resolved(env_file, scaled)["services"]
    first, second = services["gateway"], services["gateway-2"]
    assert second["command"] == first["command"]
    assert second["depends_on"] == first["depends_on"]
    # Plain subscriptions: Mosquitto 2.0 loses a `$share` session on restart.
    assert "ESTATEOPS_MQTT__SHARED_GROUP" not in first["environment"] | second["environment"]
    owned = [settings_from(s["environment"], monkeypatch).gateway.owned for s in (first, second)]
    assert [str(partition) for partition in owned] == ["0/2", "1/2"]
    client_ids = {s["environment"]["ESTATEOPS_MQTT__CLIENT_ID"] for s in (first, second)}
    assert len(client_ids) == 2


def cli_commands() -> dict[tuple[str, ...], set[str]]:
    """Every (sub)command path of the real CLI with its options, or the list kept above."""
    if not (REPO / "estateops" / "cli.py").exists():
        return KNOWN_COMMANDS
    app = importlib.import_module("estateops.cli").app
    found: dict[tuple[str, ...], set[str]] = {}

    def walk(command: Any, path: tuple[str, ...]) -> None:  # typer ships its own click
        found[path] = {opt for param in command.params for opt in param.opts if opt.startswith("-")}
        for name, sub in getattr(command, "commands", {}).items():
            walk(sub, (*path, name))

    walk(typer.main.get_command(app), ())
    return found


def used_commands(compose: dict[str, Any]) -> list[list[str]]:
    used = [service["command"][1:] for service in estateops_services(compose).values()]
    for line in DEPLOYMENT_DOC.read_text().splitlines():
        if line.startswith("docker compose"):  # skip `-U estateops`, `--org estateops`
            used += [tail.split() for tail in DOC_COMMAND.findall(line)
                     if not tail.split()[0].startswith("-")]
    return used


def test_every_estateops_command_used_exists(compose: dict[str, Any]) -> None:
    commands, used = cli_commands(), used_commands(compose)
    assert ["registry", "import", "/estate.yaml"] in used
    for words in used:
        path = tuple(word for word in words if not word.startswith("-"))
        while path and path not in commands:  # trailing arguments such as a file name
            path = path[:-1]
        assert path, f"`estateops {' '.join(words)}` is not a command of the CLI"
        options = {word for word in words if word.startswith("--")}
        assert options <= commands[path], f"`estateops {' '.join(words)}`: unknown option"


def test_image_builds_from_the_lock_as_non_root() -> None:
    dockerfile = (REPO / "Dockerfile").read_text()
    assert "FROM python:3.11-slim" in dockerfile
    assert "uv sync --frozen --no-dev" in dockerfile
    users = re.findall(r"^USER (\S+)", dockerfile, re.MULTILINE)
    assert users[-1:] != ["root"]
    assert users
    ignored = {line.strip() for line in (REPO / ".dockerignore").read_text().splitlines()}
    needed = {"pyproject.toml", "uv.lock", "README.md", "estateops", "gateway", "services",
              "simulators", "device_profiles"}
    assert needed.isdisjoint(ignored)
    assert ".env" in ignored


def test_broker_config_sets_queue_limits_on_purpose() -> None:
    lines = (MOSQUITTO_DIR / "mosquitto.conf").read_text().splitlines()
    directives = dict(line.split(" ", 1) for line in lines if line and not line.startswith("#")
                      and not line.startswith("log_type"))
    queued = int(directives["max_queued_messages"])
    inflight = int(directives["max_inflight_messages"])
    # The defaults (1000 and 20) drop QoS 1 messages under bursts.
    assert queued == 0 or queued >= 100_000
    assert inflight == 0 or inflight >= 100
    assert directives["allow_anonymous"] == "false"
    assert directives["persistence"] == "true"
    # One device's huge message must not reach the gateway whole (MQTT allows 256 MB), but
    # one a little over the contract's limit must, to be kept as a dead letter.
    assert 4 * MAX_PAYLOAD_BYTES <= int(directives["message_size_limit"]) <= 16 * 1024 * 1024


@pytest.fixture
def broker_dir() -> Iterator[Path]:
    """A directory the broker can use after it drops from root to the mosquitto user."""
    path = Path(tempfile.mkdtemp(prefix="estateops-broker-"))
    if os.geteuid() == 0:
        shutil.chown(path, "mosquitto", "mosquitto")
    yield path
    shutil.rmtree(path, ignore_errors=True)


def production_config_copy(directory: Path, ports: dict[int, int]) -> Path:
    """deploy/mosquitto/mosquitto.conf with only its listener ports and paths changed."""
    text = (MOSQUITTO_DIR / "mosquitto.conf").read_text()
    for shipped, port in ports.items():
        text = re.sub(rf"^listener {shipped}$", f"listener {port} 127.0.0.1", text,
                      flags=re.MULTILINE)
    for container_dir in ("/mosquitto/auth/", "/mosquitto/data/", "/mosquitto/config/",
                          "/mosquitto/certs/"):
        text = text.replace(container_dir, f"{directory}/")
    shutil.copy(MOSQUITTO_DIR / "services.acl", directory / "services.acl")
    (directory / "mosquitto.conf").write_text(text)
    make_test_ca(directory)
    if os.geteuid() == 0:
        for name in ("server.key", "server.crt"):
            shutil.chown(directory / name, "mosquitto", "mosquitto")
    return directory / "mosquitto.conf"


def test_broker_runs_the_production_config(
    broker_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """entrypoint.sh as compose runs it: service accounts from the environment, no device
    account before `estateops broker sync`, and the compose healthcheck passes."""
    broker = require_binary("mosquitto", "mosquitto", search=["/usr/sbin/mosquitto"])
    publish = require_binary("mosquitto_pub", "mosquitto-clients")
    ports = {shipped: free_port() for shipped in (8883, 1883, 8884)}
    monkeypatch.setenv("PATH", f"{Path(broker).parent}:{os.environ['PATH']}")
    monkeypatch.setenv("MOSQUITTO_CONFIG_FILE", str(production_config_copy(broker_dir, ports)))
    monkeypatch.setenv("MOSQUITTO_AUTH_DIR", str(broker_dir))
    monkeypatch.setenv("MQTT_GATEWAY_PASSWORD", "gateway-pw")
    monkeypatch.setenv("MQTT_API_PASSWORD", "api-pw")

    def pub(port: int, *args: str) -> int:
        return subprocess.run([publish, "-p", str(port), "-q", "1", "-m", "{}", *args],
                              capture_output=True, timeout=10, check=False).returncode

    with running(["sh", str(MOSQUITTO_DIR / "entrypoint.sh")], log=broker_dir / "log",
                 what="mosquitto (production config)", port=ports[8884]):
        assert pub(ports[1883], "-t", "estates/e1/leak_sensor/leak-1/telemetry") != 0
        assert pub(ports[1883], "-u", "estateops-gateway", "-P", "gateway-pw",
                   "-t", "estates/e1/leak_sensor/leak-1/telemetry") != 0, "service on devices"
        compose_file = yaml.safe_load(COMPOSE_FILE.read_text())
        healthcheck = compose_file["services"]["mosquitto"]["healthcheck"]["test"][1]
        healthcheck = (healthcheck.replace("$$", "$").replace("-p 8884", f"-p {ports[8884]}")
                       .replace("/mosquitto/certs/", f"{broker_dir}/"))
        assert subprocess.run(["sh", "-c", healthcheck], timeout=20, check=False).returncode == 0
