"""The figures and names of the projects demo (`demo.py` builds it from them).

Every figure is the sources' (yuan here, fen where stored): Haining's fund
"社工办项目专项经费1000万元,其中500万元主要用于购买专业社工服务,500万元用于社会组织培育
发展奖补"; "15个民生部门"; the agencies "上海公益、上海现代、上海屋里厢、浙江之江、杭州支点、
杭州乐仁乐助、嘉兴孝慈以及孵化本土海宁紫微、海宁康颐"; Luyang's "区财政每年出资150万元支持
社区社会组织等各类组织参与社区治理服务" and its agencies "实创"、"社彩"、"安泰"、"恒信"、"常青藤".
"""

from __future__ import annotations

import uuid

from services.projects.core.models import ProjectStage
from services.projects.reference.code_lists import (
    CatalogueItem,
    CentralTask,
    Department,
    ServiceTarget,
)
from shared.interservice import OrganizationSummary as Org

HAINING = ("330481", "海宁市")
LUYANG = ("340103", "庐阳区")
YUAN = 100  # fen

HAINING_FUND_FEN = 10_000_000 * YUAN
SOCIAL_WORK_POOL_FEN = 5_000_000 * YUAN
CULTIVATION_POOL_FEN = 5_000_000 * YUAN
LUYANG_FUND_FEN = 1_500_000 * YUAN
HAINING_FUND_NAME = "海宁市社工办项目专项经费"
LUYANG_FUND_NAME = "庐阳区社区治理专项资金"

# Haining's 4 streets and 8 towns ("1+12+N": one city centre, 12 town/street centres);
# codes numbered within the city as the registry's demo numbers Luyang's streets.
HAINING_TOWNS = [
    ("330481001", "硖石街道"),
    ("330481002", "海洲街道"),
    ("330481003", "海昌街道"),
    ("330481004", "马桥街道"),
    ("330481101", "许村镇"),
    ("330481102", "长安镇"),
    ("330481103", "周王庙镇"),
    ("330481104", "盐官镇"),
    ("330481105", "斜桥镇"),
    ("330481106", "丁桥镇"),
    ("330481107", "袁花镇"),
    ("330481108", "黄湾镇"),
]
LUYANG_STREETS = ["340103001", "340103002", "340103003", "340103004", "340103006"]

# The agencies the sources name, as the registry would summarise them.
AGENCY_NAMESPACE = uuid.UUID("6f1c1e4e-2b1a-4c55-9a43-3d0c0b5e7a10")
HAINING_AGENCIES = [
    "上海公益社工师事务所",
    "上海现代社会工作服务中心",
    "上海屋里厢社区服务中心",
    "浙江之江社会工作发展中心",
    "杭州支点社会工作服务中心",
    "杭州乐仁乐助社会工作服务中心",
    "嘉兴孝慈社会工作服务社",
    "海宁紫微社会工作服务中心",
    "海宁康颐社会工作服务中心",
]
LUYANG_AGENCIES = [
    "庐阳区实创社会工作服务中心",
    "庐阳区社彩社会工作服务中心",
    "庐阳区安泰社会工作服务中心",
    "庐阳区恒信社会工作服务中心",
    "庐阳区常青藤社会工作服务中心",
]


def agency(name: str, street_code: str) -> Org:
    return Org(
        id=uuid.uuid5(AGENCY_NAMESPACE, name),
        name=name,
        kind="service_institution",
        registration="registered",
        status="active",
        street_code=street_code,
    )


