"""Deterministic demo data of the projects side: Haining's fund and a season of projects.

What the sources say, made data:

- Haining (海宁市, 330481): "市财政从2016年起设立社工办项目专项经费1000万元,其中500万元主要
  用于购买专业社工服务,500万元用于社会组织培育发展奖补" — a fund of 10,000,000 yuan
  split into a social-work purchase pool and a cultivation-award pool (培育发展奖补),
  the latter paid out as direct grants to organizations.
- "全市专业社工服务项目涉及15个民生部门的工作职能": each of the 15 livelihood departments
  (`reference/code_lists.Department`) publishes one call, run by the agencies the source
  names ("上海公益、上海现代、上海屋里厢、浙江之江、杭州支点、杭州乐仁乐助、嘉兴孝慈以及
  孵化本土海宁紫微、海宁康颐"), with projects in every stage of the "五统一" lifecycle,
  and the three meetings (三会) held for each call's batch of projects.
- Luyang (庐阳区, 340103): "区财政每年出资150万元支持社区社会组织等各类组织参与社区治理
  服务" — a 1,500,000-yuan community-governance fund, its projects run by the district's
  social-work agencies ("实创"、"社彩"、"安泰"、"恒信"、"常青藤").

Everything is created through the services' own rule functions, acting as the people
who would (the bureau, the organizations, the evaluators, the finance bureau; the
workflow's decisions as the outcomes it would deliver), so every invariant holds:
pools never overdrawn, payments within contracts, stages in order. Dates follow the
day it is loaded (a season of the current year). The events those steps record are an
initial state, not news, and are dropped, except the workflow cases still awaiting a
decision, which the workflow then opens so that both sides show them.

`python -m services.projects.demo` loads it into a database without funds (and does
nothing otherwise); `make run` calls it once per database.
"""

from __future__ import annotations

import asyncio
import logging
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import ROUND_DOWN, Decimal

from sqlalchemy import delete, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from services.projects.applications import service as applications
from services.projects.applications.schemas import ApplicationCreate
from services.projects.base import infra
from services.projects.calls import service as calls
from services.projects.calls.models import Call
from services.projects.calls.schemas import CallCreate
from services.projects.closure.service import ClosureRequest, request_closure
from services.projects.core.models import Project, ProjectStage
from services.projects.demo_data import (
    AGENCY_NAMESPACE,
    CULTIVATION_AWARDS,
    CULTIVATION_POOL_FEN,
    HAINING_AGENCIES,
    HAINING_FUND_FEN,
    HAINING_FUND_NAME,
    HAINING_TOWNS,
    LUYANG_AGENCIES,
    LUYANG_FUND_FEN,
    LUYANG_FUND_NAME,
    LUYANG_SEASON,
    LUYANG_STREETS,
    PURCHASES,
    SEASON,
    SOCIAL_WORK_POOL_FEN,
    YUAN,
    agency,
)
from services.projects.evaluation import service as evaluation
from services.projects.evaluation.schemas import Declaration, EvaluationStart, EvaluatorIn, SheetIn
from services.projects.evaluation.scheme import SchemeContent, read_scheme_files, sync_schemes
from services.projects.funds import service as funds
from services.projects.funds.models import Fund, PoolPurpose
from services.projects.funds.schemas import FundCreate, FundOut, GrantCreate
from services.projects.meetings import service as meetings
from services.projects.meetings.models import MeetingKind
from services.projects.meetings.schemas import BatchMeetingCreate
from services.projects.outcomes.service import apply_outcome
from services.projects.payments import service as payments
from services.projects.payments.models import AttemptResult, PaymentRequest, PaymentStatus
from services.projects.payments.schemas import PaymentExecution, PaymentRequestCreate
from services.projects.procurement import contracts
from services.projects.procurement import service as procurement
from services.projects.procurement.schemas import BidCreate, ContractCreate, ProcurementCreate
from services.projects.reference.code_lists import (
    FINANCE_DEPARTMENT,
    Department,
    ProcurementMethod,
)
from services.projects.stations import service as station_service
from services.projects.stations.demo import create_haining_stations
from services.projects.supervision import service as supervision
from services.projects.supervision.models import ReportKind
from services.projects.supervision.schemas import ReportSubmission
from shared.auth import Principal, Role
from shared.clock import shanghai_today, utcnow
from shared.db import Database, database
from shared.errors import Conflict, Unprocessable
from shared.interservice import CASE_REQUESTED_EVENT, AdmissionCriteria, CaseOutcome
from shared.interservice import OrganizationSummary as Org

