"""The applicant's documents, messages and 容缺受理, over HTTP with the roles people hold."""

from __future__ import annotations

import io
import json
import uuid
from collections.abc import Callable
from datetime import timedelta
from typing import Any

import httpx
from pypdf import PdfReader

from services.workflow.cases.commands import precheck
from services.workflow.cases.sweeps import expire_pending
from shared.db import database, utcnow
from tests.workflow.helpers import materials_for, tasks

CASES = "/api/v1/cases"
DEPARTMENTS = ("civil_affairs_registration", "public_security", "market_regulation")


def pdf_text(content: bytes) -> str:
    text = "".join(page.extract_text() for page in PdfReader(io.BytesIO(content)).pages)
    return "".join(text.split())


async def _file(
    workflow: httpx.AsyncClient,
    applicant: dict[str, str],
    *,
    leave_out: tuple[str, ...] = (),
    pending: list[str] | None = None,
) -> httpx.Response:
    body: dict[str, Any] = {
        "command_id": str(uuid.uuid4()),
        "case_type": "organization_registration",
        "title": "庐阳区邻里互助协会成立登记",
        "applicant_name": "庐阳区邻里互助协会（筹）",
        "materials": materials_for("organization_registration", leave_out=leave_out),
    }
    if pending is not None:
        body["pending_materials"] = pending
    return await workflow.post(CASES, json=body, headers=applicant)


async def _prechecked(case_id: str) -> None:
    async with database.transaction() as session:
        await precheck(session, case_id=uuid.UUID(case_id))


async def test_the_applicant_reads_its_own_notice_and_no_one_else_does(
    workflow: httpx.AsyncClient, auth: Callable[..., dict[str, str]], org_id: str
) -> None:
    applicant = auth("organization", org_id=org_id)
    filed = await _file(workflow, applicant, leave_out=("articles", "capital_proof"))
    assert filed.status_code == 201, filed.text
    case_id = filed.json()["case_id"]
    await _prechecked(case_id)

    listed = await workflow.get(f"{CASES}/{case_id}/documents", headers=applicant)
    assert listed.status_code == 200, listed.text
    assert [d["kind"] for d in listed.json()] == ["one_time_notice"]
    (notice,) = listed.json()
    pdf = await workflow.get(notice["url"], headers=applicant)
    assert pdf.status_code == 200 and pdf.headers["content-type"] == "application/pdf"
    text = pdf_text(pdf.content)
    for expected in ("一次性告知书", "章程草案", "验资报告或资金证明", notice["number"]):
        assert expected in text
    assert "庐阳区邻里互助协会（筹）" in text
    bureau = await workflow.get(notice["url"], headers=auth("civil_affairs"))
    assert bureau.status_code == 200

    # Another organization, or a department with no task on the case: as if it did not exist.
    for outsider in (
        auth("organization", org_id=str(uuid.uuid4())),
        auth("department_reviewer", department="tax"),
    ):
        refused = await workflow.get(notice["url"], headers=outsider)
        assert refused.status_code == 404
        assert refused.headers["content-type"] == "application/problem+json"
        assert (
            await workflow.get(f"{CASES}/{case_id}/documents", headers=outsider)
        ).status_code == 404
    # Not issued yet, or not a document at all.
    early = await workflow.get(f"{CASES}/{case_id}/documents/decision.pdf", headers=applicant)
    assert early.status_code == 404 and early.json()["code"] == "document_not_issued"
    for bad in ("..%2Fetc.pdf", "x" * 5000 + ".pdf", "decision.exe"):
        answer = await workflow.get(f"{CASES}/{case_id}/documents/{bad}", headers=applicant)
        assert answer.status_code in (404, 422), answer.text

    # The applicant's inbox, unfiltered: its one message, in Chinese, naming what is missing.
    inbox = (await workflow.get("/api/v1/notifications", headers=applicant)).json()
    assert inbox["total"] == 1
    (message,) = inbox["items"]
    assert message["topic"] == "supplement_requested" and message["channel"] == "in_app"
    assert "章程草案" in message["text"] and message["status"] == "pending"
    reviewer = auth("department_reviewer", department="public_security")
    assert (await workflow.get("/api/v1/notifications", headers=reviewer)).status_code == 403


async def test_only_minor_materials_may_be_left_pending_and_hostile_input_changes_nothing(
    workflow: httpx.AsyncClient, auth: Callable[..., dict[str, str]], org_id: str
) -> None:
    applicant = auth("organization", org_id=org_id)
    refused = await _file(workflow, applicant, leave_out=("articles",), pending=["articles"])
    assert refused.status_code == 422, refused.text
    assert refused.headers["content-type"] == "application/problem+json"
    assert refused.json()["code"] == "material_not_deferrable"
    huge = await _file(workflow, applicant, pending=["premises_proof"] * 21)
    assert huge.status_code == 422
    long_code = await _file(workflow, applicant, pending=["p" * 10_000])
    assert long_code.status_code == 422
    body = {
        "command_id": str(uuid.uuid4()),
        "case_type": "organization_registration",
        "title": "登记\ud800",
        "applicant_name": "测试",
        "materials": [],
    }
    surrogate = await workflow.post(
        CASES,
        content=json.dumps(body).encode(),
        headers={**applicant, "Content-Type": "application/json"},
    )
    assert surrogate.status_code == 422
    listed = (await workflow.get(CASES, headers=applicant)).json()
    assert listed["total"] == 0


