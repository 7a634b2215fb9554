"""The annual-report deadline enforced: 未参检, the two lists, late filing, key indicators.

Each test sweeps its own long-past year with organizations established just before it,
so that no other test's organizations owe that year's report (only organizations that
existed when a sweep runs are touched, and the tests of a run go one after another).
"""

from __future__ import annotations

from datetime import date
from typing import Any

import httpx

from shared.clock import shanghai_today
from tests.factories import filed_org, province_foundation, registered_org
from tests.registry.helpers import (
    ORGS,
    Auth,
    created,
    enter_legacy_grade,
    outcome_body,
    post_outcome,
)
from tests.registry.test_inspections import application_of

SWEEPS = "/api/v1/inspections/deadline-sweeps"
PUBLIC = "/api/v1/public/annual-reports"


async def sweep(registry: httpx.AsyncClient, auth: Auth, year: int) -> httpx.Response:
    return await registry.post(SWEEPS, json={"year": year}, headers=auth("civil_affairs"))


async def inspections(registry: httpx.AsyncClient, auth: Auth, org: dict[str, Any]) -> Any:
    response = await registry.get(
        f"{ORGS}/{org['id']}/annual-inspections", headers=auth("organization", org_id=org["id"])
    )
    assert response.status_code == 200
    return {i["year"]: i for i in response.json()}


async def entries(registry: httpx.AsyncClient, auth: Auth, org: dict[str, Any]) -> Any:
    response = await registry.get(f"{ORGS}/{org['id']}/list-entries", headers=auth("auditor"))
    assert response.status_code == 200
    return response.json()


async def status_of(registry: httpx.AsyncClient, auth: Auth, org: dict[str, Any]) -> str:
    response = await registry.get(f"{ORGS}/{org['id']}", headers=auth("civil_affairs"))
    return str(response.json()["status"])


async def abnormal_list_org_ids(registry: httpx.AsyncClient, auth: Auth) -> set[str]:
    """The whole current abnormal list, paged as the bureau's front-end pages it."""
    seen: set[str] = set()
    page = 1
    while True:
        response = await registry.get(
            f"{ORGS}/list-entries",
            params={"page": page, "page_size": 200},
            headers=auth("civil_affairs"),
        )
        assert response.status_code == 200
        body = response.json()
        seen |= {e["organization_id"] for e in body["items"] if e["list_type"] == "abnormal"}
        if page * 200 >= body["total"]:
            return seen
        page += 1


async def file_report(
    registry: httpx.AsyncClient, auth: Auth, org: dict[str, Any], year: int
) -> dict[str, Any]:
    response = await registry.post(
        f"{ORGS}/{org['id']}/annual-inspections",
        json={"year": year, "materials": [{"code": "annual_report"}]},
        headers=auth("organization", org_id=org["id"]),
    )
    assert response.status_code == 201, response.text
    result: dict[str, Any] = response.json()
    return result


async def concluded_pass(
    registry: httpx.AsyncClient, auth: Auth, org: dict[str, Any], year: int
) -> None:
    inspection = await file_report(registry, auth, org, year)
    recorded = await registry.put(
        f"{ORGS}/{org['id']}/annual-inspections/{year}/conclusion",
        json={"result": "pass", "party_building_ok": True, "financial_audit_ok": True},
        headers=auth("civil_affairs"),
    )
    assert recorded.status_code == 200, recorded.text
    decided = await post_outcome(registry, auth, outcome_body(await application_of(inspection)))
    assert decided.status_code == 200, decided.text


