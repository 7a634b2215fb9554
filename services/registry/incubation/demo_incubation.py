"""Deterministic demo of the incubation pipeline on the demo register (`services.registry.demo`);
not named `demo.py`, which is the register's (module names do not repeat within a service).

The seed (庐阳区): "积极推动“一园多中心”建设，即区级建立庐阳区社会组织创新园，三个街道试点建立
街道社会组织服务中心，分别开展专业社会组织和社区社会组织孵化培育", "“孵”（以大赛的形式选拔和
孵化培育草根社会组织）", "设立“社创俱乐部”，通过每年选取6家成熟社会组织入驻，为新培育社会组织
提供智力和经验支持", "培育“早期”，注重资源到位；…给予种子基金支持…培育“末期”，注重跟进到位".

Made data:

- 一园多中心: the park 庐阳区社会组织创新园 houses professional (registered) organizations;
  three pilot streets (the seed does not name them: 亳州路、双岗、杏花村 are illustrative) each
  open a 街道社会组织服务中心 for the community (filed) groups of their street.
- 社创俱乐部: each year six mature registered organizations reside in the park for the
  year (recorded as the 5F step 辐) and mentor the incubated organizations.
- 社创大赛: one competition a year, 2019–2026: organizations of the register and a few
  grassroots groups not filed yet enter; the best five organizations are awarded and
  admitted into incubation (5F step 孵), residing in the park or their street's centre.
- Phases: each incubation enters 中期, 后期 and 末期 in turn about a year apart (none after
  `AS_OF`); on entering 末期 ("培育结束后") it leaves its hub.
- 种子基金: one pool a year (300,000 yuan, illustrative), a grant to each of the year's
  admitted organizations; the balance never goes below zero.

Everything goes through the domain services acting as the civil-affairs bureau, in date
order, so every rule holds as it would have then: capacity, one residency at a time,
phases in order, the pool's balance. Organization history is kept; the events those steps
emit are an initial state, not news, and are dropped (as the projects demo does).
The same register always yields the same demo.
"""

from __future__ import annotations

import asyncio
import logging
import random
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import date, timedelta

from sqlalchemy import delete, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from services.registry import events
from services.registry.base import infra
from services.registry.competitions import service as competitions
from services.registry.competitions.schemas import (
    CompetitionCreate,
    EntryAdmission,
    EntryCreate,
    EntryResult,
)
from services.registry.demo import DISTRICT, STREETS
from services.registry.enums import (
    PHASE_ORDER,
    Category,
    CompetitionAward,
    HubLevel,
    IncubationPhase,
    IncubationStage,
    OrganizationKind,
    OrganizationStatus,
    Registration,
)
from services.registry.hubs import service as hubs
from services.registry.hubs.models import Hub
from services.registry.hubs.schemas import HubCreate, ResidencyCreate, ResidencyEnd
from services.registry.incubation import service as incubation
from services.registry.incubation.schemas import (
    IncubationStep,
    MentoringSessionCreate,
    PhaseAdvance,
)
from services.registry.organizations.models import Organization
from services.registry.seed_funding import service as seed_funding
from services.registry.seed_funding.schemas import SeedGrantCreate, SeedPoolCreate
from shared.auth import Principal, Role
from shared.clock import shanghai_today
from shared.db import Database, database

logger = logging.getLogger("sanshe.registry.incubation.demo_incubation")

