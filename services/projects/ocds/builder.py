"""A project's contracting process as OCDS 1.1 releases (one per stage reached).

Mapping: the application's budget is `planning.budget`; the procurement is `tender`
(method mapped to OCDS's open/selective/limited/direct, details in Chinese); the
winning bid is the `award`; the contract carries its period, value and approved
amendments; `implementation` lists each ledger entry as a transaction, each tranche
(type `financing`) and proposal deliverable (type `delivery`) as a milestone, and the
SPPE result in the `sppeEvaluation` extension field.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import UTC, date, datetime, time
from decimal import Decimal
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from services.projects.applications.models import ProjectMilestone
from services.projects.codes import DEPARTMENT_LABELS, OCDS_METHOD, PROCUREMENT_METHOD_LABELS
from services.projects.core.models import Project
from services.projects.evaluation.models import (
    Evaluation,
    EvaluationStatus,
    EvaluatorAssignment,
    ScoreSheet,
)
from services.projects.evaluation.scheme import SchemeContent
from services.projects.payments.models import LedgerEntry
from services.projects.procurement.models import (
    AmendmentStatus,
    Bid,
    Contract,
    ContractAmendment,
    ContractStatus,
    Procurement,
    ProcurementStatus,
    Tranche,
)

OCID_PREFIX = "ocds-sanshe"
PUBLISHER = {"name": "三社 Sanshe 政府购买服务监管平台"}
EXTENSION_URL = "https://sanshe.example.cn/ocds/sppe/extension.json"
BUREAU = {"id": "dept-civil_affairs-bureau", "name": "民政局(社工办)"}


def _value(fen: int) -> dict[str, Any]:
    return {"amount": float(Decimal(fen) / 100), "currency": "CNY"}


def _iso(moment: datetime | date) -> str:
    if not isinstance(moment, datetime):
        moment = datetime.combine(moment, time(0), tzinfo=UTC)
    return moment.astimezone(UTC).isoformat().replace("+00:00", "Z")


def _org(org_id: object, name: str) -> dict[str, str]:
    return {"id": f"org-{org_id}", "name": name}


class _Parties:
    def __init__(self) -> None:
        self._roles: dict[str, set[str]] = defaultdict(set)
        self._names: dict[str, str] = {}

    def add(self, ref: dict[str, str], *roles: str) -> dict[str, str]:
        self._names[ref["id"]] = ref["name"]
        self._roles[ref["id"]].update(roles)
        return ref

    def out(self) -> list[dict[str, Any]]:
        return [
            {"id": key, "name": self._names[key], "roles": sorted(self._roles[key])}
            for key in self._names
        ]


async def release_package(session: AsyncSession, project: Project, *, uri: str) -> dict[str, Any]:
    ocid = f"{OCID_PREFIX}-{project.id}"
    parties = _Parties()
    buyer = parties.add(
        {"id": f"dept-{project.department.value}", "name": DEPARTMENT_LABELS[project.department]},
        "buyer",
    )
    parties.add(BUREAU, "procuringEntity", "payer")
    parties.add(_org(project.org_id, project.org_name), "tenderer")
    releases: list[dict[str, Any]] = []

    def release(tag: str, at: datetime | date, **sections: Any) -> dict[str, Any]:
        body = {
            "ocid": ocid,
            "id": f"{ocid}-{tag}",
            "date": _iso(at),
            "tag": [tag],
            "initiationType": "tender",
            "language": "zh",
            "buyer": buyer,
            **sections,
        }
        releases.append(body)
        return body

    release(
        "planning",
        project.created_at,
        planning={
            "rationale": project.summary[:2000],
            "budget": {
                "id": str(project.fund_id),
                "description": f"{project.year} 专项资金",
                "amount": _value(project.requested_fen),
                "project": project.title,
                "projectID": str(project.id),
            },
        },
    )
    procurement = await session.scalar(
        select(Procurement).where(Procurement.project_id == project.id)
    )
    if procurement is not None:
        bids = list(
            (
                await session.execute(select(Bid).where(Bid.procurement_id == procurement.id))
            ).scalars()
        )
        tenderers = [parties.add(_org(b.bidder_org_id, b.bidder_name), "tenderer") for b in bids]
        tender = {
            "id": str(procurement.id),
            "title": project.title,
            "status": "complete" if procurement.status is ProcurementStatus.awarded else "active",
            "procurementMethod": OCDS_METHOD[procurement.method],
            "procurementMethodDetails": PROCUREMENT_METHOD_LABELS[procurement.method],
            "mainProcurementCategory": "services",
            "awardCriteria": "priceOnly"
            if procurement.price_weight_pct == 100
            else "ratedCriteria",
            "awardCriteriaDetails": f"综合评分法,价格分权重 {procurement.price_weight_pct}%",
            "value": _value(procurement.budget_fen),
            "procuringEntity": BUREAU,
            "tenderers": tenderers,
            "numberOfTenderers": len(tenderers),
        }
        if procurement.notice_url:
            tender["documents"] = [
                {"id": "notice", "documentType": "tenderNotice", "url": procurement.notice_url}
            ]
        release("tender", procurement.opened_at, tender=tender)
        winner = next((b for b in bids if b.id == procurement.awarded_bid_id), None)
        if winner is not None and procurement.awarded_at is not None:
            supplier = parties.add(
                _org(winner.bidder_org_id, winner.bidder_name), "supplier", "payee"
            )
            award = {
                "id": str(winner.id),
                "title": project.title,
                "status": "active",
                "date": _iso(procurement.awarded_at),
                "value": _value(winner.price_fen),
                "suppliers": [supplier],
            }
            release(
                "award", procurement.awarded_at, tender={"id": str(procurement.id)}, awards=[award]
            )
            contract = await session.scalar(
                select(Contract).where(Contract.project_id == project.id)
            )
            if contract is not None:
                await _contract_releases(session, project, contract, winner, supplier, release)
    package = {
        "uri": uri,
        "version": "1.1",
        "publishedDate": _iso(datetime.now(UTC)),
        "publisher": PUBLISHER,
        "extensions": [EXTENSION_URL],
        "releases": releases,
    }
    for body in releases:
        body["parties"] = parties.out()
    return package


async def _contract_releases(
    session: AsyncSession,
    project: Project,
    contract: Contract,
    winner: Bid,
    supplier: dict[str, str],
    release: Any,
) -> None:
    amendments = list(
        (
            await session.execute(
                select(ContractAmendment)
                .where(
                    ContractAmendment.contract_id == contract.id,
                    ContractAmendment.status == AmendmentStatus.approved,
                )
                .order_by(ContractAmendment.decided_at)
            )
        ).scalars()
    )
    base: dict[str, Any] = {
        "id": str(contract.id),
        "awardID": str(winner.id),
        "title": f"{project.title}({contract.number})",
        "status": "terminated" if contract.status is ContractStatus.closed else "active",
        "period": {"startDate": _iso(contract.start_on), "endDate": _iso(contract.end_on)},
        "value": _value(contract.amount_fen),
        "dateSigned": _iso(contract.signed_on),
    }
    if amendments:
        base["amendments"] = [
            {
                "id": str(a.id),
                "date": _iso(a.decided_at or a.proposed_at),
                "rationale": a.rationale,
                "description": f"合同第{a.resulting_version}版",
            }
            for a in amendments
        ]
    release("contract", contract.created_at, contracts=[base])
    tranches = list(
        (
            await session.execute(
                select(Tranche).where(Tranche.contract_id == contract.id).order_by(Tranche.seq)
            )
        ).scalars()
    )
    deliverables = list(
        (
            await session.execute(
                select(ProjectMilestone)
                .where(ProjectMilestone.project_id == project.id)
                .order_by(ProjectMilestone.seq)
            )
        ).scalars()
    )
    ledger = list(
        (
            await session.execute(
                select(LedgerEntry)
                .where(LedgerEntry.project_id == project.id)
                .order_by(LedgerEntry.id)
            )
        ).scalars()
    )
    implementation: dict[str, Any] = {
        "transactions": [
            {
                "id": str(entry.id),
                "date": _iso(entry.paid_at),
                "value": _value(entry.amount_fen),
                "payer": BUREAU,
                "payee": supplier,
            }
            for entry in ledger
        ],
        "milestones": [_tranche_milestone(t) for t in tranches]
        + [
            {
                "id": f"deliverable-{m.seq}",
                "title": m.title,
                "type": "delivery",
                "dueDate": _iso(m.due_on),
                "status": "met" if m.met_at else "scheduled",
                **({"dateMet": _iso(m.met_at)} if m.met_at else {}),
            }
            for m in deliverables
        ],
    }
    evaluation = await session.scalar(select(Evaluation).where(Evaluation.project_id == project.id))
    if evaluation is not None and evaluation.status is EvaluationStatus.concluded:
        implementation["sppeEvaluation"] = await _sppe(session, evaluation)
    latest = max([contract.created_at, *(e.paid_at for e in ledger)])
    if evaluation is not None and evaluation.concluded_at is not None:
        latest = max(latest, evaluation.concluded_at)
    release("implementation", latest, contracts=[{**base, "implementation": implementation}])


def _tranche_milestone(tranche: Tranche) -> dict[str, Any]:
    milestone: dict[str, Any] = {
        "id": f"tranche-{tranche.seq}",
        "title": f"第{tranche.seq}期付款({tranche.percent}%)",
        "type": "financing",
        "code": tranche.trigger.value,
        "description": tranche.description or tranche.trigger.value,
        "status": "notMet"
        if tranche.withheld_at
        else ("met" if tranche.milestone_met_at else "scheduled"),
    }
    if tranche.milestone_met_at:
        milestone["dateMet"] = _iso(tranche.milestone_met_at)
    return milestone


async def _sppe(session: AsyncSession, evaluation: Evaluation) -> dict[str, Any]:
    scheme = SchemeContent.model_validate(evaluation.scheme)
    cleared = select(EvaluatorAssignment.id).where(
        EvaluatorAssignment.evaluation_id == evaluation.id
    )
    sheets = list(
        (
            await session.execute(
                select(ScoreSheet).where(
                    ScoreSheet.evaluation_id == evaluation.id,
                    ScoreSheet.round == evaluation.round,
                    ScoreSheet.assignment_id.in_(cleared),
                )
            )
        ).scalars()
    )
    dimensions = []
    for dimension in scheme.dimensions:
        codes = {i.code for i in dimension.indicators}
        points = [
            sum((Decimal(v) for k, v in s.indicator_points.items() if k in codes), Decimal(0))
            for s in sheets
        ]
        mean: Decimal = sum(points, Decimal(0)) / len(points) if points else Decimal(0)
        dimensions.append(
            {
                "code": dimension.code,
                "score": float(mean.quantize(Decimal("0.01"))),
                "maxPoints": float(dimension.max_points),
            }
        )
    assert evaluation.composite is not None and evaluation.grade is not None
    result: dict[str, Any] = {
        "schemeVersion": evaluation.scheme_version,
        "composite": float(evaluation.composite),
        "grade": evaluation.grade.value,
        "rule": evaluation.rule,
        "evaluators": len(sheets),
        "rounds": evaluation.round,
        "dimensions": dimensions,
    }
    if evaluation.concluded_at:
        result["dateConcluded"] = _iso(evaluation.concluded_at)
    return result
