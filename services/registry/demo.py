"""Deterministic demo data: Luyang district (庐阳区, 340103) as the sources describe it.

"截至2020年11月底，庐阳区共有注册登记和备案社会组织866家，其中区级注册社会组织428家，
乡镇街道备案社会组织438家" (the Luyang seed). So the register counts 866 organizations
*in being*: 428 registered by the district's bureau (associations and social service
institutions, USCCs with authority division 340103) and 438 community groups filed at
its streets. Around them, and not part of the 866 (the dashboard shows them apart):

- foundations located in Luyang: foundations are registered by the province (340000)
  or the ministry, never by a district, so they are not among the 428;
- organizations deregistered (注销) over the years: they were on the register once and
  their records stay, but "共有…866家" counts those that exist.

Statuses and lists agree as the rules make them: annual inspections for recent years
(registered organizations only: filed groups report to their street); a year 未参检
lists the organization on the abnormal-activity list from the day after the deadline
(two consecutive years: the serious list too), exactly what the deadline sweep
(`inspections/deadlines.py`) would have done; a few filed groups are listed as
unreachable at their address. An organization is `abnormal` exactly when it has an
open abnormal-list entry.

The same seed always yields the same register. `python -m services.registry.demo`
loads it into an empty register (and does nothing when the register has
organizations), without outbox events: it is an initial state, not news for the
provincial platform.
"""

from __future__ import annotations

import asyncio
import logging
import random
import uuid
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

import asyncpg
from sqlalchemy import func, insert, select
from sqlalchemy.dialects.postgresql import insert as pg_insert

from services.registry.enums import (
    Category,
    EvaluationGrade,
    GradeChangeKind,
    GradeEvaluationState,
    IncubationStage,
    InspectionResult,
    InspectionState,
    ListReason,
    ListType,
    OrganizationKind,
    OrganizationStatus,
    Registration,
)
from services.registry.grades.grade_points import GRADE_THRESHOLDS
from services.registry.grades.models import GradeChange, GradeEvaluation
from services.registry.inspections.models import AnnualInspection
from services.registry.organizations.models import Organization
from services.registry.organizations.uscc import make_uscc
from services.registry.reference.models import Region
from services.registry.standing.models import ListEntry
from shared.clock import SHANGHAI
from shared.db import Database, database

logger = logging.getLogger("sanshe.registry.demo")

DISTRICT = ("340103", "庐阳区")
# The district's streets (街道) and towns (镇/乡), coded as GB/T 10114 codes townships:
# district code + 3 digits, 001-099 a street, 100-199 a town, 200-399 a township (乡).
# 340103001 亳州路街道 is the real code (its 畅园社区 is 340103001001); the other
# sequence numbers are ILLUSTRATIVE, not checked against the National Bureau of
# Statistics' list. The weight is each one's share of the organizations: the old-town
# streets are dense, the rural town and township of the north-west are not.
STREETS = [
    ("340103001", "亳州路街道"),
    ("340103002", "双岗街道"),
    ("340103003", "三孝口街道"),
    ("340103004", "杏花村街道"),
    ("340103005", "林店街道"),
    ("340103006", "海棠街道"),
    ("340103007", "杏林街道"),
    ("340103008", "逍遥津街道"),
    ("340103100", "大杨镇"),
    ("340103200", "三十岗乡"),
]
STREET_WEIGHTS = [13, 14, 13, 13, 10, 10, 9, 11, 5, 2]
COMMUNITIES_PER_STREET = 6
PROVINCE = "340000"  # foundations are registered by the province

REGISTERED = 428
FILED = 438
# Not among the 866: registered by the province, or no longer in being.
PROVINCE_FOUNDATIONS = 6
DEREGISTERED_REGISTERED = 12
DEREGISTERED_FILED = 7
INSPECTION_YEARS = (2023, 2024, 2025)
REPORT_DEADLINE = (5, 31)  # the default of `RegistrySettings`: 31 May of the next year
SWEEPER = "system:annual-report-deadline"

_SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗"
_GIVEN = "伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀霞平刚桂英华"
_TOPICS = {
    Category.livelihood: ["助老", "助残", "托育", "家政", "健康"],
    Category.community_service: ["邻里", "睦邻", "社区营造", "楼道", "志愿"],
    Category.charity: ["慈善", "公益", "关爱", "助学", "爱心"],
    Category.sci_tech: ["科普", "创新", "数字", "青创", "科技"],
    Category.social_work: ["社工", "社会工作", "心理", "家庭", "青少年"],
    Category.other: ["文化", "体育", "书画", "戏曲", "读书"],
}
_SUFFIX = {
    OrganizationKind.association: "协会",
    OrganizationKind.service_institution: "服务中心",
    OrganizationKind.foundation: "基金会",
    OrganizationKind.community: "服务队",
}


@dataclass(frozen=True)
class DemoData:
    regions: list[dict[str, Any]]
    organizations: list[dict[str, Any]]
    inspections: list[dict[str, Any]]
    list_entries: list[dict[str, Any]]
    evaluations: list[dict[str, Any]] = field(default_factory=list)
    grade_changes: list[dict[str, Any]] = field(default_factory=list)


def _person(rng: random.Random) -> str:
    return rng.choice(_SURNAMES) + "".join(rng.choices(_GIVEN, k=rng.choice((1, 2))))


def _regions() -> list[dict[str, Any]]:
    regions = [{"code": DISTRICT[0], "name": DISTRICT[1], "level": "district", "parent_code": None}]
    for code, name in STREETS:
        regions.append({"code": code, "name": name, "level": "street", "parent_code": DISTRICT[0]})
        for n in range(1, COMMUNITIES_PER_STREET + 1):
            regions.append(
                {
                    "code": f"{code}{n:03d}",
                    "name": f"{name[:-2] if name.endswith('街道') else name}第{n}社区",
                    "level": "community",
                    "parent_code": code,
                }
            )
    return regions


def _registered_kinds(rng: random.Random, count: int) -> Iterator[OrganizationKind]:
    """Kinds the district's bureau registers: associations and service institutions."""
    for _ in range(count):
        yield rng.choices(
            [OrganizationKind.association, OrganizationKind.service_institution],
            weights=[42, 58],
        )[0]


# Filed community groups are neighbourhood teams: social-work agencies (社工机构) are
# registered service institutions, and few groups have been through an evaluation.
_CATEGORY_WEIGHTS = {
    Registration.registered: [30, 20, 15, 8, 17, 10],
    Registration.filed: [25, 45, 10, 3, 0, 17],
}
_GRADE_WEIGHTS = {
    Registration.registered: [60, 3, 7, 15, 10, 5],
    # Filed (备案) groups are never graded: grades/service.py refuses them.
    Registration.filed: [100, 0, 0, 0, 0, 0],
}


def _organization(
    rng: random.Random, *, index: int, kind: OrganizationKind, registration: Registration
) -> dict[str, Any]:
    category = rng.choices(list(Category), weights=_CATEGORY_WEIGHTS[registration])[0]
    street_code, street_name = rng.choices(STREETS, weights=STREET_WEIGHTS)[0]
    community = rng.randint(1, COMMUNITIES_PER_STREET)
    established = date(2008, 1, 1) + timedelta(days=rng.randint(0, 6200))
    grade = rng.choices([None, *EvaluationGrade], weights=_GRADE_WEIGHTS[registration])[0]
    name = f"庐阳区{street_name[:2]}{rng.choice(_TOPICS[category])}{_SUFFIX[kind]}"
    row: dict[str, Any] = {
        "id": uuid.UUID(int=rng.getrandbits(128), version=4),
        "name": f"{name}{index:04d}"
        if registration is Registration.filed
        else f"{name}（{index}）",
        "kind": kind.value,
        "registration": registration.value,
        "uscc": None,
        "filing_number": None,
        "category": category.value,
        "district_code": DISTRICT[0],
        "street_code": street_code,
        "community_code": f"{street_code}{community:03d}",
        "legal_rep_name": _person(rng),
        # Demo data carries no real personal ID numbers.
        "legal_rep_id_number": None,
        "contact_name": _person(rng),
        "contact_phone": f"0551-6{rng.randint(1000000, 9999999)}",
        "address": f"合肥市庐阳区{street_name}{rng.randint(1, 300)}号",
        "business_scope": f"{rng.choice(_TOPICS[category])}服务、宣传、培训与交流",
        "supervising_unit": None if kind is OrganizationKind.community else "庐阳区民政局",
        "registered_funds_fen": (
            rng.choice([100_000, 300_000, 500_000])
            if registration is Registration.filed
            else rng.choice([3_000_000, 5_000_000, 10_000_000, 20_000_000])
        ),
        "established_on": established,
        # In being; `generate` closes or lists some, with the records that go with it.
        "status": OrganizationStatus.active.value,
        "evaluation_grade": grade.value if grade else None,
        "grade_valid_from": date(2024, 1, 1) if grade else None,
        "grade_valid_until": date(2028, 12, 31) if grade else None,
        "incubation_stage": rng.choices([None, *IncubationStage], weights=[80, 6, 5, 4, 3, 2])[0],
        "tags": rng.sample(["党建", "为老", "青少年", "志愿", "孵化", "品牌"], k=rng.randint(0, 2)),
        "version": 1,
    }
    if row["incubation_stage"] is not None:
        row["incubation_stage"] = row["incubation_stage"].value
    if registration is Registration.registered:
        authority = PROVINCE if kind is OrganizationKind.foundation else DISTRICT[0]
        row["uscc"] = make_uscc(kind=kind, authority_division=authority, serial=index)
    else:
        row["filing_number"] = f"LYBA{street_code[-3:]}{index:05d}"
    return row


