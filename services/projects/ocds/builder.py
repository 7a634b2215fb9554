"""A project's contracting process as it stands, in OCDS 1.1 terms (one release's content).

`snapshot` states everything known at the moment it runs: each published release is a
full snapshot, so any one of them can be read alone, and merging them (the record's
`compiledRelease`) yields the latest state. It never reads the clock: the release's id,
date and tag are the publisher's (`releases.py`).

Mapping: the application's budget is `planning.budget`; the procurement is `tender`
(method mapped to OCDS's open/selective/limited/direct, details in Chinese); the
winning bid is the `award`; the contract carries its period, value and approved
amendments; once the project is implementing, `implementation` lists each ledger entry
as a transaction, each tranche (type `financing`) and proposal deliverable (type
`delivery`) as a milestone, and the SPPE result in the `sppeEvaluation` extension field.

Dates: moments are given in Shanghai time (`+08:00`); a calendar day (a contract period,
a due date) is the Shanghai day, from 00:00:00 to 23:59:59 `+08:00` — never UTC
midnight, which is 08:00 in Shanghai and would move an end date's last day away.
"""

from __future__ import annotations

import uuid
from collections import defaultdict
from datetime import date, datetime, time
from decimal import Decimal
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from services.projects.applications.models import ProjectMilestone
from services.projects.core.models import Project, ProjectStage
from services.projects.evaluation.models import (
    Evaluation,
    EvaluationStatus,
    EvaluatorAssignment,
    ScoreSheet,
)
from services.projects.evaluation.scheme import SchemeContent
from services.projects.ocds.models import OcdsParty
from services.projects.payments.models import LedgerEntry
from services.projects.procurement.models import (
    AmendmentStatus,
    Bid,
    Contract,
    ContractAmendment,
    ContractStatus,
    Procurement,
    Tranche,
)
from services.projects.reference.code_lists import (
    DEPARTMENT_LABELS,
    OCDS_METHOD,
    PROCUREMENT_METHOD_LABELS,
)
from shared.clock import SHANGHAI

BUREAU = {"id": "dept-civil_affairs-bureau", "name": "民政局(社工办)"}
# The scheme of the 统一社会信用代码 (GB 32100-2015) in org-id.guide's list.
USCC_SCHEME = "CN-USCC"
# The stages in which the contract is being carried out (or was): `implementation` shown.
IMPLEMENTED = frozenset(
    {
        ProjectStage.implementing,
        ProjectStage.evaluating,
        ProjectStage.evaluated,
        ProjectStage.closing,
        ProjectStage.closed,
    }
)
# OCDS tender status of each procurement status (a status added later reads as active).
TENDER_STATUS = {"open": "active", "awarded": "complete", "cancelled": "cancelled"}


def value(fen: int) -> dict[str, Any]:
    """Money in yuan as OCDS wants it (integer fen divided exactly, then as a number)."""
    return {"amount": float(Decimal(fen) / 100), "currency": "CNY"}


def moment(at: datetime) -> str:
    """An instant in Shanghai time: `2026-07-01T09:30:00.123456+08:00`."""
    return at.astimezone(SHANGHAI).isoformat()


def day_start(day: date) -> str:
    """The first second of a Shanghai calendar day: `2026-07-01T00:00:00+08:00`."""
    return datetime.combine(day, time(0), tzinfo=SHANGHAI).isoformat()


def day_end(day: date) -> str:
    """The last second of a Shanghai calendar day: `2027-06-30T23:59:59+08:00`."""
    return datetime.combine(day, time(23, 59, 59), tzinfo=SHANGHAI).isoformat()


def _org(org_id: object, name: str) -> dict[str, str]:
    return {"id": f"org-{org_id}", "name": name}


class _Parties:
    """Every party with all its roles; organizations the registry knows get their USCC."""

    def __init__(self) -> None:
        self._roles: dict[str, set[str]] = defaultdict(set)
        self._names: dict[str, str] = {}

    def add(self, ref: dict[str, str], *roles: str) -> dict[str, str]:
        self._names[ref["id"]] = ref["name"]
        self._roles[ref["id"]].update(roles)
        return ref

    async def out(self, session: AsyncSession) -> list[dict[str, Any]]:
        org_ids = [
            uuid.UUID(key.removeprefix("org-")) for key in self._names if key.startswith("org-")
        ]
        known = {
            f"org-{party.org_id}": party
            for party in (
                await session.execute(select(OcdsParty).where(OcdsParty.org_id.in_(org_ids)))
            ).scalars()
        }
        parties = []
        for key, name in self._names.items():
            party: dict[str, Any] = {"id": key, "name": name}
            registered = known.get(key)
            if registered is not None and registered.uscc:
                party["identifier"] = {
                    "scheme": USCC_SCHEME,
                    "id": registered.uscc,
                    "legalName": registered.legal_name,
                }
            party["roles"] = sorted(self._roles[key])
            parties.append(party)
        return parties


