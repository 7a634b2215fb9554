"""The registry's vocabularies: English codes (stored and spoken by the API) with Chinese labels.

The labels are served to the front-end (`GET /api/v1/registry/vocabulary`) and accepted
in import files, so that a clerk may type either `association` or `社会团体`.
"""

from __future__ import annotations

from enum import StrEnum


class OrganizationKind(StrEnum):
    association = "association"  # 社会团体
    service_institution = "service_institution"  # 社会服务机构 / 民办非企业单位
    foundation = "foundation"  # 基金会
    community = "community"  # 社区社会组织


class Registration(StrEnum):
    registered = "registered"  # 注册登记 (district level, has a USCC)
    filed = "filed"  # 备案 (street level, has a filing number)


class Category(StrEnum):
    livelihood = "livelihood"  # 民生服务类
    community_service = "community_service"  # 社区服务类
    charity = "charity"  # 公益慈善类
    sci_tech = "sci_tech"  # 科技创新类
    social_work = "social_work"  # 社工机构
    other = "other"


class OrganizationStatus(StrEnum):
    active = "active"  # 正常
    abnormal = "abnormal"  # 活动异常名录
    revoked = "revoked"  # 撤销 (terminal)
    deregistered = "deregistered"  # 注销 (terminal)


TERMINAL_STATUSES = frozenset({OrganizationStatus.revoked, OrganizationStatus.deregistered})
# Kinds only the province or the ministry registers (《基金会管理条例》 art. 6), never a
# district: on a district's register they are counted apart and inspected by their own
# registration authority.
ABOVE_DISTRICT_KINDS = frozenset({OrganizationKind.foundation})


class EvaluationGrade(StrEnum):
    a1 = "1A"
    a2 = "2A"
    a3 = "3A"
    a4 = "4A"
    a5 = "5A"


class GradeEvaluationState(StrEnum):
    """An evaluation (社会组织等级评估) from application to the end of its grade."""

    applied = "applied"  # 已申请: awaiting the experts
    scored = "scored"  # 已评分: at least one expert scored, awaiting the bureau's decision
    granted = "granted"  # 已评定: the grade is in force (until expiry, revocation, a new one)
    refused = "refused"  # 不予评定: the bureau refused or rejected the application
    withdrawn = "withdrawn"  # 已撤回: by the applicant before the decision
    expired = "expired"  # 已到期: the five years of validity ended
    revoked = "revoked"  # 已取消: downgraded below 1A (a failed annual inspection)
    superseded = "superseded"  # 已被新评估取代: a later evaluation granted a grade


# States in which an evaluation is still in progress (one per organization at a time).
OPEN_GRADE_EVALUATION_STATES = frozenset(
    {GradeEvaluationState.applied, GradeEvaluationState.scored}
)


class GradeDecisionOutcome(StrEnum):
    granted = "granted"  # 评定等级
    refused = "refused"  # 不予评定


class GradeChangeKind(StrEnum):
    """What happened to an evaluation's grade (the `grade_change` history)."""

    granted = "granted"
    downgraded = "downgraded"
    revoked = "revoked"
    expired = "expired"
    superseded = "superseded"


class IncubationStage(StrEnum):
    """The "5F" incubation plan: 孵 → 服 → 浮 → 扶 → 辐.

    服 ("以精准的服务方式全程服务社会组织") is the service given throughout, not a step:
    `serve` stays readable on old records, and a new step refuses it
    (`incubation.service.record`).
    """

    incubate = "incubate"
    serve = "serve"
    emerge = "emerge"
    support = "support"
    radiate = "radiate"


class IncubationPhase(StrEnum):
    """培育"早期"→"中期"→"后期"→"末期" (the seed's words); the codes predate the labels."""

    early = "early"  # 早期: 资源到位
    middle = "middle"  # 中期: 能力到位
    late = "late"  # 后期: 意识到位
    follow_up = "follow_up"  # 末期: 跟进到位 (after the incubation ends)


class InspectionResult(StrEnum):
    passed = "pass"  # 合格
    basic_pass = "basic_pass"  # 基本合格  # noqa: S105 (not a password)
    fail = "fail"  # 不合格
    absent = "absent"  # 未参检


class InspectionState(StrEnum):
    submitted = "submitted"  # report filed, the workflow case is open
    reviewed = "reviewed"  # case approved, the reviewer's conclusion not recorded yet
    concluded = "concluded"  # result final
    returned = "returned"  # case rejected or withdrawn: the organization may submit again