class TestSweep:
    async def test_non_filers_become_absent_and_abnormal_filers_do_not_and_it_runs_once(
        self, registry: httpx.AsyncClient, auth: Auth
    ) -> None:
        bureau = auth("civil_affairs")
        year = 2001
        silent = await created(registry, bureau, registered_org(established_on="2000-03-01"))
        filer = await created(registry, bureau, registered_org(established_on="2000-03-01"))
        young = await created(registry, bureau, registered_org(established_on="2001-09-01"))
        street_group = await created(registry, bureau, filed_org(established_on="2000-03-01"))
        # Registered by the province: it reports there, not to this district's bureau.
        foundation = await created(
            registry, bureau, province_foundation(established_on="2000-03-01")
        )
        await file_report(registry, auth, filer, year)

        first = await sweep(registry, auth, year)
        assert first.status_code == 200, first.text
        outcome = first.json()
        assert outcome["year"] == year and outcome["deadline"] == "2002-05-31"
        assert outcome["marked_absent"] >= 1 and outcome["listed_abnormal"] >= 1

        absent = (await inspections(registry, auth, silent))[year]
        assert (absent["state"], absent["result"]) == ("concluded", "absent")
        [entry] = await entries(registry, auth, silent)
        assert (entry["list_type"], entry["reason_code"], entry["report_year"]) == (
            "abnormal",
            "annual_report_not_filed",
            year,
        )
        assert entry["listed_on"] == shanghai_today().isoformat()
        assert "2001" in entry["reason"] and entry["removed_on"] is None
        assert await status_of(registry, auth, silent) == "abnormal"
        # The filer's report stands; the young one and the street's group owed none.
        assert (await inspections(registry, auth, filer))[year]["state"] == "submitted"
        for org in (filer, young, street_group, foundation):
            assert await entries(registry, auth, org) == []
            assert await status_of(registry, auth, org) == "active"
        assert await inspections(registry, auth, young) == {}
        # The bureau sees it on the abnormal list, unfiltered.
        listed = await abnormal_list_org_ids(registry, auth)
        assert silent["id"] in listed and filer["id"] not in listed

        second = await sweep(registry, auth, year)
        assert second.status_code == 200
        assert second.json() | {"deadline": None} == {
            "year": year,
            "deadline": None,
            "marked_absent": 0,
            "listed_abnormal": 0,
            "listed_serious": 0,
        }
        assert len(await entries(registry, auth, silent)) == 1

    async def test_two_years_not_filed_reach_the_serious_list(
        self, registry: httpx.AsyncClient, auth: Auth
    ) -> None:
        org = await created(
            registry, auth("civil_affairs"), registered_org(established_on="2002-01-15")
        )
        assert (await sweep(registry, auth, 2003)).status_code == 200
        second = await sweep(registry, auth, 2004)
        assert second.status_code == 200 and second.json()["listed_serious"] >= 1
        listed = {
            (e["list_type"], e["reason_code"], e["report_year"])
            for e in await entries(registry, auth, org)
        }
        # One abnormal entry (the first missed year), and the serious one.
        assert listed == {
            ("abnormal", "annual_report_not_filed", 2003),
            ("serious_illegal", "abnormal_two_years", 2004),
        }
        eligibility = (
            await registry.get(f"{ORGS}/{org['id']}/eligibility", headers=auth("service"))
        ).json()
        assert eligibility["eligible"] is False

    async def test_a_late_report_that_passes_takes_the_organization_off_the_list(
        self, registry: httpx.AsyncClient, auth: Auth
    ) -> None:
        org = await created(
            registry,
            auth("civil_affairs"),
            registered_org(established_on="2005-02-01"),
        )
        await enter_legacy_grade(org["id"], "3A", "2024-01-01")
        assert (await sweep(registry, auth, 2006)).status_code == 200
        assert await status_of(registry, auth, org) == "abnormal"
        after_sweep = (await registry.get(f"{ORGS}/{org['id']}", headers=auth("auditor"))).json()
        # 未参检 lowers a valid grade, as a failed inspection does.
        assert after_sweep["evaluation_grade"] == "2A"
        await concluded_pass(registry, auth, org, 2006)
        assert (await inspections(registry, auth, org))[2006]["result"] == "pass"
        [entry] = await entries(registry, auth, org)
        assert entry["removed_on"] is not None and "补报" in entry["removal_reason"]
        assert await status_of(registry, auth, org) == "active"

    async def test_a_year_is_swept_only_after_its_deadline_and_only_by_the_bureau(
        self, registry: httpx.AsyncClient, auth: Auth
    ) -> None:
        this_year = date.today().year
        refused = await sweep(registry, auth, this_year)
        assert refused.status_code == 409
        assert refused.json()["code"] == "deadline_not_passed"
        assert refused.headers["content-type"].startswith("application/problem+json")
        # JSON's escape of a lone surrogate, as a hostile client would send it.
        for hostile in ("9999", "-1", '"\\ud800"', "null", "2001.5", '"2001; DROP TABLE"'):
            response = await registry.post(
                SWEEPS,
                content=f'{{"year": {hostile}}}',
                headers={**auth("civil_affairs"), "Content-Type": "application/json"},
            )
            assert response.status_code == 422, (hostile, response.text)
            assert response.json()["errors"][0]["field"] == "body.year"
        for role, claims in (
            ("organization", {"org_id": "x"}),
            ("auditor", {}),
            ("street_office", {"street_code": "340103001"}),
        ):
            response = await registry.post(
                SWEEPS, json={"year": 2001}, headers=auth(role, **claims)
            )
            assert response.status_code == 403
        assert (await registry.post(SWEEPS, json={"year": 2001})).status_code == 401


