"""docker-compose.yml read as `docker compose` would: interpolation, secrets, services.

Used by the compose and gateway tests (tests/test_compose.py) and the monitoring tests
(tests/ops): no Docker engine runs here, so the file is taken at its word.
"""

from __future__ import annotations

import re
import shlex
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import yaml

from shared.settings import PROJECT_ROOT
from tools.specs import owners

COMPOSE_FILE = PROJECT_ROOT / "docker-compose.yml"
# ENV=production refuses the development secret and anything under 32 characters.
JWT_SECRET = "compose-test-" + "s" * 40
# The same rule for the key of the registry's ID-number digests.
ID_NUMBER_KEY = "compose-test-id-number-key-" + "k" * 32
# What `docker compose` needs from its shell: the file defaults cover everything else.
REQUIRED_VARIABLES = (
    "POSTGRES_PASSWORD",
    "REDIS_PASSWORD",
    "JWT_SECRETS_FILE",
    "REGISTRY_ID_NUMBER_KEY_FILE",
)
# Where compose mounts each secret in a container.
SECRETS_DIR = "/run/secrets/"

# The /api/v1 resources each service owns, read from the three apps' OpenAPI paths (not
# a hand-kept list): the contract the gateway must follow.
OWNERS: dict[str, tuple[str, ...]] = owners()
ONE_SHOT_SERVICES = {"migrate"}
API_SERVICES = set(OWNERS)
WORKER_SERVICES = {"workflow-worker"}


# -- compose: interpolation and loading ---------------------------------------------------

VARIABLE = re.compile(
    r"\$(?:(?P<escaped>\$)"
    r"|\{(?P<braced>[A-Za-z_][A-Za-z0-9_]*)(?:(?P<op>:?[-?+])(?P<arg>[^}]*))?\}"
    r"|(?P<named>[A-Za-z_][A-Za-z0-9_]*))"
)


class InterpolationError(ValueError):
    pass


def interpolate(text: str, variables: Mapping[str, str]) -> str:
    """Compose's `$$`, `$VAR`, `${VAR}`, `${VAR:-x}`, `${VAR-x}`, `${VAR:?x}`, `${VAR?x}`,
    `${VAR:+x}` and `${VAR+x}` (without nesting: a leftover `${` fails the structure test)."""

    def substitute(match: re.Match[str]) -> str:
        if match["escaped"]:
            return "$"
        name = match["braced"] or match["named"]
        value = variables.get(name)
        op, arg = match["op"], match["arg"] or ""
        if op is None:
            return value or ""
        # With a colon, an empty value counts as unset.
        unset = value is None or (op.startswith(":") and value == "")
        if op.endswith("-"):
            return arg if unset else str(value)
        if op.endswith("+"):
            return "" if unset else arg
        if unset:
            raise InterpolationError(f"required variable {name} is missing a value: {arg}")
        return str(value)

    return VARIABLE.sub(substitute, text)


def _interpolate_tree(node: Any, variables: Mapping[str, str]) -> Any:
    if isinstance(node, str):
        return interpolate(node, variables)
    if isinstance(node, list):
        return [_interpolate_tree(item, variables) for item in node]
    if isinstance(node, dict):
        return {key: _interpolate_tree(value, variables) for key, value in node.items()}
    return node


def load_compose(variables: Mapping[str, str]) -> dict[str, Any]:
    """docker-compose.yml with anchors merged (`<<`) and variables interpolated.

    `variables` stands for the shell of `docker compose`: only what the test sets, so the
    file's own defaults are what is exercised.
    """
    raw = yaml.safe_load(COMPOSE_FILE.read_text(encoding="utf-8"))
    assert isinstance(raw, dict)
    document: dict[str, Any] = _interpolate_tree(raw, variables)
    # Where each service's secrets come from on this host, for environment_of: a
    # `*_FILE` variable naming /run/secrets/<name> names that file outside Docker.
    sources = document.get("secrets") or {}
    for spec in (document.get("services") or {}).values():
        files: dict[str, str] = {}
        for entry in spec.get("secrets") or []:
            source = entry if isinstance(entry, str) else entry["source"]
            target = entry if isinstance(entry, str) else entry.get("target", source)
            files[f"{SECRETS_DIR}{target}"] = str(
                (COMPOSE_FILE.parent / sources[source]["file"]).resolve()
            )
        spec["x-local-secret-files"] = files
    return document


