"""What the OpenAPI documents declare for a front-end, read as a client generator reads
them (over HTTP, from /openapi.json), and checked against what the services do."""

from __future__ import annotations

import importlib
import json
import pkgutil
import uuid
from collections.abc import Callable, Iterator
from typing import Any

import httpx
import jsonschema_rs
import pytest

import services
from shared.openapi_contract import raised_codes_of_module
from shared.openapi_examples import EXAMPLES
from shared.openapi_summaries import SUMMARIES
from tests.security.rules import RULES
from tools.specs import SERVICES

Operation = tuple[str, str, str, dict[str, Any]]  # service, method, path, operation
# Where the route's gate admits a role the service then refuses later (403 from its own
# scope rule): `x-roles` names what the gate admits.
GATE_WIDER_THAN_MATRIX = {"listAllocations": {"department_reviewer"}}


@pytest.fixture(scope="module")
async def specs(clients: dict[str, httpx.AsyncClient]) -> dict[str, dict[str, Any]]:
    return {svc: (await clients[svc].get("/openapi.json")).json() for svc in SERVICES}


def operations(specs: dict[str, dict[str, Any]]) -> Iterator[Operation]:
    for service, spec in specs.items():
        for path, item in spec["paths"].items():
            for method, operation in item.items():
                yield service, method, path, operation


def test_every_operation_has_a_summary_written_for_people(
    specs: dict[str, dict[str, Any]],
) -> None:
    missing = [
        op["operationId"] for *_, op in operations(specs) if op["operationId"] not in SUMMARIES
    ]
    assert missing == [], "add them to shared/openapi_summaries.py"
    for *_, op in operations(specs):
        assert op["summary"] == SUMMARIES[op["operationId"]]


def test_operation_ids_are_unique_across_the_published_operations(
    specs: dict[str, dict[str, Any]],
) -> None:
    seen: dict[str, str] = {}
    for service, _, path, op in operations(specs):
        if not path.startswith("/api/v1/") or path.startswith("/api/v1/internal/"):
            continue  # probes and internal calls: never published by the gateway
        other = seen.setdefault(op["operationId"], service)
        assert other == service, f"{op['operationId']} in {other} and {service}"


def test_operation_ids_are_unique_across_the_three_apps(
    specs: dict[str, dict[str, Any]],
) -> None:
    """Every operation of every document, probes, internal callbacks and webhooks
    included: a client generated from all three specs has one function per id."""
    ids = [op["operationId"] for *_, op in operations(specs)]
    ids += [
        op["operationId"]
        for spec in specs.values()
        for item in spec.get("webhooks", {}).values()
        for op in item.values()
    ]
    duplicates = sorted({op_id for op_id in ids if ids.count(op_id) > 1})
    assert duplicates == []
    assert {"registryHealthz", "projectsReadyz", "receiveRegistryCaseOutcome"} <= set(ids)


def test_roles_are_the_ones_the_gates_admit(specs: dict[str, dict[str, Any]]) -> None:
    """`x-roles` (read from the routes' role gates) equals the matrix the security tests
    prove over HTTP for every role."""
    for service, _, _, op in operations(specs):
        rule = RULES[service].get(op["operationId"])
        if not op["security"]:
            assert "x-roles" not in op
            continue
        assert rule is not None, op["operationId"]
        declared = set(op["x-roles"]) - GATE_WIDER_THAN_MATRIX.get(op["operationId"], set())
        assert declared == {role.value for role in rule}, op["operationId"]


def test_public_endpoints_say_so(specs: dict[str, dict[str, Any]]) -> None:
    public = {op["operationId"] for *_, op in operations(specs) if op["security"] == []}
    probes = {f"{svc}{probe}" for svc in SERVICES for probe in ("Healthz", "Readyz")}
    # 年报公示 and the published grades: the registry publishes them to everyone.
    published = {"listPublicAnnualReports", "listPublicGrades"}
    assert probes | {"receiveInboundWebhook"} | published == public


