"""The Haining demo stations: one per street and town, loaded once, read by their towns."""

from __future__ import annotations

from collections.abc import Callable

import httpx

from services.projects.stations.demo import AGENCIES, TOWNS, create_haining_stations
from shared.db import database
from tests.projects.stations.helpers import STATIONS


async def test_haining_gets_one_station_per_town_and_a_second_run_changes_nothing(
    projects: httpx.AsyncClient, auth: Callable[..., dict[str, str]]
) -> None:
    async with database.transaction() as session:
        first = await create_haining_stations(session)
    async with database.transaction() as session:
        again = await create_haining_stations(session)
    assert [s.street_code for s in first] == [code for code, _, _ in TOWNS]
    assert [(s.id, s.version) for s in again] == [(s.id, s.version) for s in first]
    assert {s.host_org_name for s in first} == set(AGENCIES)
    assert all(s.merged_with_party_centre for s in first)
    # 硖石街道's street office reads its own station, and only that one.
    office = auth("street_office", street_code="330481001")
    page = (await projects.get(STATIONS, headers=office)).json()
    assert [(s["town_name"], s["name"]) for s in page["items"]] == [
        ("硖石街道", "硖石街道社会工作站")
    ]
    haining = (
        await projects.get(STATIONS, params={"district_code": "330481"}, headers=auth("auditor"))
    ).json()
    assert haining["total"] == len(TOWNS) == 12
