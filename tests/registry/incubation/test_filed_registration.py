"""A filed group registering (备案转登记) stays the same record: the registry's side.

The workflow's side is stood in for by posting the outcome it would post back (the
end-to-end test with the real workflow is tests/e2e/test_filed_group_registers.py).
"""

from __future__ import annotations

import httpx

from services.registry.enums import OrganizationKind
from services.registry.organizations.uscc import authority_divisions, uscc_errors
from tests.factories import filed_org, registered_org
from tests.registry.helpers import ORGS, Auth, created, outcome_body, post_outcome
from tests.registry.incubation.helpers import INCUBATED, incubate, ok, problem
from tests.workflow.helpers import materials_for

APPLY = ORGS + "/{}/registration-applications"


class TestFiledRegistration:
    async def test_approval_registers_the_same_organization_keeping_its_filed_past(
        self, registry: httpx.AsyncClient, auth: Auth
    ) -> None:
        org = await created(registry, auth("civil_affairs"), filed_org())
        await incubate(registry, auth, org["id"])
        own = auth("organization", org_id=org["id"])
        application = ok(
            await registry.post(
                APPLY.format(org["id"]),
                json={
                    "kind": "association",
                    "materials": materials_for("organization_registration"),
                },
                headers=own,
            ),
            201,
        )
        assert (application["kind"], application["organization_id"]) == ("registration", org["id"])
        problem(
            await registry.post(APPLY.format(org["id"]), json={}, headers=own),
            409,
            "application_pending",
        )
        receipt = (await post_outcome(registry, auth, outcome_body(application))).json()
        assert (receipt["state"], receipt["organization_id"]) == ("approved", org["id"])
        now = ok(await registry.get(f"{ORGS}/{org['id']}", headers=own))
        assert (now["id"], now["registration"], now["kind"], now["filing_number"]) == (
            org["id"],
            "registered",
            "association",
            None,
        )
        assert not uscc_errors(
            now["uscc"],
            kind=OrganizationKind.association,
            authority_division=authority_divisions(
                OrganizationKind.association, now["district_code"]
            ),
        )
        history = ok(await registry.get(f"{ORGS}/{org['id']}/history", headers=own))["items"]
        assert history[0]["action"] == "created"
        registered = {
            e["field"]: (e["before"], e["after"]) for e in history if e["action"] == "registered"
        }
        assert registered == {
            "registration": ("filed", "registered"),
            "uscc": (None, now["uscc"]),
            "filing_number": (org["filing_number"], None),
            "kind": ("community", "association"),
        }
        # Its incubation is the same record's: nothing to move.
        assert ok(await registry.get(f"{INCUBATED}/{org['id']}", headers=own))["phase"] == "early"
        # Registered now, it does not apply again; its street office no longer keeps it.
        problem(
            await registry.post(APPLY.format(org["id"]), json={}, headers=own), 409, "not_filed"
        )
        office = auth("street_office", street_code=org["street_code"])
        assert (await registry.get(f"{ORGS}/{org['id']}", headers=office)).status_code == 404

    async def test_refusals_change_nothing(self, registry: httpx.AsyncClient, auth: Auth) -> None:
        bureau = auth("civil_affairs")
        org = await created(registry, bureau, filed_org())
        stranger = await created(registry, bureau, registered_org())
        response = await registry.post(
            APPLY.format(org["id"]), json={}, headers=auth("organization", org_id=stranger["id"])
        )
        problem(response, 404, "organization_not_found")
        office = auth("street_office", street_code=org["street_code"])
        assert (
            await registry.post(APPLY.format(org["id"]), json={}, headers=office)
        ).status_code == 403
        for body in ({"kind": "company"}, {"materials": [{"code": "x" * 500}]}, {"uscc": "1"}):
            response = await registry.post(APPLY.format(org["id"]), json=body, headers=bureau)
            problem(response, 422, "validation_error")
        # A rejected application leaves the filed record as it was.
        application = ok(await registry.post(APPLY.format(org["id"]), json={}, headers=bureau), 201)
        await post_outcome(registry, auth, outcome_body(application, "rejected"))
        still = ok(await registry.get(f"{ORGS}/{org['id']}", headers=bureau))
        assert (still["registration"], still["filing_number"], still["uscc"]) == (
            "filed",
            org["filing_number"],
            None,
        )