logger = logging.getLogger("sanshe.projects.demo")

# How far along the lifecycle a target stage lies, to tell which steps a project takes.
_ORDER = [
    ProjectStage.applied,
    ProjectStage.approved,
    ProjectStage.procuring,
    ProjectStage.contracted,
    ProjectStage.implementing,
    ProjectStage.evaluating,
    ProjectStage.evaluated,
    ProjectStage.closing,
    ProjectStage.closed,
]


@dataclass
class Planned:
    """One project of the demo and the stage it is driven to."""

    project: Project
    target: ProjectStage
    applicant: Org
    rival: Org
    price_fen: int

    def reaches(self, stage: ProjectStage) -> bool:
        return self.target in _ORDER and _ORDER.index(self.target) >= _ORDER.index(stage)


@dataclass
class Actors:
    bureau: Principal = field(
        default_factory=lambda: Principal(sub="demo:shegongban", role=Role.civil_affairs)
    )
    finance: Principal = field(
        default_factory=lambda: Principal(
            sub="demo:finance", role=Role.department_reviewer, department=FINANCE_DEPARTMENT
        )
    )
    evaluators: list[Principal] = field(
        default_factory=lambda: [
            Principal(sub=f"demo:evaluator-{n}", role=Role.evaluator) for n in range(1, 4)
        ]
    )

    @staticmethod
    def of(org: Org) -> Principal:
        return Principal(sub=f"demo:org:{org.id}", role=Role.organization, org_id=str(org.id))


