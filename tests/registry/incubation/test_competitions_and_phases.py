"""Intake through the 社创大赛, the phases 早期→中期→后期→末期, mentoring, and 服 not a step."""

from __future__ import annotations

from datetime import timedelta

import httpx

from shared.clock import shanghai_today
from tests.factories import filed_org, registered_org
from tests.registry.helpers import ORGS, Auth, created, event_types
from tests.registry.incubation.helpers import (
    COMPETITIONS,
    INCUBATED,
    awarded_entry,
    competition,
    incubate,
    ok,
    problem,
    today,
)


class TestCompetitions:
    async def test_a_grassroots_group_is_admitted_once_it_is_filed(
        self, registry: httpx.AsyncClient, auth: Auth
    ) -> None:
        bureau = auth("civil_affairs")
        base, entry = await awarded_entry(registry, auth, group_name="青年志愿者小组")
        assert (entry["organization_id"], entry["award"], entry["score"]) == (None, "first", 92)
        admission = f"{base}/{entry['id']}/admission"
        problem(
            await registry.post(admission, json={"admitted_on": today()}, headers=bureau),
            409,
            "entry_not_filed",
        )
        # The street office files the group; the bureau admits it as that organization.
        org = await created(registry, auth("civil_affairs"), filed_org())
        incubation = ok(
            await registry.post(
                admission,
                json={"admitted_on": today(), "organization_id": org["id"]},
                headers=bureau,
            ),
            201,
        )
        assert (incubation["organization_id"], incubation["phase"], incubation["next_phase"]) == (
            org["id"],
            "early",
            "middle",
        )
        assert incubation["entry_id"] == entry["id"]
        again = await registry.post(admission, json={"admitted_on": today()}, headers=bureau)
        problem(again, 409, "already_incubated")
        entries = ok(await registry.get(base, headers=auth("auditor")))
        assert [e["organization_id"] for e in entries["items"]] == [org["id"]]

    async def test_only_an_awarded_entry_is_admitted(
        self, registry: httpx.AsyncClient, auth: Auth
    ) -> None:
        bureau = auth("civil_affairs")
        org = await created(registry, bureau, registered_org())
        contest = await competition(registry, auth)
        base = f"{COMPETITIONS}/{contest['id']}/entries"
        entry = ok(
            await registry.post(
                base, json={"organization_id": org["id"], "project_title": "助老"}, headers=bureau
            ),
            201,
        )
        ok(
            await registry.put(
                f"{base}/{entry['id']}/result", json={"score": 40, "award": None}, headers=bureau
            )
        )
        refused = await registry.post(
            f"{base}/{entry['id']}/admission", json={"admitted_on": today()}, headers=bureau
        )
        problem(refused, 409, "entry_not_awarded")
        gone = await registry.get(f"{INCUBATED}/{org['id']}", headers=bureau)
        problem(gone, 404, "incubation_not_found")
        twice = await registry.post(
            base, json={"organization_id": org["id"], "project_title": "再报"}, headers=bureau
        )
        problem(twice, 409, "already_entered")

    async def test_hostile_competition_input_is_refused_and_changes_nothing(
        self, registry: httpx.AsyncClient, auth: Auth
    ) -> None:
        bureau = auth("civil_affairs")
        for body in (
            {"year": 9999, "name": "远未来大赛"},
            {"year": -1, "name": "负年份"},
            {"year": 2026, "name": "x" * 10_000},
            {"year": 2026, "name": ""},
        ):
            response = await registry.post(COMPETITIONS, json=body, headers=bureau)
            problem(response, 422, "validation_error")
        surrogate = await registry.post(
            COMPETITIONS,
            content='{"year": 2026, "name": "\\ud800"}',
            headers={**bureau, "Content-Type": "application/json"},
        )
        assert surrogate.status_code in (400, 422), surrogate.text
        assert surrogate.headers["content-type"].startswith("application/problem+json")
        listed = ok(await registry.get(COMPETITIONS, headers=auth("organization", org_id="x")))
        assert all(c["year"] != 9999 for c in listed["items"])
        contest = await competition(registry, auth)
        base = f"{COMPETITIONS}/{contest['id']}/entries"
        for body in (
            {"project_title": "两者皆无"},
            {"project_title": "两者皆有", "group_name": "组", "organization_id": contest["id"]},
        ):
            problem(await registry.post(base, json=body, headers=bureau), 422, "validation_error")
        entry = ok(
            await registry.post(
                base, json={"group_name": "组", "project_title": "t"}, headers=bureau
            ),
            201,
        )
        for result in ({"score": -5, "award": None}, {"score": 101, "award": "first"}):
            response = await registry.put(
                f"{base}/{entry['id']}/result", json=result, headers=bureau
            )
            problem(response, 422, "validation_error")
        assert ok(await registry.get(base, headers=bureau))["items"][0]["score"] is None
        # A street office neither holds competitions nor reads their entries.
        office = auth("street_office", street_code="340103001")
        assert (
            await registry.post(COMPETITIONS, json={"year": 2026, "name": "街道赛"}, headers=office)
        ).status_code == 403
        assert (await registry.get(base, headers=office)).status_code == 403


