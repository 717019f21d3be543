"""docker-compose.yml is valid Compose and runs every process of the design card.

No Docker engine is needed: the file is checked against the Compose Specification's JSON
schema as vendored by check-jsonschema (`--builtin-schema vendor.compose-spec`), and, where the
docker compose plugin is installed, by `docker compose config -q` too (it needs no daemon).
"""

import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from ruamel.yaml import YAML

ROOT = Path(__file__).resolve().parents[2]
COMPOSE_FILE = ROOT / "docker-compose.yml"
# The design card's processes: four services and the gateway, each `python -m <module>`.
PROCESSES = {
    "accounts": "services.accounts",
    "cases": "services.cases",
    "documents": "services.documents",
    "notify": "services.notify",
    "gateway": "gateway",
}
HEALTHY = "service_healthy"


@pytest.fixture(scope="module")
def services() -> dict:
    compose = YAML(typ="safe", pure=True).load(COMPOSE_FILE.read_text(encoding="utf-8"))
    return compose["services"]


def command_of(service: dict) -> list[str]:
    command = service.get("command")
    return command.split() if isinstance(command, str) else list(command or [])


def test_valid_against_the_compose_spec_schema():
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "check_jsonschema",
            "--builtin-schema",
            "vendor.compose-spec",
            str(COMPOSE_FILE),
        ],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stdout + result.stderr


def _compose_plugin() -> str | None:
    docker = shutil.which("docker")
    if docker is None:
        return None
    probe = subprocess.run(
        [docker, "compose", "version"], capture_output=True, text=True, timeout=30
    )
    return docker if probe.returncode == 0 else None


def test_docker_compose_config_accepts_it():
    docker = _compose_plugin()
    if docker is None:
        pytest.skip("the docker compose plugin is not installed (the schema test covers this)")
    result = subprocess.run(
        [docker, "compose", "-f", str(COMPOSE_FILE), "config", "-q"],
        capture_output=True,
        text=True,
        timeout=60,
        cwd=ROOT,
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_every_service_folder_is_a_process_here():
    folders = {p.parent.name for p in (ROOT / "services").glob("*/__main__.py")}
    assert folders == {name for name, module in PROCESSES.items() if module.startswith("services.")}


@pytest.mark.parametrize("name", PROCESSES)
def test_each_process_has_its_own_container(services, name):
    service = services[name]
    assert service.get("build") in (".", {"context": "."}), "built from the repo's Dockerfile"
    assert command_of(service) == ["python", "-m", PROCESSES[name]]
    assert service.get("restart") in ("unless-stopped", "always", "on-failure")


@pytest.mark.parametrize("name", PROCESSES)
def test_each_process_waits_for_healthy_servers_and_migrations(services, name):
    depends_on = services[name]["depends_on"]
    assert depends_on["postgres"]["condition"] == HEALTHY
    assert depends_on["rabbitmq"]["condition"] == HEALTHY
    assert depends_on["setup"]["condition"] == "service_completed_successfully"


@pytest.mark.parametrize("name", [*PROCESSES, "setup"])
def test_each_process_talks_to_the_containers(services, name):
    environment = services[name]["environment"]
    assert "@postgres:5432/" in environment["ZC_DATABASE_URL"]
    assert "@rabbitmq:5672/" in environment["ZC_AMQP_URL"]


def test_setup_applies_migrations_once_the_database_is_healthy(services):
    setup = services["setup"]
    assert command_of(setup) == ["python", "-m", "tools.setup"]
    assert setup["restart"] == "no"
    assert setup["depends_on"]["postgres"]["condition"] == HEALTHY


def test_official_server_images_with_healthchecks(services):
    postgres, rabbitmq = services["postgres"], services["rabbitmq"]
    assert postgres["image"] == "postgres:15"
    assert "pg_isready" in postgres["healthcheck"]["test"]
    assert any("pgdata:" in volume for volume in postgres["volumes"])
    assert rabbitmq["image"] == "rabbitmq:3.13-management"
    assert rabbitmq["healthcheck"]["test"][1:] == ["rabbitmq-diagnostics", "-q", "ping"]


def _published(port) -> tuple[str, str]:
    if isinstance(port, dict):
        return str(port.get("published")), str(port.get("target"))
    published, _, target = str(port).rpartition(":")
    return published.rpartition(":")[2], target


def test_gateway_publishes_8080_and_checks_healthz(services):
    gateway = services["gateway"]
    assert ("8080", "8080") in [_published(port) for port in gateway["ports"]]
    assert gateway["environment"]["ZC_GATEWAY_HOST"] == "0.0.0.0"
    assert "/healthz" in " ".join(gateway["healthcheck"]["test"])
    for name in PROCESSES.keys() - {"gateway"}:
        assert "ports" not in services[name], f"{name} is reached through RabbitMQ only"
