"""A filed group (备案) incubated at its street, then registered through the real
workflow, stays the same record: same id, its incubation kept, its history showing the
filed period and then the registration.

Everything over HTTP, with the roles the people hold: the bureau runs the 社创大赛 and
admits the group, the group applies with its own organization token, the departments
approve in the workflow (the worker opened and pre-checked the case), and the worker
calls the outcome back to the registry.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from services.registry.enums import OrganizationKind
from services.registry.organizations.uscc import authority_divisions, uscc_errors
from tests.e2e.steps import API, Auth, Http, approve_case, ok
from tests.factories import filed_org, unique_street
from tests.support.polling import poll_sync
from tests.support.system import System
from tests.workflow.helpers import materials_for

WITHIN = 60.0


def _admit(registry: Any, auth: Auth, org_id: str) -> None:
    bureau = auth("civil_affairs")
    contest = ok(
        registry.post(
            f"{API}/incubation/competitions",
            json={"year": date.today().year, "name": "庐阳区社创大赛"},
            headers=bureau,
        ),
        201,
    )
    base = f"{API}/incubation/competitions/{contest['id']}/entries"
    entry = ok(
        registry.post(
            base, json={"group_name": "巷口邻里互助队", "project_title": "邻里互助"}, headers=bureau
        ),
        201,
    )
    ok(
        registry.put(
            f"{base}/{entry['id']}/result", json={"score": 95, "award": "first"}, headers=bureau
        )
    )
    ok(
        registry.post(
            f"{base}/{entry['id']}/admission",
            json={"admitted_on": date.today().isoformat(), "organization_id": org_id},
            headers=bureau,
        ),
        201,
    )


def test_a_filed_group_registers_as_the_same_record(system: System, http: Http, auth: Auth) -> None:
    registry, workflow = http("registry"), http("workflow")
    street = unique_street()
    office = auth("street_office", street_code=street)
    filed = ok(registry.post(f"{API}/organizations", json=filed_org(street), headers=office), 201)
    _admit(registry, auth, filed["id"])

    group = auth("organization", org_id=filed["id"])
    application = ok(
        registry.post(
            f"{API}/organizations/{filed['id']}/registration-applications",
            json={
                "kind": "service_institution",
                "materials": materials_for("organization_registration"),
            },
            headers=group,
        ),
        201,
    )
    approve_case(workflow, auth, "organization_registration", application["id"])

    def decided() -> dict[str, Any] | None:
        body: dict[str, Any] = ok(
            registry.get(f"{API}/applications/{application['id']}", headers=group)
        )
        return body if body["state"] != "pending" else None

    decision = poll_sync(decided, within=WITHIN)
    assert (decision["state"], decision["organization_id"]) == ("approved", filed["id"])

    org = ok(registry.get(f"{API}/organizations/{filed['id']}", headers=group))
    assert (org["id"], org["registration"], org["kind"], org["uscc"]) == (
        filed["id"],
        "registered",
        "service_institution",
        decision["assigned_uscc"],
    )
    kind = OrganizationKind.service_institution
    assert not uscc_errors(
        org["uscc"], kind=kind, authority_division=authority_divisions(kind, org["district_code"])
    )
    history = ok(registry.get(f"{API}/organizations/{filed['id']}/history", headers=group))["items"]
    actions = [entry["action"] for entry in history]
    assert actions[0] == "created" and "registered" in actions
    assert actions.index("incubation_changed") < actions.index("registered")
    changed = {
        e["field"]: (e["before"], e["after"]) for e in history if e["action"] == "registered"
    }
    assert changed["registration"] == ("filed", "registered")
    assert changed["filing_number"] == (filed["filing_number"], None)
    # The incubation belongs to the same record and says so to the organization.
    incubation = ok(registry.get(f"{API}/incubation/organizations/{filed['id']}", headers=group))
    assert (incubation["organization_id"], incubation["phase"]) == (filed["id"], "early")
    # Only one organization bears the name: nothing was created beside it.
    found = ok(
        registry.get(
            f"{API}/organizations", params={"name": filed["name"]}, headers=auth("civil_affairs")
        )
    )
    assert [item["id"] for item in found["items"]] == [filed["id"]]
