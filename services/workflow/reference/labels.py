"""The Chinese label of every code the workflow speaks, for `shared.vocabulary`.

Served at `GET /api/v1/workflow/vocabulary` and written into the enums' OpenAPI schemas
(`x-enum-descriptions`). Case types and reviewing departments are plain strings in the
API (a definition file may add one), so they are named here as enums only to label
them: `CaseType` and `Department` list what the definition files
(`definitions/*.yaml`) name, and `tests/contract/test_vocabulary.py` fails when
a definition names one that is missing here. A task of a definition with
`reviewed_by_subject_department` is reviewed by the purchasing department the projects
service names: those are labelled by the projects vocabulary (`Department` there).
"""

from __future__ import annotations

from enum import StrEnum

from services.workflow.cases.models import CaseState, TaskState
from services.workflow.definitions.schemas import JoinKind
from services.workflow.documents.schemas import DocumentKind
from services.workflow.notifications.models import NotificationChannel, NotificationStatus
from services.workflow.sync.models import DeliveryStatus, InboundStatus


class CaseType(StrEnum):
    """The case types of the definition files (a case type's label is its `name`)."""

    organization_registration = "organization_registration"
    organization_change = "organization_change"
    organization_deregistration = "organization_deregistration"
    annual_inspection = "annual_inspection"
    project_application = "project_application"
    project_closure = "project_closure"
    payment_request = "payment_request"


class Department(StrEnum):
    """The reviewing departments the definition files name (`departments:`)."""

    civil_affairs_registration = "civil_affairs_registration"
    civil_affairs_inspection = "civil_affairs_inspection"
    civil_affairs_projects = "civil_affairs_projects"
    public_security = "public_security"
    market_regulation = "market_regulation"
    tax = "tax"
    finance = "finance"


LABELS: dict[type[StrEnum], dict[str, str]] = {
    CaseState: {
        "submitted": "已提交",
        "supplement_requested": "待补正",
        "resubmitted": "已补正",
        "accepted": "已受理",
        "in_joint_review": "联合审查中",
        "approved": "准予",
        "rejected": "不予准予",
        "withdrawn": "已撤回",
    },
    TaskState: {
        "open": "待认领",
        "claimed": "审查中",
        "approved": "同意",
        "rejected": "不同意",
        "cancelled": "已取消",
    },
    DeliveryStatus: {"pending": "待推送", "succeeded": "推送成功", "failed": "推送失败"},
    InboundStatus: {
        "received": "已接收",
        "applied": "已处理",
        "recorded": "已记录",
        "stale": "已过时",
        "unknown_type": "未知类型",
        "invalid": "数据不符",
        "failed": "处理失败",
    },
    JoinKind: {"all": "全部部门同意", "any": "任一部门同意", "n_of_m": "N个部门同意"},
    DocumentKind: {
        "one_time_notice": "一次性告知书",
        "acceptance_notice": "受理通知书",
        "decision": "行政许可决定书",
        "registration_certificate": "登记证书",
    },
    NotificationChannel: {"in_app": "站内信", "sms": "短信"},
    NotificationStatus: {"pending": "待发送", "delivered": "已送达", "failed": "发送失败"},
    CaseType: {
        "organization_registration": "社会组织成立登记",
        "organization_change": "社会组织变更登记",
        "organization_deregistration": "社会组织注销登记",
        "annual_inspection": "社会组织年度检查",
        "project_application": "政府购买服务项目申报",
        "project_closure": "政府购买服务项目结项",
        "payment_request": "项目资金支付申请",
    },
    Department: {
        "civil_affairs_registration": "民政局登记管理科",
        "civil_affairs_inspection": "民政局执法监督科",
        "civil_affairs_projects": "民政局社会工作科",
        "public_security": "公安局",
        "market_regulation": "市场监督管理局",
        "tax": "税务局",
        "finance": "财政局",
    },
}
