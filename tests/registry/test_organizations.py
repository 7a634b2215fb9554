"""The register: create, read, update with If-Match, scoping, masking, events."""

from __future__ import annotations

import httpx

from tests.factories import (
    OTHER_STREET,
    STREET,
    VALID_ID_NUMBER,
    filed_org,
    registered_org,
    unique_street,
)
from tests.registry.helpers import ORGS, Auth, created, event_types, events_of, problem_codes


class TestCreate:
    async def test_registered_and_filed_organizations_are_created_active(
        self, registry: httpx.AsyncClient, auth: Auth
    ) -> None:
        bureau = auth("civil_affairs")
        registered = await created(registry, bureau, registered_org())
        filed = await created(registry, bureau, filed_org())
        assert registered["status"] == filed["status"] == "active"
        assert registered["registration"] == "registered" and registered["uscc"]
        assert filed["registration"] == "filed" and filed["uscc"] is None
        events = await events_of(registered["id"])
        assert [e.event_type for e in events] == ["organization.created"]
        assert events[0].payload == {
            "id": registered["id"],
            "registration": "registered",
            "kind": "service_institution",
            "source": "api",
        }

    async def test_codes_are_normalised_and_duplicates_refused(
        self, registry: httpx.AsyncClient, auth: Auth
    ) -> None:
        body = registered_org()
        typed = body["uscc"].lower()[:6] + " " + body["uscc"][6:]
        first = await created(registry, auth("civil_affairs"), {**body, "uscc": typed})
        assert first["uscc"] == body["uscc"]
        again = await registry.post(
            ORGS, json={**registered_org(), "uscc": body["uscc"]}, headers=auth("civil_affairs")
        )
        assert again.status_code == 409
        assert again.json()["code"] == "organization_exists"

    async def test_registered_names_are_unique(
        self, registry: httpx.AsyncClient, auth: Auth
    ) -> None:
        first = await created(registry, auth("civil_affairs"), registered_org())
        clash = await registry.post(
            ORGS, json=registered_org(name=first["name"]), headers=auth("civil_affairs")
        )
        assert clash.status_code == 409
        assert clash.json()["code"] == "name_taken"

    async def test_filed_organization_needs_filing_number_and_street(
        self, registry: httpx.AsyncClient, auth: Auth
    ) -> None:
        body = filed_org(filing_number=None, street_code=None, uscc=registered_org()["uscc"])
        response = await registry.post(ORGS, json=body, headers=auth("civil_affairs"))
        assert response.status_code == 422
        assert problem_codes(response) == {
            "filing_number_required",
            "street_required",
            "uscc_not_allowed",
        }

    async def test_region_codes_must_nest(self, registry: httpx.AsyncClient, auth: Auth) -> None:
        body = filed_org(street_code="340104001", community_code="340103001001")
        response = await registry.post(ORGS, json=body, headers=auth("civil_affairs"))
        assert response.status_code == 422
        assert problem_codes(response) == {"street_outside_district", "community_outside_street"}