def test_headers_are_declared(specs: dict[str, dict[str, Any]]) -> None:
    for service, method, path, op in operations(specs):
        names = {p["name"] for p in op.get("parameters", []) if p["in"] == "header"}
        if method == "post" and op["security"]:
            assert "Idempotency-Key" in names, (service, path)
        else:
            assert "Idempotency-Key" not in names, (service, path)
        for if_match in (p for p in op.get("parameters", []) if p.get("name") == "If-Match"):
            assert if_match["required"] is True
            assert {"412", "428"} <= set(op["responses"])
            assert {"version_mismatch", "if_match_required"} <= set(op["x-problem-codes"])
        for status, response in op["responses"].items():
            assert "X-Request-ID" in response["headers"], (path, status)
            if status == "503" and not op["operationId"].endswith("Readyz"):
                assert "Retry-After" in response["headers"]
            if status.isdigit() and int(status) >= 400:
                assert "Content-Language" in response["headers"], (path, status)
    spec = specs["registry"]
    assert set(spec["components"]["headers"]) == {
        "X-Request-ID",
        "ETag",
        "Retry-After",
        "Content-Language",
    }
    get_org = spec["paths"]["/api/v1/organizations/{organization_id}"]["get"]
    assert "ETag" in get_org["responses"]["200"]["headers"]


async def test_declared_etags_and_request_ids_are_sent(
    registry: httpx.AsyncClient, auth: Callable[..., dict[str, str]]
) -> None:
    created = await registry.post(
        "/api/v1/organizations",
        json=_unique(EXAMPLES["createOrganization"]["request"]),
        headers={**auth("civil_affairs"), "Idempotency-Key": str(uuid.uuid4())},
    )
    assert created.status_code == 201, created.text
    read = await registry.get(
        f"/api/v1/organizations/{created.json()['id']}", headers=auth("civil_affairs")
    )
    assert read.headers["etag"] == '"1"' and read.headers["x-request-id"]


def test_problem_codes_are_declared(specs: dict[str, dict[str, Any]]) -> None:
    for _, method, _, op in operations(specs):
        codes = op["x-problem-codes"]
        assert {"validation_error", "internal_error"} <= set(codes)
        if op["security"]:
            assert {"token_missing", "role_forbidden"} <= set(codes)
        if method == "post" and op["security"]:
            assert "idempotency_key_reused" in codes


# Domain codes known to be raised by these operations (read from the code the endpoint
# runs, shared.openapi_contract.raised_codes).
KNOWN_CODES = {
    "createOrganization": {"invalid_codes", "organization_exists", "name_taken"},
    "assignApplicationUscc": {"invalid_codes", "uscc_taken", "application_decided"},
    "approveTask": {"task_closed", "task_claimed_by_other", "case_not_in_review"},
    "rejectTask": {"task_closed", "task_claimed_by_other", "case_not_in_review"},
    "createGrant": {"pool_exhausted", "pool_not_found"},
    "signContract": {"pool_exhausted", "contract_number_taken"},
    "submitCase": {"case_id_taken", "calendar_not_covered", "unknown_case_type"},
    "receiveInboundWebhook": {"signature_invalid", "message_malformed"},
    "receiveProjectsCaseOutcome": {"outcome_conflict"},
    "receiveRegistryCaseOutcome": {"outcome_conflict"},
}


def test_domain_problem_codes_are_declared_per_operation(
    specs: dict[str, dict[str, Any]],
) -> None:
    declared = {op["operationId"]: set(op["x-problem-codes"]) for *_, op in operations(specs)}
    for operation_id, codes in KNOWN_CODES.items():
        assert codes <= declared[operation_id], (operation_id, codes - declared[operation_id])
    # Per operation, not one list for all: a read does not answer a command's conflicts.
    assert "pool_exhausted" not in declared["getFund"]
    assert "task_closed" not in declared["listMyTasks"]