SEED = 20201211  # the day the Luyang seed article was published
BUREAU = Principal(sub="demo:luyang-civil-affairs", role=Role.civil_affairs)
PARK_NAME = "庐阳区社会组织创新园"
PARK_CAPACITY = 20
# The seed says three streets piloted a centre, not which: these three are illustrative.
PILOT_STREETS = ("340103001", "340103002", "340103004")
CENTRE_CAPACITY = 12
CENTRES_OPENED_ON = date(2019, 3, 1)
# Community groups each centre houses from its opening (besides the groups it incubates).
FOUNDING_RESIDENTS = 3
CLUB_SIZE = 6  # "每年选取6家成熟社会组织入驻"
CLUB_YEARS = range(2019, 2027)
COMPETITION_YEARS = range(2019, 2027)
REGISTERED_ENTRANTS = 4
FILED_ENTRANTS = 4
GRASSROOTS_ENTRANTS = 2
AWARDS = (
    CompetitionAward.first,
    CompetitionAward.second,
    CompetitionAward.third,
    CompetitionAward.third,
    CompetitionAward.merit,
)
YUAN = 100  # fen
POOL_FEN = 300_000 * YUAN
GRANT_FEN = {
    CompetitionAward.first: 60_000 * YUAN,
    CompetitionAward.second: 50_000 * YUAN,
    CompetitionAward.third: 40_000 * YUAN,
    CompetitionAward.merit: 30_000 * YUAN,
}
# No phase is entered, no session held after this day: the demo is the same whenever loaded.
AS_OF = date(2026, 11, 30)
PROFESSIONAL = (Category.social_work, Category.livelihood, Category.charity, Category.sci_tech)
_PROJECTS = (
    *("邻里互助计划", "独居老人关爱行动", "四点半课堂", "垃圾分类入户宣导", "楼道微治理"),
    *("社区心理疏导", "残障人士融合就业", "新市民融入计划", "家门口的调解室"),
)
_GROUPS = ("楼栋志愿小队", "广场舞骨干队", "银发读书会", "宝妈互助群", "社区摄影社")
_TOPICS = (
    *("财务规范化", "项目设计与评估", "社区需求调研", "品牌传播", "志愿者管理"),
    *("党建引领", "理事会建设", "资源链接"),
)
_SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗"
_GIVEN = "伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀霞平刚桂英华"


@dataclass(frozen=True, slots=True)
class Candidate:
    id: uuid.UUID
    name: str
    registration: Registration
    kind: OrganizationKind
    category: Category
    street_code: str | None
    established_on: date | None
    grade: str | None


# One step of the demo's history: its day, then its order within the day.
Step = tuple[date, int, Callable[[], Awaitable[None]]]


@dataclass
class Demo:
    session: AsyncSession
    today: date
    rng: random.Random
    park: uuid.UUID | None = None
    centres: dict[str, uuid.UUID] = field(default_factory=dict)
    steps: list[Step] = field(default_factory=list)
    touched: set[uuid.UUID] = field(default_factory=set)

    def at(self, day: date, order: int, action: Callable[[], Awaitable[None]]) -> None:
        if day <= min(AS_OF, self.today):
            self.steps.append((day, order, action))

    async def run(self) -> None:
        # Date order, so each rule is checked against the state of that day.
        for _, _, action in sorted(self.steps, key=lambda step: (step[0], step[1])):
            await action()


def _person(rng: random.Random) -> str:
    return rng.choice(_SURNAMES) + "".join(rng.choices(_GIVEN, k=rng.choice((1, 2))))


async def candidates(session: AsyncSession) -> list[Candidate]:
    """The active organizations of the district, by name (a stable order)."""
    rows = await session.execute(
        select(
            Organization.id,
            Organization.name,
            Organization.registration,
            Organization.kind,
            Organization.category,
            Organization.street_code,
            Organization.established_on,
            Organization.evaluation_grade,
        )
        .where(
            Organization.status == OrganizationStatus.active,
            Organization.district_code == DISTRICT[0],
            Organization.kind != OrganizationKind.foundation,
        )
        .order_by(Organization.name, Organization.id)
    )
    return [Candidate(*row) for row in rows.all()]


def _take(pool: list[Candidate], wanted: int, fits: Callable[[Candidate], bool]) -> list[Candidate]:
    """Up to `wanted` organizations that fit, removed from `pool` (each is used once)."""
    taken = [c for c in pool if fits(c)][:wanted]
    for c in taken:
        pool.remove(c)
    return taken


