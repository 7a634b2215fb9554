"""Valid request bodies with unique codes, so that tests never depend on each other."""

from __future__ import annotations

import itertools
import random
from collections.abc import AsyncIterator
from typing import Any

from services.registry.enums import OrganizationKind
from services.registry.organizations.uscc import make_uscc

LUYANG = "340103"
STREET = "340103001"  # 亳州路街道
OTHER_STREET = "340103002"  # 双岗街道
VALID_ID_NUMBER = "11010519491231002X"

# Serial numbers per test run: random start, then sequential, so reruns never collide.
_serials = itertools.count(random.SystemRandom().randrange(100_000, 900_000, 1000))


def registered_org(**overrides: Any) -> dict[str, Any]:
    serial = next(_serials)
    body: dict[str, Any] = {
        "name": f"庐阳区助老服务中心{serial}",
        "kind": "service_institution",
        "registration": "registered",
        "category": "livelihood",
        "district_code": LUYANG,
        "street_code": STREET,
        "uscc": make_uscc(
            kind=OrganizationKind.service_institution, authority_division=LUYANG, serial=serial
        ),
        "legal_rep_name": "张三",
        "legal_rep_id_number": VALID_ID_NUMBER,
        "registered_funds_fen": 3_000_000,
    }
    body.update(overrides)
    return body


def province_foundation(**overrides: Any) -> dict[str, Any]:
    """A foundation located in Luyang, registered by the province (USCC division 340000)."""
    uscc = make_uscc(
        kind=OrganizationKind.foundation, authority_division="340000", serial=next(_serials)
    )
    return registered_org(kind="foundation", uscc=uscc, **overrides)


def filed_org(street_code: str = STREET, **overrides: Any) -> dict[str, Any]:
    serial = next(_serials)
    body: dict[str, Any] = {
        "name": f"社区志愿服务队{serial}",
        "kind": "community",
        "registration": "filed",
        "category": "community_service",
        "district_code": LUYANG,
        "street_code": street_code,
        "filing_number": f"BA{street_code}{serial}",
        "legal_rep_name": "李四",
        "registered_funds_fen": 100_000,
    }
    body.update(overrides)
    return body


async def streamed(data: bytes, chunk: int = 64 * 1024) -> AsyncIterator[bytes]:
    """The bytes as a chunked body, with no Content-Length to refuse it by in advance."""
    for start in range(0, len(data), chunk):
        yield data[start : start + chunk]


# Streets 100-999 of the district: the demo and the factories above use 001-010.
_streets = itertools.count(random.SystemRandom().randrange(100, 700, 100))


def unique_street(district: str = LUYANG) -> str:
    """A street code of the district that no other test uses (scoped lists stay predictable)."""
    return f"{district}{next(_streets):03d}"


def uscc(
    kind: OrganizationKind = OrganizationKind.service_institution, authority_division: str = LUYANG
) -> str:
    """A valid USCC of the kind that no other test uses."""
    return make_uscc(kind=kind, authority_division=authority_division, serial=next(_serials))


# --- projects -------------------------------------------------------------------------------


def fund_body(*, pool_fen: int = 500_000_000, **overrides: Any) -> dict[str, Any]:
    """A year's fund with Haining's two pools (社工服务购买 / 培育发展奖补), amounts in fen."""
    serial = next(_serials)
    body: dict[str, Any] = {
        "year": 2026,
        "name": f"社会组织发展专项资金{serial}",
        "total_fen": 2 * pool_fen,
        "pools": [
            {"name": "专业社工服务购买", "purpose": "social_work_purchase", "amount_fen": pool_fen},
            {"name": "培育发展奖补", "purpose": "cultivation_reward", "amount_fen": pool_fen},
        ],
    }
    body.update(overrides)
    return body


def call_body(fund: dict[str, Any], **overrides: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "year": fund["year"],
        "department": "education",
        "title": f"2026年困境儿童关爱服务项目申报通知{next(_serials)}",
        "description": "面向困境儿童开展关爱帮扶服务。",
        "fund_id": fund["id"],
        "pool_id": fund["pools"][0]["id"],
        "catalogue_item": "basic_children_in_difficulty",
        "service_targets": ["children_youth", "poor"],
        "central_task": "safety",
        "budget_ceiling_fen": 30_000_000,
        "deadline_on": "2099-12-31",
    }
    body.update(overrides)
    return body


def application_body(**overrides: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "title": "“童心护航”困境儿童关爱项目",
        "summary": "为辖区困境儿童提供个案辅导、小组活动与家庭支持。",
        "street_code": STREET,
        "service_targets": ["children_youth"],
        "budget_lines": [
            {"category": "personnel", "description": "社工人员服务费", "amount_fen": 12_000_000},
            {"category": "activities", "description": "小组与社区活动", "amount_fen": 6_000_000},
            {"category": "administration", "description": "项目管理费", "amount_fen": 2_000_000},
        ],
        "milestones": [
            {"title": "完成需求评估", "due_on": "2026-03-31"},
            {"title": "完成中期服务", "due_on": "2026-06-30"},
        ],
        "materials": [
            {
                "code": "proposal",
                "name": "项目方案",
                "document_url": "https://files.example.cn/p.pdf",
            },
            {
                "code": "budget",
                "name": "项目预算",
                "document_url": "https://files.example.cn/b.pdf",
            },
            {
                "code": "qualification",
                "name": "资质证明",
                "document_url": "https://files.example.cn/q.pdf",
            },
        ],
    }
    body.update(overrides)
    return body


def contract_body(**overrides: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "number": f"HN-GM-2026-{next(_serials)}",
        "signed_on": "2026-01-05",
        "start_on": "2026-01-10",
        "end_on": "2026-12-31",
        "schedule": [
            {"percent": 30, "trigger": "contract_signed", "description": "签约后支付30%"},
            {"percent": 40, "trigger": "mid_term_supervision", "description": "中期督导后40%"},
            {"percent": 30, "trigger": "evaluation_passed", "description": "评估合格后30%"},
        ],
    }
    body.update(overrides)
    return body


def meeting_body(kind: str, **overrides: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "kind": kind,
        "held_at": "2026-02-01T09:30:00+08:00",
        "location": "市民政局三楼会议室",
        "attendees": [
            {"name": "王主任", "organization": "市委社工办", "role": "主持人"},
            {"name": "李社工", "organization": "承接机构"},
        ],
        "minutes": "会议介绍了项目目标、服务内容与监督安排。",
        "documents": [{"title": "项目公示", "url": "https://files.example.cn/notice.pdf"}],
    }
    body.update(overrides)
    return body
