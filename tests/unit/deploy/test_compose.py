"""docker-compose.yml stays in step with the local stack and the services' settings.

No Docker engine runs where these tests run, so they check the file itself.
It must parse, and every build and command must exist. Every variable it sets
must be read by the service's settings. nginx and the commands must be the
local stack's own.
"""

from __future__ import annotations

import configparser
import re
import shlex
from pathlib import Path

import pytest
import yaml

from command_api.settings import CommandApiSettings
from common.settings import ServiceSettings
from projector.settings import ProjectorSettings
from query_api.settings import QueryApiSettings
from solver_worker.settings import SolverWorkerSettings

ROOT = Path(__file__).resolve().parents[3]
COMPOSE = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
SERVICES = COMPOSE["services"]

SETTINGS_OF_SERVICE = {
    "command_api_1": CommandApiSettings,
    "command_api_2": CommandApiSettings,
    "query_api_1": QueryApiSettings,
    "query_api_2": QueryApiSettings,
    "solver_worker": SolverWorkerSettings,
    "projector": ProjectorSettings,
    "topics": ServiceSettings,
}
# Local program name in infra/supervisord.conf for each compose service.
SUPERVISOR_PROGRAM = {
    "command_api_1": "command_api_1",
    "command_api_2": "command_api_2",
    "query_api_1": "query_api_1",
    "query_api_2": "query_api_2",
    "solver_worker": "solver_worker",
    "projector": "projector",
}
TEMPLATE = ROOT / "nginx" / "solve-complex-task.conf.template"
INTERPOLATION = re.compile(r"\$\{([A-Z][A-Z0-9_]*)(?:(:?[-?])[^}]*)?\}")


def settings_env_names(settings_class: type) -> set[str]:
    return {name.upper() for name in settings_class.model_fields}


def test_compose_names_expected_services():
    expected = {"redpanda", "redpanda_console", "postgres", "pgadmin", "topics", "certificate", "command_api_1",
                "command_api_2", "query_api_1", "query_api_2", "solver_worker", "projector", "nginx"}

    assert expected <= set(SERVICES)


@pytest.mark.parametrize("name", sorted(SERVICES))
def test_compose_service_builds_or_pulls(name: str):
    service = SERVICES[name]
    assert "build" in service or "image" in service
    if "build" in service:
        assert (ROOT / service["build"]["context"] / service["build"]["dockerfile"]).is_file()


@pytest.mark.parametrize("name", sorted(SETTINGS_OF_SERVICE))
def test_compose_environment_read_by_settings(name: str):
    known = settings_env_names(SETTINGS_OF_SERVICE[name])
    unknown = set(SERVICES[name]["environment"]) - known

    assert not unknown, f"{name} sets variables its settings never read: {sorted(unknown)}"


@pytest.mark.parametrize("name", sorted(SETTINGS_OF_SERVICE))
def test_compose_sets_production_secrets(name: str):
    environment = SERVICES[name]["environment"]

    assert environment["ENVIRONMENT"] == "production"
    assert ":?" in environment["JWT_SECRET"], "JWT_SECRET must fail fast when missing, never default"


@pytest.mark.parametrize("name", sorted(SUPERVISOR_PROGRAM))
def test_compose_command_matches_local_stack(name: str):
    supervisor = configparser.RawConfigParser()
    supervisor.read(ROOT / "infra" / "supervisord.conf")
    local = shlex.split(supervisor[f"program:{SUPERVISOR_PROGRAM[name]}"]["command"])

    assert Path(local[0]).name == "python"
    assert SERVICES[name]["command"][1:] == local[1:]


def test_compose_runs_migrations_on_one_instance():
    runners = [name for name, service in SERVICES.items()
               if str(service.get("environment", {}).get("RUN_MIGRATIONS", "false")).lower() == "true"]

    assert runners == ["command_api_1"]


def test_nginx_image_uses_local_template():
    dockerfile = (ROOT / SERVICES["nginx"]["build"]["dockerfile"]).read_text()

    assert f"COPY {TEMPLATE.relative_to(ROOT)} /etc/nginx/templates/" in dockerfile


def test_nginx_environment_fills_every_template_variable():
    template_names = set(INTERPOLATION.findall(TEMPLATE.read_text()))
    names = {name for name, _ in template_names}

    assert names <= set(SERVICES["nginx"]["environment"])


def test_env_example_documents_compose_variables():
    text = (ROOT / "docker-compose.yml").read_text()
    documented = set(re.findall(r"^([A-Z][A-Z0-9_]*)=", (ROOT / ".env.example").read_text(), re.MULTILINE))
    interpolated = {name for name, _ in INTERPOLATION.findall(text)}

    missing = interpolated - documented
    assert not missing, f".env.example lacks {sorted(missing)}"


def test_env_example_lists_every_service_setting():
    documented = set(re.findall(r"^([A-Z][A-Z0-9_]*)=", (ROOT / ".env.example").read_text(), re.MULTILINE))
    # Set per process by bin/stack or compose, not by the operator.
    per_process = {"INSTANCE_ID", "PORT", "HOST", "RUN_MIGRATIONS", "WORKER_NUMBER", "WORKER_HEALTH_HOST",
                   "PROJECTOR_HEALTH_HOST", "JWT_ALGORITHM"}
    every = set().union(*(settings_env_names(cls) for cls in SETTINGS_OF_SERVICE.values()))

    missing = every - documented - per_process
    assert not missing, f".env.example lacks {sorted(missing)}"


def test_python_image_runs_as_non_root():
    dockerfile = (ROOT / "infra" / "docker" / "python.Dockerfile").read_text()
    runtime = dockerfile.split("AS runtime", 1)[1]

    assert "\nUSER app" in runtime
    assert "requirements.lock" in dockerfile
