"""Code lists of government purchase of services: English codes, Chinese labels.

The API speaks the codes; `GET /api/v1/projects/vocabulary` (`reference/labels.py`) serves
the labels to the front-end. Sources: the Haining practice (海宁"三会五统一"、"123X"
项目清单、"6+1"服务目标), and the procurement methods of the Government Procurement Law
(《政府采购法》第二十六条) with competitive consultation (财库〔2014〕214号).
"""

from __future__ import annotations

from enum import StrEnum


class Department(StrEnum):
    """The 15 livelihood departments (民生部门) that purchase services."""

    civil_affairs = "civil_affairs"
    education = "education"
    health = "health"
    human_resources = "human_resources"
    justice = "justice"
    public_security = "public_security"
    housing = "housing"
    agriculture = "agriculture"
    culture_tourism = "culture_tourism"
    veterans_affairs = "veterans_affairs"
    emergency_management = "emergency_management"
    petition = "petition"
    women_federation = "women_federation"
    disabled_federation = "disabled_federation"
    youth_league = "youth_league"


DEPARTMENT_LABELS: dict[Department, str] = {
    Department.civil_affairs: "民政局",
    Department.education: "教育局",
    Department.health: "卫生健康局",
    Department.human_resources: "人力资源和社会保障局",
    Department.justice: "司法局",
    Department.public_security: "公安局",
    Department.housing: "住房和城乡建设局",
    Department.agriculture: "农业农村局",
    Department.culture_tourism: "文化和广电旅游体育局",
    Department.veterans_affairs: "退役军人事务局",
    Department.emergency_management: "应急管理局",
    Department.petition: "信访局",
    Department.women_federation: "妇女联合会",
    Department.disabled_federation: "残疾人联合会",
    Department.youth_league: "共青团委员会",
}

# The finance bureau (财政局) pays every project: a `department_reviewer` token with this
# department reads all calls, projects and funds (it is not a purchasing department).
FINANCE_DEPARTMENT = "finance"


class CatalogueSlot(StrEnum):
    """The "123X" project catalogue (项目清单)."""

    core = "core"  # 1 个核心引领项目
    brand = "brand"  # 2 个领域治理品牌项目
    basic = "basic"  # 3 个基础项目
    special = "special"  # X 个特色自选项目


class CatalogueItem(StrEnum):
    core_party_talent = "core_party_talent"
    brand_community = "brand_community"
    brand_social_work = "brand_social_work"
    basic_families_in_difficulty = "basic_families_in_difficulty"
    basic_elderly_living_alone = "basic_elderly_living_alone"
    basic_children_in_difficulty = "basic_children_in_difficulty"
    special = "special"


CATALOGUE: dict[CatalogueItem, tuple[CatalogueSlot, str]] = {
    CatalogueItem.core_party_talent: (CatalogueSlot.core, "核心引领项目(党管人才)"),
    CatalogueItem.brand_community: (CatalogueSlot.brand, "社区治理品牌项目"),
    CatalogueItem.brand_social_work: (CatalogueSlot.brand, "社工治理品牌项目"),
    CatalogueItem.basic_families_in_difficulty: (CatalogueSlot.basic, "困难家庭基础项目"),
    CatalogueItem.basic_elderly_living_alone: (CatalogueSlot.basic, "孤寡老年人基础项目"),
    CatalogueItem.basic_children_in_difficulty: (CatalogueSlot.basic, "困境儿童基础项目"),
    CatalogueItem.special: (CatalogueSlot.special, "特色自选项目"),
}

CATALOGUE_SLOT_LABELS: dict[CatalogueSlot, str] = {
    CatalogueSlot.core: "核心引领(1)",
    CatalogueSlot.brand: "品牌项目(2)",
    CatalogueSlot.basic: "基础项目(3)",
    CatalogueSlot.special: "特色自选(X)",
}


def slot_of(item: CatalogueItem) -> CatalogueSlot:
    return CATALOGUE[item][0]


