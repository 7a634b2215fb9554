"""A station's "123X" list: 1 core, 2 brand, 3 basic, any number of special projects."""

from __future__ import annotations

import asyncio
import uuid

from tests.factories import unique_street
from tests.projects.driver import API, Driver
from tests.projects.stations.helpers import (
    DISTRICT,
    STATIONS,
    Catalogue,
    attach,
    new_station,
    station_body,
)


async def test_the_list_fills_to_its_quota_and_no_further(driver: Driver) -> None:
    station = await new_station(driver)
    catalogue = Catalogue(driver, station["street_code"])
    slots = [
        ("core_party_talent", "core", 1),
        ("brand_community", "brand", 1),
        ("brand_social_work", "brand", 1),
        ("basic_families_in_difficulty", "basic", 1),
        ("basic_elderly_living_alone", "basic", 1),
        ("basic_children_in_difficulty", "basic", 1),
        ("special", "special", 3),
    ]
    for item, role, count in slots:
        for _ in range(count):
            response = await attach(driver, station, await catalogue.project(item))
            assert response.status_code == 201, response.text
            assert (response.json()["role"], response.json()["year"]) == (role, 2026)
    # One more in each bounded slot is refused, whichever item of the slot it is.
    for item, role in (
        ("core_party_talent", "core"),
        ("brand_social_work", "brand"),
        ("basic_elderly_living_alone", "basic"),
    ):
        refused = await attach(driver, station, await catalogue.project(item))
        assert refused.status_code == 409, refused.text
        problem = refused.json()
        assert problem["code"] == "station_quota_exceeded"
        assert role in problem["detail_en"] or role in problem["detail"]
    # The X slot has no limit.
    extra = await attach(driver, station, await catalogue.project("special"))
    assert extra.status_code == 201, extra.text
    # What the street office of the town reads: the whole list, unfiltered.
    office = driver.auth("street_office", street_code=station["street_code"])
    page = await driver.expect("GET", f"{STATIONS}/{station['id']}/projects", 200, office)
    assert page["total"] == 10
    roles = [item["role"] for item in page["items"]]  # in 123X order
    assert roles == ["core"] + ["brand"] * 2 + ["basic"] * 3 + ["special"] * 4
    assert {item["stage"] for item in page["items"]} == {"applied"}


async def test_a_detached_core_project_makes_room_for_another(driver: Driver) -> None:
    station = await new_station(driver)
    catalogue = Catalogue(driver, station["street_code"])
    first = await catalogue.project("core_party_talent")
    second = await catalogue.project("core_party_talent")
    assert (await attach(driver, station, first)).status_code == 201
    assert (await attach(driver, station, second)).json()["code"] == "station_quota_exceeded"
    detach = f"{STATIONS}/{station['id']}/projects/{first['id']}"
    office = driver.auth("street_office", street_code=station["street_code"])
    assert (await driver.client.delete(detach, headers=office)).status_code == 403
    removed = await driver.expect("DELETE", detach, 200, driver.bureau)
    assert (removed["project_id"], removed["role"]) == (first["id"], "core")
    again = await driver.client.delete(detach, headers=driver.bureau)
    assert (again.status_code, again.json()["code"]) == (404, "station_project_not_found")
    assert (await attach(driver, station, second)).status_code == 201
    page = await driver.expect("GET", f"{STATIONS}/{station['id']}/projects", 200, driver.bureau)
    assert [item["project_id"] for item in page["items"]] == [second["id"]]


async def test_a_project_is_on_one_station_a_year(driver: Driver) -> None:
    station = await new_station(driver)
    catalogue = Catalogue(driver, station["street_code"])
    project = await catalogue.project("special")
    first = await attach(driver, station, project)
    assert first.status_code == 201, first.text
    again = await attach(driver, station, project)
    assert (again.status_code, again.json()["code"]) == (409, "project_on_station")
    elsewhere = await new_station(driver)
    moved = await attach(driver, elsewhere, project)
    assert (moved.status_code, moved.json()["code"]) == (409, "project_on_station")
    page = await driver.expect("GET", f"{STATIONS}/{elsewhere['id']}/projects", 200, driver.bureau)
    assert page["total"] == 0


