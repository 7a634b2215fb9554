"""Demo social-work stations of Haining (海宁市, 330481): "一镇一街道一社会工作站".

One station for each of Haining's 4 streets and 8 towns, each run by one of the agencies
the seed names ("上海公益、上海现代、上海屋里厢、浙江之江、杭州支点、杭州乐仁乐助、嘉兴孝慈以及
孵化本土海宁紫微、海宁康颐等一批专业社工机构项目化进驻"), all merged with the party-mass
service centre ("二合一"). The town names are Haining's; the 9-digit codes are
illustrative (330481 then a sequence: 001–004 the streets, 101–108 the towns), not the
official statistical codes. Staff and coverage figures are made up but deterministic.

Called by the projects demo with the session it loads in (nothing is committed here):

    stations = await create_haining_stations(session)
    stations = await create_haining_stations(session, hosts=[(org_id, "机构名"), ...])

`hosts` (organization id, name) are given out round-robin; without them each agency
gets a stable made-up id (`uuid5` of its name), since the demo register is Luyang's. A
town that already has a station keeps it (running the demo twice changes nothing). No
outbox events: an initial state is not news for the provincial platform.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from services.projects.stations import repository
from services.projects.stations.models import Station

HAINING = "330481"
# (illustrative code, name, villages and communities 村(社区) of the town)
TOWNS: list[tuple[str, str, int]] = [
    ("330481001", "硖石街道", 18),
    ("330481002", "海洲街道", 16),
    ("330481003", "海昌街道", 14),
    ("330481004", "马桥街道", 12),
    ("330481101", "许村镇", 24),
    ("330481102", "长安镇", 22),
    ("330481103", "周王庙镇", 17),
    ("330481104", "盐官镇", 19),
    ("330481105", "斜桥镇", 15),
    ("330481106", "丁桥镇", 13),
    ("330481107", "袁花镇", 16),
    ("330481108", "黄湾镇", 9),
]
AGENCIES = [
    "上海公益社工师事务所",
    "上海现代社会工作服务中心",
    "上海屋里厢社区服务中心",
    "浙江之江社会工作服务中心",
    "杭州支点社会工作服务中心",
    "杭州乐仁乐助社会工作服务中心",
    "嘉兴孝慈社会工作服务中心",
    "海宁紫微社会工作服务中心",
    "海宁康颐社会工作服务中心",
]
_AGENCY_IDS = uuid.UUID("6f0b1f52-3c1e-4d8a-9a57-3e5c0d1b2a40")


def default_hosts() -> list[tuple[uuid.UUID, str]]:
    return [(uuid.uuid5(_AGENCY_IDS, name), name) for name in AGENCIES]


async def create_haining_stations(
    session: AsyncSession,
    *,
    hosts: Sequence[tuple[uuid.UUID, str]] | None = None,
    established_year: int = 2021,
    created_by: str = "demo",
) -> list[Station]:
    """Haining's 12 stations (one per street and town), created where missing; returns
    every Haining station, in town-code order."""
    agencies = list(hosts or default_hosts())
    for index, (street_code, town, communities) in enumerate(TOWNS):
        host_id, host_name = agencies[index % len(agencies)]
        staff = 4 + index % 4  # 4 to 7 social workers a station
        await repository.insert_station(
            session,
            {
                "id": uuid.uuid4(),
                "district_code": HAINING,
                "street_code": street_code,
                "town_name": town,
                "name": f"{town}社会工作站",
                "host_org_id": host_id,
                "host_org_name": host_name,
                "merged_with_party_centre": True,
                "staff_count": staff,
                "certified_social_workers": min(staff, 2 + index % 3),
                "communities_total": communities,
                "communities_served": communities - index % 3,
                "established_year": established_year,
                "created_by": created_by,
            },
        )
    found = await session.execute(
        select(Station).where(Station.district_code == HAINING).order_by(Station.street_code)
    )
    return list(found.scalars())