def _indicators(rng: random.Random, result: InspectionResult) -> tuple[bool | None, bool | None]:
    """Party building and financial audit: a pass has both (the key indicators gate it)."""
    if result is InspectionResult.absent:
        return None, None
    if result is InspectionResult.passed:
        return True, True
    if result is InspectionResult.basic_pass:
        return rng.random() > 0.3, rng.random() > 0.3
    party = rng.random() > 0.5
    return party, not party or rng.random() > 0.5


def inspections_of(rng: random.Random, organization: dict[str, Any]) -> list[dict[str, Any]]:
    rows = []
    for year in INSPECTION_YEARS:
        # Organizations under six months old at the year's end are exempt.
        if organization["established_on"] > date(year, 6, 30):
            continue
        result = rng.choices(list(InspectionResult), weights=[85, 8, 3, 4])[0]
        absent = result is InspectionResult.absent
        party_building_ok, financial_audit_ok = _indicators(rng, result)
        submitted = datetime(year + 1, rng.randint(3, 5), rng.randint(1, 28), 9, tzinfo=UTC)
        rows.append(
            {
                "id": uuid.UUID(int=rng.getrandbits(128), version=4),
                "organization_id": organization["id"],
                "year": year,
                "state": InspectionState.concluded.value,
                "result": result.value,
                "party_building_ok": party_building_ok,
                "financial_audit_ok": financial_audit_ok,
                "remarks": None if result is InspectionResult.passed else "材料不全，需整改",
                "submitted_at": None if absent else submitted,
                "conclusion_recorded_by": SWEEPER if absent else None,
                # 未参检 is concluded by the deadline sweep, the day after the deadline.
                "concluded_at": datetime.combine(_after_deadline(year), time(2), tzinfo=UTC)
                if absent
                else submitted + timedelta(days=rng.randint(5, 30)),
            }
        )
    return rows


def _after_deadline(year: int) -> date:
    return date(year + 1, *REPORT_DEADLINE) + timedelta(days=1)


def _entry(
    rng: random.Random,
    organization: dict[str, Any],
    *,
    list_type: ListType,
    reason_code: ListReason,
    reason: str,
    listed_on: date,
    report_year: int | None = None,
) -> dict[str, Any]:
    return {
        "id": uuid.UUID(int=rng.getrandbits(128), version=4),
        "organization_id": organization["id"],
        "list_type": list_type.value,
        "reason_code": reason_code.value,
        "reason": reason,
        "listed_on": listed_on,
        "listed_by": SWEEPER if report_year else "demo",
        "report_year": report_year,
    }