class TestScoping:
    async def test_street_office_reads_and_edits_only_its_streets_filed_organizations(
        self, registry: httpx.AsyncClient, auth: Auth
    ) -> None:
        street = unique_street()
        bureau = auth("civil_affairs")
        mine = await created(registry, bureau, filed_org(street))
        other_street = await created(registry, bureau, filed_org(unique_street()))
        registered_here = await created(registry, bureau, registered_org(street_code=street))
        office = auth("street_office", street_code=street)

        assert (await registry.get(f"{ORGS}/{mine['id']}", headers=office)).status_code == 200
        for hidden in (other_street, registered_here):
            url = f"{ORGS}/{hidden['id']}"
            assert (await registry.get(url, headers=office)).status_code == 404
            patch = await registry.patch(
                url, json={"address": "x"}, headers={**office, "If-Match": '"1"'}
            )
            assert patch.status_code == 404
            status = await registry.post(
                f"{url}/status", json={"status": "abnormal", "reason": "失联"}, headers=office
            )
            assert status.status_code == 404
        listed = (await registry.get(ORGS, params={"page_size": 200}, headers=office)).json()
        assert [item["id"] for item in listed["items"]] == [mine["id"]]
        moved = await registry.patch(
            f"{ORGS}/{mine['id']}",
            json={"street_code": OTHER_STREET},
            headers={**office, "If-Match": '"1"'},
        )
        assert moved.status_code == 403
        assert moved.json()["code"] == "scope_forbidden"
        stats = (await registry.get(f"{ORGS}/stats", headers=office)).json()
        assert stats["total"] == 1

    async def test_nothing_of_another_streets_organization_is_reachable(
        self, registry: httpx.AsyncClient, auth: Auth
    ) -> None:
        street, other = unique_street(), unique_street()
        bureau = auth("civil_affairs")
        mine = await created(registry, bureau, filed_org(street))
        theirs = await created(registry, bureau, filed_org(other))
        await registry.post(
            f"{ORGS}/{theirs['id']}/status",
            json={"status": "abnormal", "reason": "无法联系"},
            headers=bureau,
        )
        office = auth("street_office", street_code=street)
        for suffix in ("", "/history", "/eligibility", "/list-entries", "/incubation"):
            response = await registry.get(f"{ORGS}/{theirs['id']}{suffix}", headers=office)
            assert response.status_code == 404, suffix
            assert response.json()["code"] == "organization_not_found"
            own = await registry.get(f"{ORGS}/{mine['id']}{suffix}", headers=office)
            assert own.status_code == 200, suffix
        step = await registry.post(
            f"{ORGS}/{theirs['id']}/incubation", json={"stage": "incubate"}, headers=office
        )
        assert step.status_code == 404
        entries = await registry.get(
            f"{ORGS}/list-entries", params={"page_size": 200}, headers=office
        )
        assert theirs["id"] not in {e["organization_id"] for e in entries.json()["items"]}
        export = await registry.get(f"{ORGS}/export", headers=office)
        assert export.status_code == 200
        assert mine["id"] in export.text and theirs["id"] not in export.text
        # Still as it was: the refused calls changed nothing.
        record = (await registry.get(f"{ORGS}/{theirs['id']}", headers=bureau)).json()
        assert (record["version"], record["incubation_stage"]) == (2, None)

    async def test_street_office_files_only_at_its_own_street(
        self, registry: httpx.AsyncClient, auth: Auth
    ) -> None:
        street = unique_street()
        office = auth("street_office", street_code=street)
        own = await registry.post(ORGS, json=filed_org(street), headers=office)
        assert own.status_code == 201, own.text
        elsewhere = filed_org(unique_street())
        registered = registered_org(street_code=street)
        for body in (elsewhere, registered):
            refused = await registry.post(ORGS, json=body, headers=office)
            assert refused.status_code == 403
            assert refused.json()["code"] == "scope_forbidden"
        bureau = auth("civil_affairs")
        for body in (elsewhere, registered):
            found = await registry.get(ORGS, params={"name": body["name"]}, headers=bureau)
            assert found.json()["total"] == 0
        # Its own filed organization it edits and changes the status of.
        url = f"{ORGS}/{own.json()['id']}"
        edited = await registry.patch(
            url, json={"address": "亳州路1号"}, headers={**office, "If-Match": '"1"'}
        )
        assert edited.status_code == 200 and edited.json()["address"] == "亳州路1号"
        status = await registry.post(
            f"{url}/status", json={"status": "abnormal", "reason": "无法联系"}, headers=office
        )
        assert status.status_code == 200 and status.json()["status"] == "abnormal"

    async def test_an_organization_sees_only_itself(
        self, registry: httpx.AsyncClient, auth: Auth
    ) -> None:
        bureau = auth("civil_affairs")
        own = await created(registry, bureau, registered_org())
        other = await created(registry, bureau, registered_org())
        user = auth("organization", org_id=own["id"])
        assert (await registry.get(f"{ORGS}/{own['id']}", headers=user)).status_code == 200
        assert (await registry.get(f"{ORGS}/{other['id']}", headers=user)).status_code == 404
        listed = (await registry.get(ORGS, headers=user)).json()
        assert [item["id"] for item in listed["items"]] == [own["id"]]
        assert listed["items"][0]["legal_rep_id_number"] == VALID_ID_NUMBER
        change = await registry.patch(
            f"{ORGS}/{own['id']}", json={"address": "x"}, headers={**user, "If-Match": '"1"'}
        )
        assert change.status_code == 403

    async def test_auditors_read_everything_and_write_nothing(
        self, registry: httpx.AsyncClient, auth: Auth
    ) -> None:
        org = await created(registry, auth("civil_affairs"), filed_org(STREET))
        auditor = auth("auditor")
        read = await registry.get(f"{ORGS}/{org['id']}", headers=auditor)
        assert read.status_code == 200
        attempts = [
            await registry.post(ORGS, json=registered_org(), headers=auditor),
            await registry.patch(
                f"{ORGS}/{org['id']}", json={"address": "x"}, headers={**auditor, "If-Match": '"1"'}
            ),
            await registry.post(
                f"{ORGS}/{org['id']}/status",
                json={"status": "revoked", "reason": "审计"},
                headers=auditor,
            ),
        ]
        assert [a.status_code for a in attempts] == [403, 403, 403]
        assert {a.json()["code"] for a in attempts} == {"role_forbidden"}