class TestPhases:
    async def test_phases_go_forward_one_step_at_a_time_with_their_days(
        self, registry: httpx.AsyncClient, auth: Auth
    ) -> None:
        org = await created(registry, auth("civil_affairs"), filed_org())
        await incubate(registry, auth, org["id"])
        office = auth("street_office", street_code=org["street_code"])
        url = f"{INCUBATED}/{org['id']}/phase"
        day = today()
        for skipped in ("late", "follow_up", "early"):
            response = await registry.post(
                url, json={"phase": skipped, "entered_on": day}, headers=office
            )
            body = problem(response, 409, "phase_out_of_order")
            assert "阶段" in body["title"] + body["detail"]
        for phase in ("middle", "late", "follow_up"):
            moved = ok(
                await registry.post(url, json={"phase": phase, "entered_on": day}, headers=office)
            )
            assert moved["phase"] == phase
        assert moved["next_phase"] is None
        problem(
            await registry.post(url, json={"phase": "middle", "entered_on": day}, headers=office),
            409,
            "phase_out_of_order",
        )
        # The organization reads its own incubation and how it got there.
        own = auth("organization", org_id=org["id"])
        assert (
            ok(await registry.get(f"{INCUBATED}/{org['id']}", headers=own))["phase"] == "follow_up"
        )
        phases = ok(await registry.get(f"{INCUBATED}/{org['id']}/phases", headers=own))
        assert [(p["from_phase"], p["to_phase"]) for p in phases] == [
            (None, "early"),
            ("early", "middle"),
            ("middle", "late"),
            ("late", "follow_up"),
        ]
        history = ok(await registry.get(f"{ORGS}/{org['id']}/history", headers=own))
        assert [
            (e["before"], e["after"]) for e in history["items"] if e["field"] == "incubation_phase"
        ] == [(None, "early"), ("early", "middle"), ("middle", "late"), ("late", "follow_up")]
        assert (await event_types(org["id"])).count("organization.incubation_phase_changed") == 4
        mine = ok(await registry.get(INCUBATED, headers=own))
        assert [i["organization_id"] for i in mine["items"]] == [org["id"]]

    async def test_bad_days_and_strangers_change_nothing(
        self, registry: httpx.AsyncClient, auth: Auth
    ) -> None:
        org = await created(registry, auth("civil_affairs"), filed_org())
        await incubate(registry, auth, org["id"])
        url = f"{INCUBATED}/{org['id']}/phase"
        bureau = auth("civil_affairs")
        problem(
            await registry.post(
                url, json={"phase": "middle", "entered_on": "9999-12-31"}, headers=bureau
            ),
            422,
            "validation_error",
        )
        tomorrow = (shanghai_today() + timedelta(days=1)).isoformat()
        yesterday = (shanghai_today() - timedelta(days=1)).isoformat()
        for day in (tomorrow, yesterday):
            response = await registry.post(
                url, json={"phase": "middle", "entered_on": day}, headers=bureau
            )
            problem(response, 422, "phase_date_out_of_range")
        # Another street's office and another organization do not even see it.
        stranger = auth("street_office", street_code="340103999")
        response = await registry.post(
            url, json={"phase": "middle", "entered_on": today()}, headers=stranger
        )
        assert response.status_code == 404
        other = auth("organization", org_id=org["id"])
        assert (
            await registry.post(url, json={"phase": "middle", "entered_on": today()}, headers=other)
        ).status_code == 403
        foreign = await created(registry, bureau, registered_org())
        peek = await registry.get(
            f"{INCUBATED}/{org['id']}", headers=auth("organization", org_id=foreign["id"])
        )
        problem(peek, 404, "organization_not_found")
        assert (
            ok(await registry.get(f"{INCUBATED}/{org['id']}", headers=bureau))["phase"] == "early"
        )

    async def test_serve_is_service_throughout_not_a_step(
        self, registry: httpx.AsyncClient, auth: Auth
    ) -> None:
        org = await created(registry, auth("civil_affairs"), filed_org())
        office = auth("street_office", street_code=org["street_code"])
        response = await registry.post(
            f"{ORGS}/{org['id']}/incubation", json={"stage": "serve"}, headers=office
        )
        problem(response, 422, "serve_is_not_a_step")
        assert ok(await registry.get(f"{ORGS}/{org['id']}/incubation", headers=office)) == []
        vocabulary = ok(await registry.get("/api/v1/registry/vocabulary", headers=office))
        assert [t["label"] for t in vocabulary["IncubationPhase"]] == [
            "早期",
            "中期",
            "后期",
            "末期",
        ]


class TestMentoring:
    async def test_sessions_are_recorded_and_read_by_the_organization(
        self, registry: httpx.AsyncClient, auth: Auth
    ) -> None:
        org = await created(registry, auth("civil_affairs"), filed_org())
        url = f"{INCUBATED}/{org['id']}/mentoring-sessions"
        office = auth("street_office", street_code=org["street_code"])
        session = {
            "mentor_name": "实创社工 王老师",
            "held_on": today(),
            "topic": "项目书",
            "minutes": 90,
        }
        problem(await registry.post(url, json=session, headers=office), 404, "incubation_not_found")
        await incubate(registry, auth, org["id"])
        ok(await registry.post(url, json=session, headers=office), 201)
        for hostile in (
            {**session, "minutes": -30},
            {**session, "minutes": 10**9},
            {**session, "held_on": "9999-01-01"},
            {**session, "mentor_name": "x" * 5000},
        ):
            problem(await registry.post(url, json=hostile, headers=office), 422, "validation_error")
        tomorrow = (shanghai_today() + timedelta(days=1)).isoformat()
        problem(
            await registry.post(url, json={**session, "held_on": tomorrow}, headers=office),
            422,
            "date_in_future",
        )
        own = auth("organization", org_id=org["id"])
        sessions = ok(await registry.get(url, headers=own))
        assert [(s["mentor_name"], s["minutes"]) for s in sessions] == [("实创社工 王老师", 90)]
        assert (await registry.post(url, json=session, headers=own)).status_code == 403
