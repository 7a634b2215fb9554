"""一次性告知 through the real processes: two departments each find something missing, the
applicant downloads ONE notice listing everything, and is told so in its inbox."""

from __future__ import annotations

import io
import json
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
from pypdf import PdfReader

from tests.support.polling import poll_sync
from tests.support.system import System
from tests.workflow.helpers import materials_for


def pdf_text(content: bytes) -> str:
    """The PDF's text as a reader copies it (layout spaces and line breaks dropped)."""
    text = "".join(page.extract_text() for page in PdfReader(io.BytesIO(content)).pages)
    return "".join(text.split())


def test_two_departments_requests_reach_the_applicant_in_one_notice_pdf(
    system: System, http: Callable[[str], httpx.Client], auth: Callable[..., dict[str, str]]
) -> None:
    org_id = str(uuid.uuid4())
    applicant = auth("organization", org_id=org_id)
    workflow = http("workflow")
    created = workflow.post(
        "/api/v1/cases",
        json={
            "command_id": str(uuid.uuid4()),
            "case_type": "organization_registration",
            "title": "庐阳区社区养老服务中心成立登记",
            "applicant_name": "庐阳区社区养老服务中心（筹）",
            "materials": materials_for("organization_registration"),
        },
        headers=applicant,
    )
    assert created.status_code == 201, created.text
    case_id = created.json()["case_id"]

    def case() -> dict[str, Any]:
        answer = workflow.get(f"/api/v1/cases/{case_id}", headers=applicant)
        assert answer.status_code == 200, answer.text
        return dict(answer.json())

    tasks = poll_sync(lambda: case()["tasks"] if case()["state"] == "in_joint_review" else None)
    task_of = {t["department"]: t["id"] for t in tasks}
    asked = {
        "public_security": [("legal_rep_identity", "法定代表人身份证明已过有效期")],
        "market_regulation": [
            ("premises_proof", "住所使用证明未载明产权人"),
            ("capital_proof", "验资报告缺少银行盖章页"),
        ],
    }
    for department, items in asked.items():
        reviewer = auth("department_reviewer", department=department, sub=f"r-{department}")
        answer = workflow.post(
            f"/api/v1/cases/{case_id}/supplement-requests",
            json={
                "command_id": str(uuid.uuid4()),
                "items": [
                    {"code": code, "problem": "invalid", "message": message}
                    for code, message in items
                ],
            },
            headers=reviewer,
        )
        assert answer.status_code == 200, answer.text
        # The first department's request waits for the others: no notice yet.
        if department == "public_security":
            assert answer.json()["state"] == "in_joint_review"
    # The third department found nothing and approves: now the notice goes out.
    approved = workflow.post(
        f"/api/v1/tasks/{task_of['civil_affairs_registration']}/approve",
        json={"command_id": str(uuid.uuid4())},
        headers=auth("department_reviewer", department="civil_affairs_registration", sub="r-ca"),
    )
    assert approved.status_code == 200, approved.text
    current = case()
    assert current["state"] == "supplement_requested"
    assert current["supplement_count"] == 1

    listed = workflow.get(f"/api/v1/cases/{case_id}/documents", headers=applicant)
    assert listed.status_code == 200, listed.text
    notice = next(d for d in listed.json() if d["kind"] == "one_time_notice")
    pdf = workflow.get(notice["url"], headers=applicant)
    assert pdf.status_code == 200, pdf.text
    assert pdf.headers["content-type"] == "application/pdf"
    text = pdf_text(pdf.content)
    assert "一次性告知书" in text
    assert notice["number"] in text
    assert "庐阳区社区养老服务中心（筹）" in text
    for items in asked.values():
        for _, message in items:
            assert message in text, (message, text)
    assert "公安局" in text and "市场监督管理局" in text

    # Another organization cannot read this applicant's notice.
    stranger = auth("organization", org_id=str(uuid.uuid4()))
    assert workflow.get(notice["url"], headers=stranger).status_code == 404

    # The worker delivers the message to the file sink, and the inbox shows it.
    sink = Path(system.log_dir) / "notifications" / "in_app.jsonl"

    def delivered() -> list[dict[str, Any]]:
        if not sink.exists():
            return []
        lines = [json.loads(line) for line in sink.read_text("utf-8").splitlines()]
        return [
            m for m in lines if m["case_id"] == case_id and m["topic"] == "supplement_requested"
        ]

    (message,) = poll_sync(delivered, within=30)
    assert message["recipient"] == org_id
    assert "住所使用证明未载明产权人" in message["text"]
    inbox = workflow.get("/api/v1/notifications", headers=applicant)
    assert inbox.status_code == 200, inbox.text
    topics = {m["topic"]: m for m in inbox.json()["items"]}
    assert set(topics) == {"accepted", "supplement_requested"}
    assert inbox.json()["total"] == 2
    assert workflow.get("/api/v1/notifications", headers=stranger).json()["total"] == 0
