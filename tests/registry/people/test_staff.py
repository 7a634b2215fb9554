"""Staff and certified social workers over HTTP, as the bureau, an organization and a
street office use them; ID numbers never shown or logged in full; hostile input."""

from __future__ import annotations

import json
import logging

import httpx
import pytest

from tests.factories import unique_street
from tests.registry.helpers import Auth
from tests.registry.people.helpers import PEOPLE, certified, id_number, organization

STAFF = f"{PEOPLE}/staff"


def _org_auth(auth: Auth, org: dict[str, str]) -> dict[str, str]:
    return auth("organization", org_id=org["id"])


async def test_the_bureau_records_a_certified_worker_shown_masked_everywhere(
    registry: httpx.AsyncClient, auth: Auth, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    street = unique_street()
    employer = await organization(registry, auth, street)
    number = id_number()
    bureau = auth("civil_affairs")
    response = await registry.post(
        STAFF,
        json=certified(id_number=number, organization_id=employer["id"]),
        headers=bureau,
    )
    assert response.status_code == 201, response.text
    worker = response.json()
    assert worker["id_number"] == number[:6] + "*" * 10 + number[-2:]
    assert worker["certified"] is True and worker["certificate_level"] == "intermediate"
    assert worker["street_code"] == street  # the employer's street
    assert response.headers["ETag"] == '"1"'
    read = await registry.get(f"{STAFF}/{worker['id']}", headers=bureau)
    listed = await registry.get(STAFF, headers=bureau)  # no filter: everyone, paginated
    found = await registry.post(f"{PEOPLE}/lookup", json={"id_number": number}, headers=bureau)
    assert read.json()["id_number"] == worker["id_number"]
    assert listed.json()["total"] >= 1 and listed.json()["page_size"] == 20
    assert [item["id"] for item in found.json()["staff"]] == [worker["id"]]
    assert found.json()["volunteers"] == []
    for answer in (response, read, listed, found):
        assert number not in answer.text
    logged = "\n".join(repr(record.__dict__) for record in caplog.records)
    assert number not in logged


async def test_the_same_person_or_certificate_twice_is_a_conflict(
    registry: httpx.AsyncClient, auth: Auth
) -> None:
    bureau = auth("civil_affairs")
    street = unique_street()
    first = certified(street_code=street)
    assert (await registry.post(STAFF, json=first, headers=bureau)).status_code == 201
    again = await registry.post(
        STAFF, json=certified(street_code=street, id_number=first["id_number"]), headers=bureau
    )
    assert again.status_code == 409 and again.json()["code"] == "person_exists"
    # A lower-case check character is the same number.
    same = certified(
        street_code=street,
        certificate_number=first["certificate_number"],
        id_number=id_number(),
    )
    taken = await registry.post(STAFF, json=same, headers=bureau)
    assert taken.status_code == 409 and taken.json()["code"] == "certificate_taken"
    listed = await registry.get(STAFF, params={"street_code": street}, headers=bureau)
    assert listed.json()["total"] == 1


@pytest.mark.parametrize(
    ("change", "field", "code"),
    [
        ({"certificate_year": 9999}, "body.certificate_year", "less_than_equal"),
        ({"certificate_year": 2007}, "body.certificate_year", "greater_than_equal"),
        ({"name": "王" * 10_000}, "body.name", "string_too_long"),
        ({"certificate_number": None}, "body.certificate_level", "certificate_incomplete"),
        ({"id_number": None}, "body.id_number", "id_number_required"),
        ({"id_number": "340103199001011230"}, "body.id_number", "id_number_checksum"),
        ({"id_number": "990103199001011233"}, "body.id_number", "id_number_region"),
        ({"street_code": "9999"}, "body.street_code", "string_pattern_mismatch"),
    ],
)
async def test_hostile_staff_input_is_refused_and_nothing_is_recorded(
    registry: httpx.AsyncClient, auth: Auth, change: dict[str, object], field: str, code: str
) -> None:
    bureau = auth("civil_affairs")
    street = unique_street()
    body = {**certified(street_code=street), **change}
    response = await registry.post(STAFF, json=body, headers=bureau)
    assert response.status_code == 422, response.text
    assert response.headers["content-type"] == "application/problem+json"
    problem = response.json()
    assert [(e["field"], e["code"]) for e in problem["errors"]] == [(field, code)]
    if isinstance(change.get("id_number"), str):
        assert change["id_number"] not in response.text  # the problem never echoes it
    listed = await registry.get(STAFF, params={"street_code": street}, headers=bureau)
    assert listed.json()["total"] == 0


async def test_a_lone_surrogate_in_a_name_is_refused(
    registry: httpx.AsyncClient, auth: Auth
) -> None:
    street = unique_street()
    body = certified(street_code=street, name="王\ud800芳")
    response = await registry.post(
        STAFF,
        content=json.dumps(body).encode(),
        headers={**auth("civil_affairs"), "Content-Type": "application/json"},
    )
    assert response.status_code == 422, response.text
    # Refused on the field itself: pydantic cannot read it as Unicode text.
    assert [(e["field"], e["code"]) for e in response.json()["errors"]] == [
        ("body.name", "string_unicode")
    ]
    listed = await registry.get(STAFF, params={"street_code": street}, headers=auth("auditor"))
    assert listed.json()["total"] == 0


async def test_an_organization_keeps_its_own_staff_only(
    registry: httpx.AsyncClient, auth: Auth
) -> None:
    street = unique_street()
    mine = await organization(registry, auth, street)
    theirs = await organization(registry, auth, street)
    me = _org_auth(auth, mine)
    own = await registry.post(STAFF, json={"name": "李强", "employment": "part_time"}, headers=me)
    assert own.status_code == 201, own.text
    assert own.json()["organization_id"] == mine["id"] and own.json()["certified"] is False
    other = await registry.post(
        STAFF, json=certified(organization_id=theirs["id"]), headers=_org_auth(auth, theirs)
    )
    assert other.status_code == 201
    refused = await registry.post(STAFF, json=certified(organization_id=theirs["id"]), headers=me)
    assert refused.status_code == 403 and refused.json()["code"] == "scope_forbidden"
    assert (await registry.get(f"{STAFF}/{other.json()['id']}", headers=me)).status_code == 404
    patched = await registry.patch(
        f"{STAFF}/{other.json()['id']}",
        json={"name": "改名"},
        headers={**me, "If-Match": '"1"'},
    )
    assert patched.status_code == 404
    listed = await registry.get(STAFF, headers=me)
    assert [item["id"] for item in listed.json()["items"]] == [own.json()["id"]]


async def test_a_street_office_reads_its_street_only_and_changes_nothing(
    registry: httpx.AsyncClient, auth: Auth
) -> None:
    street_a, street_b = unique_street(), unique_street()
    bureau = auth("civil_affairs")
    in_b = await registry.post(STAFF, json=certified(street_code=street_b), headers=bureau)
    in_a = await registry.post(STAFF, json=certified(street_code=street_a), headers=bureau)
    office_a = auth("street_office", street_code=street_a)
    assert (await registry.get(f"{STAFF}/{in_b.json()['id']}", headers=office_a)).status_code == 404
    listed = await registry.get(STAFF, headers=office_a)
    assert [item["id"] for item in listed.json()["items"]] == [in_a.json()["id"]]
    refused = await registry.post(STAFF, json=certified(street_code=street_a), headers=office_a)
    assert refused.status_code == 403 and refused.json()["code"] == "role_forbidden"
    reviewer = await registry.get(STAFF, headers=auth("evaluator"))
    assert reviewer.status_code == 403


async def test_a_certificate_is_changed_with_if_match_and_cleared_whole(
    registry: httpx.AsyncClient, auth: Auth
) -> None:
    bureau = auth("civil_affairs")
    body = certified(street_code=unique_street())
    worker = (await registry.post(STAFF, json=body, headers=bureau)).json()
    url = f"{STAFF}/{worker['id']}"
    missing = await registry.patch(url, json={"certificate_level": "senior"}, headers=bureau)
    assert missing.status_code == 428
    # Several fields, one of them checked against the database: still one new version.
    promoted = await registry.patch(
        url,
        json={"certificate_level": "senior", "name": "王芳芳", "id_number": id_number()},
        headers={**bureau, "If-Match": '"1"'},
    )
    assert promoted.status_code == 200, promoted.text
    assert promoted.json()["certificate_level"] == "senior" and promoted.headers["ETag"] == '"2"'
    stale = await registry.patch(
        url, json={"name": "旧版本"}, headers={**bureau, "If-Match": '"1"'}
    )
    assert stale.status_code == 412
    half = await registry.patch(
        url, json={"certificate_number": None}, headers={**bureau, "If-Match": '"2"'}
    )
    assert half.status_code == 422 and half.json()["errors"][0]["code"] == "certificate_incomplete"
    cleared = await registry.patch(
        url,
        json={"certificate_level": None, "certificate_number": None, "certificate_year": None},
        headers={**bureau, "If-Match": '"2"'},
    )
    assert cleared.status_code == 200 and cleared.json()["certified"] is False
    gone = await registry.delete(url, headers=bureau)
    assert gone.status_code == 200 and gone.json()["id"] == worker["id"]
    assert (await registry.get(url, headers=bureau)).status_code == 404