class ApplicationKind(StrEnum):
    registration = "registration"  # 成立登记
    change = "change"  # 变更登记
    deregistration = "deregistration"  # 注销登记
    annual_inspection = "annual_inspection"  # 年度检查


# The workflow case type that decides each kind of application.
CASE_TYPES = {
    ApplicationKind.registration: "organization_registration",
    ApplicationKind.change: "organization_change",
    ApplicationKind.deregistration: "organization_deregistration",
    ApplicationKind.annual_inspection: "annual_inspection",
}


class ApplicationState(StrEnum):
    pending = "pending"
    approved = "approved"
    rejected = "rejected"
    withdrawn = "withdrawn"
    # Approved, but the organization was closed meanwhile: nothing could be applied.
    lapsed = "lapsed"


class ListType(StrEnum):
    abnormal = "abnormal"  # 活动异常名录
    serious_illegal = "serious_illegal"  # 严重违法失信名单


class ListReason(StrEnum):
    """Reasons of 《社会组织信用信息管理办法》 (MCA order No. 60), arts. 13 and 14."""

    # 活动异常名录
    annual_report_not_filed = "annual_report_not_filed"
    no_party_organization = "no_party_organization"
    rectification_overdue = "rectification_overdue"
    minor_penalty = "minor_penalty"
    unreachable_at_address = "unreachable_at_address"
    # 严重违法失信名单
    abnormal_two_years = "abnormal_two_years"
    change_registration_revoked = "change_registration_revoked"
    activities_suspended = "activities_suspended"
    major_penalty = "major_penalty"
    repeated_penalties = "repeated_penalties"
    dishonest_judgment_debtor = "dishonest_judgment_debtor"
    registration_revoked = "registration_revoked"
    # either list
    other = "other"


LIST_REASONS = {
    ListType.abnormal: frozenset(
        {
            ListReason.annual_report_not_filed,
            ListReason.no_party_organization,
            ListReason.rectification_overdue,
            ListReason.minor_penalty,
            ListReason.unreachable_at_address,
            ListReason.other,
        }
    ),
    ListType.serious_illegal: frozenset(
        {
            ListReason.abnormal_two_years,
            ListReason.change_registration_revoked,
            ListReason.activities_suspended,
            ListReason.major_penalty,
            ListReason.repeated_penalties,
            ListReason.dishonest_judgment_debtor,
            ListReason.registration_revoked,
            ListReason.other,
        }
    ),
}


class SpotCheckLevel(StrEnum):
    county = "county"
    city = "city"
    province = "province"


# The least share of organizations a spot check of each level samples, in percent.
MIN_SPOT_CHECK_PERCENT = {
    SpotCheckLevel.county: 3,
    SpotCheckLevel.city: 4,
    SpotCheckLevel.province: 5,
}


class SpotCheckFinding(StrEnum):
    pending = "pending"
    compliant = "compliant"
    rectification_required = "rectification_required"
    serious_violation = "serious_violation"


class CertificateLevel(StrEnum):
    """The national social-work qualification (社会工作者职业资格) a worker holds."""

    assistant = "assistant"  # 助理社会工作师
    intermediate = "intermediate"  # 社会工作师
    senior = "senior"  # 高级社会工作师


class Employment(StrEnum):
    full_time = "full_time"  # 专职
    part_time = "part_time"  # 兼职


class PartyOrganizationForm(StrEnum):
    """How an organization is covered by a party organization (社会组织党组织)."""

    branch = "branch"  # 党支部 (its own: three or more full members)
    joint_branch = "joint_branch"  # 联合党支部 (shared with other organizations)
    general_branch = "general_branch"  # 党总支
    committee = "committee"  # 党委


