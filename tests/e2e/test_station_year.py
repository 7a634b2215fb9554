"""A social-work station's year (镇(街道)社会工作站), through the real processes.

The bureau sets up the station of a street, run by an agency of the real register; puts
projects on its "123X" list up to the quota (1 core, 2 brand, 3 basic, X special) and is
refused one more core and one more basic project; two of the projects go through the
whole lifecycle to a concluded SPPE evaluation (applications decided by the workflow and
its worker, nothing posted on their behalf); the street office of that street then reads
the station's composite score, and another street's office cannot.
"""

from __future__ import annotations

import uuid
from decimal import Decimal
from typing import Any

import httpx

from tests.e2e.steps import API, Auth, Http, Project, approve_case, new_organization, ok
from tests.factories import STREET, application_body, call_body, fund_body, unique_street
from tests.support.system import System


def _applied(http: Http, auth: Auth, org_id: str, item: str) -> Project:
    """A project of the organization applied under a new call for the catalogue item."""
    project = Project(http, auth, org_id)
    projects, bureau = http("projects"), auth("civil_affairs")
    fund = ok(projects.post(f"{API}/funds", json=fund_body(), headers=bureau), 201)
    project.call = ok(
        projects.post(f"{API}/calls", json=call_body(fund, catalogue_item=item), headers=bureau),
        201,
    )
    applied = ok(
        projects.post(
            f"{API}/calls/{project.call['id']}/applications",
            json=application_body(street_code=STREET),
            headers=project.org,
        ),
        201,
    )
    project.id = applied["id"]
    return project


def _evaluated(project: Project) -> Decimal:
    """From application to a concluded SPPE evaluation; returns its composite."""
    project.cases.append(
        approve_case(project.http("workflow"), project.auth, "project_application", project.id)
    )
    project.wait_for_stage("approved")
    project.procure()
    project.submit_mid_term()
    project.meeting("supervision_meeting")
    evaluators = [f"evaluator-{uuid.uuid4().hex[:8]}" for _ in range(3)]
    project.start_evaluation(evaluators)
    project.score_and_conclude(evaluators)
    evaluation = ok(project.projects.get(f"{project.path}/evaluation", headers=project.bureau))
    return Decimal(evaluation["composite"])


def _attach(projects: httpx.Client, bureau: dict[str, str], station: str, project: str) -> Any:
    return projects.post(
        f"{API}/stations/{station}/projects", json={"project_id": project}, headers=bureau
    )


def test_a_station_year_from_set_up_to_its_score(system: System, http: Http, auth: Auth) -> None:
    projects, bureau = http("projects"), auth("civil_affairs")
    agency = new_organization(http, auth)  # a registered social-work agency of the register

    station = ok(
        projects.post(
            f"{API}/stations",
            json={
                "district_code": STREET[:6],
                "street_code": STREET,
                "town_name": "亳州路街道",
                "name": "亳州路街道社会工作站",
                "host_org_id": agency,
                "merged_with_party_centre": True,
                "staff_count": 5,
                "certified_social_workers": 3,
                "communities_total": 8,
                "communities_served": 8,
                "established_year": 2021,
            },
            headers=bureau,
        ),
        201,
    )
    registered = ok(http("registry").get(f"{API}/organizations/{agency}", headers=bureau))
    assert station["host_org_name"] == registered["name"]  # as the registry names it

    # The 123X list, up to its quota, with one special project (X has no limit).
    items = [
        "core_party_talent",
        "brand_community",
        "brand_social_work",
        "basic_families_in_difficulty",
        "basic_elderly_living_alone",
        "basic_children_in_difficulty",
        "special",
    ]
    listed = {item: _applied(http, auth, agency, item) for item in items}
    for project in listed.values():
        attached = ok(_attach(projects, bureau, station["id"], project.id), 201)
        assert attached["year"] == 2026
    # A second core project and a fourth basic one are refused, and nothing is listed.
    for item in ("core_party_talent", "basic_elderly_living_alone"):
        extra = _applied(http, auth, agency, item)
        refused = _attach(projects, bureau, station["id"], extra.id)
        assert (refused.status_code, refused.json()["code"]) == (409, "station_quota_exceeded")
    office = auth("street_office", street_code=STREET)
    page = ok(projects.get(f"{API}/stations/{station['id']}/projects", headers=office))
    assert page["total"] == 7
    assert sorted(item["role"] for item in page["items"]) == sorted(
        ["core", "brand", "brand", "basic", "basic", "basic", "special"]
    )

    # The core project and one basic project are evaluated (统一评估) through the system.
    core = _evaluated(listed["core_party_talent"])
    basic = _evaluated(listed["basic_elderly_living_alone"])

    # The street office reads its station's score for the year.
    score = ok(
        projects.get(f"{API}/stations/{station['id']}/score", params={"year": 2026}, headers=office)
    )
    project_part = (Decimal(70) * (core + basic) / 2 / 100).quantize(Decimal("0.01"))
    # 123X complete (10) + 二合一 (5) + fully staffed (10) + every community served (5).
    assert score["station_part"] == "30.00"
    assert score["project_part"] == str(project_part)
    assert score["composite"] == str(project_part + 30)
    assert score["complete"] is False  # five projects are not evaluated yet
    evaluated = {p["project_id"]: p["composite"] for p in score["projects"] if p["composite"]}
    assert evaluated == {
        listed["core_party_talent"].id: str(core),
        listed["basic_elderly_living_alone"].id: str(basic),
    }

    # Another street's office cannot learn the station exists; the agency reads its own.
    stranger = auth("street_office", street_code=unique_street())
    for path in (f"stations/{station['id']}/score", f"stations/{station['id']}"):
        refused = projects.get(f"{API}/{path}", params={"year": 2026}, headers=stranger)
        assert (refused.status_code, refused.json()["code"]) == (404, "station_not_found")
    assert ok(projects.get(f"{API}/stations", headers=stranger))["total"] == 0
    host = auth("organization", org_id=agency)
    assert ok(projects.get(f"{API}/stations/{station['id']}/score", headers=host))["year"] >= 2026
