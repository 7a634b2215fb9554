"""The event catalogue: complete, valid JSON Schemas, served to every authenticated role."""

from __future__ import annotations

import ast
import re
from collections.abc import Callable
from pathlib import Path

import httpx
import jsonschema_rs
import pytest

from services.workflow.sync import payloads
from services.workflow.sync.catalogue import catalogue, matches, wanted
from services.workflow.sync.models import SyncEvent
from shared.db import utcnow
from shared.settings import PROJECT_ROOT

_EVENT_LITERAL = re.compile(r"^([a-z_]+)\.([a-z_]+)$")
# Column references, not events: `ForeignKey("project.id")`, `["meeting.id", "meeting.kind"]`.
_NOT_EVENTS = {"id", "kind"}


def _event_type_literals() -> dict[str, str]:
    """Every `family.verb` string literal in the services, for a family we publish."""
    families = {name.split(".", 1)[0] for name in catalogue().outbound}
    found: dict[str, str] = {}
    services = PROJECT_ROOT / "services"
    for path in services.rglob("*.py"):
        if "sync" in path.relative_to(services).parts:
            continue
        for node in ast.walk(ast.parse(path.read_text("utf-8"))):
            if isinstance(node, ast.Constant) and isinstance(node.value, str):
                match = _EVENT_LITERAL.match(node.value)
                if match and match.group(1) in families and match.group(2) not in _NOT_EVENTS:
                    found.setdefault(node.value, str(Path(path).relative_to(PROJECT_ROOT)))
    return found


def test_every_event_type_the_services_emit_is_in_the_catalogue() -> None:
    missing = {
        t: where for t, where in _event_type_literals().items() if t not in catalogue().outbound
    }
    assert missing == {}, "add these to services/workflow/sync/events.yaml"


def test_every_payload_schema_is_valid_and_accepts_a_rendered_event() -> None:
    for event_type in catalogue().public():
        schema = event_type.payload_schema()
        validator = jsonschema_rs.validator_for(schema)
        sample = {name: _sample(spec) for name, spec in event_type.data.items()}
        event = SyncEvent(
            id=__import__("uuid").uuid4(),
            type=event_type.name,
            source="registry",
            subject_type=event_type.subject,
            subject_id="s-1",
            subject_seq=3,
            occurred_at=utcnow(),
            data=sample,
        )
        validator.validate(payloads.payload_of(event))
        assert not validator.is_valid({**payloads.payload_of(event), "subject": {"type": "x"}})


def _sample(spec: dict[str, object]) -> object:
    kind = spec.get("type")
    kind = kind[0] if isinstance(kind, list) else kind
    if "enum" in spec:
        return next(iter(spec["enum"]))  # type: ignore[call-overload]
    if spec.get("format") == "uuid":
        return "7f1c9a2e-3b4d-4e5f-8a9b-0c1d2e3f4a5b"
    return {"string": "x", "integer": 1, "number": 1.5, "array": [], "boolean": True}.get(
        str(kind), "x"
    )


def test_filters_match_families_and_exact_types_only() -> None:
    assert matches("organization.*", "organization.status_changed")
    assert not matches("organization.*", "organizationx.created")
    assert not matches("organization", "organization.created")
    assert wanted([], "anything.at_all")
    assert not wanted(["case.decided"], "case.accepted")
    assert catalogue().unknown_filters(["case.*", "case.decided", "cases.*", "nope"]) == [
        "cases.*",
        "nope",
    ]


@pytest.mark.parametrize("role", ["provincial_system", "auditor", "evaluator"])
async def test_the_catalogue_endpoint_lists_every_public_type(
    api: httpx.AsyncClient, auth: Callable[..., dict[str, str]], role: str
) -> None:
    listed = await api.get("/api/v1/webhooks/event-types", headers=auth(role))
    assert listed.status_code == 200
    types = {t["type"]: t for t in listed.json()}
    assert set(types) == {e.name for e in catalogue().public()}
    assert "workflow.case_requested" not in types  # internal, never sent
    assert {
        "organization.status_changed",
        "case.decided",
        "fund.created",
        "endpoint.disabled",
    } <= set(types)
    assert types["payment.paid"]["payload_schema"]["properties"]["type"] == {
        "const": "payment.paid"
    }
    inbound = await api.get("/api/v1/inbound/event-types", headers=auth(role))
    assert {t["type"] for t in inbound.json()} == set(catalogue().inbound)
    assert (await api.get("/api/v1/webhooks/event-types")).status_code == 401