class Season:
    """The demo being built in one session: dates, actors, and what awaits a decision."""

    def __init__(self, session: AsyncSession, *, today: date) -> None:
        self.session = session
        self.today = today
        self.year = today.year
        self.actors = Actors()
        self.orgs: dict[uuid.UUID, Org] = {}
        self.scheme: SchemeContent = read_scheme_files()[-1]
        self._serial = 0

    def serial(self) -> int:
        self._serial += 1
        return self._serial

    async def eligible(self, org_id: uuid.UUID, _: AdmissionCriteria) -> Org:
        """The registry's answer for a demo agency (the demo knows whom it invented)."""
        return self.orgs[org_id]

    async def outcome(self, case_type: str, subject_type: str, subject_id: uuid.UUID) -> None:
        await apply_outcome(
            self.session,
            CaseOutcome(
                case_id=uuid.uuid4(),
                case_type=case_type,
                subject_type=subject_type,
                subject_id=str(subject_id),
                outcome="approved",
                reason=None,
                decided_at=utcnow(),
                definition_version=1,
            ),
        )

    # --- funds --------------------------------------------------------------------------

    async def fund(
        self, name: str, total_fen: int, pools: list[tuple[str, PoolPurpose, int]]
    ) -> FundOut:
        return await funds.create_fund(
            self.session,
            principal=self.actors.bureau,
            data=FundCreate.model_validate(
                {
                    "year": self.year,
                    "name": name,
                    "total_fen": total_fen,
                    "pools": [{"name": n, "purpose": p, "amount_fen": a} for n, p, a in pools],
                }
            ),
        )

    # --- one call and its projects, stage by stage --------------------------------------

    async def call(
        self, fund: FundOut, pool_index: int, department: Department, title: str, ceiling_fen: int
    ) -> Call:
        _, item, targets, task = PURCHASES[department]
        return await calls.create(
            self.session,
            principal=self.actors.bureau,
            data=CallCreate(
                year=self.year,
                department=department,
                title=f"{self.year}年{title}项目申报通知",
                description=f"{title}:面向辖区开展专业社会工作服务,择优购买。",
                fund_id=fund.id,
                pool_id=fund.pools[pool_index].id,
                catalogue_item=item,
                service_targets=targets,
                central_task=task,
                budget_ceiling_fen=ceiling_fen,
                deadline_on=self.today + timedelta(days=30),
            ),
        )

    async def apply(self, call: Call, applicant: Org, title: str, budget_fen: int) -> Project:
        personnel = budget_fen * 6 // 10
        activities = budget_fen * 3 // 10
        data = ApplicationCreate.model_validate(
            {
                "title": title,
                "summary": f"{title}:需求评估、个案服务、小组活动与社区活动,培育志愿骨干。",
                "street_code": applicant.street_code,
                "service_targets": call.service_targets[:1],
                "central_task": call.central_task,
                "budget_lines": [
                    {
                        "category": "personnel",
                        "description": "社工人员服务费",
                        "amount_fen": personnel,
                    },
                    {
                        "category": "activities",
                        "description": "小组与社区活动",
                        "amount_fen": activities,
                    },
                    {
                        "category": "administration",
                        "description": "项目管理费",
                        "amount_fen": budget_fen - personnel - activities,
                    },
                ],
                "milestones": [
                    {
                        "title": "完成需求评估",
                        "due_on": (self.today - timedelta(days=150)).isoformat(),
                    },
                    {
                        "title": "完成中期服务",
                        "due_on": (self.today - timedelta(days=60)).isoformat(),
                    },
                    {
                        "title": "完成全部服务",
                        "due_on": (self.today + timedelta(days=25)).isoformat(),
                    },
                ],
            }
        )
        return await applications.apply(
            self.session,
            principal=self.actors.of(applicant),
            call_id=call.id,
            organization=applicant,
            data=data,
        )

    async def run(self, call: Call, planned: Sequence[Planned]) -> None:
        """Drive the call's projects together, as the 社工办 runs a batch."""
        session, bureau = self.session, self.actors.bureau
        for p in planned:
            if p.target in (ProjectStage.rejected, ProjectStage.withdrawn):
                await self._decide_application(p, p.target.value)
            elif p.target is not ProjectStage.applied:
                await self.outcome("project_application", "project", p.project.id)
        for p in (p for p in planned if p.reaches(ProjectStage.procuring)):
            await procurement.open_procurement(
                session,
                principal=bureau,
                project_id=p.project.id,
                data=ProcurementCreate(
                    method=ProcurementMethod.competitive_consultation, price_weight_pct=20
                ),
            )
            for bidder, price, technical in (
                (p.applicant, p.price_fen, Decimal("88")),
                (p.rival, p.price_fen + 3_000 * YUAN, Decimal("76")),
            ):
                await procurement.add_bid(
                    session,
                    principal=bureau,
                    project_id=p.project.id,
                    data=BidCreate(
                        bidder_org_id=bidder.id, price_fen=price, technical_score=technical
                    ),
                    check_eligible=self.eligible,
                )
        for p in (p for p in planned if p.reaches(ProjectStage.contracted)):
            await procurement.award(
                session, principal=bureau, project_id=p.project.id, check_eligible=self.eligible
            )
            await contracts.sign(
                session,
                principal=bureau,
                project_id=p.project.id,
                data=ContractCreate.model_validate(
                    {
                        "number": f"{call.year}-GM-{self.serial():03d}",
                        "signed_on": self.today - timedelta(days=215),
                        "start_on": self.today - timedelta(days=210),
                        "end_on": self.today + timedelta(days=30),
                        "schedule": [
                            {
                                "percent": 30,
                                "trigger": "contract_signed",
                                "description": "签约后支付30%",
                            },
                            {
                                "percent": 40,
                                "trigger": "mid_term_supervision",
                                "description": "中期督导后支付40%",
                            },
                            {
                                "percent": 30,
                                "trigger": "evaluation_passed",
                                "description": "评估合格后支付30%",
                            },
                        ],
                    }
                ),
            )
        starting = [p for p in planned if p.reaches(ProjectStage.implementing)]
        await self._meeting(call, MeetingKind.press_conference, starting, days_ago=200)
        for p in starting:
            await meetings.initiate(session, principal=bureau, project_id=p.project.id)
            await self._pay(p, seq=1)
        supervised = [p for p in planned if p.reaches(ProjectStage.evaluating)]
        for p in supervised:
            await self._submit_mid_term(p)
        await self._meeting(call, MeetingKind.supervision_meeting, supervised, days_ago=90)
        for p in supervised:
            await self._pay(p, seq=2)
            await self._evaluate(p)
        concluded = [p for p in planned if p.reaches(ProjectStage.evaluated)]
        for p in concluded:
            await evaluation.conclude(session, principal=bureau, project_id=p.project.id)
            await self._pay(p, seq=3)
        closing = [p for p in planned if p.reaches(ProjectStage.closing)]
        await self._meeting(call, MeetingKind.evaluation_briefing, closing, days_ago=5)
        for p in closing:
            await request_closure(
                session,
                principal=self.actors.of(p.applicant),
                project_id=p.project.id,
                data=ClosureRequest(summary="服务全部完成,结项报告与财务决算已提交。"),
            )
            if p.target is ProjectStage.closed:
                await self.outcome("project_closure", "project", p.project.id)

    async def _decide_application(self, p: Planned, outcome: str) -> None:
        await apply_outcome(
            self.session,
            CaseOutcome(
                case_id=uuid.uuid4(),
                case_type="project_application",
                subject_type="project",
                subject_id=str(p.project.id),
                outcome="rejected" if outcome == "rejected" else "withdrawn",
                reason="申报材料与申报通知要求不符" if outcome == "rejected" else "申报单位撤回",
                decided_at=utcnow(),
                definition_version=1,
            ),
        )

    async def _meeting(
        self, call: Call, kind: MeetingKind, planned: Sequence[Planned], *, days_ago: int
    ) -> None:
        """One of the three meetings (三会), held by the 社工办 for the call's batch."""
        if not planned:
            return
        held_on = self.today - timedelta(days=days_ago)
        data = BatchMeetingCreate.model_validate(
            {
                "kind": kind,
                "project_ids": [p.project.id for p in planned],
                "held_at": f"{held_on.isoformat()}T09:30:00+08:00",
                "location": "市民政局三楼会议室",
                "attendees": [
                    {"name": "王主任", "organization": "市委社工办", "role": "主持人"},
                    *(
                        {
                            "name": f"{p.applicant.name[:2]}项目负责人",
                            "organization": p.applicant.name,
                        }
                        for p in planned
                    ),
                ],
                "minutes": f"{call.title}:会议通报了本批项目的目标、进展与监督安排。",
                "documents": [{"title": "项目公示", "url": "https://files.example.cn/notice.pdf"}],
            }
        )
        await meetings.hold(self.session, principal=self.actors.bureau, call_id=call.id, data=data)

    async def _submit_mid_term(self, p: Planned) -> None:
        reports = await supervision.reports(
            self.session, principal=self.actors.bureau, project_id=p.project.id
        )
        mid_term = next(r for r in reports if r.kind is ReportKind.mid_term)
        await supervision.submit_report(
            self.session,
            principal=self.actors.of(p.applicant),
            project_id=p.project.id,
            report_id=mid_term.id,
            data=ReportSubmission(content="中期服务按计划推进,个案与小组服务均达到进度要求。"),
        )

    async def _pay(self, p: Planned, *, seq: int) -> None:
        contract = await contracts.contract_of(self.session, p.project)
        tranche = (await contracts.tranches_of(self.session, contract.id))[seq - 1]
        request = await payments.request_payment(
            self.session,
            principal=self.actors.of(p.applicant),
            project_id=p.project.id,
            data=PaymentRequestCreate(tranche_id=tranche.id),
        )
        await self.outcome("payment_request", "payment_request", request.id)
        await payments.execute(
            self.session,
            principal=self.actors.finance,
            project_id=p.project.id,
            request_id=request.id,
            data=PaymentExecution(
                result=AttemptResult.succeeded, bank_reference=f"HNZF{self.serial():08d}"
            ),
        )

    async def _evaluate(self, p: Planned) -> None:
        """SPPE: three evaluators declare no conflict and score (all but the evaluating
        ones then see the bureau conclude)."""
        project_id = p.project.id
        await evaluation.start(
            self.session,
            principal=self.actors.bureau,
            project_id=project_id,
            data=EvaluationStart(
                evaluators=[
                    EvaluatorIn(sub=e.sub, name=f"评估专家{n}")
                    for n, e in enumerate(self.actors.evaluators, start=1)
                ]
            ),
        )
        # Scores between 80 % and 95 % of each indicator, differing by project and expert.
        base = Decimal(80 + (self.serial() * 7) % 12) / 100
        for n, evaluator in enumerate(self.actors.evaluators):
            await evaluation.declare(
                self.session,
                principal=evaluator,
                project_id=project_id,
                data=Declaration(has_conflict=False, statement="本人与被评估机构无利害关系。"),
            )
            await evaluation.submit_sheet(
                self.session,
                principal=evaluator,
                project_id=project_id,
                data=self._sheet(base + Decimal(n) / 100),
            )

    def _sheet(self, fraction: Decimal) -> SheetIn:
        half = Decimal("0.5")
        points = {
            i.code: (i.max_points * fraction / half).quantize(Decimal(1), ROUND_DOWN) * half
            for i in self.scheme.indicators
        }
        return SheetIn(indicator_points=points, adjustment_points={}, comments="现场查看与材料审核")