class TestUpdate:
    async def test_patch_changes_fields_with_history_and_a_thin_event(
        self, registry: httpx.AsyncClient, auth: Auth
    ) -> None:
        bureau = auth("civil_affairs", sub="clerk-wang")
        org = await created(registry, bureau, registered_org())
        response = await registry.patch(
            f"{ORGS}/{org['id']}",
            json={"address": "阜南路1号", "legal_rep_id_number": "110101199003074514"},
            headers={**bureau, "If-Match": '"1"'},
        )
        assert response.status_code == 200, response.text
        assert response.headers["ETag"] == '"2"'
        history = (await registry.get(f"{ORGS}/{org['id']}/history", headers=bureau)).json()
        updates = [entry for entry in history["items"] if entry["action"] == "updated"]
        assert {(e["field"], e["before"], e["after"]) for e in updates} == {
            ("address", None, "阜南路1号"),
            ("legal_rep_id_number", VALID_ID_NUMBER, "110101199003074514"),
        }
        assert {e["actor_sub"] for e in updates} == {"clerk-wang"}
        events = await events_of(org["id"])
        assert events[-1].event_type == "organization.updated"
        assert events[-1].payload["changed_fields"] == ["address", "legal_rep_id_number"]
        # Thin: the new values, an ID number above all, never travel in events.
        assert "110101199003074514" not in str([e.payload for e in events])

    async def test_patch_validates_the_fields_it_changes(
        self, registry: httpx.AsyncClient, auth: Auth
    ) -> None:
        bureau = auth("civil_affairs")
        org = await created(registry, bureau, registered_org())
        response = await registry.patch(
            f"{ORGS}/{org['id']}",
            json={
                "legal_rep_id_number": "110105194912310021",
                "established_on": "2099-01-01",
                "name": None,
            },
            headers={**bureau, "If-Match": '"1"'},
        )
        assert response.status_code == 422
        assert problem_codes(response) == {
            "id_number_checksum",
            "established_in_future",
            "field_required",
        }
        assert await event_types(org["id"]) == ["organization.created"]

    async def test_patch_needs_the_current_etag(
        self, registry: httpx.AsyncClient, auth: Auth
    ) -> None:
        bureau = auth("civil_affairs")
        org = await created(registry, bureau, registered_org())
        url = f"{ORGS}/{org['id']}"
        first = await registry.patch(
            url, json={"address": "一号"}, headers={**bureau, "If-Match": '"1"'}
        )
        assert first.status_code == 200 and first.headers["ETag"] == '"2"'
        missing = await registry.patch(url, json={"address": "二号"}, headers=bureau)
        stale = await registry.patch(
            url, json={"address": "三号"}, headers={**bureau, "If-Match": '"1"'}
        )
        assert (missing.status_code, stale.status_code) == (428, 412)
        for refused in (missing, stale):
            assert refused.headers["content-type"] == "application/problem+json"
        record = (await registry.get(url, headers=bureau)).json()
        assert (record["address"], record["version"]) == ("一号", 2)
        assert await event_types(org["id"]) == ["organization.created", "organization.updated"]

    async def test_an_unchanged_patch_records_nothing(
        self, registry: httpx.AsyncClient, auth: Auth
    ) -> None:
        bureau = auth("civil_affairs")
        org = await created(registry, bureau, registered_org(address="一号"))
        response = await registry.patch(
            f"{ORGS}/{org['id']}", json={"address": "一号"}, headers={**bureau, "If-Match": '"1"'}
        )
        assert response.status_code == 200
        assert response.json()["version"] == 1
        assert await event_types(org["id"]) == ["organization.created"]


class TestMasking:
    async def test_id_numbers_are_masked_in_records_and_history_for_other_roles(
        self, registry: httpx.AsyncClient, auth: Auth
    ) -> None:
        bureau = auth("civil_affairs")
        org = await created(registry, bureau, registered_org())
        await registry.patch(
            f"{ORGS}/{org['id']}",
            json={"legal_rep_id_number": "110101199003074514"},
            headers={**bureau, "If-Match": '"1"'},
        )
        for role in ("auditor", "service", "provincial_system", "evaluator"):
            headers = auth(role)
            record = (await registry.get(f"{ORGS}/{org['id']}", headers=headers)).json()
            assert record["legal_rep_id_number"] == "110101**********14"
            history = (await registry.get(f"{ORGS}/{org['id']}/history", headers=headers)).json()
            change = next(e for e in history["items"] if e["field"] == "legal_rep_id_number")
            assert (change["before"], change["after"]) == (
                "110105**********2X",
                "110101**********14",
            )
