"""The Chinese label of every code the projects API speaks, for `shared.vocabulary`.

Served at `GET /api/v1/projects/vocabulary` and written into the enums' OpenAPI schemas
(`x-enum-descriptions`). The code lists keep their labels beside them
(`reference/code_lists.py`, stages in `core/models.py`, meetings in
`meetings/models.py`); the statuses of the other domains are labelled here.
"""

from __future__ import annotations

from services.projects.applications.models import MilestoneStatus
from services.projects.calls.models import CallStatus
from services.projects.core.models import STAGE_LABELS, ProjectStage
from services.projects.evaluation.models import AssignmentStatus, EvaluationStatus, Grade
from services.projects.evaluation.scheme import AdjustmentKind
from services.projects.funds.models import AllocationKind, PoolPurpose
from services.projects.meetings.models import MEETING_LABELS, MeetingKind
from services.projects.payments.models import AttemptResult, PaymentStatus
from services.projects.procurement.models import (
    AmendmentStatus,
    ContractStatus,
    ProcurementStatus,
    TrancheTrigger,
)
from services.projects.reference.code_lists import (
    BUDGET_CATEGORY_LABELS,
    CATALOGUE,
    CATALOGUE_SLOT_LABELS,
    CENTRAL_TASK_LABELS,
    DEPARTMENT_LABELS,
    PROCUREMENT_METHOD_LABELS,
    SERVICE_TARGET_LABELS,
    BudgetCategory,
    CatalogueItem,
    CatalogueSlot,
    CentralTask,
    Department,
    ProcurementMethod,
    ServiceTarget,
)
from services.projects.reports.spend import GroupBy
from services.projects.stations.station_score import StationIndicator
from services.projects.supervision.models import RectificationStatus, ReportKind, Severity
from shared.vocabulary import Labels

GRADE_LABELS: dict[Grade, str] = {
    Grade.excellent: "优秀",
    Grade.good: "良好",
    Grade.passed: "合格",
    Grade.fail: "不合格",
}

LABELS: Labels = {
    # The code lists (also served, in their older shape, by GET /api/v1/project-codes).
    Department: DEPARTMENT_LABELS,
    CatalogueItem: {item: label for item, (_, label) in CATALOGUE.items()},
    CatalogueSlot: CATALOGUE_SLOT_LABELS,
    ServiceTarget: SERVICE_TARGET_LABELS,
    CentralTask: CENTRAL_TASK_LABELS,
    ProcurementMethod: PROCUREMENT_METHOD_LABELS,
    BudgetCategory: BUDGET_CATEGORY_LABELS,
    ProjectStage: STAGE_LABELS,
    MeetingKind: MEETING_LABELS,
    Grade: GRADE_LABELS,
    # The statuses and kinds of each domain.
    PoolPurpose: {
        "social_work_purchase": "购买专业社工服务",
        "cultivation_reward": "社会组织培育发展奖补",
        "community_governance": "社区治理",
        "other": "其他",
    },
    AllocationKind: {
        "contract": "合同金额",
        "amendment": "合同变更",
        "release": "结余退回",
        "grant": "直接拨付(奖补)",
    },
    CallStatus: {"open": "申报中", "closed": "已截止"},
    ProcurementStatus: {"open": "采购中", "awarded": "已成交", "cancelled": "已废标"},
    ContractStatus: {"active": "履行中", "closed": "已结项"},
    AmendmentStatus: {"proposed": "待审批", "approved": "已批准", "rejected": "未批准"},
    TrancheTrigger: {
        "contract_signed": "签约",
        "initiation": "立项",
        "mid_term_supervision": "中期督导",
        "evaluation_passed": "评估合格",
    },
    PaymentStatus: {
        "requested": "审批中",
        "approved": "已批准待支付",
        "paid": "已支付",
        "rejected": "未批准",
        "withdrawn": "已撤回",
    },
    AttemptResult: {"succeeded": "成功", "failed": "失败"},
    MilestoneStatus: {"scheduled": "待完成", "reported": "已报告完成", "met": "已确认完成"},
    ReportKind: {"monthly": "月报", "mid_term": "中期报告"},
    Severity: {"minor": "一般", "major": "较重", "critical": "严重"},
    RectificationStatus: {"open": "待整改", "responded": "已反馈待确认", "resolved": "已整改"},
    EvaluationStatus: {"scoring": "评分中", "concluded": "已出结论"},
    AssignmentStatus: {
        "assigned": "待申报利益冲突",
        "cleared": "可评分",
        "recused": "已回避",
        "released": "已解除",
    },
    AdjustmentKind: {"bonus": "加分", "penalty": "扣分"},
    StationIndicator: {
        "catalogue_in_place": "“123X”项目清单完整",
        "merged_with_party_centre": "党群服务中心与社会工作站“二合一”",
        "staffing": "专业团队配备",
        "service_coverage": "服务村(社区)覆盖",
    },
    # The spend report's groupings (each of its rows carries its own label).
    GroupBy: {
        "fund": "按专项资金",
        "pool": "按资金池",
        "department": "按购买部门",
        "catalogue_slot": "按项目清单类别",
        "street": "按街道",
    },
}
