"""Input that used to be a 500: far dates, lone surrogates, a streamed body with a key.

Dates and instants in requests lie between 1900-01-01 and 2100-12-31 (`shared.dates`):
Python accepts years 1 to 9999, and the arithmetic done with such a date (the end of
9999-12-31, a contract over eight thousand years) failed after validation had passed.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable
from typing import Any

import httpx
import pytest

from shared.settings import get_settings
from tests.factories import call_body, contract_body, meeting_body, registered_org, streamed
from tests.projects.driver import API, Driver


@pytest.fixture(autouse=True)
def registry_client(stand_in_registry_client: object) -> object:
    """The projects app asks the stand-in registry (tests/support/registry.py)."""
    return stand_in_registry_client


Auth = Callable[..., dict[str, str]]
FAR_DAYS = ["9999-12-31", "0001-01-01", "1899-12-31", "2101-01-01"]
FAR_INSTANTS = [
    "9999-12-31T23:59:59-14:00",
    "0001-01-01T00:00:00+14:00",
    "2100-12-31T23:00:00-05:00",  # 2101 in UTC
    "1899-12-31T23:59:59Z",
]
RANGE_CODES = {"greater_than_equal", "less_than_equal", "less_than"}


def _refused_field(response: httpx.Response, field: str) -> None:
    assert response.status_code == 422, response.text
    assert response.headers["content-type"] == "application/problem+json"
    problem = response.json()
    assert problem["code"] == "validation_error"
    assert {(e["field"], e["code"] in RANGE_CODES) for e in problem["errors"]} == {(field, True)}


@pytest.fixture
def driver(projects: httpx.AsyncClient, auth: Auth, registry_client: object) -> Driver:
    return Driver(projects, auth)


@pytest.mark.parametrize("day", FAR_DAYS)
async def test_a_call_deadline_beyond_the_calendar_is_refused(driver: Driver, day: str) -> None:
    fund = await driver.new_fund()
    response = await driver.client.post(
        f"{API}/calls", json=call_body(fund, deadline_on=day), headers=driver.bureau
    )
    _refused_field(response, "body.deadline_on")


async def test_a_meeting_held_at_the_ends_of_time_is_refused(driver: Driver) -> None:
    flow = await driver.contracted()
    for held_at in FAR_INSTANTS:
        response = await driver.client.post(
            f"{flow.path}/meetings",
            json=meeting_body("press_conference", held_at=held_at),
            headers=driver.bureau,
        )
        _refused_field(response, "body.held_at")
    # The project is unharmed: a sane meeting is recorded and the project initiated.
    await driver.expect(
        "POST", f"{flow.path}/meetings", 201, driver.bureau, json=meeting_body("press_conference")
    )
    await driver.expect("POST", f"{flow.path}/initiation", 200, driver.bureau)


async def test_a_contract_over_millennia_is_refused_and_initiation_still_works(
    driver: Driver,
) -> None:
    flow = await driver.awarded()
    response = await driver.client.post(
        f"{flow.path}/contract",
        json=contract_body(signed_on="0001-01-01", start_on="0001-01-01", end_on="9999-12-31"),
        headers=driver.bureau,
    )
    assert response.status_code == 422, response.text
    assert {e["field"] for e in response.json()["errors"]} == {
        "body.signed_on",
        "body.start_on",
        "body.end_on",
    }
    await driver.expect("POST", f"{flow.path}/contract", 201, driver.bureau, json=contract_body())
    await driver.expect(
        "POST", f"{flow.path}/meetings", 201, driver.bureau, json=meeting_body("press_conference")
    )
    await driver.expect("POST", f"{flow.path}/initiation", 200, driver.bureau)


@pytest.mark.parametrize("text", ["x\ud800y", "\udfff", "前\udbff后"])
async def test_a_lone_surrogate_in_a_name_is_refused_and_nothing_is_created(
    registry: httpx.AsyncClient, auth: Auth, text: str
) -> None:
    body = registered_org()
    name = body["name"]
    body["name"] = name + text
    response = await registry.post(
        "/api/v1/organizations",
        # JSON escapes the lone surrogate as \\udXXX (UTF-8 cannot carry it).
        content=json.dumps(body).encode(),
        headers={**auth("civil_affairs"), "Content-Type": "application/json"},
    )
    assert response.status_code == 422, response.text
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json()["code"] == "unsupported_character"
    found = await registry.get(
        "/api/v1/organizations", params={"name": name}, headers=auth("civil_affairs")
    )
    assert found.json()["items"] == []


async def test_an_oversized_streamed_body_with_an_idempotency_key_is_413(
    registry: httpx.AsyncClient, auth: Auth
) -> None:
    key = uuid.uuid4().hex
    data = b'{"name": "' + b"x" * (get_settings().max_body_bytes + 1) + b'"}'
    headers = {**auth("civil_affairs"), "Idempotency-Key": key, "Content-Type": "application/json"}
    response = await registry.post("/api/v1/organizations", content=streamed(data), headers=headers)
    assert response.status_code == 413, response.text
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json()["code"] == "body_too_large"
    # The key was never claimed: a correct request with it runs normally.
    retry = await registry.post("/api/v1/organizations", json=registered_org(), headers=headers)
    assert retry.status_code == 201, retry.text


# --- Every date and instant any request carries is bounded -----------------------------


def _resolve(spec: dict[str, Any], schema: dict[str, Any]) -> dict[str, Any]:
    while "$ref" in schema:
        name = schema["$ref"].rsplit("/", 1)[1]
        schema = spec["components"]["schemas"][name]
    return schema


def _temporal_format(spec: dict[str, Any], schema: dict[str, Any]) -> str | None:
    for option in [schema, *schema.get("anyOf", [])]:
        option = _resolve(spec, option)
        if option.get("type") == "string" and option.get("format") in ("date", "date-time"):
            return str(option["format"])
    return None


def _far(fmt: str, late: bool) -> str:
    if fmt == "date":
        return "9999-12-31" if late else "0001-01-01"
    return "9999-12-31T00:00:00+00:00" if late else "0001-01-01T00:00:00+00:00"


def _body_with_far_dates(
    spec: dict[str, Any], schema: dict[str, Any], path: str, late: bool, fields: list[str]
) -> Any:
    """A body setting every date/instant the schema can hold (nested ones too) far off."""
    schema = _resolve(spec, schema)
    if fmt := _temporal_format(spec, schema):
        fields.append(path)
        return _far(fmt, late)
    for option in schema.get("anyOf", []):
        option = _resolve(spec, option)
        if option.get("type") in ("object", "array"):
            return _body_with_far_dates(spec, option, path, late, fields)
    if schema.get("type") == "array":
        return [_body_with_far_dates(spec, schema["items"], f"{path}.0", late, fields)]
    if schema.get("type") == "object" or "properties" in schema:
        body = {}
        for name, prop in schema.get("properties", {}).items():
            value = _body_with_far_dates(spec, prop, f"{path}.{name}", late, fields)
            if value is not None:
                body[name] = value
        return body or None
    return None


_ROLES: list[dict[str, Any]] = [
    {"role": "civil_affairs"},
    {"role": "organization", "org_id": str(uuid.uuid4())},
    {"role": "department_reviewer", "department": "education"},
    {"role": "street_office", "street_code": "340103001"},
    {"role": "service"},
    {"role": "provincial_system"},
    {"role": "evaluator"},
]


@pytest.mark.parametrize("service", ["registry", "projects", "workflow"])
@pytest.mark.parametrize("late", [True, False], ids=["year-9999", "year-1"])
async def test_every_request_date_and_instant_is_bounded(
    clients: dict[str, httpx.AsyncClient], auth: Auth, service: str, late: bool
) -> None:
    """Each date or instant of every request body and query, far off, is a 422 on that field."""
    client = clients[service]
    spec = (await client.get("/openapi.json")).json()
    checked = 0
    for template, operations in spec["paths"].items():
        for method, operation in operations.items():
            url = template
            params, fields = {}, []
            for parameter in operation.get("parameters", []):
                if parameter["in"] == "path":
                    url = url.replace(f"{{{parameter['name']}}}", str(uuid.uuid4()))
                elif parameter["in"] == "query" and (
                    fmt := _temporal_format(spec, parameter["schema"])
                ):
                    params[parameter["name"]] = _far(fmt, late)
                    fields.append(f"query.{parameter['name']}")
            content = operation.get("requestBody", {}).get("content", {})
            body = None
            if "application/json" in content:
                body = _body_with_far_dates(
                    spec, content["application/json"]["schema"], "body", late, fields
                )
            if not fields:
                continue
            checked += 1
            for claims in _ROLES:
                response = await client.request(
                    method, url, params=params, json=body or {}, headers=auth(**claims)
                )
                if response.status_code not in (401, 403):
                    break
            assert response.status_code == 422, f"{method} {template}: {response.text}"
            refused = {e["field"] for e in response.json()["errors"] if e["code"] in RANGE_CODES}
            assert set(fields) <= refused, f"{method.upper()} {template}: {fields} vs {refused}"
    assert checked > 0