class ServiceTarget(StrEnum):
    """The "6" of "6+1": six groups of people served."""

    elderly = "elderly"
    women = "women"
    children_youth = "children_youth"
    new_residents = "new_residents"
    disabled = "disabled"
    poor = "poor"


SERVICE_TARGET_LABELS: dict[ServiceTarget, str] = {
    ServiceTarget.elderly: "老年人",
    ServiceTarget.women: "妇女",
    ServiceTarget.children_youth: "儿童青少年",
    ServiceTarget.new_residents: "新居民",
    ServiceTarget.disabled: "残疾人",
    ServiceTarget.poor: "贫穷无助者",
}


class CentralTask(StrEnum):
    """The "1" of "6+1": one central task of local government.

    The source lists them open-ended ("垃圾分类、矛盾调解、平安建设等1类中心工作"): `other`
    is any further task, named in `central_task_other` (`CentralTaskOther`).
    """

    waste_sorting = "waste_sorting"
    dispute_mediation = "dispute_mediation"
    safety = "safety"
    other = "other"


CENTRAL_TASK_LABELS: dict[CentralTask, str] = {
    CentralTask.waste_sorting: "垃圾分类",
    CentralTask.dispute_mediation: "矛盾调解",
    CentralTask.safety: "平安建设",
    CentralTask.other: "其他中心工作",
}

# The name of an `other` central task (e.g. 文明创建, 疫情防控): one short line, given
# with `other` and only with it (a CHECK of the call and project tables).
CENTRAL_TASK_OTHER_MAX = 100
CENTRAL_TASK_OTHER_NAMED = (
    "(central_task IS NOT DISTINCT FROM 'other') = (central_task_other IS NOT NULL)"
)


class ProcurementMethod(StrEnum):
    open_tender = "open_tender"
    invited_tender = "invited_tender"
    competitive_negotiation = "competitive_negotiation"
    competitive_consultation = "competitive_consultation"
    inquiry = "inquiry"
    single_source = "single_source"


PROCUREMENT_METHOD_LABELS: dict[ProcurementMethod, str] = {
    ProcurementMethod.open_tender: "公开招标",
    ProcurementMethod.invited_tender: "邀请招标",
    ProcurementMethod.competitive_negotiation: "竞争性谈判",
    ProcurementMethod.competitive_consultation: "竞争性磋商",
    ProcurementMethod.inquiry: "询价",
    ProcurementMethod.single_source: "单一来源",
}

# Fewest valid bids for an award. Tenders and negotiations need three suppliers
# (《政府采购货物和服务招标投标管理办法》第四十三条, 财政部令第74号); a competitive
# consultation for purchased services may go on with two (财库〔2015〕124号).
MIN_BIDS: dict[ProcurementMethod, int] = {
    ProcurementMethod.open_tender: 3,
    ProcurementMethod.invited_tender: 3,
    ProcurementMethod.competitive_negotiation: 3,
    ProcurementMethod.competitive_consultation: 2,
    ProcurementMethod.inquiry: 3,
    ProcurementMethod.single_source: 1,
}

# OCDS `tender.procurementMethod` (open / selective / limited / direct) of each method.
OCDS_METHOD: dict[ProcurementMethod, str] = {
    ProcurementMethod.open_tender: "open",
    ProcurementMethod.invited_tender: "selective",
    ProcurementMethod.competitive_negotiation: "limited",
    ProcurementMethod.competitive_consultation: "limited",
    ProcurementMethod.inquiry: "limited",
    ProcurementMethod.single_source: "direct",
}


class BudgetCategory(StrEnum):
    personnel = "personnel"
    activities = "activities"
    materials = "materials"
    training = "training"
    administration = "administration"
    other = "other"


BUDGET_CATEGORY_LABELS: dict[BudgetCategory, str] = {
    BudgetCategory.personnel: "人员经费",
    BudgetCategory.activities: "活动经费",
    BudgetCategory.materials: "物资费用",
    BudgetCategory.training: "培训督导费",
    BudgetCategory.administration: "管理费用",
    BudgetCategory.other: "其他",
}
