"""Status changes and the credit lists, kept in step; eligibility; an immutable history."""

from __future__ import annotations

import httpx
import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError

from shared.db import database
from tests.factories import filed_org, registered_org
from tests.registry.helpers import ORGS, Auth, created, events_of


async def change_status(
    registry: httpx.AsyncClient, headers: dict[str, str], org_id: str, status: str, **extra: str
) -> httpx.Response:
    return await registry.post(
        f"{ORGS}/{org_id}/status",
        json={"status": status, "reason": "核查", **extra},
        headers=headers,
    )


async def entries(registry: httpx.AsyncClient, auth: Auth, org_id: str) -> list[dict[str, str]]:
    response = await registry.get(f"{ORGS}/{org_id}/list-entries", headers=auth("auditor"))
    result: list[dict[str, str]] = response.json()
    return result


class TestStatus:
    async def test_abnormal_and_back_keeps_the_abnormal_list_in_step(
        self, registry: httpx.AsyncClient, auth: Auth
    ) -> None:
        bureau = auth("civil_affairs")
        org = await created(registry, bureau, registered_org())
        response = await change_status(
            registry, bureau, org["id"], "abnormal", reason_code="unreachable_at_address"
        )
        assert response.status_code == 200 and response.json()["status"] == "abnormal"
        assert response.headers["ETag"] == '"2"'
        [entry] = await entries(registry, auth, org["id"])
        assert (entry["list_type"], entry["reason_code"], entry["removed_on"]) == (
            "abnormal",
            "unreachable_at_address",
            None,
        )
        eligibility = (
            await registry.get(f"{ORGS}/{org['id']}/eligibility", headers=auth("service"))
        ).json()
        assert eligibility["eligible"] is False and eligibility["reasons"] == ["status_abnormal"]
        restored = await change_status(registry, bureau, org["id"], "active")
        assert restored.json()["status"] == "active"
        [entry] = await entries(registry, auth, org["id"])
        assert entry["removed_on"] is not None
        types = [e.event_type for e in await events_of(org["id"])]
        assert types == [
            "organization.created",
            "organization.listed",
            "organization.status_changed",
            "organization.delisted",
            "organization.status_changed",
        ]
        changes = [
            e.payload for e in await events_of(org["id"]) if e.event_type.endswith("status_changed")
        ]
        assert [(c["from"], c["to"]) for c in changes] == [
            ("active", "abnormal"),
            ("abnormal", "active"),
        ]

    async def test_revocation_is_final_recorded_and_lists_as_seriously_dishonest(
        self, registry: httpx.AsyncClient, auth: Auth
    ) -> None:
        bureau = auth("civil_affairs", sub="director-zhao")
        org = await created(registry, bureau, registered_org())
        assert (await change_status(registry, bureau, org["id"], "revoked")).status_code == 200
        for status in ("active", "abnormal", "deregistered"):
            again = await change_status(registry, bureau, org["id"], status)
            assert again.status_code == 409 and again.json()["code"] == "organization_closed"
        patch = await registry.patch(
            f"{ORGS}/{org['id']}", json={"address": "x"}, headers={**bureau, "If-Match": '"2"'}
        )
        assert patch.status_code == 409
        assert [
            (e["list_type"], e["reason_code"]) for e in await entries(registry, auth, org["id"])
        ] == [("serious_illegal", "registration_revoked")]
        history = (await registry.get(f"{ORGS}/{org['id']}/history", headers=bureau)).json()
        status_change = next(e for e in history["items"] if e["action"] == "status_changed")
        assert (status_change["before"], status_change["after"], status_change["reason"]) == (
            "active",
            "revoked",
            "核查",
        )
        assert status_change["actor_sub"] == "director-zhao"
        eligibility = (
            await registry.get(f"{ORGS}/{org['id']}/eligibility", headers=auth("civil_affairs"))
        ).json()
        assert eligibility["reasons"] == ["status_revoked", "serious_illegal_listed"]

    async def test_the_provincial_sync_changes_status_with_a_service_token(
        self, registry: httpx.AsyncClient, auth: Auth
    ) -> None:
        org = await created(registry, auth("civil_affairs"), filed_org())
        service = auth("service", sub="service:provincial-sync")
        response = await change_status(registry, service, org["id"], "deregistered")
        assert response.status_code == 200 and response.json()["status"] == "deregistered"
        # The province repeating its push changes nothing more.
        repeat = await change_status(registry, service, org["id"], "deregistered")
        assert repeat.status_code == 200 and repeat.json()["version"] == response.json()["version"]

    async def test_a_stale_if_match_is_refused(
        self, registry: httpx.AsyncClient, auth: Auth
    ) -> None:
        bureau = auth("civil_affairs")
        org = await created(registry, bureau, registered_org())
        response = await registry.post(
            f"{ORGS}/{org['id']}/status",
            json={"status": "abnormal", "reason": "失联"},
            headers={**bureau, "If-Match": '"7"'},
        )
        assert response.status_code == 412