async def snapshot(session: AsyncSession, project: Project) -> dict[str, Any]:
    """The release content of the project's contracting process as it stands now."""
    parties = _Parties()
    buyer = parties.add(
        {"id": f"dept-{project.department.value}", "name": DEPARTMENT_LABELS[project.department]},
        "buyer",
    )
    parties.add(BUREAU, "procuringEntity", "payer")
    parties.add(_org(project.org_id, project.org_name), "tenderer")
    content: dict[str, Any] = {
        "initiationType": "tender",
        "language": "zh",
        "buyer": buyer,
        "planning": {
            "rationale": project.summary[:2000],
            "budget": {
                "id": str(project.fund_id),
                "description": f"{project.year} 专项资金",
                "amount": value(project.requested_fen),
                "project": project.title,
                "projectID": str(project.id),
            },
        },
    }
    # The latest procurement: a cancelled one is followed by the project's next, if any.
    procurement = await session.scalar(
        select(Procurement)
        .where(Procurement.project_id == project.id)
        .order_by(Procurement.opened_at.desc())
        .limit(1)
    )
    if procurement is not None:
        await _procurement(session, project, procurement, parties, content)
    content["parties"] = await parties.out(session)
    return content


async def _procurement(
    session: AsyncSession,
    project: Project,
    procurement: Procurement,
    parties: _Parties,
    content: dict[str, Any],
) -> None:
    bids = list(
        (
            await session.execute(
                select(Bid).where(Bid.procurement_id == procurement.id).order_by(Bid.submitted_at)
            )
        ).scalars()
    )
    tenderers = [parties.add(_org(b.bidder_org_id, b.bidder_name), "tenderer") for b in bids]
    tender: dict[str, Any] = {
        "id": str(procurement.id),
        "title": project.title,
        "status": TENDER_STATUS.get(procurement.status.value, "active"),
        "procurementMethod": OCDS_METHOD[procurement.method],
        "procurementMethodDetails": PROCUREMENT_METHOD_LABELS[procurement.method],
        "mainProcurementCategory": "services",
        "awardCriteria": "priceOnly" if procurement.price_weight_pct == 100 else "ratedCriteria",
        "awardCriteriaDetails": f"综合评分法,价格分权重 {procurement.price_weight_pct}%",
        "value": value(procurement.budget_fen),
        "procuringEntity": BUREAU,
        "tenderers": tenderers,
        "numberOfTenderers": len(tenderers),
        "tenderPeriod": {"startDate": moment(procurement.opened_at)},
    }
    if procurement.notice_url:
        tender["documents"] = [
            {"id": "notice", "documentType": "tenderNotice", "url": procurement.notice_url}
        ]
    content["tender"] = tender
    winner = next((b for b in bids if b.id == procurement.awarded_bid_id), None)
    if winner is None or procurement.awarded_at is None:
        return
    supplier = parties.add(_org(winner.bidder_org_id, winner.bidder_name), "supplier", "payee")
    content["awards"] = [
        {
            "id": str(winner.id),
            "title": project.title,
            "status": "active",
            "date": moment(procurement.awarded_at),
            "value": value(winner.price_fen),
            "suppliers": [supplier],
        }
    ]
    contract = await session.scalar(select(Contract).where(Contract.project_id == project.id))
    if contract is not None:
        content["contracts"] = [await _contract(session, project, contract, winner, supplier)]


async def _contract(
    session: AsyncSession,
    project: Project,
    contract: Contract,
    winner: Bid,
    supplier: dict[str, str],
) -> dict[str, Any]:
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
    body: dict[str, Any] = {
        "id": str(contract.id),
        "awardID": str(winner.id),
        "title": f"{project.title}({contract.number})",
        "status": "terminated" if contract.status is ContractStatus.closed else "active",
        "period": {"startDate": day_start(contract.start_on), "endDate": day_end(contract.end_on)},
        "value": value(contract.amount_fen),
        "dateSigned": day_start(contract.signed_on),
    }
    if amendments:
        body["amendments"] = [
            {
                "id": str(a.id),
                "date": moment(a.decided_at or a.proposed_at),
                "rationale": a.rationale,
                "description": f"合同第{a.resulting_version}版",
            }
            for a in amendments
        ]
    if project.stage in IMPLEMENTED:
        body["implementation"] = await _implementation(session, project, contract, supplier)
    return body


async def _implementation(
    session: AsyncSession, project: Project, contract: Contract, supplier: dict[str, str]
) -> dict[str, Any]:
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
                "date": moment(entry.paid_at),
                "value": value(entry.amount_fen),
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
                "dueDate": day_end(m.due_on),
                # Met once confirmed (supervision/milestones.py), on the day achieved;
                # still unmet when the project closes, it was not met.
                "status": "met"
                if m.met_at
                else ("notMet" if project.stage is ProjectStage.closed else "scheduled"),
                **({"dateMet": day_start(m.achieved_on)} if m.met_at and m.achieved_on else {}),
            }
            for m in deliverables
        ],
    }
    evaluation = await session.scalar(select(Evaluation).where(Evaluation.project_id == project.id))
    if evaluation is not None and evaluation.status is EvaluationStatus.concluded:
        implementation["sppeEvaluation"] = await _sppe(session, evaluation)
    return implementation


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
        milestone["dateMet"] = moment(tranche.milestone_met_at)
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
        result["dateConcluded"] = moment(evaluation.concluded_at)
    return result
