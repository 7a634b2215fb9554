"""OCDS export: every release validates against the shipped OCDS 1.1 release schema.

Validated twice: against the official schema as shipped, and against it patched with
the SPPE extension (JSON Merge Patch, as OCDS tools apply extensions), which types the
`sppeEvaluation` field. `jsonschema_rs` is the validator (a Draft 4 implementation).
"""

from __future__ import annotations

from typing import Any

import jsonschema_rs
import pytest

from services.projects.ocds.schema import patched_release_schema, release_schema
from tests.projects.driver import Driver


def errors(schema: dict[str, Any], release: dict[str, Any]) -> list[str]:
    validator = jsonschema_rs.Draft4Validator(schema, validate_formats=True)
    return [f"{list(e.instance_path)}: {e.message}" for e in validator.iter_errors(release)]


def test_the_shipped_schema_is_the_official_ocds_1_1_release_schema() -> None:
    schema = release_schema()
    assert (
        schema["id"] == "https://standard.open-contracting.org/schema/1__1__4/release-schema.json"
    )
    assert {"ocid", "id", "date", "tag", "initiationType"} <= set(schema["required"])
    assert (
        "sppeEvaluation" in patched_release_schema()["definitions"]["Implementation"]["properties"]
    )


async def test_a_closed_project_exports_valid_releases_for_every_stage(driver: Driver) -> None:
    flow = await driver.closing()
    await driver.outcome("project_closure", "project", flow.id)
    package = await driver.expect("GET", f"{flow.path}/ocds", 200, driver.auth("provincial_system"))
    assert package["version"] == "1.1"
    releases = package["releases"]
    # One release per change: the stages, then payments, milestones, SPPE, termination.
    tags = [r["tag"] for r in releases]
    assert tags[:5] == [["planning"], ["tender"], ["award"], ["contract"], ["implementation"]]
    assert tags[-1] == ["contractTermination"]
    for release in releases:
        assert errors(release_schema(), release) == []
        assert errors(patched_release_schema(), release) == []
    assert len({r["id"] for r in releases}) == len(releases)
    assert {r["ocid"] for r in releases} == {f"ocds-sanshe-{flow.id}"}

    tender = releases[1]["tender"]
    assert (tender["procurementMethod"], tender["procurementMethodDetails"]) == (
        "limited",
        "竞争性磋商",
    )
    award = releases[2]["awards"][0]
    assert award["value"] == {"amount": 190000.0, "currency": "CNY"}
    contract = releases[-1]["contracts"][0]
    assert contract["status"] == "terminated"
    implementation = contract["implementation"]
    assert sum(t["value"]["amount"] for t in implementation["transactions"]) == 190000.0
    assert [m["status"] for m in implementation["milestones"] if m["type"] == "financing"] == [
        "met",
        "met",
        "met",
    ]
    sppe = implementation["sppeEvaluation"]
    evaluation = await driver.expect("GET", f"{flow.path}/evaluation", 200, driver.bureau)
    assert (sppe["grade"], sppe["composite"]) == (
        evaluation["grade"],
        float(evaluation["composite"]),
    )
    assert [d["code"] for d in sppe["dimensions"]] == [
        "standard",
        "professional",
        "planning",
        "effect",
    ]
    parties = {p["id"]: p["roles"] for p in releases[-1]["parties"]}
    assert "buyer" in parties["dept-education"]
    assert {"supplier", "payee", "tenderer"} <= set(parties[f"org-{flow.org_id}"])


async def test_an_application_exports_just_its_planning_release(driver: Driver) -> None:
    flow = await driver.applied()
    package = await driver.expect("GET", f"{flow.path}/ocds", 200, driver.bureau)
    assert [r["tag"] for r in package["releases"]] == [["planning"]]
    assert errors(release_schema(), package["releases"][0]) == []


@pytest.mark.parametrize("broken", [{"tag": ["nonsense"]}, {"initiationType": "auction"}])
def test_the_validator_does_catch_invalid_releases(broken: dict[str, Any]) -> None:
    release = {
        "ocid": "ocds-sanshe-x",
        "id": "1",
        "date": "2026-01-01T00:00:00Z",
        "tag": ["planning"],
        "initiationType": "tender",
        **broken,
    }
    assert errors(release_schema(), release) != []
