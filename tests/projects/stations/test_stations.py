"""Social-work stations over HTTP: who sets them up, who reads which, and bad input refused."""

from __future__ import annotations

import json
import uuid
from typing import Any

import pytest

from tests.factories import unique_street
from tests.projects.driver import Driver
from tests.projects.stations.helpers import DISTRICT, STATIONS, new_station, station_body
from tests.support.registry import StandInRegistry


async def _total(driver: Driver, headers: dict[str, str]) -> int:
    page = await driver.expect("GET", STATIONS, 200, headers)
    return int(page["total"])


class TestSetUp:
    async def test_the_bureau_sets_up_a_station_named_by_the_registry(self, driver: Driver) -> None:
        body = station_body()
        response = await driver.client.post(STATIONS, json=body, headers=driver.bureau)
        assert response.status_code == 201, response.text
        station = response.json()
        assert response.headers["ETag"] == '"1"'
        assert response.headers["Location"] == f"{STATIONS}/{station['id']}"
        # The stand-in registry names every organization 庐阳区社工服务中心<first 4 of id>.
        assert station["host_org_name"] == f"庐阳区社工服务中心{body['host_org_id'][:4]}"
        assert station["street_code"] == body["street_code"]
        assert station["merged_with_party_centre"] is True
        read = await driver.client.get(f"{STATIONS}/{station['id']}", headers=driver.bureau)
        assert read.json() == station
        assert read.headers["ETag"] == '"1"'

    async def test_one_station_per_town(self, driver: Driver) -> None:
        first = await new_station(driver)
        before = await _total(driver, driver.bureau)
        again = await driver.client.post(
            STATIONS,
            json=station_body(first["street_code"], name="另一个社工站"),
            headers=driver.bureau,
        )
        assert again.status_code == 409, again.text
        assert again.json()["code"] == "station_exists"
        assert again.json()["title"]  # a Chinese title by default
        assert await _total(driver, driver.bureau) == before

    async def test_a_host_the_registry_does_not_know_or_refuses_is_refused(
        self, driver: Driver, stand_in_registry: StandInRegistry
    ) -> None:
        before = await _total(driver, driver.bureau)
        unknown, abnormal = str(uuid.uuid4()), str(uuid.uuid4())
        stand_in_registry.overrides[unknown] = {"missing": True}
        stand_in_registry.make_abnormal(abnormal)
        for host, code in (
            (unknown, "organization_unknown"),
            (abnormal, "organization_ineligible"),
        ):
            response = await driver.client.post(
                STATIONS, json=station_body(host_org_id=host), headers=driver.bureau
            )
            assert response.status_code == 422, response.text
            assert response.json()["code"] == code
            assert response.json()["errors"][0]["field"] == "body.host_org_id"
        assert await _total(driver, driver.bureau) == before

    @pytest.mark.parametrize(
        ("overrides", "field"),
        [
            ({"established_year": 9999}, "established_year"),
            ({"staff_count": 10**12}, "staff_count"),
            ({"staff_count": -1}, "staff_count"),
            ({"communities_served": -5}, "communities_served"),
            ({"district_code": "330482"}, None),  # the street is not in the district
            ({"certified_social_workers": 7, "staff_count": 6}, None),
            ({"communities_served": 11, "communities_total": 10}, None),
            ({"street_code": "33048100"}, "street_code"),
            ({"street_code": "330481\u0661\u0662\u0663"}, "street_code"),  # Arabic-Indic digits
            ({"host_org_id": "not-an-id"}, "host_org_id"),
            ({"town_name": "x" * 10_000}, "town_name"),
        ],
    )
    async def test_hostile_input_is_a_clear_problem_and_changes_nothing(
        self, driver: Driver, overrides: dict[str, Any], field: str | None
    ) -> None:
        before = await _total(driver, driver.bureau)
        response = await driver.client.post(
            STATIONS, json=station_body(**overrides), headers=driver.bureau
        )
        assert response.status_code == 422, response.text
        assert response.headers["content-type"] == "application/problem+json"
        problem = response.json()
        assert problem["code"] == "validation_error"
        if field is not None:
            assert f"body.{field}" in {e["field"] for e in problem["errors"]}
        assert await _total(driver, driver.bureau) == before

    async def test_a_lone_surrogate_in_the_name_is_refused(self, driver: Driver) -> None:
        before = await _total(driver, driver.bureau)
        body = station_body(town_name="许村\ud800镇")
        response = await driver.client.post(
            STATIONS,
            content=json.dumps(body).encode(),  # escaped as \ud800: UTF-8 cannot carry it
            headers={**driver.bureau, "Content-Type": "application/json"},
        )
        assert response.status_code == 422, response.text
        problem = response.json()
        assert problem["code"] == "validation_error", response.text
        assert [e["field"] for e in problem["errors"]] == ["body.town_name"]
        assert await _total(driver, driver.bureau) == before

    async def test_only_the_bureau_sets_up_or_changes_a_station(self, driver: Driver) -> None:
        street = unique_street(DISTRICT)
        for role, claims in (
            ("street_office", {"street_code": street}),
            ("organization", {"org_id": str(uuid.uuid4())}),
            ("department_reviewer", {"department": "civil_affairs"}),
        ):
            response = await driver.client.post(
                STATIONS, json=station_body(street), headers=driver.auth(role, **claims)
            )
            assert (response.status_code, response.json()["code"]) == (403, "role_forbidden")
        station = await new_station(driver, street_code=street)
        office = driver.auth("street_office", street_code=street)
        response = await driver.client.patch(
            f"{STATIONS}/{station['id']}",
            json={"staff_count": 9},
            headers={**office, "If-Match": '"1"'},
        )
        assert response.status_code == 403
        unchanged = await driver.expect("GET", f"{STATIONS}/{station['id']}", 200, office)
        assert unchanged["staff_count"] == 6