async def test_projects_of_another_street_or_none_at_all_are_refused(driver: Driver) -> None:
    station = await new_station(driver)
    catalogue = Catalogue(driver, station["street_code"])
    other_street = await catalogue.project("special", street_code=unique_street(DISTRICT))
    refused = await attach(driver, station, other_street)
    assert (refused.status_code, refused.json()["code"]) == (422, "project_street_mismatch")
    unknown = await driver.client.post(
        f"{STATIONS}/{station['id']}/projects",
        json={"project_id": str(uuid.uuid4())},
        headers=driver.bureau,
    )
    assert (unknown.status_code, unknown.json()["code"]) == (422, "project_unknown")
    for body in ({"project_id": "x"}, {}, {"project_id": str(uuid.uuid4()), "role": "core"}):
        malformed = await driver.client.post(
            f"{STATIONS}/{station['id']}/projects", json=body, headers=driver.bureau
        )
        assert (malformed.status_code, malformed.json()["code"]) == (422, "validation_error")
    page = await driver.expect("GET", f"{STATIONS}/{station['id']}/projects", 200, driver.bureau)
    assert page["total"] == 0


async def test_a_withdrawn_project_cannot_go_on_a_list(driver: Driver) -> None:
    station = await new_station(driver)
    catalogue = Catalogue(driver, station["street_code"])
    project = await catalogue.project("basic_children_in_difficulty")
    rejected = await driver.outcome("project_application", "project", project["id"], "rejected")
    assert rejected.status_code == 200, rejected.text
    refused = await attach(driver, station, project)
    assert (refused.status_code, refused.json()["code"]) == (409, "wrong_stage")


async def test_only_the_bureau_attaches_and_strangers_cannot_read_the_list(
    driver: Driver,
) -> None:
    station = await new_station(driver)
    catalogue = Catalogue(driver, station["street_code"])
    project = await catalogue.project("core_party_talent")
    path = f"{STATIONS}/{station['id']}/projects"
    for role, claims in (
        ("street_office", {"street_code": station["street_code"]}),
        ("organization", {"org_id": station["host_org_id"]}),
        ("department_reviewer", {"department": "education"}),
    ):
        response = await driver.client.post(
            path, json={"project_id": project["id"]}, headers=driver.auth(role, **claims)
        )
        assert response.status_code == 403, (role, response.text)
    assert (await attach(driver, station, project)).status_code == 201
    host = driver.auth("organization", org_id=station["host_org_id"])
    assert (await driver.expect("GET", path, 200, host))["total"] == 1
    for stranger in (
        driver.auth("street_office", street_code=unique_street(DISTRICT)),
        driver.auth("organization", org_id=str(uuid.uuid4())),
    ):
        problem = await driver.expect("GET", path, 404, stranger)
        assert problem["code"] == "station_not_found"
    # A year filter out of range is refused, not answered empty.
    await driver.expect("GET", path, 422, driver.bureau, params={"year": 9999})
    listed = await driver.expect("GET", path, 200, driver.bureau, params={"year": 2026})
    assert listed["total"] == 1
    # The project itself is the one listed, as its readers see it.
    read = await driver.expect("GET", f"{API}/projects/{project['id']}", 200, driver.bureau)
    assert listed["items"][0]["title"] == read["title"]


async def test_racing_attachments_cannot_overfill_a_slot(driver: Driver) -> None:
    station = await new_station(driver)
    catalogue = Catalogue(driver, station["street_code"])
    cores = [await catalogue.project("core_party_talent") for _ in range(3)]
    answers = await asyncio.gather(*(attach(driver, station, core) for core in cores))
    assert sorted(a.status_code for a in answers) == [201, 409, 409]
    assert {a.json()["code"] for a in answers if a.status_code == 409} == {"station_quota_exceeded"}
    page = await driver.expect("GET", f"{STATIONS}/{station['id']}/projects", 200, driver.bureau)
    assert page["total"] == 1


async def test_racing_set_ups_of_one_town_make_one_station(driver: Driver) -> None:
    body = station_body()
    answers = await asyncio.gather(
        *(driver.client.post(STATIONS, json=body, headers=driver.bureau) for _ in range(3))
    )
    assert sorted(a.status_code for a in answers) == [201, 409, 409]
    page = await driver.expect(
        "GET", STATIONS, 200, driver.bureau, params={"street_code": body["street_code"]}
    )
    assert page["total"] == 1