def listings_for_missed_reports(
    rng: random.Random, organization: dict[str, Any], inspections: list[dict[str, Any]]
) -> list[dict[str, Any]]:
    """The entries the deadline sweep makes for the years 未参检, and the status they set."""
    absent = sorted(i["year"] for i in inspections if i["result"] == InspectionResult.absent)
    if not absent:
        return []
    first = absent[0]
    entries = [
        _entry(
            rng,
            organization,
            list_type=ListType.abnormal,
            reason_code=ListReason.annual_report_not_filed,
            reason=f"未在{date(first + 1, *REPORT_DEADLINE).isoformat()}前报送{first}年度工作报告",
            listed_on=_after_deadline(first),
            report_year=first,
        )
    ]
    consecutive = next((y for y in absent if y - 1 in absent), None)
    if consecutive is not None:
        entries.append(
            _entry(
                rng,
                organization,
                list_type=ListType.serious_illegal,
                reason_code=ListReason.abnormal_two_years,
                reason=f"连续两年未报送年度工作报告（{consecutive - 1}、{consecutive}年度）",
                listed_on=_after_deadline(consecutive),
                report_year=consecutive,
            )
        )
    organization["status"] = OrganizationStatus.abnormal.value
    return entries


# The demo grades were granted and published on 1 January 2024, valid five years.
_GRADED_ON = datetime(2024, 1, 1, tzinfo=SHANGHAI)
# A total each grade's evaluation scored (grades.grade_points: the grade's lowest + 10).
_DEMO_TOTAL = {grade: lowest + 10 for lowest, grade in GRADE_THRESHOLDS}


