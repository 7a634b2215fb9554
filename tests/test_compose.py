"""docker-compose.yml and the gateway configuration, checked without Docker.

No Docker engine runs on the development machines or in CI, so the compose file is taken
at its word instead: every service built from the project's image (migrate, the three
APIs, the worker) is started from the venv with its compose `command` and `environment`,
as its container would run it, and the gateway's nginx configuration is evaluated
against the services compose defines.

What differs from `docker compose up`, and why:

* compose host names (postgres, redis, registry, ...) become 127.0.0.1: one host, no DNS;
* the three APIs all listen on the same port inside their containers; here each gets a
  free port, and its `--port` plus every URL naming `<service>:<that port>` (the service
  URLs, the healthcheck's `127.0.0.1:<port>` inside the container) are rewritten to it;
* DATABASE_URL / REDIS_URL point at the test servers of conftest instead of the compose
  credentials, with a database created empty here so that `migrate` really runs from
  nothing; everything else in `environment` is kept as compose gives it;
* the image's own environment (python:3.11-slim and our Dockerfile) is reproduced:
  PYTHONUNBUFFERED, LANG, PYTHONPATH = project root (the image's WORKDIR /app), PATH with
  the venv first (the image's pip-installed executables).
"""

from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import AsyncIterator, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import asyncpg
import pytest
import yaml
from sqlalchemy.engine import make_url

from devtools.processes import ManagedProcess, ProcessExited, free_port, stop_all, wait_ready
from services.registry.config import RegistrySettings
from shared.settings import PROJECT_ROOT, Settings
from tests.support.compose import (
    API_SERVICES,
    COMPOSE_FILE,
    ID_NUMBER_KEY,
    JWT_SECRET,
    ONE_SHOT_SERVICES,
    OWNERS,
    REQUIRED_VARIABLES,
    SECRETS_DIR,
    VARIABLE,
    WORKER_SERVICES,
    InterpolationError,
    app_services,
    command_of,
    completion_dependencies,
    compose_variables,
    container_port,
    environment_of,
    healthcheck_argv,
    healthcheck_url,
    interpolate,
    load_compose,
    option_value,
    services_of,
)
from tools.specs import is_public_path, service_spec

VENV_BIN = Path(sys.executable).parent
MIGRATE_TIMEOUT_SECONDS = 180.0
READY_DEADLINE_SECONDS = 90.0
WORKER_ALIVE_SECONDS = 3.0
# Below the compose stop_grace_period (45 s), after which Docker would SIGKILL.
STOP_TIMEOUT_SECONDS = 40.0
POLL_SECONDS = 0.25
LOCALHOST = "127.0.0.1"
CONTAINER_SELF = {"127.0.0.1", "localhost"}