LABELS: dict[type[StrEnum], dict[str, str]] = {
    OrganizationKind: {
        "association": "社会团体",
        "service_institution": "社会服务机构",
        "foundation": "基金会",
        "community": "社区社会组织",
    },
    Registration: {"registered": "登记", "filed": "备案"},
    Category: {
        "livelihood": "民生服务类",
        "community_service": "社区服务类",
        "charity": "公益慈善类",
        "sci_tech": "科技创新类",
        "social_work": "社工机构",
        "other": "其他",
    },
    OrganizationStatus: {
        "active": "正常",
        "abnormal": "活动异常",
        "revoked": "撤销登记",
        "deregistered": "注销",
    },
    EvaluationGrade: {g.value: g.value for g in EvaluationGrade},
    GradeEvaluationState: {
        "applied": "已申请",
        "scored": "已评分",
        "granted": "已评定",
        "refused": "不予评定",
        "withdrawn": "已撤回",
        "expired": "已到期",
        "revoked": "已取消",
        "superseded": "已被新评估取代",
    },
    GradeDecisionOutcome: {"granted": "评定等级", "refused": "不予评定"},
    GradeChangeKind: {
        "granted": "评定",
        "downgraded": "降级",
        "revoked": "取消等级",
        "expired": "到期",
        "superseded": "被新等级取代",
    },
    IncubationStage: {
        "incubate": "孵化",
        "serve": "服务",
        "emerge": "浮现",
        "support": "扶持",
        "radiate": "辐射",
    },
    IncubationPhase: {"early": "早期", "middle": "中期", "late": "后期", "follow_up": "末期"},
    InspectionResult: {
        "pass": "合格",
        "basic_pass": "基本合格",
        "fail": "不合格",
        "absent": "未参检",
    },
    InspectionState: {
        "submitted": "已报送",
        "reviewed": "已审核待结论",
        "concluded": "已作出结论",
        "returned": "已退回",
    },
    ApplicationKind: {
        "registration": "成立登记",
        "change": "变更登记",
        "deregistration": "注销登记",
        "annual_inspection": "年度检查",
    },
    ApplicationState: {
        "pending": "办理中",
        "approved": "准予",
        "rejected": "不予准予",
        "withdrawn": "已撤回",
        "lapsed": "已失效",
    },
    ListType: {"abnormal": "活动异常名录", "serious_illegal": "严重违法失信名单"},
    ListReason: {
        "annual_report_not_filed": "未按规定报送年度工作报告",
        "no_party_organization": "未按规定设立党组织",
        "rectification_overdue": "未按期完成整改",
        "minor_penalty": "受到警告或不满5万元罚款处罚",
        "unreachable_at_address": "通过登记的住所无法取得联系",
        "abnormal_two_years": "被列入活动异常名录满2年",
        "change_registration_revoked": "弄虚作假办理变更登记被撤销变更登记",
        "activities_suspended": "受到限期停止活动行政处罚",
        "major_penalty": "受到5万元以上罚款处罚",
        "repeated_penalties": "三年内两次以上受到警告或不满5万元罚款处罚",
        "dishonest_judgment_debtor": "被纳入失信被执行人名单",
        "registration_revoked": "被撤销成立登记或吊销登记证书",
        "other": "其他",
    },
    SpotCheckLevel: {"county": "县级", "city": "市级", "province": "省级"},
    SpotCheckFinding: {
        "pending": "待检查",
        "compliant": "合规",
        "rectification_required": "限期整改",
        "serious_violation": "严重违规",
    },
    CertificateLevel: {
        "assistant": "助理社会工作师",
        "intermediate": "社会工作师",
        "senior": "高级社会工作师",
    },
    Employment: {"full_time": "专职", "part_time": "兼职"},
    PartyOrganizationForm: {
        "branch": "党支部",
        "joint_branch": "联合党支部",
        "general_branch": "党总支",
        "committee": "党委",
    },
}


def parse_code(enum: type[StrEnum], text: str) -> StrEnum | None:
    """The member named by its code or its Chinese label (import files accept both)."""
    value = text.strip()
    try:
        return enum(value)
    except ValueError:
        pass
    for code, label in LABELS.get(enum, {}).items():
        if label == value:
            return enum(code)
    return None


# The phases in the only order an incubation goes through them, one step at a time.
PHASE_ORDER = (
    IncubationPhase.early,
    IncubationPhase.middle,
    IncubationPhase.late,
    IncubationPhase.follow_up,
)


class HubLevel(StrEnum):
    """一园多中心: one district park, a service centre per street."""

    district_park = "district_park"  # 区级社会组织创新园 (孵化园)
    street_centre = "street_centre"  # 街道社会组织服务中心


class CompetitionAward(StrEnum):
    first = "first"  # 一等奖
    second = "second"  # 二等奖
    third = "third"  # 三等奖
    merit = "merit"  # 优秀奖


LABELS.update(
    {
        HubLevel: {"district_park": "区级孵化园", "street_centre": "街道社会组织服务中心"},
        CompetitionAward: {
            "first": "一等奖",
            "second": "二等奖",
            "third": "三等奖",
            "merit": "优秀奖",
        },
    }
)