def _established_by(day: date) -> Callable[[Candidate], bool]:
    return lambda c: c.established_on is not None and c.established_on <= day


def _filed_of(street: str, day: date) -> Callable[[Candidate], bool]:
    """A community group filed at the street, in being on the day."""
    return lambda c: (
        c.registration is Registration.filed and c.street_code == street and _established_by(day)(c)
    )


def _mature(c: Candidate) -> bool:
    """A registered organization graded 3A or above: fit for the 社创俱乐部."""
    return c.registration is Registration.registered and c.grade in ("3A", "4A", "5A")


async def _open_hubs(demo: Demo) -> None:
    park = await hubs.create(
        demo.session,
        principal=BUREAU,
        data=HubCreate(
            name=PARK_NAME,
            level=HubLevel.district_park,
            district_code=DISTRICT[0],
            capacity=PARK_CAPACITY,
        ),
    )
    demo.park = park.id
    names = dict(STREETS)
    for street in PILOT_STREETS:
        centre = await hubs.create(
            demo.session,
            principal=BUREAU,
            data=HubCreate(
                name=f"{names.get(street, street)}社会组织服务中心",
                level=HubLevel.street_centre,
                district_code=DISTRICT[0],
                street_code=street,
                capacity=CENTRE_CAPACITY,
            ),
        )
        demo.centres[street] = centre.id


def _reside(demo: Demo, hub_id: uuid.UUID, org: Candidate, start: date, end: date | None) -> None:
    """The organization moves in on `start` and, when `end` is given, leaves on it."""
    residency_id: list[uuid.UUID] = []

    async def move_in() -> None:
        residency = await hubs.admit_resident(
            demo.session,
            principal=BUREAU,
            hub_id=hub_id,
            data=ResidencyCreate(organization_id=org.id, started_on=start),
        )
        residency_id.append(residency.id)

    async def move_out() -> None:
        assert end is not None
        await hubs.end_residency(
            demo.session,
            principal=BUREAU,
            residency_id=residency_id[0],
            data=ResidencyEnd(ended_on=end),
        )

    # Leaving goes before moving in on the same day: the place is free again.
    demo.at(start, 2, move_in)
    if end is not None:
        demo.at(end, 1, move_out)


def _step(demo: Demo, org: Candidate, day: date, stage: IncubationStage, note: str) -> None:
    async def record() -> None:
        await incubation.record(
            demo.session,
            principal=BUREAU,
            organization_id=org.id,
            data=IncubationStep(stage=stage, note=note),
        )
        demo.touched.add(org.id)

    demo.at(day, 3, record)


def _club(demo: Demo, pool: list[Candidate]) -> dict[int, list[Candidate]]:
    """社创俱乐部: six mature registered organizations a year, resident in the park that year."""
    assert demo.park is not None
    club: dict[int, list[Candidate]] = {}
    for year in CLUB_YEARS:
        members = _take(pool, CLUB_SIZE, _mature)
        club[year] = members
        start, end = date(year, 1, 10), date(year, 12, 31)
        for member in members:
            _reside(demo, demo.park, member, start, end if end <= AS_OF else None)
            _step(demo, member, start, IncubationStage.radiate, f"{year}年社创俱乐部成员")
    return club


def _founding_residents(demo: Demo, pool: list[Candidate]) -> None:
    for street, centre in demo.centres.items():
        for group in _take(
            pool,
            FOUNDING_RESIDENTS,
            _filed_of(street, CENTRES_OPENED_ON),
        ):
            _reside(demo, centre, group, CENTRES_OPENED_ON, None)


