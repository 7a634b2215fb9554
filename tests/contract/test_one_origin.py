"""A front-end behind the gateway (one origin) and beside the services (CORS), for real:
uvicorn processes of the services, nginx with deploy/gateway.conf, and, where Debian's
chromium is installed, a headless browser running a page's fetch() calls."""

from __future__ import annotations

import json
import shutil
import subprocess
from collections.abc import Callable, Iterator
from pathlib import Path

import httpx
import pytest

from tests.contract.servers import free_port, gateway, nginx_binary, service


@pytest.fixture(scope="module")
def origin(
    database_url: str, redis_url: str, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[dict[str, str]]:
    """The registry and projects behind the gateway; the workflow's address answers
    nothing (to see the gateway's own 503). The registry also allows the gateway's
    origin by CORS, for the page that calls it directly."""
    nginx_binary()
    prefix = tmp_path_factory.mktemp("origin")
    gateway_port = free_port()
    page_origin = f"http://127.0.0.1:{gateway_port}"
    env = {"DATABASE_URL": database_url, "REDIS_URL": redis_url}
    (prefix / "page.html").write_text("", encoding="utf-8")
    with (
        service("registry", prefix, {**env, "CORS_ALLOW_ORIGINS": page_origin}) as registry,
        service("projects", prefix, env) as projects,
    ):
        upstreams = {
            "registry": registry.removeprefix("http://"),
            "projects": projects.removeprefix("http://"),
            "workflow": f"127.0.0.1:{free_port()}",
        }
        page = f"    location = /page.html {{\n        alias {prefix}/page.html;\n    }}\n"
        with gateway(prefix, upstreams, extra_locations=page, port=gateway_port) as url:
            yield {"gateway": url, "registry": registry, "page": str(prefix / "page.html")}


def test_the_gateway_routes_every_service_from_one_origin(
    origin: dict[str, str], auth: Callable[..., dict[str, str]]
) -> None:
    url = origin["gateway"]
    headers = {**auth("civil_affairs"), "X-Request-ID": "front-end-0001"}
    organizations = httpx.get(f"{url}/api/v1/organizations", headers=headers)
    assert organizations.status_code == 200
    assert organizations.headers["x-request-id"] == "front-end-0001"
    # Not routed before the table was generated from the apps.
    codes = httpx.get(f"{url}/api/v1/project-codes", headers=headers)
    assert codes.status_code == 200, codes.text
    spend = httpx.get(f"{url}/api/v1/reports/spend", headers=headers)
    assert spend.headers["content-type"].startswith("application/"), spend.text
    assert spend.status_code != 404 or spend.json()["code"] != "not_found"
    # OPTIONS reaches the service and names the path's methods.
    options = httpx.options(f"{url}/api/v1/organizations")
    assert options.status_code == 204 and options.headers["allow"] == "GET, OPTIONS, POST"
    # A service that does not answer: the gateway's own problem, with Retry-After.
    down = httpx.get(f"{url}/api/v1/cases", headers=headers)
    assert down.status_code == 503
    assert down.headers["content-type"] == "application/problem+json"
    assert down.headers["retry-after"] == "5"


def _chromium() -> str:
    for name in ("chromium", "chromium-browser", "google-chrome"):
        found = shutil.which(name)
        if found:
            return found
    pytest.skip("chromium is not installed")


_PAGE = """<!doctype html><html><body>pending<script>
const token = %(token)s;
async function call(url, init) {
  try {
    const r = await fetch(url, init);
    return {status: r.status, request_id: r.headers.get("X-Request-ID"),
            etag: r.headers.get("ETag")};
  } catch (e) { return {error: String(e)}; }
}
(async () => {
  const auth = {headers: {Authorization: "Bearer " + token}};
  const results = {
    same_origin: await call("/api/v1/organizations", auth),
    codes: await call("/api/v1/project-codes", auth),
    cross_origin: await call(%(registry)s + "/api/v1/organizations", auth),
    cross_origin_post: await call(%(registry)s + "/api/v1/organizations", {method: "POST",
      headers: {...auth.headers, "Content-Type": "application/json",
                "Idempotency-Key": crypto.randomUUID()}, body: "{}"}),
  };
  document.body.textContent = JSON.stringify(results);
})();
</script></body></html>
"""


def test_a_browser_page_calls_the_gateway_and_a_service_across_origins(
    origin: dict[str, str], auth: Callable[..., dict[str, str]], tmp_path: Path
) -> None:
    chromium = _chromium()
    token = auth("civil_affairs")["Authorization"].removeprefix("Bearer ")
    Path(origin["page"]).write_text(
        _PAGE % {"token": json.dumps(token), "registry": json.dumps(origin["registry"])},
        encoding="utf-8",
    )
    result = subprocess.run(
        [
            chromium,
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            f"--user-data-dir={tmp_path}",
            "--virtual-time-budget=15000",
            "--dump-dom",
            f"{origin['gateway']}/page.html",
        ],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    body = result.stdout.split("<body>", 1)[-1].split("</body>", 1)[0]
    assert body.strip().startswith("{"), result.stdout[-2000:]
    results = json.loads(body)
    assert results["same_origin"]["status"] == 200
    assert results["same_origin"]["request_id"]
    assert results["codes"]["status"] == 200
    # Through CORS: the answer and its exposed headers are readable by the page...
    assert results["cross_origin"]["status"] == 200
    assert results["cross_origin"]["request_id"]
    # ...and the preflight let the POST with Idempotency-Key through (422: empty body).
    assert results["cross_origin_post"]["status"] == 422
