"""The annual-report deadline on the running registry: who did not file is 未参检 and listed.

Real processes (this module's own system and database), with the demo register loaded:
the bureau's dashboard shows 866 = 428 + 438, and every `abnormal` organization is on
the abnormal-activity list and nobody else. Then two organizations established years
ago owe last year's report, due 31 May this year; one files it, the other does not. The
bureau sweeps the deadline: the silent one is concluded 未参检 and appears on the list
the bureau pages through (no filter); the filer does not, and neither does any demo
organization (the demo register already is what the sweeps made it). A second sweep
changes nothing.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from services.registry.demo import load_if_empty
from shared.db import Database
from tests.e2e.steps import API, Auth, Http, ok
from tests.factories import registered_org
from tests.support.system import System
from tests.workflow.helpers import materials_for

LAST_YEAR = date.today().year - 1


def _abnormal_list(http: Http, auth: Auth) -> list[dict[str, Any]]:
    """The whole current list, as the bureau's front-end pages it (no filter)."""
    registry, bureau = http("registry"), auth("civil_affairs")
    entries: list[dict[str, Any]] = []
    page = 1
    while True:
        body = ok(
            registry.get(
                f"{API}/organizations/list-entries",
                params={"page": page, "page_size": 200},
                headers=bureau,
            )
        )
        entries += body["items"]
        if len(entries) >= body["total"]:
            return [e for e in entries if e["list_type"] == "abnormal"]
        page += 1


def _organizations(http: Http, auth: Auth, **params: str) -> list[dict[str, Any]]:
    registry, bureau = http("registry"), auth("civil_affairs")
    found: list[dict[str, Any]] = []
    page = 1
    while True:
        body = ok(
            registry.get(
                f"{API}/organizations",
                params={**params, "page": page, "page_size": 200},
                headers=bureau,
            )
        )
        found += body["items"]
        if len(found) >= body["total"]:
            return found
        page += 1


async def test_a_non_filer_ends_up_absent_and_listed_and_a_second_sweep_changes_nothing(
    system: System, system_database: str, http: Http, auth: Auth
) -> None:
    demo_db = Database(system_database)
    try:
        assert await load_if_empty(db=demo_db) is True
    finally:
        await demo_db.dispose()
    registry, bureau = http("registry"), auth("civil_affairs")
    stats = ok(registry.get(f"{API}/organizations/stats", headers=bureau))
    assert stats["total"] == 866
    assert {c["key"]: c["count"] for c in stats["by_registration"]} == {
        "registered": 428,
        "filed": 438,
    }
    demo_listed = _abnormal_list(http, auth)
    abnormal = {o["id"] for o in _organizations(http, auth, status="abnormal")}
    assert abnormal and {e["organization_id"] for e in demo_listed} == abnormal
    silent = ok(
        registry.post(
            f"{API}/organizations",
            json=registered_org(established_on="2019-04-01"),
            headers=bureau,
        ),
        201,
    )
    filer = ok(
        registry.post(
            f"{API}/organizations",
            json=registered_org(established_on="2019-04-01"),
            headers=bureau,
        ),
        201,
    )
    ok(
        registry.post(
            f"{API}/organizations/{filer['id']}/annual-inspections",
            json={"year": LAST_YEAR, "materials": materials_for("annual_inspection")},
            headers=auth("organization", org_id=filer["id"]),
        ),
        201,
    )

    swept = ok(
        registry.post(
            f"{API}/inspections/deadline-sweeps", json={"year": LAST_YEAR}, headers=bureau
        )
    )
    assert swept["marked_absent"] == 1 and swept["listed_abnormal"] == 1
    assert swept["deadline"] == f"{date.today().year}-05-31"

    listed = _abnormal_list(http, auth)
    new = [e for e in listed if e not in demo_listed]
    assert [(e["organization_id"], e["reason_code"], e["report_year"]) for e in new] == [
        (silent["id"], "annual_report_not_filed", LAST_YEAR)
    ]
    seen_by_silent = ok(
        registry.get(
            f"{API}/organizations/{silent['id']}/annual-inspections",
            headers=auth("organization", org_id=silent["id"]),
        )
    )
    assert [(i["year"], i["state"], i["result"]) for i in seen_by_silent] == [
        (LAST_YEAR, "concluded", "absent")
    ]
    assert ok(registry.get(f"{API}/organizations/{silent['id']}", headers=bureau))["status"] == (
        "abnormal"
    )
    assert ok(registry.get(f"{API}/organizations/{filer['id']}", headers=bureau))["status"] == (
        "active"
    )

    again = ok(
        registry.post(
            f"{API}/inspections/deadline-sweeps", json={"year": LAST_YEAR}, headers=bureau
        )
    )
    assert (again["marked_absent"], again["listed_abnormal"], again["listed_serious"]) == (0, 0, 0)
    assert _abnormal_list(http, auth) == listed