def _phases(demo: Demo, org: Candidate, admitted_on: date) -> date | None:
    """Schedule 中期, 后期, 末期 about a year apart; the day it enters 末期 (if it does)."""
    day = admitted_on
    entered_follow_up: date | None = None
    for phase in PHASE_ORDER[1:]:
        day += timedelta(days=demo.rng.randint(300, 420))
        if day > min(AS_OF, demo.today):
            break

        async def advance(phase: IncubationPhase = phase, day: date = day) -> None:
            await incubation.advance(
                demo.session,
                principal=BUREAU,
                organization_id=org.id,
                data=PhaseAdvance(phase=phase, entered_on=day),
            )

        demo.at(day, 4, advance)
        if phase is PHASE_ORDER[-1]:
            entered_follow_up = day
    return entered_follow_up


def _mentoring(
    demo: Demo,
    org: Candidate,
    admitted_on: date,
    until: date | None,
    club: dict[int, list[Candidate]],
) -> None:
    """社创俱乐部 sessions once a year while incubated (before 末期)."""
    held = admitted_on + timedelta(days=30)
    last = until or AS_OF
    while held < last:
        members = club.get(held.year)
        if members:
            mentor = demo.rng.choice(members)
            data = MentoringSessionCreate(
                mentor_name=f"{mentor.name} {_person(demo.rng)}",
                held_on=held,
                topic=demo.rng.choice(_TOPICS),
                minutes=demo.rng.choice((60, 90, 120, 180)),
            )

            async def session(data: MentoringSessionCreate = data) -> None:
                await incubation.add_mentoring(
                    demo.session, principal=BUREAU, organization_id=org.id, data=data
                )

            demo.at(held, 5, session)
        held += timedelta(days=365)


def _competition(
    demo: Demo, year: int, pool: list[Candidate], club: dict[int, list[Candidate]]
) -> None:
    """The year's 社创大赛: entries, results, the winners admitted, housed and funded."""
    rng = demo.rng
    final_on, admitted_on, granted_on = date(year, 9, 20), date(year, 10, 15), date(year, 11, 1)
    registered = _take(
        pool,
        REGISTERED_ENTRANTS,
        lambda c: (
            c.registration is Registration.registered
            and c.category in PROFESSIONAL
            and _established_by(final_on)(c)
        ),
    )
    # The community groups come from the pilot streets in turn, as their centres recommend.
    filed = [
        group
        for n in range(FILED_ENTRANTS)
        for group in _take(
            pool,
            1,
            _filed_of(PILOT_STREETS[(year + n) % len(PILOT_STREETS)], final_on),
        )
    ]
    entrants = [(org, rng.randint(60, 98), rng.choice(_PROJECTS)) for org in registered + filed]
    ranked = sorted(entrants, key=lambda e: (-e[1], e[0].name))
    awards = dict(zip((org.id for org, _, _ in ranked), AWARDS, strict=False))
    groups = [
        (group, rng.randint(40, 59), rng.choice(_PROJECTS))
        for group in rng.sample(_GROUPS, GRASSROOTS_ENTRANTS)
    ]

    async def hold() -> None:
        contest = await competitions.create(
            demo.session,
            principal=BUREAU,
            data=CompetitionCreate(year=year, name=f"{year}年庐阳区社创大赛"),
        )
        for org, score, title in entrants:
            entry = await competitions.enter(
                demo.session,
                principal=BUREAU,
                competition_id=contest.id,
                data=EntryCreate(organization_id=org.id, project_title=title),
            )
            await competitions.record_result(
                demo.session,
                principal=BUREAU,
                competition_id=contest.id,
                entry_id=entry.id,
                data=EntryResult(score=score, award=awards.get(org.id)),
            )
            admitted_entries[org.id] = (contest.id, entry.id)
        # Grassroots groups not filed yet (草根社会组织) enter by name; none placed.
        for group, score, title in groups:
            entry = await competitions.enter(
                demo.session,
                principal=BUREAU,
                competition_id=contest.id,
                data=EntryCreate(group_name=group, project_title=title),
            )
            await competitions.record_result(
                demo.session,
                principal=BUREAU,
                competition_id=contest.id,
                entry_id=entry.id,
                data=EntryResult(score=score, award=None),
            )

    admitted_entries: dict[uuid.UUID, tuple[uuid.UUID, uuid.UUID]] = {}
    demo.at(final_on, 6, hold)
    pool_id: list[uuid.UUID] = []

    async def open_pool() -> None:
        made = await seed_funding.create_pool(
            demo.session, principal=BUREAU, data=SeedPoolCreate(year=year, amount_fen=POOL_FEN)
        )
        pool_id.append(made.id)

    demo.at(date(year, 1, 2), 0, open_pool)
    for org, _, _ in ranked:
        award = awards.get(org.id)
        if award is None:
            continue

        async def admit(org: Candidate = org) -> None:
            contest_id, entry_id = admitted_entries[org.id]
            await competitions.admit(
                demo.session,
                principal=BUREAU,
                competition_id=contest_id,
                entry_id=entry_id,
                data=EntryAdmission(admitted_on=admitted_on),
            )
            demo.touched.add(org.id)

        async def grant(org: Candidate = org, award: CompetitionAward = award) -> None:
            await seed_funding.grant(
                demo.session,
                principal=BUREAU,
                pool_id=pool_id[0],
                data=SeedGrantCreate(
                    organization_id=org.id,
                    amount_fen=GRANT_FEN[award],
                    purpose="培育早期种子基金：链接落地社区、开展首个项目",
                    granted_on=granted_on,
                ),
            )

        demo.at(admitted_on, 1, admit)
        _step(demo, org, admitted_on, IncubationStage.incubate, f"{year}年社创大赛获奖入孵")
        demo.at(granted_on, 2, grant)
        follow_up = _phases(demo, org, admitted_on)
        # 专业社会组织 in the park, 社区社会组织 in their street's centre.
        assert demo.park is not None
        hub = demo.park
        if org.registration is Registration.filed:
            hub = demo.centres.get(org.street_code or "", demo.park)
        _reside(demo, hub, org, admitted_on, follow_up)
        _mentoring(demo, org, admitted_on, follow_up, club)


