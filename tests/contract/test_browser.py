"""What a browser meets: OPTIONS answers, CORS (off by default, on for listed origins), gzip.

The CORS half runs the registry as a real uvicorn process with CORS_ALLOW_ORIGINS set,
as a front-end developer runs it beside a dev server on another origin.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator

import httpx
import pytest

from shared.settings import Settings

FRONT_END = "http://localhost:5173"
ORGANIZATIONS = "/api/v1/organizations"


# -- same origin (CORS off, the default) ---------------------------------------------------


async def test_options_answers_the_methods_of_the_path(registry: httpx.AsyncClient) -> None:
    answer = await registry.options(ORGANIZATIONS)
    assert answer.status_code == 204
    assert answer.headers["allow"] == "GET, OPTIONS, POST"
    assert answer.headers["x-request-id"]
    one = await registry.options(f"{ORGANIZATIONS}/0193b2c4-7d1e-7000-8000-000000000000")
    assert one.status_code == 204
    assert one.headers["allow"] == "GET, OPTIONS, PATCH"


async def test_options_on_an_unknown_path_is_a_404(registry: httpx.AsyncClient) -> None:
    answer = await registry.options("/api/v1/nothing-here")
    assert answer.status_code == 404
    assert answer.headers["content-type"] == "application/problem+json"


async def test_no_cors_headers_unless_origins_are_configured(
    registry: httpx.AsyncClient, auth: Callable[..., dict[str, str]]
) -> None:
    preflight = await registry.options(
        ORGANIZATIONS,
        headers={"Origin": FRONT_END, "Access-Control-Request-Method": "POST"},
    )
    assert preflight.status_code == 204
    assert "access-control-allow-origin" not in preflight.headers
    listed = await registry.get(
        ORGANIZATIONS, headers={"Origin": FRONT_END, **auth("civil_affairs")}
    )
    assert listed.status_code == 200
    assert "access-control-allow-origin" not in listed.headers


async def test_large_answers_are_gzipped(
    registry: httpx.AsyncClient, auth: Callable[..., dict[str, str]]
) -> None:
    spec = await registry.get("/openapi.json", headers={"Accept-Encoding": "gzip"})
    assert spec.headers["content-encoding"] == "gzip"
    assert spec.json()["openapi"].startswith("3.")
    plain = await registry.get("/openapi.json", headers={"Accept-Encoding": "identity"})
    assert "content-encoding" not in plain.headers
    small = await registry.get("/healthz", headers={"Accept-Encoding": "gzip"})
    assert "content-encoding" not in small.headers  # under GZIP_MINIMUM_BYTES


# -- settings ---------------------------------------------------------------------------


def test_cors_origins_are_a_comma_separated_list(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CORS_ALLOW_ORIGINS", " http://a.example , https://b.example/ ")
    assert Settings().cors_allow_origins == ["http://a.example", "https://b.example"]
    monkeypatch.setenv("CORS_ALLOW_ORIGINS", "")
    assert Settings().cors_allow_origins == []


def test_production_refuses_any_origin(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ENV", "production")
    monkeypatch.setenv("JWT_SECRET", "p" * 40)
    monkeypatch.setenv("CORS_ALLOW_ORIGINS", "*")
    with pytest.raises(ValueError, match="CORS_ALLOW_ORIGINS"):
        Settings()
    monkeypatch.setenv("CORS_ALLOW_ORIGINS", "https://sanshe.example.cn")
    assert Settings().cors_allow_origins == ["https://sanshe.example.cn"]


# -- another origin: a real process with CORS_ALLOW_ORIGINS ----------------------------------


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture(scope="module")
def cors_registry(
    database_url: str, redis_url: str, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[str]:
    port = _free_port()
    log = (tmp_path_factory.mktemp("cors") / "registry.log").open("wb")
    env = {
        **os.environ,
        "DATABASE_URL": database_url,
        "REDIS_URL": redis_url,
        "CORS_ALLOW_ORIGINS": FRONT_END,
        "LOG_JSON": "false",
    }
    process = subprocess.Popen(
        [sys.executable, "-m", "uvicorn", "services.registry.main:app", "--port", str(port)],
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            assert process.poll() is None, "the registry did not start"
            try:
                if httpx.get(f"{url}/readyz", timeout=2).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            assert time.monotonic() < deadline, "the registry was not ready in time"
            time.sleep(0.2)
        yield url
    finally:
        process.terminate()
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        log.close()


def test_preflight_from_a_listed_origin(cors_registry: str) -> None:
    answer = httpx.options(
        f"{cors_registry}{ORGANIZATIONS}",
        headers={
            "Origin": FRONT_END,
            "Access-Control-Request-Method": "POST",
            "Access-Control-Request-Headers": "authorization, content-type, idempotency-key",
        },
    )
    assert answer.status_code == 200
    assert answer.headers["access-control-allow-origin"] == FRONT_END
    allowed = answer.headers["access-control-allow-headers"].lower()
    for header in ("authorization", "content-type", "idempotency-key", "if-match"):
        assert header in allowed
    assert "POST" in answer.headers["access-control-allow-methods"]
    assert answer.headers["access-control-max-age"] == "600"
    assert "access-control-allow-credentials" not in answer.headers


def test_preflight_from_another_origin_is_refused(cors_registry: str) -> None:
    answer = httpx.options(
        f"{cors_registry}{ORGANIZATIONS}",
        headers={"Origin": "https://evil.example", "Access-Control-Request-Method": "POST"},
    )
    assert answer.status_code == 400
    assert "access-control-allow-origin" not in answer.headers


def test_a_cross_origin_call_can_read_the_headers_it_needs(
    cors_registry: str, auth: Callable[..., dict[str, str]]
) -> None:
    answer = httpx.get(
        f"{cors_registry}{ORGANIZATIONS}",
        headers={"Origin": FRONT_END, **auth("civil_affairs")},
    )
    assert answer.status_code == 200
    assert answer.headers["access-control-allow-origin"] == FRONT_END
    exposed = answer.headers["access-control-expose-headers"].lower()
    for header in ("x-request-id", "etag", "retry-after", "location"):
        assert header in exposed
    # Errors carry the CORS headers too, or a page could not read the problem.
    missing = httpx.get(f"{cors_registry}{ORGANIZATIONS}", headers={"Origin": FRONT_END})
    assert missing.status_code == 401
    assert missing.headers["access-control-allow-origin"] == FRONT_END
    # A plain OPTIONS (no preflight) still gets the path's methods.
    plain = httpx.options(f"{cors_registry}{ORGANIZATIONS}")
    assert plain.status_code == 204 and "POST" in plain.headers["allow"]
