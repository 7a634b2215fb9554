"""Real processes for the contract tests: a service under uvicorn, nginx with the gateway."""

from __future__ import annotations

import contextlib
import os
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Iterator, Mapping
from pathlib import Path

import httpx
import pytest

from tools import gateway_routes


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _wait(url: str, process: subprocess.Popen[bytes], what: str, seconds: float = 60) -> None:
    deadline = time.monotonic() + seconds
    while True:
        assert process.poll() is None, f"{what} exited"
        try:
            httpx.get(url, timeout=2)
            return
        except httpx.TransportError:
            pass
        assert time.monotonic() < deadline, f"{what} did not start in time"
        time.sleep(0.2)


def _stop(process: subprocess.Popen[bytes]) -> None:
    process.terminate()
    try:
        process.wait(timeout=20)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


@contextlib.contextmanager
def service(name: str, log_dir: Path, env: Mapping[str, str]) -> Iterator[str]:
    """`services.<name>.main:app` under uvicorn on a free port, until /readyz answers."""
    port = free_port()
    with (log_dir / f"{name}.log").open("wb") as log:
        process = subprocess.Popen(
            [sys.executable, "-m", "uvicorn", f"services.{name}.main:app", "--port", str(port)],
            env={**os.environ, "LOG_JSON": "false", **env},
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        url = f"http://127.0.0.1:{port}"
        try:
            _wait(f"{url}/readyz", process, name)
            yield url
        finally:
            _stop(process)


def nginx_binary() -> str:
    found = shutil.which("nginx") or (
        "/usr/sbin/nginx" if Path("/usr/sbin/nginx").exists() else None
    )
    if found is None:
        pytest.skip("nginx is not installed")
    return found


def nginx_conf(prefix: Path, gateway: str) -> Path:
    (prefix / "gateway.conf").write_text(gateway, encoding="utf-8")
    conf = prefix / "nginx.conf"
    # Started as root, nginx's workers would run as nobody, who cannot read pytest's
    # private temporary directories (the test page).
    user = "user root;\n" if os.geteuid() == 0 else ""
    conf.write_text(
        f"{user}pid {prefix}/nginx.pid;\nerror_log {prefix}/error.log;\ndaemon off;\n"
        "events {}\nhttp {\n  include /etc/nginx/mime.types;\n"
        f"  client_body_temp_path {prefix};\n  include {prefix}/gateway.conf;\n}}\n",
        encoding="utf-8",
    )
    return conf


@contextlib.contextmanager
def gateway(
    prefix: Path,
    upstreams: Mapping[str, str],
    *,
    extra_locations: str = "",
    port: int | None = None,
) -> Iterator[str]:
    """deploy/gateway.conf under a real nginx on a free port: each compose upstream
    (`registry:8000`...) replaced by the local address given, openapi/ served from the
    checkout, and `extra_locations` added to the server block."""
    nginx = nginx_binary()
    port = port or free_port()
    text = gateway_routes.GATEWAY_CONF.read_text(encoding="utf-8")
    text = text.replace("listen 80;", f"listen 127.0.0.1:{port};")
    text = text.replace("/usr/share/nginx/sanshe/", f"{gateway_routes.ROOT}/openapi/")
    for service_name, address in upstreams.items():
        text = text.replace(f'"{service_name}:{gateway_routes.CONTAINER_PORT}"', f'"{address}"')
    if extra_locations:
        text = text.replace(
            "    location = /healthz {", extra_locations + "\n    location = /healthz {"
        )
    conf = nginx_conf(prefix, text)
    process = subprocess.Popen(
        [nginx, "-c", str(conf), "-p", str(prefix)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        _wait(f"{url}/healthz", process, "nginx", seconds=15)
        yield url
    finally:
        _stop(process)