async def _stations(season: Season, hosts: Sequence[Org], projects: Sequence[Project]) -> None:
    """A social-work station per Haining town (一镇一街道一社会工作站), run by the demo's
    agencies, each listing its town's projects as far as the 123X quota allows."""
    stations = await create_haining_stations(
        season.session, hosts=[(host.id, host.name) for host in hosts]
    )
    by_town = {station.street_code: station for station in stations}
    for project in projects:
        station = by_town.get(project.street_code or "")
        if station is None:
            continue
        try:
            await station_service.attach(
                season.session,
                principal=season.actors.bureau,
                station_id=station.id,
                project_id=project.id,
            )
        except (Conflict, Unprocessable):
            # A full slot, or a project not listable (rejected, withdrawn): the demo keeps
            # what the rules admit, as the bureau would.
            continue


async def _haining(season: Season) -> None:
    fund = await season.fund(
        HAINING_FUND_NAME,
        HAINING_FUND_FEN,
        [
            ("专业社工服务购买", PoolPurpose.social_work_purchase, SOCIAL_WORK_POOL_FEN),
            ("社会组织培育发展奖补", PoolPurpose.cultivation_reward, CULTIVATION_POOL_FEN),
        ],
    )
    towns = HAINING_TOWNS
    agencies = [agency(name, towns[n % len(towns)][0]) for n, name in enumerate(HAINING_AGENCIES)]
    season.orgs.update({a.id: a for a in agencies})
    served = 0
    haining_projects: list[Project] = []
    for n, (department, stages) in enumerate(zip(Department, SEASON, strict=True)):
        title, *_ = PURCHASES[department]
        call = await season.call(fund, 0, department, title, ceiling_fen=300_000 * YUAN)
        planned = []
        for k, stage in enumerate(stages):
            applicant = agencies[(n + k) % len(agencies)]
            rival = agencies[(n + k + 4) % len(agencies)]
            town_code, town = towns[served % len(towns)]
            served += 1
            at_town = applicant.model_copy(update={"street_code": town_code})
            season.orgs[applicant.id] = applicant
            budget = (180_000 + 10_000 * ((n * 3 + k) % 9)) * YUAN
            project = await season.apply(call, at_town, f"{town}{title}", budget)
            planned.append(Planned(project, stage, applicant, rival, budget - 5_000 * YUAN))
        await season.run(call, planned)
        haining_projects += [p.project for p in planned]
    await _stations(season, agencies, haining_projects)
    for name, yuan, note in CULTIVATION_AWARDS:
        await funds.grant(
            season.session,
            principal=season.actors.bureau,
            fund_id=fund.id,
            data=GrantCreate(
                pool_id=fund.pools[1].id
                if fund.pools[1].purpose is PoolPurpose.cultivation_reward
                else fund.pools[0].id,
                amount_fen=yuan * YUAN,
                org_id=uuid.uuid5(AGENCY_NAMESPACE, name),
                note=f"{note}:{name}",
            ),
        )


