"""The documents a case gives its applicant, built from the case's own data.

Seed (海宁): 创新"最多跑一次"审批服务……缩短纵向审批时限，简化横向核验流程。 What an
applicant is told must be complete and in writing: the one-time notice (一次性告知书)
lists every material every department asked for, merged; the acceptance notice
(受理通知书), the decision (准予/不予行政许可决定书) and, for a granted registration,
the certificate data (登记证书). Each names its number, its date (Asia/Shanghai), the
applicant and the case number. No I/O here: `repository` reads, `rendering` draws.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import date, datetime
from typing import Any

from services.workflow.cases.models import ApprovalCase, CaseState
from services.workflow.documents.schemas import CertificateData, DocumentKind
from services.workflow.reference.labels import LABELS, Department
from shared.clock import shanghai_date

AUTHORITY = "庐阳区民政局"
DEPARTMENT_NAMES = LABELS[Department]
TITLES: dict[DocumentKind, str] = {
    DocumentKind.one_time_notice: "一次性告知书",
    DocumentKind.acceptance_notice: "受理通知书",
    DocumentKind.decision: "行政许可决定书",
    DocumentKind.registration_certificate: "社会组织登记证书",
}
# The word of each kind in its document number (文号), e.g. 庐民告〔2026〕1A2B3C4D号.
_NUMBER_WORDS: dict[DocumentKind, str] = {
    DocumentKind.one_time_notice: "告",
    DocumentKind.acceptance_notice: "受",
    DocumentKind.decision: "许",
    DocumentKind.registration_certificate: "证",
}


@dataclass(frozen=True)
class Document:
    kind: DocumentKind
    title: str
    number: str
    issued_on: date
    applicant: str
    case_number: str
    case_title: str
    paragraphs: list[str] = field(default_factory=list)
    items: list[str] = field(default_factory=list)  # numbered, after the paragraphs
    closing: list[str] = field(default_factory=list)


def case_number(case: ApprovalCase) -> str:
    """The case number (办件编号) printed on every document: submission day and id."""
    return f"{shanghai_date(case.submitted_at):%Y%m%d}-{case.id.hex[:8].upper()}"


def document_number(case: ApprovalCase, kind: DocumentKind, issued_on: date) -> str:
    # Derived, not counted: the same case and kind always print the same number.
    return f"庐民{_NUMBER_WORDS[kind]}〔{issued_on.year}〕{case.id.hex[:8].upper()}号"


def available(case: ApprovalCase) -> list[DocumentKind]:
    kinds = []
    if case.supplement_notice:
        kinds.append(DocumentKind.one_time_notice)
    if case.accepted_at is not None:
        kinds.append(DocumentKind.acceptance_notice)
    if case.state in (CaseState.approved, CaseState.rejected) and case.decided_at is not None:
        kinds.append(DocumentKind.decision)
    if case.state is CaseState.approved and case.case_type == "organization_registration":
        kinds.append(DocumentKind.registration_certificate)
    return kinds


def issued_at(case: ApprovalCase, kind: DocumentKind, notice_sent_at: datetime | None) -> datetime:
    if kind is DocumentKind.one_time_notice:
        return notice_sent_at or case.submitted_at
    if kind is DocumentKind.acceptance_notice:
        return case.accepted_at or case.submitted_at
    return case.decided_at or case.submitted_at


def build(case: ApprovalCase, kind: DocumentKind, *, notice_sent_at: datetime | None) -> Document:
    """The document of this kind (the caller checked it is `available`)."""
    issued_on = shanghai_date(issued_at(case, kind, notice_sent_at))
    base = Document(
        kind=kind,
        title=TITLES[kind],
        number=document_number(case, kind, issued_on),
        issued_on=issued_on,
        applicant=case.applicant_name,
        case_number=case_number(case),
        case_title=case.title,
    )
    if kind is DocumentKind.one_time_notice:
        return replace(
            base,
            paragraphs=[
                f"{case.applicant_name}：",
                f"你（单位）申请的“{case.title}”，经审查，申请材料不齐全或者不符合法定形式。"
                "现将需要补正的全部材料一次性告知如下：",
            ],
            items=[_notice_line(item) for item in case.supplement_notice or []],
            closing=[
                "请一次性补齐上述材料后重新提交。补正仅此一次，补正后仍不齐全的，将依法作出决定。"
            ],
        )
    if kind is DocumentKind.acceptance_notice:
        pending = [m for m in case.pending_materials or [] if not m.get("provided_at")]
        paragraphs = [
            f"{case.applicant_name}：",
            f"你（单位）申请的“{case.title}”，申请材料齐全、符合法定形式，本机关决定予以受理。",
        ]
        if case.pending_materials:
            due = shanghai_date(case.pending_due_at) if case.pending_due_at else None
            paragraphs.append(
                "本件为容缺受理，以下材料须在承诺期限"
                + (f"（{due:%Y年%m月%d日}前）" if due else "")
                + "内补交，补交不计为补正："
            )
        return replace(
            base,
            paragraphs=paragraphs,
            items=[str(m.get("name")) for m in (pending or case.pending_materials or [])],
        )
    if kind is DocumentKind.decision:
        granted = case.state is CaseState.approved
        verdict = "准予行政许可" if granted else "不予行政许可"
        paragraphs = [
            f"{case.applicant_name}：",
            f"你（单位）申请的“{case.title}”，经各部门联合审查，本机关决定{verdict}。",
        ]
        if not granted:
            paragraphs.append(f"理由：{case.outcome_reason or '不符合法定条件。'}")
            paragraphs.append(
                "如不服本决定，可自收到本决定书之日起六十日内申请行政复议，"
                "或者六个月内提起行政诉讼。"
            )
        title = ("准予" if granted else "不予") + TITLES[kind]
        return replace(base, title=title, paragraphs=paragraphs)
    data = certificate(case)
    return replace(
        base,
        paragraphs=[
            f"名称：{data.organization_name}",
            f"证书编号：{data.certificate_number}",
            f"准予决定书文号：{data.decision_number}",
            f"登记管理机关：{data.issuing_authority}",
        ],
    )


def certificate(case: ApprovalCase) -> CertificateData:
    issued_on = shanghai_date(case.decided_at or case.submitted_at)
    return CertificateData(
        certificate_number=document_number(case, DocumentKind.registration_certificate, issued_on),
        organization_name=case.applicant_name,
        case_id=case.id,
        case_number=case_number(case),
        applicant_org_id=case.applicant_org_id,
        issuing_authority=AUTHORITY,
        issued_on=issued_on,
        decision_number=document_number(case, DocumentKind.decision, issued_on),
    )


def _notice_line(item: dict[str, Any]) -> str:
    departments: list[str] = item.get("departments") or []
    names = [DEPARTMENT_NAMES.get(d, d) for d in departments]
    asked_by = f"（提出部门：{'、'.join(names)}）" if names else ""
    return f"{item.get('message')}{asked_by}"
