"""Request and response examples of the main operations, keyed by operationId.

They appear in the docs page and the generated clients' comments; tests/contract checks
each against its operation's schemas, and sends the createOrganization one for real.
"""

from __future__ import annotations

from typing import Any

_ORG_ID = "0193b2c4-7d1e-7a3c-9b1e-5f2d8c4a6e10"
_CASE_ID = "0193b2c4-8a40-7f00-8e2a-1c3d5e7f9a20"
_TASK_ID = "0193b2c4-8a41-7f00-8e2a-1c3d5e7f9a21"
_AT = "2026-03-02T09:30:00+08:00"

_FILED_ORGANIZATION = {
    "name": "庐阳区社区志愿服务队",
    "kind": "community",
    "registration": "filed",
    "category": "community_service",
    "district_code": "340103",
    "street_code": "340103001",
    "filing_number": "BA340103001-0042",
    "legal_rep_name": "李四",
    "registered_funds_fen": 100000,
}

_PROPOSAL = {
    "name": "庐阳区助老服务中心",
    "kind": "service_institution",
    "category": "livelihood",
    "district_code": "340103",
    "street_code": "340103001",
    "legal_rep_name": "张三",
    "registered_funds_fen": 3000000,
}


def _command_result(state: str, *, task: bool = False) -> dict[str, Any]:
    return {
        "command_id": "5b0f6a52-9d6e-4d38-8c1e-2f7a9b3c4d5e",
        "case_id": _CASE_ID,
        "state": state,
        "task_id": _TASK_ID if task else None,
        "replayed": False,
    }


# operationId -> {"request": body, "response": (status, body)}
EXAMPLES: dict[str, dict[str, Any]] = {
    "createOrganization": {
        "request": _FILED_ORGANIZATION,
        "response": (
            "201",
            {
                **_FILED_ORGANIZATION,
                "id": _ORG_ID,
                "uscc": None,
                "community_code": None,
                "legal_rep_id_number": None,
                "contact_name": None,
                "contact_phone": None,
                "address": None,
                "business_scope": None,
                "supervising_unit": None,
                "established_on": None,
                "status": "active",
                "evaluation_grade": None,
                "grade_valid_from": None,
                "grade_valid_until": None,
                "incubation_stage": None,
                "tags": [],
                "version": 1,
                "created_at": _AT,
                "updated_at": _AT,
            },
        ),
    },
    "createRegistrationApplication": {
        "request": {
            "organization": _PROPOSAL,
            "applicant_name": "王五等发起人",
            "materials": [
                {"code": "charter", "name": "章程草案"},
                {"code": "capital_proof", "document_url": "https://files.example.cn/cap.pdf"},
            ],
        },
        "response": (
            "201",
            {
                "id": "0193b2c4-9b00-7c00-8a00-000000000001",
                "kind": "registration",
                "state": "pending",
                "organization_id": None,
                "proposal": _PROPOSAL,
                "materials": [{"code": "charter", "name": "章程草案", "document_url": None}],
                "applicant_name": "王五等发起人",
                "title": "成立登记：庐阳区助老服务中心",
                "command_id": "7c1d2e3f-4a5b-4c6d-8e7f-9a0b1c2d3e4f",
                "case_id": _CASE_ID,
                "assigned_uscc": None,
                "outcome_reason": None,
                "submitted_by": "promoter-wang",
                "submitted_at": _AT,
                "decided_at": None,
                "withdrawal_requested_at": None,
                "withdrawal_requested_by": None,
            },
        ),
    },
    "submitCase": {
        "request": {
            "command_id": "5b0f6a52-9d6e-4d38-8c1e-2f7a9b3c4d5e",
            "case_type": "organization_registration",
            "title": "成立登记：庐阳区助老服务中心",
            "applicant_name": "王五等发起人",
            "materials": [{"code": "charter", "name": "章程草案"}],
        },
        "response": ("201", _command_result("submitted")),
    },
    "approveTask": {
        "request": {
            "command_id": "8d9e0f1a-2b3c-4d5e-8f6a-7b8c9d0e1f2a",
            "comment": "材料齐全，同意。",
        },
        "response": ("200", _command_result("approved", task=True)),
    },
    "rejectTask": {
        "request": {
            "command_id": "9e0f1a2b-3c4d-4e5f-8a6b-7c8d9e0f1a2b",
            "comment": "住所证明与登记地址不符。",
        },
        "response": ("200", _command_result("rejected", task=True)),
    },
    "recordTransfer": {
        "request": {"result": "succeeded", "bank_reference": "GK20260302-000173"},
        "response": (
            "200",
            {
                "id": "0193b2c4-aa00-7000-8000-000000000007",
                "project_id": "0193b2c4-a000-7000-8000-000000000003",
                "tranche_id": "0193b2c4-a100-7000-8000-000000000004",
                "amount_fen": 15000000,
                "status": "paid",
                "case_id": _CASE_ID,
                "requested_by": "org-admin-1",
                "requested_at": "2026-02-20T10:00:00+08:00",
                "decided_at": "2026-02-27T16:00:00+08:00",
                "paid_at": _AT,
                "failed_attempts": 0,
                "version": 3,
                "attempts": [
                    {
                        "attempt_no": 1,
                        "result": "succeeded",
                        "bank_reference": "GK20260302-000173",
                        "failure_reason": None,
                        "executed_by": "treasury-clerk",
                        "executed_at": _AT,
                    }
                ],
            },
        ),
    },
    "createStation": {
        "request": {
            "district_code": "330481",
            "street_code": "330481001",
            "town_name": "硖石街道",
            "name": "硖石街道社会工作站",
            "host_org_id": _ORG_ID,
            "merged_with_party_centre": True,
            "staff_count": 6,
            "certified_social_workers": 3,
            "communities_total": 18,
            "communities_served": 16,
            "established_year": 2021,
        },
        "response": (
            "201",
            {
                "id": "0193b2c4-b000-7000-8000-000000000011",
                "district_code": "330481",
                "street_code": "330481001",
                "town_name": "硖石街道",
                "name": "硖石街道社会工作站",
                "host_org_id": _ORG_ID,
                "host_org_name": "海宁紫微社会工作服务中心",
                "merged_with_party_centre": True,
                "staff_count": 6,
                "certified_social_workers": 3,
                "communities_total": 18,
                "communities_served": 16,
                "established_year": 2021,
                "created_at": _AT,
                "updated_at": _AT,
                "version": 1,
            },
        ),
    },
}