class TestReading:
    async def test_each_reader_sees_the_stations_of_its_scope_unfiltered(
        self, driver: Driver
    ) -> None:
        mine, other = await new_station(driver), await new_station(driver)
        office = driver.auth("street_office", street_code=mine["street_code"])
        host = driver.auth("organization", org_id=mine["host_org_id"])
        for reader in (office, host):
            page = await driver.expect("GET", STATIONS, 200, reader)
            assert (page["total"], [s["id"] for s in page["items"]]) == (1, [mine["id"]])
            await driver.expect("GET", f"{STATIONS}/{mine['id']}", 200, reader)
            missing = await driver.expect("GET", f"{STATIONS}/{other['id']}", 404, reader)
            assert missing["code"] == "station_not_found"
        # The bureau and auditors see every station, all counted in `total`.
        for reader in (driver.bureau, driver.auth("auditor")):
            page = await driver.expect("GET", STATIONS, 200, reader, params={"page_size": 200})
            assert page["total"] >= 2
            assert {mine["id"], other["id"]} <= {s["id"] for s in page["items"]}
        # Others have no stations to read at all.
        for role, claims in (
            ("evaluator", {}),
            ("department_reviewer", {"department": "education"}),
        ):
            refused = await driver.client.get(STATIONS, headers=driver.auth(role, **claims))
            assert refused.status_code == 403

    async def test_a_town_filter_narrows_and_a_malformed_one_is_refused(
        self, driver: Driver
    ) -> None:
        station = await new_station(driver)
        page = await driver.expect(
            "GET", STATIONS, 200, driver.bureau, params={"street_code": station["street_code"]}
        )
        assert [s["id"] for s in page["items"]] == [station["id"]]
        for params in ({"street_code": "9" * 40}, {"district_code": "\u0663" * 6}, {"page": 0}):
            await driver.expect("GET", STATIONS, 422, driver.bureau, params=params)


class TestUpdate:
    async def test_changes_need_the_current_etag(self, driver: Driver) -> None:
        station = await new_station(driver)
        path = f"{STATIONS}/{station['id']}"
        missing = await driver.client.patch(path, json={"staff_count": 8}, headers=driver.bureau)
        assert (missing.status_code, missing.json()["code"]) == (428, "if_match_required")
        stale = await driver.client.patch(
            path, json={"staff_count": 8}, headers={**driver.bureau, "If-Match": '"7"'}
        )
        assert (stale.status_code, stale.json()["code"]) == (412, "version_mismatch")
        changed = await driver.client.patch(
            path,
            json={"staff_count": 8, "merged_with_party_centre": False},
            headers={**driver.bureau, "If-Match": '"1"'},
        )
        assert changed.status_code == 200, changed.text
        assert changed.headers["ETag"] == '"2"'
        assert (changed.json()["staff_count"], changed.json()["merged_with_party_centre"]) == (
            8,
            False,
        )

    async def test_a_change_leaving_it_inconsistent_is_refused(self, driver: Driver) -> None:
        station = await new_station(driver)  # 6 staff, 3 certified; 10 communities, 5 served
        path = f"{STATIONS}/{station['id']}"
        headers = {**driver.bureau, "If-Match": '"1"'}
        for body, code in (
            ({"staff_count": 2}, "invalid_station"),  # fewer than the certified
            ({"communities_total": 4}, "invalid_station"),
            ({"name": None}, "invalid_station"),
            ({"established_year": 9999}, "validation_error"),
            ({"street_code": "330481999"}, "validation_error"),  # the town is the station
        ):
            response = await driver.client.patch(path, json=body, headers=headers)
            assert (response.status_code, response.json()["code"]) == (422, code), body
        unchanged = await driver.expect("GET", path, 200, driver.bureau)
        assert unchanged == station

    async def test_a_new_host_is_named_by_the_registry(
        self, driver: Driver, stand_in_registry: StandInRegistry
    ) -> None:
        station = await new_station(driver)
        path = f"{STATIONS}/{station['id']}"
        unknown = str(uuid.uuid4())
        stand_in_registry.overrides[unknown] = {"missing": True}
        refused = await driver.client.patch(
            path, json={"host_org_id": unknown}, headers={**driver.bureau, "If-Match": '"1"'}
        )
        assert (refused.status_code, refused.json()["code"]) == (422, "organization_unknown")
        host = str(uuid.uuid4())
        changed = await driver.expect(
            "PATCH",
            path,
            200,
            {**driver.bureau, "If-Match": '"1"'},
            json={"host_org_id": host},
        )
        assert changed["host_org_name"] == f"庐阳区社工服务中心{host[:4]}"
        # The new agency reads its station; the old one no longer does.
        await driver.expect("GET", path, 200, driver.auth("organization", org_id=host))
        await driver.expect(
            "GET", path, 404, driver.auth("organization", org_id=station["host_org_id"])
        )