@pytest.fixture(scope="module")
def compose(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    return load_compose(compose_variables(tmp_path_factory.mktemp("compose")))


# -- compose: structure ----------------------------------------------------------------------


def test_interpolation_follows_compose_rules() -> None:
    variables = {"SET": "value", "EMPTY": ""}
    assert interpolate("$$SET ${SET} $SET", variables) == "$SET value value"
    assert interpolate("${UNSET:-d} ${EMPTY:-d} ${EMPTY-d} ${UNSET-d}", variables) == "d d  d"
    assert interpolate("${SET:+alt} ${EMPTY:+alt} ${EMPTY+alt}", variables) == "alt  alt"
    assert interpolate("${EMPTY?must}", variables) == ""
    with pytest.raises(InterpolationError, match="must"):
        interpolate("${EMPTY:?must}", variables)


@pytest.mark.parametrize("missing", REQUIRED_VARIABLES)
def test_operators_must_provide_passwords_and_keys(missing: str, tmp_path: Path) -> None:
    """No default password or key reaches production: compose refuses to start."""
    variables = compose_variables(tmp_path)
    del variables[missing]
    with pytest.raises(InterpolationError, match=missing):
        load_compose(variables)


def _seconds(duration: str) -> float:
    units = {"ms": 0.001, "s": 1, "m": 60, "h": 3600}
    parts = re.findall(r"(\d+(?:\.\d+)?)(ms|s|m|h)", duration)
    assert parts and "".join(n + u for n, u in parts) == duration, duration
    return sum(float(number) * units[unit] for number, unit in parts)


def _bytes(size: str) -> int:
    match = re.fullmatch(r"(\d+)([kmg]?)b?", size.lower())
    assert match, size
    return int(match[1]) * {"": 1, "k": 1024, "m": 1024**2, "g": 1024**3}[match[2]]


def test_compose_structure(compose: dict[str, Any]) -> None:
    services = services_of(compose)
    # Every `$` in the file is syntax this test's interpolation understands.
    raw = yaml.safe_load(COMPOSE_FILE.read_text(encoding="utf-8"))
    unknown = [text for text in _strings(raw) if "$" in VARIABLE.sub("", text)]
    assert not unknown, f"interpolation this test does not support: {unknown}"

    apps = app_services(compose)
    assert set(apps) == ONE_SHOT_SERVICES | API_SERVICES | WORKER_SERVICES
    assert completion_dependencies(compose) == ONE_SHOT_SERVICES
    assert {name for name, spec in apps.items() if container_port(spec)} == API_SERVICES
    # One image for every Python process.
    assert len({spec["image"] for spec in apps.values()}) == 1

    assert services["postgres"]["image"].startswith("postgres:16")
    assert "pg_isready" in " ".join(healthcheck_argv(services["postgres"]))
    assert services["redis"]["image"].startswith("redis:7")
    assert healthcheck_argv(services["redis"]) == ["redis-cli", "ping"]
    for name in ("postgres", "redis"):
        for volume in services[name].get("volumes", []):
            source = volume.split(":", 1)[0]
            assert source in (compose.get("volumes") or {}), (
                f"{name}: {source} is not a named volume"
            )

    assert services["migrate"]["depends_on"]["postgres"]["condition"] == "service_healthy"
    for name in API_SERVICES | WORKER_SERVICES:
        depends_on = services[name]["depends_on"]
        assert depends_on["migrate"]["condition"] == "service_completed_successfully", name
        assert depends_on["redis"]["condition"] == "service_healthy", name

    for name, spec in apps.items():
        environment = environment_of(spec, {})
        assert environment["ENV"] == "production", name
        # The keys come from the Docker secret, never from the environment.
        assert "JWT_SECRET" not in environment and "JWT_SECRETS" not in environment, name
        assert spec["environment"]["JWT_SECRETS_FILE"] == f"{SECRETS_DIR}jwt_secrets", name
        assert "jwt_secrets" in spec["secrets"], name
        assert urlsplit(environment["DATABASE_URL"]).hostname == "postgres", name
        redis_url = urlsplit(environment["REDIS_URL"])
        assert redis_url.hostname == "redis" and redis_url.password, name
        for api in API_SERVICES:
            url = urlsplit(environment[f"{api.upper()}_URL"])
            assert (url.hostname, url.port) == (api, container_port(services[api])), name
        # The settings validate as they will in the container (the keys file included).
        settings = Settings.model_validate(
            {key.lower(): value for key, value in environment.items()}
        )
        assert settings.jwt_keys == (("k1", JWT_SECRET),), name
        # The ID-number key: a Docker secret of the registry's alone (no other service
        # keeps ID numbers), and the registry's settings accept it in production.
        assert "REGISTRY_ID_NUMBER_KEY" not in environment, name
        if name == "registry":
            key_file = spec["environment"]["REGISTRY_ID_NUMBER_KEY_FILE"]
            assert key_file == f"{SECRETS_DIR}registry_id_number_key"
            assert "registry_id_number_key" in spec["secrets"]
            registry = RegistrySettings.model_validate(
                {key.lower(): value for key, value in environment.items()}
            )
            assert registry.env == "production"
            assert registry.registry_id_number_key == ID_NUMBER_KEY
        else:
            assert "REGISTRY_ID_NUMBER_KEY_FILE" not in environment, name
            assert "registry_id_number_key" not in spec["secrets"], name

    for name in API_SERVICES:
        url = urlsplit(healthcheck_url(services[name]))
        assert url.hostname in CONTAINER_SELF and url.path == "/readyz", name
        assert url.port == container_port(services[name]), name


def test_compose_is_fit_for_production(compose: dict[str, Any]) -> None:
    services = services_of(compose)
    apps = app_services(compose)
    for name, spec in services.items():
        # Third-party images at an exact release (PostgreSQL numbers them major.minor) or
        # digest: a pull never moves them.
        if name not in apps:
            assert re.search(r":v?\d+\.\d+[.\w-]*$|@sha256:[0-9a-f]{64}$", spec["image"]), name
        # Rotated logs.
        logging = spec["logging"]
        assert logging["driver"] == "json-file", name
        assert _bytes(logging["options"]["max-size"]) <= 100 * 1024**2, name
        assert int(logging["options"]["max-file"]) >= 2, name
        # Bounded resources.
        limits = spec["deploy"]["resources"]["limits"]
        assert float(limits["cpus"]) > 0 and _bytes(limits["memory"]) > 0, name
    # Our own image is tagged with a version, not `latest`.
    (image,) = {spec["image"] for spec in apps.values()}
    assert not image.endswith(":latest") and ":" in image

    # Redis: a password, bounded memory, and never evicting queued jobs.
    redis_command = command_of(services["redis"])
    assert option_value(redis_command, "--requirepass") == "compose-test-redis-password"
    assert _bytes(option_value(redis_command, "--maxmemory") or "") > 0
    assert option_value(redis_command, "--maxmemory-policy") == "noeviction"
    assert services["redis"]["environment"]["REDISCLI_AUTH"] == "compose-test-redis-password"

    # The JWT keys: a Docker secret from the file the operator names.
    assert compose["secrets"]["jwt_secrets"]["file"].endswith("jwt_secrets")
    assert compose["secrets"]["registry_id_number_key"]["file"].endswith("registry_id_number_key")

    # Docker waits longer than the worker lets running jobs finish, and longer than
    # uvicorn's graceful shutdown, before it SIGKILLs.
    from services.workflow.worker import WorkerSettings

    for name, spec in apps.items():
        grace = _seconds(spec["stop_grace_period"])
        assert grace > WorkerSettings.job_completion_wait, name
        graceful = option_value(command_of(spec), "--timeout-graceful-shutdown")
        assert graceful is None or grace > float(graceful), name

    # Two replicas of each API and of the worker fit under max_connections: each process
    # holds at most 3 x DB_POOL_SIZE (pool, overflow, read pool; shared.db), and a few
    # stay free for migrate, psql and pg_dump.
    max_connections = int(
        next(
            arg.split("=", 1)[1]
            for arg in command_of(services["postgres"])
            if arg.startswith("max_connections=")
        )
    )
    needed = 0
    for name in API_SERVICES | WORKER_SERVICES:
        pool = int(environment_of(apps[name], {})["DB_POOL_SIZE"])
        needed += 2 * 3 * pool
    assert needed + 10 <= max_connections, (needed, max_connections)

    # Each worker replica has its own health: the healthcheck asks this process (its
    # metrics port), not arq's health key, which is one per queue.
    for name in WORKER_SERVICES:
        spec = apps[name]
        assert environment_of(spec, {})["WORKER_METRICS_PORT"], name
        assert healthcheck_argv(spec)[-3:] == ["-m", "shared.metrics", "check"], name

    # The gateway can scale: no fixed address; the APIs trust the backend network for
    # X-Forwarded-For, and the gateway's published side is another network.
    gateway = services["gateway"]
    assert isinstance(gateway["networks"], list), "the gateway must not be pinned to an IP"
    subnets = {
        network: [pool["subnet"] for pool in (spec or {}).get("ipam", {}).get("config", [])]
        for network, spec in compose["networks"].items()
    }
    for name, spec in apps.items():
        trusted = environment_of(spec, {})["FORWARDED_ALLOW_IPS"]
        (network,) = spec["networks"]
        assert subnets[network] == [trusted], name
        assert network in gateway["networks"], name
    assert any(not subnets[network] for network in gateway["networks"]), (
        "the gateway's published port should be on a network the APIs do not trust"
    )


def _strings(node: Any) -> Iterator[str]:
    if isinstance(node, str):
        yield node
    elif isinstance(node, list):
        for item in node:
            yield from _strings(item)
    elif isinstance(node, dict):
        for value in node.values():
            yield from _strings(value)


# -- gateway: a small nginx configuration reader -----------------------------------------


@dataclass
class Directive:
    name: str
    args: list[str]
    block: list[Directive] | None = None

    def children(self, name: str) -> list[Directive]:
        return [child for child in self.block or [] if child.name == name]


_NGINX_ESCAPES = {'"': '"', "'": "'", "\\": "\\", "t": "\t", "r": "\r", "n": "\n"}


def _nginx_tokens(text: str) -> Iterator[str]:
    """Words, quoted strings, `{`, `}` and `;`, unescaped as nginx does."""
    i, n = 0, len(text)
    while i < n:
        char = text[i]
        if char.isspace():
            i += 1
        elif char == "#":
            while i < n and text[i] != "\n":
                i += 1
        elif char in "{};":
            yield char
            i += 1
        else:
            quote = char if char in "\"'" else None
            i += 1 if quote else 0
            word: list[str] = []
            while i < n:
                char = text[i]
                if quote and char == quote:
                    i += 1
                    break
                if not quote and (char.isspace() or char in "{};"):
                    break
                if char == "\\" and i + 1 < n and text[i + 1] in _NGINX_ESCAPES:
                    word.append(_NGINX_ESCAPES[text[i + 1]])
                    i += 2
                    continue
                word.append(char)
                i += 1
            yield "".join(word)


def parse_nginx(text: str) -> list[Directive]:
    root: list[Directive] = []
    stack = [root]
    words: list[str] = []
    for token in _nginx_tokens(text):
        if token == ";":
            stack[-1].append(Directive(words[0], words[1:]))
            words = []
        elif token == "{":
            directive = Directive(words[0], words[1:], [])
            stack[-1].append(directive)
            stack.append(directive.block)  # type: ignore[arg-type]
            words = []
        elif token == "}":
            assert not words, f"unterminated directive {words}"
            stack.pop()
        else:
            words.append(token)
    assert len(stack) == 1 and not words, "unbalanced braces in the nginx configuration"
    return root


def _pcre(pattern: str) -> re.Pattern[str]:
    # nginx's PCRE named groups `(?<name>...)` are `(?P<name>...)` in Python.
    return re.compile(re.sub(r"\(\?<(?![=!])", "(?P<", pattern))


@dataclass
class Upstream:
    host: str
    port: int
    # None: the request URI is passed on as the client sent it.
    path: str | None


@dataclass
class Gateway:
    """Just enough of nginx's request routing to say where a path is proxied."""

    top: list[Directive]
    server: Directive
    maps: dict[str, Directive] = field(default_factory=dict)

    @classmethod
    def load(cls, path: Path) -> Gateway:
        top = parse_nginx(path.read_text(encoding="utf-8"))
        (server,) = [directive for directive in top if directive.name == "server"]
        maps = {d.args[1].lstrip("$"): d for d in top if d.name == "map"}
        return cls(top, server, maps)

    def location_for(self, uri: str) -> tuple[Directive, dict[str, str]] | None:
        """nginx's choice: exact `=`, else the longest prefix if `^~`, else the first
        matching regex in file order, else the longest prefix."""
        prefixes: list[tuple[str, Directive]] = []
        for location in self.server.children("location"):
            modifier, *rest = location.args
            if modifier == "=" and rest and rest[0] == uri:
                return location, {}
            if modifier == "^~" and uri.startswith(rest[0]):
                prefixes.append((rest[0], location))
            elif not rest and not modifier.startswith("@") and uri.startswith(modifier):
                prefixes.append((modifier, location))
        longest = max(prefixes, key=lambda item: len(item[0]), default=None)
        if longest is not None and longest[1].args[0] == "^~":
            return longest[1], {}
        for location in self.server.children("location"):
            if location.args[0] in ("~", "~*"):
                flags = re.IGNORECASE if location.args[0] == "~*" else 0
                match = re.compile(_pcre(location.args[1]).pattern, flags).search(uri)
                if match:
                    captures = {str(i): group or "" for i, group in enumerate(match.groups(), 1)}
                    return location, {**captures, **match.groupdict(default="")}
        return (longest[1], {}) if longest is not None else None

    def expand(self, text: str, variables: Mapping[str, str]) -> str:
        def value(match: re.Match[str]) -> str:
            name = match[1] or match[2]
            if name in variables:
                return variables[name]
            if name in self.maps:
                return self.evaluate_map(self.maps[name], variables)
            raise KeyError(f"variable ${name} is not known to this test")

        return re.sub(r"\$(?:\{(\w+)\}|(\w+))", value, text)

    def evaluate_map(self, directive: Directive, variables: Mapping[str, str]) -> str:
        """nginx map: exact keys first, then regexes in file order, then `default`."""
        source = self.expand(directive.args[0], variables)
        entries = [(entry.name, entry.args[0]) for entry in directive.block or []]
        for key, result in entries:
            if not key.startswith("~") and key != "default" and key == source:
                return self.expand(result, variables)
        for key, result in entries:
            if key.startswith("~"):
                flags = re.IGNORECASE if key.startswith("~*") else 0
                if re.compile(_pcre(key.lstrip("~*")).pattern, flags).search(source):
                    return self.expand(result, variables)
        defaults = [result for key, result in entries if key == "default"]
        return self.expand(defaults[0], variables) if defaults else ""

    def route(self, uri: str) -> Upstream | None:
        found = self.location_for(uri)
        if found is None:
            return None
        location, captures = found
        proxy_pass = location.children("proxy_pass")
        if not proxy_pass:
            return None
        variables = {"uri": uri, "request_uri": uri, "is_args": "", "args": "", **captures}
        target = urlsplit(self.expand(proxy_pass[0].args[0], variables))
        if not target.hostname:
            return None  # an empty upstream: the location answers 404 itself
        return Upstream(target.hostname, target.port or 80, target.path or None)


def gateway_config_path(compose: Mapping[str, Any]) -> tuple[str, Path]:
    """The gateway service and the configuration file compose mounts into it."""
    for name, spec in services_of(compose).items():
        if not str(spec.get("image", "")).startswith("nginx"):
            continue
        for volume in spec.get("volumes", []):
            source, target = volume.split(":")[:2]
            if target.startswith("/etc/nginx/"):
                return name, (COMPOSE_FILE.parent / source).resolve()
    raise AssertionError("no nginx gateway with a mounted configuration in docker-compose.yml")


@pytest.fixture(scope="module")
def gateway(compose: dict[str, Any]) -> Gateway:
    _, path = gateway_config_path(compose)
    assert path.is_file(), path
    return Gateway.load(path)


def test_gateway_routes_every_prefix_to_its_service(
    compose: dict[str, Any], gateway: Gateway
) -> None:
    services = services_of(compose)
    for owner, prefixes in OWNERS.items():
        expected = (owner, container_port(services[owner]))
        for prefix in prefixes:
            for uri in (f"/api/v1/{prefix}", f"/api/v1/{prefix}/0193b2c4-7d1e/history"):
                upstream = gateway.route(uri)
                assert upstream is not None, f"{uri} is not proxied"
                assert upstream.host in services, f"{uri} -> {upstream.host}: not in compose"
                assert (upstream.host, upstream.port) == expected, uri
                assert upstream.path is None, f"{uri}: the path must reach the service unchanged"
            # Only the whole segment routes: no prefix match into another resource name.
            assert gateway.route(f"/api/v1/{prefix}x") is None, prefix
    for uri in ("/api/v1/unknown", "/api/v1/", "/metrics", "/readyz", "/"):
        assert gateway.route(uri) is None, f"{uri} should not reach a service"
    # Nothing is routed that no service serves, and the internal calls stay internal.
    routed = set(re.findall(r"[a-z][a-z-]*", " ".join(_api_route_patterns(gateway))))
    served = {prefix for prefixes in OWNERS.values() for prefix in prefixes}
    assert routed - {"api", "v"} == served
    assert gateway.route("/api/v1/internal/case-outcomes") is None


def _api_route_patterns(gateway: Gateway) -> list[str]:
    return [entry.name for entry in gateway.maps["api_upstream"].block or []][1:]


def test_gateway_routes_every_published_path_of_the_apps(
    compose: dict[str, Any], gateway: Gateway
) -> None:
    """Each path template of each app's OpenAPI document reaches that app unchanged."""
    services = services_of(compose)
    for owner in OWNERS:
        for path in service_spec(owner)["paths"]:
            uri = re.sub(r"\{[^}]+\}", "0193b2c4", path)
            upstream = gateway.route(uri)
            if not is_public_path(path):
                assert upstream is None, f"{path} must not be published"
                continue
            assert upstream is not None, f"{path} of {owner} is not routed"
            assert (upstream.host, upstream.port) == (owner, container_port(services[owner]))


def test_gateway_serves_each_service_documentation(
    compose: dict[str, Any], gateway: Gateway
) -> None:
    services = services_of(compose)
    for api in API_SERVICES:
        for page in ("docs", "redoc", "openapi.json"):
            upstream = gateway.route(f"/{api}/{page}")
            assert upstream is not None, f"/{api}/{page} is not proxied"
            assert (upstream.host, upstream.port) == (api, container_port(services[api]))
            assert upstream.path == f"/{page}"
        assert gateway.route(f"/{api}/metrics") is None


def test_gateway_serves_the_merged_spec_and_its_docs_page(
    compose: dict[str, Any], gateway: Gateway
) -> None:
    name, _ = gateway_config_path(compose)
    mounts = {}
    for volume in services_of(compose)[name]["volumes"]:
        source, target = volume.split(":")[:2]
        mounts[target.rstrip("/")] = (COMPOSE_FILE.parent / source).resolve()
    for uri, committed in (("/openapi.json", "sanshe.json"), ("/docs", "docs.html")):
        found = gateway.location_for(uri)
        assert found is not None and found[0].args == ["=", uri], uri
        (alias,) = found[0].children("alias")
        directory, file_name = alias.args[0].rsplit("/", 1)
        assert file_name == committed
        assert directory in mounts, f"{directory} is not mounted into the gateway"
        assert (mounts[directory] / file_name).is_file(), uri
        assert mounts[directory] == PROJECT_ROOT / "openapi"


def test_gateway_limits_and_headers(compose: dict[str, Any], gateway: Gateway) -> None:
    name, _ = gateway_config_path(compose)
    server = gateway.server
    # The port nginx listens on is the one compose publishes.
    (listen,) = server.children("listen")
    targets = [str(port).rsplit(":", 1)[-1] for port in services_of(compose)[name]["ports"]]
    assert targets == [listen.args[0]]

    # Uploads up to the services' own limit must get through the gateway.
    (limit,) = server.children("client_max_body_size")
    size = limit.args[0].lower()
    multiplier = {"k": 1024, "m": 1024**2, "g": 1024**3}.get(size[-1], 1)
    gateway_bytes = int(size.rstrip("kmg")) * multiplier
    assert gateway_bytes >= Settings.model_fields["max_body_bytes"].default

    headers = {d.args[0].lower(): d.args[1] for d in server.children("proxy_set_header")}
    assert headers["x-request-id"].startswith("$")
    assert headers["x-forwarded-for"] == "$proxy_add_x_forwarded_for"
    # The APIs believe X-Forwarded-For from the network the gateway shares with them
    # (test_compose_is_fit_for_production checks the subnets).
    networks = services_of(compose)[name]["networks"]
    for app, spec in app_services(compose).items():
        assert set(spec["networks"]) <= set(networks), app
    # A proxy_set_header inside a location drops every one inherited from the server.
    for location in server.children("location"):
        if location.children("proxy_pass"):
            assert not location.children("proxy_set_header"), location.args


# -- compose services as local processes ----------------------------------------------------


def localize(text: str, hosts: set[str], ports: Mapping[tuple[str, int], int]) -> str:
    """Compose addresses as seen from this host: every compose host name is 127.0.0.1,
    and `<host>:<container port>` of an API becomes its local port. `ports` also holds
    each API's own `127.0.0.1:<container port>` for its healthcheck, keyed by host."""

    def replace(match: re.Match[str]) -> str:
        host, port = match["host"], match["port"]
        if host not in hosts:
            return match[0]
        if port is not None and (host, int(port)) in ports:
            port = str(ports[host, int(port)])
        return f"{match['prefix']}{LOCALHOST}{':' + port if port else ''}"

    pattern = (
        r"(?P<prefix>[a-z][a-z0-9+.-]*://(?:[^@/\s'\"]*@)?)(?P<host>[\w.-]+)(?::(?P<port>\d+))?"
    )
    return re.sub(pattern, replace, text)


def localize_command(argv: Sequence[str], port: int | None) -> list[str]:
    """The venv's executable for argv[0]; an API binds 127.0.0.1 and its own free port
    (uvicorn's `--host` / `--port`, the only server options the compose commands use)."""
    executable = VENV_BIN / argv[0]
    assert executable.exists(), f"{argv[0]} is not installed in the venv ({VENV_BIN})"
    result = [str(executable)]
    rest = list(argv[1:])
    index = 0
    while index < len(rest):
        arg = rest[index]
        option = arg.split("=", 1)[0]
        if port is not None and option in ("--host", "--port"):
            value = LOCALHOST if option == "--host" else str(port)
            result += [option, value]
            index += 1 if "=" in arg else 2
            continue
        result.append(arg)
        index += 1
    return result


def _start(name: str, argv: list[str], env: dict[str, str], logs: Path) -> ManagedProcess:
    """The service as the image runs it: its command alone, its environment alone, from the
    image's WORKDIR (the project root), in a process group of its own."""
    return ManagedProcess(name, argv, env, logs, python=False, inherit_env=False).start()


def _fail_if_exited(processes: Sequence[ManagedProcess]) -> None:
    for process in processes:
        if process.returncode is not None:
            pytest.fail(
                f"exited with code {process.returncode}: {process.describe()}", pytrace=False
            )


@pytest.fixture
async def compose_database(database_url: str) -> AsyncIterator[str]:
    """A new, empty database on the test server, dropped afterwards: `migrate` starts from
    nothing, as on a first `docker compose up`."""
    name = f"sanshe_compose_{uuid.uuid4().hex[:10]}"
    server = make_url(database_url)
    admin = server.set(drivername="postgresql", database="postgres")
    admin_dsn = admin.render_as_string(hide_password=False)
    connection = await asyncpg.connect(admin_dsn)
    try:
        await connection.execute(f'CREATE DATABASE "{name}"')
    finally:
        await connection.close()
    try:
        yield server.set(database=name).render_as_string(hide_password=False)
    finally:
        connection = await asyncpg.connect(admin_dsn)
        try:
            await connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        finally:
            await connection.close()


@pytest.mark.slow
def test_compose_services_run_as_local_processes(
    compose: dict[str, Any], compose_database: str, redis_url: str, tmp_path: Path
) -> None:
    services = services_of(compose)
    apps = app_services(compose)
    hosts = set(services)

    # Each API's port inside its container -> a free local port.
    api_ports = {name: (container_port(apps[name]), free_port()) for name in API_SERVICES}
    assert len({local for _, local in api_ports.values()}) == len(api_ports)
    ports = {(name, inner): local for name, (inner, local) in api_ports.items() if inner}
    worker_metrics_port = free_port()

    def environment(name: str) -> dict[str, str]:
        compose_env = environment_of(apps[name], {"JWT_SECRET": JWT_SECRET})
        # The compose credentials name the compose servers; the test's replace them.
        assert urlsplit(compose_env["DATABASE_URL"]).hostname == "postgres"
        assert urlsplit(compose_env["REDIS_URL"]).hostname == "redis"
        env = {key: localize(value, hosts, ports) for key, value in compose_env.items()}
        env.update(DATABASE_URL=compose_database, REDIS_URL=redis_url)
        if "WORKER_METRICS_PORT" in env:  # a fixed port in the container, a free one here
            env["WORKER_METRICS_PORT"] = str(worker_metrics_port)
        image_env = {
            "PATH": f"{VENV_BIN}{os.pathsep}{os.environ.get('PATH', os.defpath)}",
            "LANG": "C.UTF-8",
            "PYTHONUNBUFFERED": "1",
            "PYTHONPATH": str(PROJECT_ROOT),
        }
        return {**image_env, **env}

    def argv(name: str) -> list[str]:
        port = api_ports[name][1] if name in api_ports else None
        return localize_command(command_of(apps[name]), port)

    def in_container(name: str, text: str) -> str:
        """`127.0.0.1:<container port>` inside an API's container is its local port."""
        inner, local = api_ports[name]
        own = {(host, inner): local for host in CONTAINER_SELF} if inner else {}
        return localize(text, CONTAINER_SELF, own)

    # 1. The one-shot migration, from an empty database, must exit 0.
    for name in sorted(ONE_SHOT_SERVICES):
        result = subprocess.run(
            argv(name),
            cwd=PROJECT_ROOT,
            env=environment(name),
            stdin=subprocess.DEVNULL,
            capture_output=True,
            text=True,
            timeout=MIGRATE_TIMEOUT_SECONDS,
            check=False,
        )
        assert result.returncode == 0, f"{name} failed:\n{result.stdout}\n{result.stderr}"
    current = subprocess.run(
        [str(VENV_BIN / "alembic"), "-c", "alembic.ini", "current"],
        cwd=PROJECT_ROOT,
        env=environment("migrate"),
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert "(head)" in current.stdout, (
        f"not at head after migrate:\n{current.stdout}{current.stderr}"
    )

    # 2. The long-running services, then their readiness, as compose's healthchecks see it.
    logs = tmp_path / "logs"
    logs.mkdir()
    processes: list[ManagedProcess] = []
    killed: list[str] = []
    try:
        for name in sorted(API_SERVICES | WORKER_SERVICES):
            processes.append(_start(name, argv(name), environment(name), logs))
        by_name = {process.name: process for process in processes}

        ready_urls = {
            name: in_container(name, healthcheck_url(apps[name])) for name in API_SERVICES
        }
        try:
            wait_ready(ready_urls, by_name, READY_DEADLINE_SECONDS, interval=POLL_SECONDS)
        except ProcessExited as exited:
            pytest.fail(str(exited), pytrace=False)
        except TimeoutError as timeout:
            pytest.fail(str(timeout), pytrace=False)

        # The compose healthcheck commands themselves pass (python -c urllib, exit 0).
        for name in sorted(API_SERVICES):
            check = [in_container(name, arg) for arg in healthcheck_argv(apps[name])]
            check[0] = str(VENV_BIN / check[0]) if (VENV_BIN / check[0]).exists() else check[0]
            result = subprocess.run(
                check,
                env=environment(name),
                capture_output=True,
                text=True,
                timeout=30,
                check=False,
            )
            assert result.returncode == 0, f"{name} healthcheck failed: {result.stderr}"

        # The worker (and every API) stays up.
        alive_until = time.monotonic() + WORKER_ALIVE_SECONDS
        while time.monotonic() < alive_until:
            _fail_if_exited(processes)
            time.sleep(POLL_SECONDS)

        # The worker's compose healthcheck (its own /healthz, shared.metrics) passes.
        for name in sorted(WORKER_SERVICES):
            check = healthcheck_argv(apps[name])
            check[0] = str(VENV_BIN / check[0]) if (VENV_BIN / check[0]).exists() else check[0]
            result = subprocess.run(
                check,
                env=environment(name),
                capture_output=True,
                text=True,
                timeout=30,
                check=False,
            )
            assert result.returncode == 0, (
                f"{name} healthcheck failed: {result.stdout}{result.stderr}"
            )
    finally:
        # SIGTERM (what `docker compose stop` sends), SIGKILL after the grace period.
        killed = stop_all(processes, STOP_TIMEOUT_SECONDS)

    # 3. Everything stopped on SIGTERM within the grace period, and nothing is left.
    assert not killed, f"had to SIGKILL: {killed}"
    for process in processes:
        # uvicorn re-raises the SIGTERM it handled once it has shut down (-15, what Docker
        # reports as 143); arq returns 0. Anything else is a failure while stopping.
        assert process.returncode in (0, -signal.SIGTERM), (
            f"exit {process.returncode} on SIGTERM: {process.describe()}"
        )
        assert not process.group_alive, f"{process.name} left processes behind"
    for name, (_, local) in api_ports.items():
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
            assert sock.connect_ex((LOCALHOST, local)) != 0, f"{name} still listens on {local}"