class TestLists:
    async def test_the_last_abnormal_entry_removed_restores_active(
        self, registry: httpx.AsyncClient, auth: Auth
    ) -> None:
        bureau = auth("civil_affairs")
        org = await created(registry, bureau, registered_org())
        url = f"{ORGS}/{org['id']}/list-entries"
        first = await registry.post(
            url,
            json={
                "list_type": "abnormal",
                "reason_code": "annual_report_not_filed",
                "reason": "未报年报",
            },
            headers=bureau,
        )
        second = await registry.post(
            url,
            json={"list_type": "abnormal", "reason_code": "minor_penalty", "reason": "警告处罚"},
            headers=bureau,
        )
        assert first.status_code == second.status_code == 201
        duplicate = await registry.post(
            url,
            json={"list_type": "abnormal", "reason_code": "minor_penalty", "reason": "再次"},
            headers=bureau,
        )
        assert duplicate.status_code == 409
        removal = {"reason": "已补报"}
        await registry.post(f"{url}/{first.json()['id']}/removal", json=removal, headers=bureau)
        still = (await registry.get(f"{ORGS}/{org['id']}", headers=bureau)).json()
        assert still["status"] == "abnormal"
        await registry.post(f"{url}/{second.json()['id']}/removal", json=removal, headers=bureau)
        restored = (await registry.get(f"{ORGS}/{org['id']}", headers=bureau)).json()
        assert restored["status"] == "active"
        twice = await registry.post(
            f"{url}/{second.json()['id']}/removal", json=removal, headers=bureau
        )
        assert twice.status_code == 409

    async def test_a_reason_belongs_to_its_list(
        self, registry: httpx.AsyncClient, auth: Auth
    ) -> None:
        org = await created(registry, auth("civil_affairs"), registered_org())
        response = await registry.post(
            f"{ORGS}/{org['id']}/list-entries",
            json={"list_type": "abnormal", "reason_code": "major_penalty", "reason": "罚款10万"},
            headers=auth("civil_affairs"),
        )
        assert response.status_code == 422
        assert response.json()["errors"][0]["code"] == "reason_not_for_list"

    async def test_the_serious_list_bars_projects_and_is_published(
        self, registry: httpx.AsyncClient, auth: Auth
    ) -> None:
        org = await created(registry, auth("civil_affairs"), registered_org())
        listed = await registry.post(
            f"{ORGS}/{org['id']}/list-entries",
            json={
                "list_type": "serious_illegal",
                "reason_code": "major_penalty",
                "reason": "受到10万元罚款",
                "listed_on": "2025-03-01",
            },
            headers=auth("civil_affairs"),
        )
        assert listed.status_code == 201
        eligibility = (
            await registry.get(f"{ORGS}/{org['id']}/eligibility", headers=auth("service"))
        ).json()
        assert (eligibility["status"], eligibility["reasons"]) == (
            "active",
            ["serious_illegal_listed"],
        )
        published = await registry.get(
            f"{ORGS}/list-entries",
            params={"list_type": "serious_illegal", "page_size": 200},
            headers=auth("evaluator"),
        )
        assert listed.json()["id"] in {e["id"] for e in published.json()["items"]}


class TestHistory:
    async def test_the_history_cannot_be_edited_even_in_the_database(
        self, registry: httpx.AsyncClient, auth: Auth
    ) -> None:
        org = await created(registry, auth("civil_affairs"), registered_org())
        for statement in (
            "UPDATE registry.change_record SET actor_sub = 'someone' WHERE organization_id = :id",
            "DELETE FROM registry.change_record WHERE organization_id = :id",
        ):
            with pytest.raises(DBAPIError, match="append-only"):
                async with database.transaction() as session:
                    await session.execute(text(statement), {"id": org["id"]})
        history = (
            await registry.get(f"{ORGS}/{org['id']}/history", headers=auth("civil_affairs"))
        ).json()
        assert [e["action"] for e in history["items"]] == ["created"]

    async def test_incubation_steps_set_the_stage_with_history(
        self, registry: httpx.AsyncClient, auth: Auth
    ) -> None:
        org = await created(registry, auth("civil_affairs"), filed_org())
        office = auth("street_office", street_code=org["street_code"])
        url = f"{ORGS}/{org['id']}/incubation"
        for stage, phase, fen in (("incubate", "early", 500_000), ("emerge", "middle", 0)):
            response = await registry.post(
                url, json={"stage": stage, "phase": phase, "seed_funding_fen": fen}, headers=office
            )
            assert response.status_code == 201, response.text
        steps = (await registry.get(url, headers=office)).json()
        assert [(s["stage"], s["seed_funding_fen"]) for s in steps] == [
            ("incubate", 500_000),
            ("emerge", 0),
        ]
        current = (await registry.get(f"{ORGS}/{org['id']}", headers=office)).json()
        assert current["incubation_stage"] == "emerge"
        history = (await registry.get(f"{ORGS}/{org['id']}/history", headers=office)).json()
        assert [
            (e["before"], e["after"]) for e in history["items"] if e["field"] == "incubation_stage"
        ] == [(None, "incubate"), ("incubate", "emerge")]

    async def test_every_incubation_step_is_an_event_also_when_the_stage_stays(
        self, registry: httpx.AsyncClient, auth: Auth
    ) -> None:
        org = await created(registry, auth("civil_affairs"), filed_org())
        office = auth("street_office", street_code=org["street_code"])
        url = f"{ORGS}/{org['id']}/incubation"
        for phase in ("early", "middle"):
            response = await registry.post(
                url, json={"stage": "incubate", "phase": phase}, headers=office
            )
            assert response.status_code == 201, response.text
        events = await events_of(org["id"])
        assert [
            (e.payload["stage"], e.payload["phase"])
            for e in events
            if e.event_type == "organization.incubation_recorded"
        ] == [("incubate", "early"), ("incubate", "middle")]
        # Only the first step changed the stage.
        assert [
            e.payload["changed_fields"] for e in events if e.event_type == "organization.updated"
        ] == [["incubation_stage"]]