def test_every_problem_code_the_services_raise_is_declared(
    specs: dict[str, dict[str, Any]],
) -> None:
    """Each `code` a services module builds a problem with is declared on at least one
    operation: none is raised only where the walk from the endpoints cannot see it."""
    declared = {code for *_, op in operations(specs) for code in op["x-problem-codes"]}
    raised: dict[str, str] = {}
    for module in pkgutil.walk_packages(services.__path__, "services."):
        for code in raised_codes_of_module(importlib.import_module(module.name)):
            raised.setdefault(code, module.name)
    assert len(raised) > 100  # the scan sees the services' codes at all
    undeclared = {code: module for code, module in raised.items() if code not in declared}
    assert undeclared == {}, "declare them in shared.openapi_contract.PROBLEM_CODES"


async def test_a_declared_code_is_the_one_answered(
    registry: httpx.AsyncClient, auth: Callable[..., dict[str, str]], specs: dict[str, Any]
) -> None:
    body = {**_unique(EXAMPLES["createOrganization"]["request"]), "uscc": "91340100MA2N000000"}
    refused = await registry.post(
        "/api/v1/organizations",
        json=body,
        headers={**auth("civil_affairs"), "Idempotency-Key": str(uuid.uuid4())},
    )
    assert refused.status_code == 422, refused.text
    create = specs["registry"]["paths"]["/api/v1/organizations"]["post"]
    assert refused.json()["code"] == "invalid_codes"  # the domain check, not the schema
    assert "invalid_codes" in create["x-problem-codes"]


def test_tags_are_listed_with_descriptions(specs: dict[str, dict[str, Any]]) -> None:
    for spec in specs.values():
        listed = {tag["name"] for tag in spec["tags"]}
        used = {tag for *_, op in operations({"x": spec}) for tag in op.get("tags", [])}
        assert listed == used
        assert all(
            tag["description"] and tag["description"] != tag["name"].capitalize()
            for tag in spec["tags"]
        )


def test_decimals_are_typed_one_way(specs: dict[str, dict[str, Any]]) -> None:
    text = json.dumps(specs["projects"]["components"]["schemas"])
    assert '"type": "number"}, {"type": "string"' not in text
    sheet = specs["projects"]["components"]["schemas"]["SheetOut"]["properties"]["total"]
    assert sheet["type"] == "string" and sheet["format"] == "decimal"
    percentage = specs["registry"]["components"]["schemas"]["SpotCheckOut"]["properties"]
    assert percentage["percentage"]["type"] == "number"  # written as a JSON number


def _validator(spec: dict[str, Any], schema: dict[str, Any]) -> Any:
    root = {**schema, "components": spec["components"]}
    return jsonschema_rs.Draft202012Validator(root)


@pytest.mark.parametrize("operation_id", sorted(EXAMPLES))
def test_examples_match_their_schemas(specs: dict[str, dict[str, Any]], operation_id: str) -> None:
    (found,) = [
        (service, op)
        for service, _, _, op in operations(specs)
        if op["operationId"] == operation_id
    ]
    service, op = found
    spec = specs[service]
    body = op["requestBody"]["content"]["application/json"]
    errors = list(_validator(spec, body["schema"]).iter_errors(body["example"]))
    assert not errors, [str(e) for e in errors]
    status, _ = EXAMPLES[operation_id]["response"]
    answer = op["responses"][status]["content"]["application/json"]
    errors = list(_validator(spec, answer["schema"]).iter_errors(answer["example"]))
    assert not errors, [str(e) for e in errors]


async def test_the_organization_example_is_accepted_as_it_is(
    registry: httpx.AsyncClient, auth: Callable[..., dict[str, str]]
) -> None:
    example = _unique(EXAMPLES["createOrganization"]["request"])
    answer = await registry.post(
        "/api/v1/organizations", json=example, headers=auth("civil_affairs")
    )
    assert answer.status_code == 201, answer.text
    expected = EXAMPLES["createOrganization"]["response"][1]
    assert set(answer.json()) == set(expected)


def _unique(body: dict[str, Any]) -> dict[str, Any]:
    suffix = uuid.uuid4().hex[:6]
    return {**body, "name": f"{body['name']}{suffix}", "filing_number": f"BA{suffix}"}
