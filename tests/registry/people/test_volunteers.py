"""Volunteers and their service time over HTTP: an organization records its own, totals
per volunteer and per organization, hostile hours and dates refused."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from typing import Any

import httpx
import pytest

from shared.clock import shanghai_today
from tests.factories import unique_street
from tests.registry.helpers import Auth
from tests.registry.people.helpers import PEOPLE, id_number, organization

VOLUNTEERS = f"{PEOPLE}/volunteers"


async def _volunteer(
    registry: httpx.AsyncClient, headers: dict[str, str], **body: Any
) -> dict[str, Any]:
    response = await registry.post(VOLUNTEERS, json={"name": "赵敏", **body}, headers=headers)
    assert response.status_code == 201, response.text
    result: dict[str, Any] = response.json()
    return result


async def _serve(
    registry: httpx.AsyncClient, headers: dict[str, str], volunteer_id: str, **body: Any
) -> httpx.Response:
    return await registry.post(
        f"{VOLUNTEERS}/{volunteer_id}/service-records",
        json={"served_on": str(shanghai_today()), "activity": "社区助老探访", **body},
        headers=headers,
    )


async def test_an_organization_records_its_volunteers_hours_and_reads_the_totals(
    registry: httpx.AsyncClient, auth: Auth
) -> None:
    team = await organization(registry, auth, unique_street())
    me = auth("organization", org_id=team["id"])
    number = id_number()
    volunteer = await _volunteer(registry, me, id_number=number)
    assert volunteer["organization_id"] == team["id"]
    assert volunteer["street_code"] == team["street_code"]
    assert volunteer["id_number"] == number[:6] + "**********" + number[-2:]
    yesterday = str(shanghai_today() - timedelta(days=1))
    for minutes, day in ((90, yesterday), (60, yesterday), (45, str(shanghai_today()))):
        recorded = await _serve(registry, me, volunteer["id"], minutes=minutes, served_on=day)
        assert recorded.status_code == 201, recorded.text
    read = (await registry.get(f"{VOLUNTEERS}/{volunteer['id']}", headers=me)).json()
    assert (read["total_minutes"], read["total_hours"]) == (195, "3.25")
    records = (
        await registry.get(f"{VOLUNTEERS}/{volunteer['id']}/service-records", headers=me)
    ).json()
    assert records["total"] == 3 and records["items"][0]["served_on"] == str(shanghai_today())
    listed = (await registry.get(VOLUNTEERS, headers=me)).json()
    assert [(v["id"], v["total_hours"]) for v in listed["items"]] == [(volunteer["id"], "3.25")]
    by_org = (await registry.get(f"{PEOPLE}/volunteer-hours", headers=me)).json()
    assert [(row["organization_id"], row["volunteers"], row["minutes"], row["hours"])
            for row in by_org["items"]] == [(team["id"], 1, 195, "3.25")]  # fmt: skip
    assert number not in str(listed) + str(read)


@pytest.mark.parametrize(
    ("body", "field", "code"),
    [
        ({"minutes": -60}, "body.minutes", "greater_than_equal"),
        ({"minutes": 0}, "body.minutes", "greater_than_equal"),
        ({"minutes": 25 * 60}, "body.minutes", "less_than_equal"),
        ({"minutes": 60, "served_on": "9999-01-01"}, "body.served_on", "less_than_equal"),
        ({"minutes": 60, "served_on": "tomorrow"}, "body.served_on", "date_in_future"),
        ({"minutes": 60, "activity": "x" * 100_000}, "body.activity", "string_too_long"),
    ],
)
async def test_hostile_service_time_is_refused_and_changes_nothing(
    registry: httpx.AsyncClient, auth: Auth, body: dict[str, Any], field: str, code: str
) -> None:
    bureau = auth("civil_affairs")
    volunteer = await _volunteer(registry, bureau, street_code=unique_street())
    if body.get("served_on") == "tomorrow":
        body = {**body, "served_on": str(shanghai_today() + timedelta(days=1))}
    response = await _serve(registry, bureau, volunteer["id"], **body)
    assert response.status_code == 422, response.text
    assert response.headers["content-type"] == "application/problem+json"
    assert [(e["field"], e["code"]) for e in response.json()["errors"]] == [(field, code)]
    read = (await registry.get(f"{VOLUNTEERS}/{volunteer['id']}", headers=bureau)).json()
    assert read["total_minutes"] == 0


async def test_no_day_holds_more_than_24_hours_of_one_volunteer(
    registry: httpx.AsyncClient, auth: Auth
) -> None:
    bureau = auth("civil_affairs")
    volunteer = await _volunteer(registry, bureau, street_code=unique_street())
    assert (await _serve(registry, bureau, volunteer["id"], minutes=800)).status_code == 201
    over = await _serve(registry, bureau, volunteer["id"], minutes=700)
    assert over.status_code == 422
    assert over.json()["errors"][0]["code"] == "day_exceeded"
    fits = await _serve(registry, bureau, volunteer["id"], minutes=640)
    assert fits.status_code == 201
    read = (await registry.get(f"{VOLUNTEERS}/{volunteer['id']}", headers=bureau)).json()
    assert read["total_minutes"] == 1440 and read["total_hours"] == "24.00"


async def test_organizations_and_street_offices_see_their_own_volunteers_only(
    registry: httpx.AsyncClient, auth: Auth
) -> None:
    street_a, street_b = unique_street(), unique_street()
    mine = await organization(registry, auth, street_a)
    theirs = await organization(registry, auth, street_b)
    me = auth("organization", org_id=mine["id"])
    other = await _volunteer(registry, auth("organization", org_id=theirs["id"]))
    refused = await registry.post(
        VOLUNTEERS, json={"name": "钱多", "organization_id": theirs["id"]}, headers=me
    )
    assert refused.status_code == 403 and refused.json()["code"] == "scope_forbidden"
    assert (await registry.get(f"{VOLUNTEERS}/{other['id']}", headers=me)).status_code == 404
    assert (await _serve(registry, me, other["id"], minutes=30)).status_code == 404
    office_a = auth("street_office", street_code=street_a)
    assert (await registry.get(f"{VOLUNTEERS}/{other['id']}", headers=office_a)).status_code == 404
    office_b = auth("street_office", street_code=street_b)
    seen = (await registry.get(VOLUNTEERS, headers=office_b)).json()
    assert [v["id"] for v in seen["items"]] == [other["id"]]
    assert (await _serve(registry, office_b, other["id"], minutes=30)).status_code == 403


async def test_two_concurrent_records_cannot_pass_the_day_together(
    registry: httpx.AsyncClient, auth: Auth
) -> None:
    bureau = auth("civil_affairs")
    volunteer = await _volunteer(registry, bureau, street_code=unique_street())
    answers = await asyncio.gather(
        *(_serve(registry, bureau, volunteer["id"], minutes=800) for _ in range(2))
    )
    assert sorted(a.status_code for a in answers) == [201, 422]
    read = (await registry.get(f"{VOLUNTEERS}/{volunteer['id']}", headers=bureau)).json()
    assert read["total_minutes"] == 800


async def test_a_volunteer_is_corrected_with_if_match_and_removed_with_their_hours(
    registry: httpx.AsyncClient, auth: Auth
) -> None:
    team = await organization(registry, auth, unique_street())
    me = auth("organization", org_id=team["id"])
    volunteer = await _volunteer(registry, me)
    url = f"{VOLUNTEERS}/{volunteer['id']}"
    assert (await _serve(registry, me, volunteer["id"], minutes=120)).status_code == 201
    number = id_number()
    missing = await registry.patch(url, json={"id_number": number}, headers=me)
    assert missing.status_code == 428
    ahead = str(shanghai_today() + timedelta(days=1))
    refused = await registry.patch(
        url, json={"registered_on": ahead}, headers={**me, "If-Match": '"1"'}
    )
    assert refused.status_code == 422 and refused.json()["errors"][0]["code"] == "date_in_future"
    corrected = await registry.patch(
        url, json={"name": "赵敏敏", "id_number": number}, headers={**me, "If-Match": '"1"'}
    )
    assert corrected.status_code == 200, corrected.text
    assert corrected.json()["name"] == "赵敏敏" and corrected.headers["ETag"] == '"2"'
    assert corrected.json()["id_number"].endswith(number[-2:]) and number not in corrected.text
    assert corrected.json()["total_minutes"] == 120
    removed = await registry.delete(url, headers=me)
    assert removed.status_code == 200 and removed.json()["total_minutes"] == 120
    assert (await registry.get(url, headers=me)).status_code == 404
    by_org = (await registry.get(f"{PEOPLE}/volunteer-hours", headers=me)).json()
    assert by_org["items"] == []