async def _luyang(season: Season) -> None:
    fund = await season.fund(
        LUYANG_FUND_NAME,
        LUYANG_FUND_FEN,
        [("社区社会组织参与社区治理", PoolPurpose.community_governance, LUYANG_FUND_FEN)],
    )
    agencies = [
        agency(name, street) for name, street in zip(LUYANG_AGENCIES, LUYANG_STREETS, strict=True)
    ]
    season.orgs.update({a.id: a for a in agencies})
    call = await season.call(
        fund, 0, Department.civil_affairs, "庐阳区社区社会组织参与社区治理服务", 300_000 * YUAN
    )
    planned = []
    for k, stage in enumerate(LUYANG_SEASON):
        applicant = agencies[k]
        budget = (200_000 + 20_000 * k) * YUAN
        project = await season.apply(call, applicant, f"{applicant.name[3:5]}社区治理服务", budget)
        planned.append(
            Planned(
                project, stage, applicant, agencies[(k + 1) % len(agencies)], budget - 10_000 * YUAN
            )
        )
    await season.run(call, planned)


async def _keep_only_pending_cases(session: AsyncSession) -> None:
    """The demo's events are its initial state: only the cases still awaiting a decision
    (applications, payment requests, closures) go to the workflow."""
    pending: set[str] = set()
    for project in await session.scalars(
        select(Project).where(Project.stage.in_([ProjectStage.applied, ProjectStage.closing]))
    ):
        command = (
            project.application_command_id
            if project.stage is ProjectStage.applied
            else project.closure_command_id
        )
        pending.add(str(command))
    requested = select(PaymentRequest.command_id).where(
        PaymentRequest.status == PaymentStatus.requested
    )
    pending.update(str(c) for c in await session.scalars(requested))
    outbox = infra.outbox
    await session.execute(
        delete(outbox).where(
            ~(
                (outbox.c.event_type == CASE_REQUESTED_EVENT)
                & outbox.c.payload["command_id"].astext.in_(pending or {""})
            )
        )
    )


async def load_if_empty(*, db: Database = database, today: date | None = None) -> bool:
    """Load the demo into a database without funds; False if it already had some."""
    async with db.transaction() as session:
        if (await session.execute(select(func.count()).select_from(Fund))).scalar_one():
            return False
        await sync_schemes(session, read_scheme_files())
        season = Season(session, today=today or shanghai_today())
        await _haining(season)
        await _luyang(season)
        await _keep_only_pending_cases(session)
        projects = (await session.execute(select(func.count()).select_from(Project))).scalar_one()
    logger.info("projects demo data loaded", extra={"projects": projects})
    return True


async def _main() -> None:
    loaded = await load_if_empty()
    await database.dispose()
    print("projects demo data loaded" if loaded else "funds exist: projects demo data left alone")


if __name__ == "__main__":
    asyncio.run(_main())
