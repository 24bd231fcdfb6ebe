"""compose.yaml, the Dockerfile and the lock files, checked without a container engine: what a city's IT
team would find wrong only on the day they deploy."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path
from typing import Any

import pytest
import yaml
from packaging.requirements import Requirement

from app.core.config import Settings

ROOT = Path(__file__).resolve().parents[2]
EVIDENCE = "/var/lib/xinyi/evidence"
# Variables compose sets that are not the app's own settings, and who reads them.
NOT_SETTINGS = {
    "POSTGRES_DB": "postgres image",
    "POSTGRES_USER": "postgres image",
    "POSTGRES_PASSWORD": "postgres image",
}


@pytest.fixture(scope="module")
def compose() -> dict[str, Any]:
    return yaml.safe_load((ROOT / "compose.yaml").read_text())


def start_order(services: dict[str, Any]) -> list[str]:
    """Services in the order compose starts them (each after what it depends on); a cycle fails."""
    order: list[str] = []
    pending = dict(services)
    while pending:
        ready = sorted(n for n, s in pending.items() if set(s.get("depends_on", {})) <= set(order))
        assert ready, f"a depends_on cycle among {sorted(pending)}"
        order += ready
        for name in ready:
            del pending[name]
    return order


def test_compose_has_the_whole_system_started_in_dependency_order(compose: dict[str, Any]) -> None:
    services = compose["services"]
    assert start_order(services) == ["postgres", "redis", "migrate", "api", "worker", "proxy"]
    for name in ("api", "worker"):
        assert services[name]["depends_on"] == {
            "migrate": {"condition": "service_completed_successfully"},
            "postgres": {"condition": "service_healthy"},
            "redis": {"condition": "service_healthy"},
        }
    assert services["migrate"]["depends_on"] == {"postgres": {"condition": "service_healthy"}}
    assert services["migrate"]["restart"] == "no"
    assert services["proxy"]["depends_on"] == {"api": {"condition": "service_healthy"}}


def test_the_services_run_the_right_commands(compose: dict[str, Any]) -> None:
    services = compose["services"]
    assert services["migrate"]["command"] == ["xinyi", "migrate"]
    assert services["api"]["command"][:2] == ["xinyi", "serve"]
    assert "--workers" in services["api"]["command"]
    assert services["worker"]["command"] == ["xinyi", "worker"]
    # Only the proxy is published; the API is reached through it.
    assert [name for name, s in services.items() if "ports" in s] == ["proxy"]


def test_every_long_running_service_has_a_healthcheck_and_the_api_asks_readyz(
    compose: dict[str, Any],
) -> None:
    services = compose["services"]
    for name in ("postgres", "redis", "api"):
        assert services[name]["healthcheck"]["test"][0] == "CMD", name
    assert "/readyz" in " ".join(services["api"]["healthcheck"]["test"])


def test_redis_never_evicts(compose: dict[str, Any]) -> None:
    command = compose["services"]["redis"]["command"]
    assert command[command.index("--maxmemory-policy") + 1] == "noeviction"
    assert command[command.index("--appendonly") + 1] == "yes"


def test_evidence_and_data_live_on_named_volumes(compose: dict[str, Any]) -> None:
    services = compose["services"]
    assert set(compose["volumes"]) == {"pgdata", "redisdata", "evidence"}
    for name in ("api", "worker"):
        assert f"evidence:{EVIDENCE}" in services[name]["volumes"]
        assert services[name]["environment"]["XINYI_EVIDENCE_DIR"] == EVIDENCE
    assert services["postgres"]["volumes"] == ["pgdata:/var/lib/postgresql/data"]
    assert services["redis"]["volumes"] == ["redisdata:/data"]
    for volume in services["proxy"]["volumes"]:
        assert (ROOT / volume.split(":")[0]).is_file(), volume


def test_every_variable_compose_sets_is_a_setting(compose: dict[str, Any]) -> None:
    fields = {f"XINYI_{name.upper()}" for name in Settings.model_fields}
    for name, service in compose["services"].items():
        for variable in service.get("environment", {}):
            assert variable in fields or variable in NOT_SETTINGS, (
                f"{name} sets {variable}, which no setting reads"
            )


def test_production_secrets_have_no_default_in_compose() -> None:
    text = (ROOT / "compose.yaml").read_text()
    for secret in (
        "POSTGRES_PASSWORD",
        "XINYI_SECRET_KEY",
        "XINYI_ID_ENCRYPTION_KEYS",
        "XINYI_ID_ENCRYPTION_ACTIVE_KID",
        "XINYI_ID_HASH_KEY",
    ):
        assert f"${{{secret}:?set {secret}}}" in text, secret


def test_the_image_checks_readyz_installs_from_the_lock_and_owns_its_evidence_dir() -> None:
    dockerfile = (ROOT / "Dockerfile").read_text()
    healthcheck = next(line for line in dockerfile.splitlines() if line.startswith("    CMD ["))
    assert "http://127.0.0.1:8000/readyz" in healthcheck
    assert "pip install --require-hashes -r requirements/app.lock" in dockerfile
    assert "pip install --no-deps ." in dockerfile
    assert f"install -d -o xinyi -g xinyi -m 0700 {EVIDENCE}" in dockerfile
    assert f"XINYI_EVIDENCE_DIR={EVIDENCE}" in dockerfile
    assert re.search(r"^USER xinyi$", dockerfile, re.MULTILINE)


def pinned(lock: Path) -> dict[str, str]:
    found = re.findall(r"^([A-Za-z0-9_.-]+)==([^ ;\\]+)", lock.read_text(), re.MULTILINE)
    return {name.lower().replace("_", "-"): version for name, version in found}


@pytest.mark.parametrize(
    ("lock", "projects", "extras"),
    [
        ("requirements/app.lock", ["pyproject.toml"], False),
        ("requirements/dev.lock", ["pyproject.toml", "partners/pyproject.toml"], True),
    ],
)
def test_the_locks_pin_every_declared_dependency_within_its_range(
    lock: str, projects: list[str], extras: bool
) -> None:
    versions = pinned(ROOT / lock)
    for project in projects:
        meta = tomllib.loads((ROOT / project).read_text())["project"]
        declared = list(meta["dependencies"])
        if extras:
            declared += [d for group in meta.get("optional-dependencies", {}).values() for d in group]
        for line in declared:
            requirement = Requirement(line)
            name = requirement.name.lower().replace("_", "-")
            assert name in versions, f"{name} ({project}) is not in {lock}: run `make lock`"
            assert requirement.specifier.contains(versions[name], prereleases=True), (
                f"{lock} pins {name}=={versions[name]}, outside {project}'s {requirement.specifier}: "
                "run `make lock`"
            )