async def test_accepted_with_a_minor_material_pending_decided_once_it_is_supplied(
    workflow: httpx.AsyncClient, auth: Callable[..., dict[str, str]], org_id: str
) -> None:
    applicant = auth("organization", org_id=org_id)
    filed = await _file(
        workflow, applicant, leave_out=("premises_proof",), pending=["premises_proof"]
    )
    assert filed.status_code == 201, filed.text
    case_id = filed.json()["case_id"]
    await _prechecked(case_id)
    case = (await workflow.get(f"{CASES}/{case_id}", headers=applicant)).json()
    assert case["state"] == "in_joint_review"
    assert case["supplement_count"] == 0  # no return trip
    assert case["pending_due_at"] is not None
    assert [m["code"] for m in case["pending_materials"]] == ["premises_proof"]
    acceptance = await workflow.get(
        f"{CASES}/{case_id}/documents/acceptance_notice.pdf", headers=applicant
    )
    text = pdf_text(acceptance.content)
    assert "受理通知书" in text and "容缺受理" in text and "住所使用证明" in text

    task_ids = await tasks(workflow, auth, case_id)
    for department in DEPARTMENTS:
        approved = await workflow.post(
            f"/api/v1/tasks/{task_ids[department]}/approve",
            json={"command_id": str(uuid.uuid4())},
            headers=auth("department_reviewer", department=department),
        )
        assert approved.status_code == 200, approved.text
    # Every department approved, but a committed material is missing: no decision yet.
    assert approved.json()["state"] == "in_joint_review"

    url = f"{CASES}/{case_id}/pending-materials"
    wrong = await workflow.post(
        url,
        json={"command_id": str(uuid.uuid4()), "materials": [{"code": "articles"}]},
        headers=applicant,
    )
    assert wrong.status_code == 422 and wrong.json()["code"] == "material_not_pending"
    stranger = auth("organization", org_id=str(uuid.uuid4()))
    supply = {
        "command_id": str(uuid.uuid4()),
        "materials": [{"code": "premises_proof", "document_url": "https://files.example.cn/p.pdf"}],
    }
    assert (await workflow.post(url, json=supply, headers=stranger)).status_code == 404
    supplied = await workflow.post(url, json=supply, headers=applicant)
    assert supplied.status_code == 200, supplied.text
    assert supplied.json()["state"] == "approved"
    case = (await workflow.get(f"{CASES}/{case_id}", headers=applicant)).json()
    assert case["supplement_count"] == 0 and case["pending_due_at"] is None

    kinds = [
        d["kind"]
        for d in (await workflow.get(f"{CASES}/{case_id}/documents", headers=applicant)).json()
    ]
    assert kinds == ["acceptance_notice", "decision", "registration_certificate"]
    decision = await workflow.get(f"{CASES}/{case_id}/documents/decision.pdf", headers=applicant)
    assert "准予行政许可决定书" in pdf_text(decision.content)
    certificate = await workflow.get(
        f"{CASES}/{case_id}/registration-certificate", headers=applicant
    )
    assert certificate.status_code == 200, certificate.text
    data = certificate.json()
    assert data["organization_name"] == "庐阳区邻里互助协会（筹）"
    assert data["certificate_number"].startswith("庐民证〔")
    pdf = await workflow.get(
        f"{CASES}/{case_id}/documents/registration_certificate.pdf", headers=applicant
    )
    assert data["certificate_number"] in pdf_text(pdf.content)
    inbox = (await workflow.get("/api/v1/notifications", headers=applicant)).json()
    assert {m["topic"] for m in inbox["items"]} == {"accepted", "approved"}


async def test_a_pending_material_past_its_due_date_ends_the_case_not_granted(
    workflow: httpx.AsyncClient, auth: Callable[..., dict[str, str]], org_id: str
) -> None:
    applicant = auth("organization", org_id=org_id)
    filed = await _file(
        workflow, applicant, leave_out=("premises_proof",), pending=["premises_proof"]
    )
    case_id = filed.json()["case_id"]
    await _prechecked(case_id)
    async with database.transaction() as session:
        expired = await expire_pending(session, now=utcnow() + timedelta(days=60))
    assert uuid.UUID(case_id) in expired
    case = (await workflow.get(f"{CASES}/{case_id}", headers=applicant)).json()
    assert case["state"] == "rejected" and "逾期" in case["outcome_reason"]
    decision = await workflow.get(f"{CASES}/{case_id}/documents/decision.pdf", headers=applicant)
    text = pdf_text(decision.content)
    assert "不予行政许可决定书" in text and "逾期未补齐" in text
    # Supplying it afterwards is refused: the case is decided.
    late = await workflow.post(
        f"{CASES}/{case_id}/pending-materials",
        json={"command_id": str(uuid.uuid4()), "materials": [{"code": "premises_proof"}]},
        headers=applicant,
    )
    assert late.status_code == 409 and late.json()["code"] == "case_closed"