# What each department purchases: (call title, 123X item, targets, central task).
PURCHASES: dict[Department, tuple[str, CatalogueItem, list[ServiceTarget], CentralTask | None]] = {
    Department.civil_affairs: (
        "社会工作站党建引领人才项目",
        CatalogueItem.core_party_talent,
        [ServiceTarget.elderly, ServiceTarget.poor],
        None,
    ),
    Department.education: (
        "困境儿童关爱与学业支持",
        CatalogueItem.basic_children_in_difficulty,
        [ServiceTarget.children_youth],
        CentralTask.safety,
    ),
    Department.health: (
        "孤寡老人健康照护",
        CatalogueItem.basic_elderly_living_alone,
        [ServiceTarget.elderly],
        None,
    ),
    Department.human_resources: (
        "新居民就业融入",
        CatalogueItem.special,
        [ServiceTarget.new_residents],
        None,
    ),
    Department.justice: (
        "社区矫正社会工作",
        CatalogueItem.brand_social_work,
        [ServiceTarget.poor],
        CentralTask.dispute_mediation,
    ),
    Department.public_security: (
        "平安社区共建",
        CatalogueItem.special,
        [ServiceTarget.new_residents, ServiceTarget.children_youth],
        CentralTask.safety,
    ),
    Department.housing: (
        "老旧小区垃圾分类共治",
        CatalogueItem.brand_community,
        [ServiceTarget.elderly, ServiceTarget.women],
        CentralTask.waste_sorting,
    ),
    Department.agriculture: (
        "乡村振兴留守老人关爱",
        CatalogueItem.basic_elderly_living_alone,
        [ServiceTarget.elderly],
        None,
    ),
    Department.culture_tourism: (
        "社区文化睦邻",
        CatalogueItem.brand_community,
        [ServiceTarget.women, ServiceTarget.children_youth],
        None,
    ),
    Department.veterans_affairs: (
        "退役军人关爱服务",
        CatalogueItem.special,
        [ServiceTarget.elderly, ServiceTarget.disabled],
        None,
    ),
    Department.emergency_management: (
        "社区应急与安全宣教",
        CatalogueItem.special,
        [ServiceTarget.elderly, ServiceTarget.children_youth],
        CentralTask.safety,
    ),
    Department.petition: (
        "老信访户矛盾化解",
        CatalogueItem.brand_social_work,
        [ServiceTarget.poor],
        CentralTask.dispute_mediation,
    ),
    Department.women_federation: (
        "困难家庭妇女儿童帮扶",
        CatalogueItem.basic_families_in_difficulty,
        [ServiceTarget.women, ServiceTarget.children_youth, ServiceTarget.poor],
        None,
    ),
    Department.disabled_federation: (
        "残疾人康复与社会融入",
        CatalogueItem.special,
        [ServiceTarget.disabled],
        None,
    ),
    Department.youth_league: (
        "青少年成长护航",
        CatalogueItem.basic_children_in_difficulty,
        [ServiceTarget.children_youth],
        None,
    ),
}

# The season: where each call's projects end up, in the order they are created. Every
# stage the projects service models appears, most projects running or done.
SEASON: list[tuple[ProjectStage, ...]] = [
    (ProjectStage.closed, ProjectStage.implementing),
    (ProjectStage.evaluated, ProjectStage.applied),
    (ProjectStage.implementing, ProjectStage.rejected),
    (ProjectStage.evaluating, ProjectStage.contracted),
    (ProjectStage.closing, ProjectStage.procuring),
    (ProjectStage.closed,),
    (ProjectStage.implementing, ProjectStage.approved),
    (ProjectStage.evaluated, ProjectStage.withdrawn),
    (ProjectStage.closed, ProjectStage.implementing),
    (ProjectStage.evaluating,),
    (ProjectStage.implementing, ProjectStage.applied),
    (ProjectStage.closed,),
    (ProjectStage.contracted, ProjectStage.implementing),
    (ProjectStage.closing,),
    (ProjectStage.implementing,),
]
LUYANG_SEASON: tuple[ProjectStage, ...] = (
    ProjectStage.closed,
    ProjectStage.evaluated,
    ProjectStage.implementing,
    ProjectStage.implementing,
    ProjectStage.applied,
)

# Cultivation awards (培育发展奖补), yuan, to organizations the city cultivated.
CULTIVATION_AWARDS = [
    ("海宁紫微社会工作服务中心", 300_000, "品牌社会组织培育奖补"),
    ("海宁康颐社会工作服务中心", 300_000, "品牌社会组织培育奖补"),
    ("海宁市硖石街道邻里守望服务队", 50_000, "社区社会组织培育发展奖补"),
    ("海宁市长安镇七彩社区志愿服务队", 50_000, "“厢里乡亲·七彩社区”公益创投奖补"),
    ("海宁市盐官镇潮乡文化社", 30_000, "社区社会组织培育发展奖补"),
    ("海宁市许村镇新居民互助会", 30_000, "注册资金足额补助"),
]
