"""The gateway's route table is the one the three apps' OpenAPI paths give."""

from __future__ import annotations

from pathlib import Path

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