async def _drop_events(session: AsyncSession, since: int, organizations: set[uuid.UUID]) -> None:
    """The demo's events are its initial state, not news for the provincial platform."""
    outbox = infra.outbox
    await session.execute(
        delete(outbox).where(
            outbox.c.position > since,
            outbox.c.subject_type == events.ORGANIZATION,
            outbox.c.subject_id.in_([str(o) for o in organizations] or [""]),
        )
    )


async def load_incubation_if_empty(*, db: Database = database, seed: int = SEED) -> bool:
    """Add the incubation pipeline to a register that has organizations and no hubs yet.

    False (and nothing written) when a hub exists already or the register has no
    organization of the district.
    """
    async with db.transaction() as session:
        if (await session.execute(select(func.count()).select_from(Hub))).scalar_one():
            return False
        pool = await candidates(session)
        if not pool:
            return False
        since = (
            await session.execute(select(func.coalesce(func.max(infra.outbox.c.position), 0)))
        ).scalar_one()
        demo = Demo(session, today=shanghai_today(), rng=random.Random(seed))
        await _open_hubs(demo)
        _founding_residents(demo, pool)
        club = _club(demo, pool)
        for year in COMPETITION_YEARS:
            _competition(demo, year, pool, club)
        await demo.run()
        await _drop_events(session, since, demo.touched)
    logger.info("incubation demo loaded", extra={"steps": len(demo.steps)})
    return True


async def _main() -> None:
    loaded = await load_incubation_if_empty()
    await database.dispose()
    print(
        "incubation demo loaded"
        if loaded
        else "hubs exist already (or no register): incubation demo left alone"
    )


if __name__ == "__main__":
    asyncio.run(_main())
