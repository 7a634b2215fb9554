"""The gateway's route table is the one the three apps' OpenAPI paths give."""

from __future__ import annotations

import shutil
import socket
import subprocess
import time
from pathlib import Path

import httpx
import pytest

from tools import gateway_routes
from tools.specs import SERVICES, owners


def test_gateway_config_routes_what_the_apps_serve() -> None:
    assert gateway_routes.main(["--check"]) == 0, "run `make gateway-routes`"


def test_a_stale_table_is_caught(tmp_path: Path) -> None:
    stale = tmp_path / "gateway.conf"
    text = gateway_routes.GATEWAY_CONF.read_text(encoding="utf-8")
    stale.write_text(text.replace("project-codes|", ""), encoding="utf-8")
    assert gateway_routes.main(["--check", "--path", str(stale)]) == 1
    assert gateway_routes.main(["--path", str(stale)]) == 0
    assert stale.read_text(encoding="utf-8") == text


def test_every_service_serves_something_and_none_shares_a_prefix() -> None:
    table = owners()
    assert set(table) == set(SERVICES)
    assert all(table.values())
    # The resources the hand-kept list used to miss are routed now.
    assert "project-codes" in table["projects"] and "reports" in table["projects"]
    routed = {segment for segments in table.values() for segment in segments}
    assert not routed & {"imports", "exports", "contracts", "payments", "evaluations", "meetings"}


# -- the real nginx, where it is installed (Debian: nginx-light) ---------------------------


@pytest.fixture
def nginx_prefix(tmp_path: Path) -> tuple[str, Path]:
    nginx = shutil.which("nginx") or (
        "/usr/sbin/nginx" if Path("/usr/sbin/nginx").exists() else None
    )
    if nginx is None:
        pytest.skip("nginx is not installed")
    return nginx, tmp_path


def _nginx_conf(prefix: Path, gateway: str) -> Path:
    (prefix / "gateway.conf").write_text(gateway, encoding="utf-8")
    conf = prefix / "nginx.conf"
    conf.write_text(
        f"pid {prefix}/nginx.pid;\nerror_log {prefix}/error.log;\ndaemon off;\n"
        "events {}\nhttp {\n  include /etc/nginx/mime.types;\n"
        f"  client_body_temp_path {prefix};\n  include {prefix}/gateway.conf;\n}}\n",
        encoding="utf-8",
    )
    return conf


def test_nginx_accepts_the_gateway_configuration(nginx_prefix: tuple[str, Path]) -> None:
    nginx, prefix = nginx_prefix
    conf = _nginx_conf(prefix, gateway_routes.GATEWAY_CONF.read_text(encoding="utf-8"))
    result = subprocess.run(
        [nginx, "-t", "-c", str(conf), "-p", str(prefix)],
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )
    assert result.returncode == 0, result.stderr


def test_nginx_serves_the_docs_page_and_the_merged_document(
    nginx_prefix: tuple[str, Path],
) -> None:
    nginx, prefix = nginx_prefix
    port = _free_port()
    text = gateway_routes.GATEWAY_CONF.read_text(encoding="utf-8")
    text = text.replace("listen 80;", f"listen 127.0.0.1:{port};")
    text = text.replace("/usr/share/nginx/sanshe/", f"{gateway_routes.ROOT}/openapi/")
    conf = _nginx_conf(prefix, text)
    process = subprocess.Popen(
        [nginx, "-c", str(conf), "-p", str(prefix)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        url = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 15
        while True:
            try:
                httpx.get(f"{url}/healthz", timeout=1)
                break
            except httpx.TransportError:
                assert time.monotonic() < deadline and process.poll() is None
                time.sleep(0.1)
        spec = httpx.get(f"{url}/openapi.json", headers={"Accept-Encoding": "gzip"})
        assert spec.status_code == 200 and spec.headers["content-encoding"] == "gzip"
        assert spec.json()["info"]["title"] == "Sanshe API"
        assert spec.headers["x-request-id"]
        docs = httpx.get(f"{url}/docs")
        assert docs.status_code == 200 and docs.headers["content-type"].startswith("text/html")
        assert 'href="openapi.json"' in docs.text
        unknown = httpx.get(f"{url}/api/v1/unknown")
        assert unknown.status_code == 404
        assert unknown.headers["content-type"] == "application/problem+json"
        assert httpx.options(f"{url}/api/v1/internal/case-outcomes").status_code == 404
    finally:
        process.terminate()
        process.wait(timeout=10)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])
