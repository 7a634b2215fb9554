"""A token of the right role but the wrong scope, on real resources, for every operation.

Generated from the OpenAPI documents of the running services (`tests/e2e` processes):
for every operation with a resource in its path, and every scoped role its rule admits,
a *stranger* (another street, department, organization, evaluator or provincial system)
calls it on resources another holder of that role owns, with a valid body, and must get
403 or 404 — unless `SEES_ALL` records that the role reads everyone's (the register is
public to reviewers, a call to every organization). For reads, the *owner* must get a
2xx on the same resources, so that each 404 is the scope's and not a wrong id. A new
operation with a path parameter no world holds, or a body no `BODIES` entry gives,
fails the test.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Any

import httpx

from shared.auth import Role
from tests.e2e.steps import API, SCHEME, Http, Project, apply_for_change, case_in, material, ok
from tests.factories import (
    STREET,
    application_body,
    contract_body,
    filed_org,
    meeting_body,
    registered_org,
    unique_street,
)
from tests.security.matrix import Operation, Rules, call, operations
from tests.security.rules import RULES
from tests.support.polling import poll_sync
from tests.support.receiver import Receiver
from tests.support.system import System
from tests.workflow.helpers import materials_for

Auth = Callable[..., dict[str, str]]
R = Role
SCOPED = (R.street_office, R.department_reviewer, R.organization, R.evaluator, R.provincial_system)
PURCHASER = "education"  # the department of the calls in tests.factories
REVIEWER = "civil_affairs_registration"  # the one department reviewing a change

REGISTER_READS = (
    "getOrganization",
    "getOrganizationEligibility",
    "listOrganizationHistory",
    "listOrganizationInspections",
    "listOrganizationListEntries",
    "listIncubationSteps",
    "listOrganizationGradeEvaluations",
    "getGradeEvaluation",
    "getIncubation",
    "listIncubationPhases",
    "listMentoringSessions",
    "listOrganizationSeedGrants",
)
# Roles the register is public to (a street office sees its own street's filed
# organizations, an organization itself).
READS_THE_REGISTER = (R.department_reviewer, R.evaluator, R.provincial_system)
# (operation id, role): the role reads or acts on everyone's resources there, by design.
SEES_ALL: set[tuple[str, Role]] = {
    *((op, role) for op in REGISTER_READS for role in READS_THE_REGISTER),
    ("getApplication", R.provincial_system),  # the province follows every application
    ("getProjectOcds", R.provincial_system),  # open contracting data, published
    ("getProjectOcdsRecord", R.provincial_system),
    ("getFund", R.department_reviewer),  # a fund is the bureau's, shared by all purchasers
    ("getCall", R.organization),  # a call is open to every organization...
    ("listCallMeetings", R.organization),  # ... and so are its public meetings (三会)
    ("applyToCall", R.organization),  # ... to apply to (the registry then judges)
    ("scoreGradeEvaluation", R.evaluator),  # the experts score every grade evaluation
    # The province reads the people records of the whole register.
    *(
        (op, R.provincial_system)
        for op in (
            "getStaffMember",
            "getVolunteer",
            "listVolunteerServiceRecords",
            "getPartyOrganization",
        )
    ),
    # Reference data, no one's in particular.
    *((op, role) for op in ("getSppeScheme", "getCaseDefinition") for role in SCOPED),
    # Hubs are public (a list of residencies shows each caller the organizations it sees).
    *((op, role) for op in ("getHub", "listResidencies") for role in SCOPED),
}
# Path parameters naming reference data rather than anyone's resource.
COMMON = {"version": "1", "case_type": "organization_change", "kind": "acceptance_notice"}
# Reads of what only a decided case of another type has (the world's case is a change in
# review): the stranger's refusal is checked, the owner's answer is a 404 by design.
NOT_ISSUED_IN_THE_WORLD = {"getRegistrationCertificate"}


def _command() -> dict[str, str]:
    return {"command_id": str(uuid.uuid4())}


# A valid body for every operation with a body that a scoped role may call on a resource:
# the refusal must come from the scope, never from validation.
BODIES: dict[str, Callable[[], Any]] = {
    "recordIncubationStep": lambda: {"stage": "incubate", "note": "入驻孵化基地"},
    "advanceIncubationPhase": lambda: {"phase": "middle", "entered_on": date.today().isoformat()},
    "recordMentoringSession": lambda: {
        "mentor_name": "社创俱乐部导师",
        "held_on": date.today().isoformat(),
        "topic": "项目设计",
        "minutes": 90,
    },
    "createResidency": lambda: {
        "organization_id": str(uuid.uuid4()),
        "started_on": date.today().isoformat(),
    },
    "endResidency": lambda: {"ended_on": date.today().isoformat()},
    "createFiledRegistrationApplication": lambda: {
        "materials": materials_for("organization_registration")
    },
    "updateOrganization": lambda: {"address": "阜南路1号"},
    "changeOrganizationStatus": lambda: {"status": "abnormal", "reason": "失联"},
    "createChangeApplication": lambda: {
        "changes": {"address": "长江中路2号"},
        "materials": materials_for("organization_change"),
    },
    "createDeregistrationApplication": lambda: {
        "reason": "完成清算",
        "materials": materials_for("organization_deregistration"),
    },
    "submitAnnualInspection": lambda: {
        "year": date.today().year - 2,
        "materials": materials_for("annual_inspection"),
    },
    "updateCall": lambda: {"title": "更名后的申报通知"},
    "applyToCall": application_body,
    "openProcurement": lambda: {"method": "competitive_consultation", "price_weight_pct": 20},
    "recordBid": lambda: {
        "bidder_org_id": str(uuid.uuid4()),
        "price_fen": 10_000_000,
        "technical_score": "80",
    },
    "disqualifyBid": lambda: {"bid_id": str(uuid.uuid4()), "reason": "资格审查不合格"},
    "cancelProcurement": lambda: {"reason": "有效投标不足,依法废标"},
    "signContract": contract_body,
    "proposeAmendment": lambda: {"rationale": "延期", "new_end_on": "2027-06-30"},
    "recordMeeting": lambda: meeting_body("supervision_meeting"),
    "holdCallMeeting": lambda: meeting_body("press_conference"),
    "requestPayment": lambda: {
        "tranche_id": str(uuid.uuid4()),
        "materials": [material("payment_application")],
    },
    "recordTransfer": lambda: {"result": "succeeded", "bank_reference": "BANK-X"},
    "submitProgressReport": lambda: {"content": "本月服务情况。"},
    "recordSupervisionVisit": lambda: {
        "visited_on": "2026-05-01",
        "supervisor": "第三方督导",
        "summary": "抽查",
        "findings": [],
    },
    "respondToRectification": lambda: {"response": "已整改"},
    "resolveRectification": lambda: {"accepted": True, "resolution": "整改到位"},
    "reportMilestone": lambda: {
        "achieved_on": "2026-03-28",
        "description": "完成需求评估。",
        "evidence": [{"title": "需求评估报告", "url": "https://files.example.cn/needs.pdf"}],
    },
    "confirmMilestone": lambda: {"accepted": True, "note": "确认达成"},
    "declareConflictOfInterest": lambda: {"has_conflict": False, "statement": "无利害关系。"},
    "submitScoreSheet": lambda: {
        "indicator_points": {i.code: "1" for i in SCHEME.indicators},
        "adjustment_points": {},
        "comments": "x",
    },
    "requestClosure": lambda: {"summary": "完成。", "materials": [material("final_report")]},
    "requestSupplement": lambda: {
        **_command(),
        "items": [{"code": "change_application", "problem": "invalid", "message": "缺页"}],
    },
    "resubmitCase": lambda: {**_command(), "materials": materials_for("organization_change")},
    "withdrawCase": lambda: {**_command(), "reason": "不再变更"},
    "supplyPendingMaterials": lambda: {
        **_command(),
        "materials": [{"code": "premises_proof", "document_url": "https://files.example.cn/p.pdf"}],
    },
    "withdrawApplication": lambda: {"reason": "不再变更"},
    "applyForGradeEvaluation": lambda: {"year": date.today().year},
    "scoreGradeEvaluation": lambda: {
        "basic_conditions": 90,
        "internal_governance": 300,
        "work_performance": 350,
        "social_evaluation": 120,
    },
    "withdrawGradeEvaluation": lambda: {"reason": "暂不参评"},
    "claimTask": _command,
    "approveTask": lambda: {**_command(), "comment": "同意"},
    "rejectTask": lambda: {**_command(), "comment": "不同意"},
    "commentOnTask": lambda: {**_command(), "body": "请补充说明"},
    "updateWebhookEndpoint": lambda: {"description": "省平台"},
    "updateStaffMember": lambda: {"name": "王芳"},
    "updateVolunteer": lambda: {"name": "赵敏"},
    "recordVolunteerService": lambda: {
        "served_on": "2026-01-05",
        "minutes": 60,
        "activity": "巡访",
    },
    "sendWebhookTest": dict,
    "recoverWebhookDeliveries": lambda: {"since": datetime(2026, 1, 1, tzinfo=UTC).isoformat()},
}


@dataclass
class Owned:
    """A resource id and the scope claims of the token that owns it."""

    value: str
    owner: dict[str, Any]


@dataclass
class World:
    """Per scoped role: path parameter -> the resource a holder of that role owns."""

    of: dict[Role, dict[str, Owned]] = field(default_factory=dict)

    def own(self, role: Role, owner: dict[str, Any], **values: str) -> None:
        self.of.setdefault(role, {}).update({k: Owned(v, owner) for k, v in values.items()})

    def anyones(self, param: str) -> str | None:
        """A real value of the parameter, whoever owns it (for roles that see all)."""
        if param in COMMON:
            return COMMON[param]
        return next((owned[param].value for owned in self.of.values() if param in owned), None)


STRANGERS: dict[Role, dict[str, Any]] = {
    R.street_office: {"street_code": unique_street()},
    R.department_reviewer: {"department": "sports"},
    R.organization: {"org_id": str(uuid.uuid4())},
    R.evaluator: {"sub": f"evaluator-{uuid.uuid4().hex[:8]}"},
    R.provincial_system: {"sub": f"province-{uuid.uuid4().hex[:8]}"},
}


def build_world(http: Http, auth: Auth, receiver: Receiver) -> World:
    """Resources of every kind a path names, each owned by one holder of each scoped role."""
    registry, workflow = http("registry"), http("workflow")
    bureau = auth("civil_affairs")
    world = World()
    registered = ok(
        registry.post(f"{API}/organizations", json=registered_org(), headers=bureau), 201
    )
    filed = ok(registry.post(f"{API}/organizations", json=filed_org(STREET), headers=bureau), 201)
    org = {"org_id": registered["id"]}
    world.own(R.street_office, {"street_code": STREET}, organization_id=filed["id"])
    _incubate(registry, bureau, [filed["id"], registered["id"]])
    centre_street = unique_street()
    centre = ok(
        registry.post(
            f"{API}/incubation/hubs",
            json={
                "name": "街道社会组织服务中心",
                "level": "street_centre",
                "district_code": centre_street[:6],
                "street_code": centre_street,
                "capacity": 5,
            },
            headers=bureau,
        ),
        201,
    )
    resident = ok(
        registry.post(f"{API}/organizations", json=filed_org(centre_street), headers=bureau), 201
    )
    residency = ok(
        registry.post(
            f"{API}/incubation/hubs/{centre['id']}/residencies",
            json={"organization_id": resident["id"], "started_on": date.today().isoformat()},
            headers=bureau,
        ),
        201,
    )
    world.own(
        R.street_office,
        {"street_code": centre_street},
        hub_id=centre["id"],
        residency_id=residency["id"],
    )
    change = apply_for_change(registry, registered["id"], auth("organization", **org))
    case = case_in(workflow, auth, "organization_change", change["id"], "in_joint_review")
    (task,) = case["tasks"]
    evaluation = ok(
        registry.post(
            f"{API}/organizations/{registered['id']}/grade-evaluations",
            json={"year": date.today().year},
            headers=auth("organization", **org),
        ),
        201,
    )
    world.own(
        R.organization,
        org,
        organization_id=registered["id"],
        application_id=change["id"],
        case_id=case["id"],
        evaluation_id=evaluation["id"],
    )
    world.own(
        R.department_reviewer,
        {"department": REVIEWER},
        case_id=case["id"],
        task_id=task["id"],
        application_id=change["id"],  # it reads the application it reviews
    )

    # People of that organization (of STREET, as it is), party organizations of both.
    own_people = auth("organization", **org)
    staff = ok(registry.post(f"{API}/people/staff", json={"name": "王芳"}, headers=own_people), 201)
    volunteer = ok(
        registry.post(f"{API}/people/volunteers", json={"name": "赵敏"}, headers=own_people), 201
    )
    for covered in (registered, filed):
        ok(
            registry.put(
                f"{API}/people/party-organizations/{covered['id']}",
                json={"form": "joint_branch", "name": "联合党支部", "established_on": "2021-07-01",
                      "members": 1},
                headers=bureau,
            ),
            201,
        )  # fmt: skip
    people = {"staff_id": staff["id"], "volunteer_id": volunteer["id"]}
    world.own(R.organization, org, **people)
    world.own(R.street_office, {"street_code": STREET}, **people)

    # A project of that organization, serving STREET, bought by PURCHASER, evaluating.
    project = Project(http, auth, registered["id"]).apply()
    project.procure()
    request_id = project.pay(1)
    report_id = project.submit_mid_term()
    rectification_id = project.rectify()
    project.meeting("supervision_meeting")
    evaluator = f"evaluator-{uuid.uuid4().hex[:8]}"
    project.start_evaluation([evaluator, f"{evaluator}-b", f"{evaluator}-c"])
    milestone = ok(project.projects.get(project.path, headers=project.bureau))["milestones"][0]
    on_project = {
        "project_id": project.id,
        "request_id": request_id,
        "report_id": report_id,
        "rectification_id": rectification_id,
        "milestone_id": milestone["id"],
    }
    world.own(R.organization, org, call_id=project.call["id"], **on_project)
    world.own(
        R.department_reviewer,
        {"department": PURCHASER},
        call_id=project.call["id"],
        fund_id=project.call["fund_id"],
        **on_project,
    )
    world.own(R.street_office, {"street_code": STREET}, project_id=project.id)
    # The social-work station of STREET, run by that organization, the project on its list.
    station = ok(
        project.projects.post(
            f"{API}/stations",
            json={
                "district_code": STREET[:6],
                "street_code": STREET,
                "town_name": "亳州路街道",
                "name": "亳州路街道社会工作站",
                "host_org_id": registered["id"],
                "merged_with_party_centre": True,
                "staff_count": 5,
                "certified_social_workers": 3,
                "communities_total": 8,
                "communities_served": 6,
                "established_year": 2021,
            },
            headers=bureau,
        ),
        201,
    )
    ok(
        project.projects.post(
            f"{API}/stations/{station['id']}/projects",
            json={"project_id": project.id},
            headers=bureau,
        ),
        201,
    )
    world.own(R.street_office, {"street_code": STREET}, station_id=station["id"])
    world.own(R.organization, org, station_id=station["id"])
    world.own(R.evaluator, {"sub": evaluator}, project_id=project.id)

    # A provincial system's endpoint, with one delivery.
    province = {"sub": f"province-{uuid.uuid4().hex[:8]}"}
    headers = auth("provincial_system", **province)
    endpoint = ok(
        workflow.post(
            f"{API}/webhooks/endpoints",
            json={"url": f"{receiver.url}/hook", "event_types": ["webhook.test"]},
            headers=headers,
        ),
        201,
    )
    base = f"{API}/webhooks/endpoints/{endpoint['id']}"
    ok(workflow.post(f"{base}/test", headers=headers), 202)

    def delivered() -> list[Any]:
        return list(ok(workflow.get(f"{base}/deliveries", headers=headers))["items"])

    (delivery,) = poll_sync(delivered)
    world.own(R.provincial_system, province, endpoint_id=endpoint["id"], delivery_id=delivery["id"])
    return world


def _incubate(registry: httpx.Client, bureau: dict[str, str], org_ids: list[str]) -> None:
    """Admit the organizations into incubation through an awarded competition entry."""
    competition = ok(
        registry.post(
            f"{API}/incubation/competitions",
            json={"year": date.today().year, "name": f"社创大赛{uuid.uuid4().hex[:6]}"},
            headers=bureau,
        ),
        201,
    )
    base = f"{API}/incubation/competitions/{competition['id']}/entries"
    for org_id in org_ids:
        entry = ok(
            registry.post(
                base, json={"organization_id": org_id, "project_title": "邻里互助"}, headers=bureau
            ),
            201,
        )
        ok(
            registry.put(
                f"{base}/{entry['id']}/result", json={"score": 90, "award": "first"}, headers=bureau
            )
        )
        ok(
            registry.post(
                f"{base}/{entry['id']}/admission",
                json={"admitted_on": date.today().isoformat()},
                headers=bureau,
            ),
            201,
        )


def _admitted(rules: Rules, operation: Operation) -> list[Role]:
    return [role for role in SCOPED if role in rules.get(operation.id, frozenset())]


async def _probe(
    client: httpx.AsyncClient, auth: Auth, operation: Operation, role: Role, world: World
) -> str | None:
    """What is wrong with this (operation, role), or None."""
    if operation.has_body and operation.id not in BODIES:
        return f"{operation.id}: no probe body in BODIES"
    body = BODIES[operation.id]() if operation.id in BODIES else None
    stranger = {**auth(role.value, **STRANGERS[role]), "If-Match": '"1"'}  # scope before ETag
    if (operation.id, role) in SEES_ALL:
        anyones = {p: world.anyones(p) for p in operation.params}
        values = {p: v for p, v in anyones.items() if v is not None}
        if len(values) < len(anyones):
            return f"{operation.id}: no {operation.params} in the world"
        answer = await call(client, operation, stranger, values=values, body=body)
        refused = answer.status_code in (401, 403, 404) or answer.status_code >= 500
        if refused or (operation.method == "get" and not answer.is_success):
            return f"{operation.id} as any {role}: {answer.status_code} {answer.text[:160]}"
        return None
    owned = world.of.get(role, {})
    missing = [p for p in operation.params if p not in owned and p not in COMMON]
    if missing:
        return f"{operation.id} as {role}: no {missing} this role owns in the world"
    values = {p: owned[p].value if p in owned else COMMON[p] for p in operation.params}
    answer = await call(client, operation, stranger, values=values, body=body)
    if answer.status_code not in (403, 404):
        return f"{operation.id} as a stranger {role}: {answer.status_code} {answer.text[:160]}"
    if operation.method == "get" and operation.id not in NOT_ISSUED_IN_THE_WORLD:
        first = next(p for p in operation.params if p in owned)
        owner = auth(role.value, **owned[first].owner)
        mine = await call(client, operation, owner, values=values)
        if not mine.is_success:
            return f"{operation.id} as the owning {role}: {mine.status_code} {mine.text[:160]}"
    return None


async def test_a_wrong_scope_token_of_the_right_role_reaches_no_one_elses_resource(
    system: System, http: Http, auth: Auth
) -> None:
    receiver = Receiver().start()
    try:
        world = build_world(http, auth, receiver)
    finally:
        receiver.stop()
    failures: list[str] = []
    for service, rules in RULES.items():
        async with httpx.AsyncClient(base_url=system.url(service), timeout=30) as client:
            spec = (await client.get("/openapi.json")).json()
            for operation in operations(spec):
                if not operation.params:
                    continue  # lists and creations: scoped by their own tests
                for role in _admitted(rules, operation):
                    if problem := await _probe(client, auth, operation, role, world):
                        failures.append(problem)
    assert failures == []