def compose_variables(directory: Path) -> dict[str, str]:
    """The shell of `docker compose` as an operator sets it up (docs/operations.md)."""
    secrets = directory / "jwt_secrets"
    secrets.write_text(f"k1:{JWT_SECRET}\n", encoding="utf-8")
    # As `openssl rand -hex 32 > file` writes it: with a trailing newline.
    id_number_key = directory / "registry_id_number_key"
    id_number_key.write_text(f"{ID_NUMBER_KEY}\n", encoding="utf-8")
    return {
        "POSTGRES_PASSWORD": "compose-test-database-password",
        "REDIS_PASSWORD": "compose-test-redis-password",
        "JWT_SECRETS_FILE": str(secrets),
        "REGISTRY_ID_NUMBER_KEY_FILE": str(id_number_key),
    }


def services_of(compose: Mapping[str, Any]) -> dict[str, dict[str, Any]]:
    services: dict[str, dict[str, Any]] = compose["services"]
    return services


def app_services(compose: Mapping[str, Any]) -> dict[str, dict[str, Any]]:
    """The services run from the project's image (the ones with a `build`)."""
    return {name: spec for name, spec in services_of(compose).items() if "build" in spec}


def command_of(spec: Mapping[str, Any]) -> list[str]:
    command = spec["command"]
    return shlex.split(command) if isinstance(command, str) else [str(arg) for arg in command]


def environment_of(spec: Mapping[str, Any], variables: Mapping[str, str]) -> dict[str, str]:
    environment = spec.get("environment") or {}
    if isinstance(environment, list):
        environment = dict(
            item.split("=", 1) if "=" in item else (item, None) for item in environment
        )
    # A bare name (no value) takes the value from the shell of `docker compose`; a
    # mounted secret's path is, outside Docker, the file compose would mount there.
    secret_files: Mapping[str, str] = spec.get("x-local-secret-files") or {}
    return {
        key: variables.get(key, "") if value is None else secret_files.get(str(value), str(value))
        for key, value in environment.items()
    }


def option_value(argv: Sequence[str], option: str) -> str | None:
    for index, arg in enumerate(argv):
        if arg == option and index + 1 < len(argv):
            return argv[index + 1]
        if arg.startswith(f"{option}="):
            return arg.split("=", 1)[1]
    return None


def container_port(spec: Mapping[str, Any]) -> int | None:
    """The port an API listens on inside its container (its command's `--port`)."""
    port = option_value(command_of(spec), "--port")
    return int(port) if port is not None else None


def completion_dependencies(compose: Mapping[str, Any]) -> set[str]:
    """Services that others wait for to exit successfully: the one-shot steps."""
    return {
        dependency
        for spec in services_of(compose).values()
        for dependency, condition in (spec.get("depends_on") or {}).items()
        if isinstance(condition, dict)
        and condition.get("condition") == "service_completed_successfully"
    }


def healthcheck_argv(spec: Mapping[str, Any]) -> list[str]:
    """The healthcheck as a command line (`CMD` list or `CMD-SHELL` string)."""
    test = spec["healthcheck"]["test"]
    if isinstance(test, str):
        return ["sh", "-c", test]
    kind, *rest = test
    return ["sh", "-c", rest[0]] if kind == "CMD-SHELL" else list(rest)


_URL = re.compile(r"https?://[^\s'\"]+")


def healthcheck_url(spec: Mapping[str, Any]) -> str:
    urls = _URL.findall(" ".join(healthcheck_argv(spec)))
    assert len(urls) == 1, f"expected one URL in the healthcheck, got {urls}"
    return str(urls[0])
