"""The gateway's route table is the one the three apps' OpenAPI paths give."""

from __future__ import annotations

import subprocess
from pathlib import Path

import httpx

from tests.contract.servers import gateway, nginx_binary, nginx_conf
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


def test_nginx_accepts_the_gateway_configuration(tmp_path: Path) -> None:
    nginx = nginx_binary()
    conf = nginx_conf(tmp_path, gateway_routes.GATEWAY_CONF.read_text(encoding="utf-8"))
    result = subprocess.run(
        [nginx, "-t", "-c", str(conf), "-p", str(tmp_path)],
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )
    assert result.returncode == 0, result.stderr


def test_nginx_serves_the_docs_page_and_the_merged_document(tmp_path: Path) -> None:
    with gateway(tmp_path, {}) as url:
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