def evaluations_of(organization: dict[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
    """The granted evaluation behind a demo organization's grade, and its `granted` change:
    the grade field always has an evaluation in force behind it."""
    grade = EvaluationGrade(organization["evaluation_grade"])
    evaluation_id = uuid.uuid5(uuid.NAMESPACE_URL, f"sanshe:demo:grade:{organization['id']}")
    evaluation = {
        "id": evaluation_id,
        "organization_id": organization["id"],
        "year": _GRADED_ON.year - 1,
        "state": GradeEvaluationState.granted.value,
        "applied_by": "demo",
        "applied_at": _GRADED_ON - timedelta(days=60),
        "total_score": _DEMO_TOTAL[grade],
        "decided_by": "demo",
        "decided_at": _GRADED_ON,
        "granted_grade": grade.value,
        "grade": grade.value,
        "valid_from": organization["grade_valid_from"],
        "valid_until": organization["grade_valid_until"],
        "published_at": _GRADED_ON,
        "published_by": "demo",
    }
    change = {
        "evaluation_id": evaluation_id,
        "organization_id": organization["id"],
        "kind": GradeChangeKind.granted.value,
        "grade_after": grade.value,
        "actor_sub": "demo",
        "at": _GRADED_ON,
    }
    return evaluation, change


def iter_organizations(
    rng: random.Random, *, registered: int = REGISTERED, filed: int = FILED
) -> Iterator[dict[str, Any]]:
    """The organizations in being, one at a time (benchmarks stream a million into COPY).

    All `active`: statuses other than that come with their records (`generate`).
    """
    for i, kind in enumerate(_registered_kinds(rng, registered)):
        yield _organization(rng, index=i + 1, kind=kind, registration=Registration.registered)
    for i in range(filed):
        yield _organization(
            rng,
            index=registered + i + 1,
            kind=OrganizationKind.community,
            registration=Registration.filed,
        )


def _outside_the_count(rng: random.Random, *, first_index: int) -> list[dict[str, Any]]:
    """Province-registered foundations and deregistered organizations (not in the 866)."""
    rows = []
    index = first_index
    for _ in range(PROVINCE_FOUNDATIONS):
        row = _organization(
            rng,
            index=index,
            kind=OrganizationKind.foundation,
            registration=Registration.registered,
        )
        row["supervising_unit"] = "安徽省民政厅"
        rows.append(row)
        index += 1
    closed = [Registration.registered] * DEREGISTERED_REGISTERED + [
        Registration.filed
    ] * DEREGISTERED_FILED
    for registration in closed:
        kind = (
            next(_registered_kinds(rng, 1))
            if registration is Registration.registered
            else OrganizationKind.community
        )
        row = _organization(rng, index=index, kind=kind, registration=registration)
        row["status"] = OrganizationStatus.deregistered.value
        row.update(evaluation_grade=None, grade_valid_from=None, grade_valid_until=None)
        rows.append(row)
        index += 1
    return rows


def generate(*, seed: int = 20261123, registered: int = REGISTERED, filed: int = FILED) -> DemoData:
    rng = random.Random(seed)
    in_being = list(iter_organizations(rng, registered=registered, filed=filed))
    organizations = in_being + _outside_the_count(rng, first_index=registered + filed + 1)
    inspections: list[dict[str, Any]] = []
    entries: list[dict[str, Any]] = []
    for organization in in_being:
        if organization["registration"] == Registration.registered.value:
            own = inspections_of(rng, organization)
            inspections += own
            entries += listings_for_missed_reports(rng, organization, own)
        elif rng.random() < 0.02:
            # A few filed groups can no longer be reached at their address.
            entries.append(
                _entry(
                    rng,
                    organization,
                    list_type=ListType.abnormal,
                    reason_code=ListReason.unreachable_at_address,
                    reason="通过备案的住所无法取得联系",
                    listed_on=date(2026, 3, 1) + timedelta(days=rng.randint(0, 200)),
                )
            )
            organization["status"] = OrganizationStatus.abnormal.value
    graded = [
        evaluations_of(o)
        for o in organizations
        if o["evaluation_grade"] is not None
        and o["status"] != OrganizationStatus.deregistered.value
    ]
    return DemoData(
        regions=_regions(),
        organizations=organizations,
        inspections=inspections,
        list_entries=entries,
        evaluations=[evaluation for evaluation, _ in graded],
        grade_changes=[change for _, change in graded],
    )


async def load_if_empty(data: DemoData | None = None, *, db: Database = database) -> bool:
    """Load the demo register into an empty database; False if it already had data."""
    async with db.transaction() as session:
        if (await session.execute(select(func.count()).select_from(Organization))).scalar_one():
            return False
        data = data or generate()
        # Regions are reference data another loader may have put there already.
        await session.execute(pg_insert(Region).on_conflict_do_nothing(), data.regions)
        await session.execute(insert(Organization), data.organizations)
        await session.execute(insert(AnnualInspection), data.inspections)
        if data.list_entries:
            await session.execute(insert(ListEntry), data.list_entries)
        if data.evaluations:
            await session.execute(insert(GradeEvaluation), data.evaluations)
            await session.execute(insert(GradeChange), data.grade_changes)
    logger.info(
        "demo data loaded",
        extra={"organizations": len(data.organizations), "inspections": len(data.inspections)},
    )
    return True


ORGANIZATION_COLUMNS = (
    "id", "name", "kind", "registration", "uscc", "filing_number", "category",
    "district_code", "street_code", "community_code", "legal_rep_name",
    "legal_rep_id_number", "contact_name", "contact_phone", "address", "business_scope",
    "supervising_unit", "registered_funds_fen", "established_on", "status",
    "evaluation_grade", "grade_valid_from", "grade_valid_until", "incubation_stage", "tags",
    "version",
)  # fmt: skip


async def copy_organizations(
    connection: asyncpg.Connection, rows: Iterable[dict[str, Any]], *, batch: int = 50_000
) -> int:
    """COPY generated organizations in (benchmarks and large tests); returns how many."""
    total = 0
    chunk: list[tuple[Any, ...]] = []
    for row in rows:
        chunk.append(tuple(row[column] for column in ORGANIZATION_COLUMNS))
        if len(chunk) >= batch:
            total += await _copy_chunk(connection, chunk)
    if chunk:
        total += await _copy_chunk(connection, chunk)
    return total


async def _copy_chunk(connection: asyncpg.Connection, chunk: list[tuple[Any, ...]]) -> int:
    await connection.copy_records_to_table(
        "organization", schema_name="registry", columns=ORGANIZATION_COLUMNS, records=chunk
    )
    count = len(chunk)
    chunk.clear()
    return count


async def _main() -> None:
    loaded = await load_if_empty()
    await database.dispose()
    print("demo data loaded" if loaded else "register not empty: demo data left alone")


if __name__ == "__main__":
    asyncio.run(_main())