class TestKeyIndicators:
    async def test_a_pass_with_a_failed_key_indicator_is_refused(
        self, registry: httpx.AsyncClient, auth: Auth
    ) -> None:
        year = date.today().year - 1
        org = await created(registry, auth("civil_affairs"), registered_org())
        await file_report(registry, auth, org, year)
        url = f"{ORGS}/{org['id']}/annual-inspections/{year}/conclusion"
        refused = await registry.put(
            url,
            json={"result": "pass", "party_building_ok": False, "financial_audit_ok": False},
            headers=auth("civil_affairs"),
        )
        assert refused.status_code == 422
        problem = refused.json()
        assert problem["code"] == "key_indicator_failed"
        assert {e["field"] for e in problem["errors"]} == {
            "body.party_building_ok",
            "body.financial_audit_ok",
        }
        unchanged = (await inspections(registry, auth, org))[year]
        assert (unchanged["result"], unchanged["party_building_ok"]) == (None, None)
        basic = await registry.put(
            url,
            json={"result": "basic_pass", "party_building_ok": True, "financial_audit_ok": False},
            headers=auth("civil_affairs"),
        )
        assert basic.status_code == 200 and basic.json()["result"] == "basic_pass"


class TestPublication:
    async def test_anyone_reads_the_published_results_without_personal_data(
        self, registry: httpx.AsyncClient, auth: Auth
    ) -> None:
        year = date.today().year - 1
        org = await created(registry, auth("civil_affairs"), registered_org())
        await concluded_pass(registry, auth, org, year)
        response = await registry.get(PUBLIC, params={"name": org["name"]})
        assert response.status_code == 200, response.text
        body = response.json()
        assert body["total"] == 1
        [report] = body["items"]
        assert report == {
            "organization_name": org["name"],
            "uscc": org["uscc"],
            "year": year,
            "result": "pass",
            "published_on": report["published_on"],
        }
        # Dates are Shanghai working days: after 16:00 UTC it is already tomorrow there.
        assert date.fromisoformat(report["published_on"]) <= shanghai_today()
        assert "legal_rep" not in response.text and "id_number" not in response.text
        unfiltered = await registry.get(PUBLIC)
        assert unfiltered.status_code == 200 and unfiltered.json()["total"] >= 1

    async def test_hostile_queries_get_a_clear_error(self, registry: httpx.AsyncClient) -> None:
        for params in (
            {"page_size": 100000},
            {"year": 9999},
            {"page": -1},
            {"name": "x" * 101},
        ):
            response = await registry.get(PUBLIC, params=params)
            assert response.status_code == 422, (params, response.text)
            assert response.headers["content-type"].startswith("application/problem+json")
        # A lone surrogate cannot be encoded: sent as raw bytes, it finds nothing.
        odd = await registry.get(PUBLIC + "?name=%ED%A0%80")
        assert odd.status_code in (200, 422)
        if odd.status_code == 200:
            assert odd.json()["total"] == 0
