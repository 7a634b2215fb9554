"""The dashboard's tally (kept by triggers) always equals a live count of the register."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import httpx
from sqlalchemy import text

from shared.db import database
from tests.factories import filed_org, province_foundation, registered_org, unique_street
from tests.registry.helpers import ORGS, created

Auth = Callable[..., dict[str, str]]

_DIMENSIONS = (
    "registration, coalesce(street_code, ''), kind, category, status,"
    " coalesce(evaluation_grade, ''), coalesce(incubation_stage, '')"
)


async def _tally_and_live() -> tuple[set[tuple[object, ...]], set[tuple[object, ...]]]:
    async with database.transaction() as session:
        tally = (
            await session.execute(
                text(
                    "SELECT registration, street_code, kind, category, status,"
                    " evaluation_grade, incubation_stage, n"
                    " FROM registry.organization_tally WHERE n > 0"
                )
            )
        ).all()
        live = (
            await session.execute(
                text(
                    f"SELECT {_DIMENSIONS}, count(*) FROM registry.organization"  # noqa: S608
                    " GROUP BY 1, 2, 3, 4, 5, 6, 7"
                )
            )
        ).all()
    return {tuple(row) for row in tally}, {tuple(row) for row in live}


async def test_the_tally_follows_every_kind_of_change(
    registry: httpx.AsyncClient, auth: Auth
) -> None:
    bureau = auth("civil_affairs")
    street = unique_street()
    first = await created(registry, bureau, filed_org(street))
    second = await created(registry, bureau, filed_org(street))
    registered = await created(registry, bureau, registered_org())

    moved = await registry.patch(
        f"{ORGS}/{first['id']}",
        json={"category": "charity"},
        headers={**bureau, "If-Match": f'"{first["version"]}"'},
    )
    assert moved.status_code == 200, moved.text
    listed = await registry.post(
        f"{ORGS}/{registered['id']}/status",
        json={"status": "abnormal", "reason": "年报未报"},
        headers=bureau,
    )
    assert listed.status_code == 200, listed.text
    # Several rows in one statement, and a delete: what an import or a purge does.
    async with database.transaction() as session:
        await session.execute(
            text("UPDATE registry.organization SET evaluation_grade = '3A' WHERE id IN (:a, :b)"),
            {"a": first["id"], "b": second["id"]},
        )

    tally, live = await _tally_and_live()
    assert tally == live

    office = auth("street_office", street_code=street)
    stats = (await registry.get(f"{ORGS}/stats", headers=office)).json()
    assert stats["total"] == 2
    assert {c["key"]: c["count"] for c in stats["by_category"]} == {
        "charity": 1,
        "community_service": 1,
    }
    # `label` beside each code (a street of no known region has none).
    assert stats["by_evaluation_grade"] == [{"key": "3A", "count": 2, "label": "3A"}]
    assert stats["by_street"] == [{"key": street, "count": 2, "label": None}]


async def test_stats_for_the_bureau_match_a_live_grouping(
    registry: httpx.AsyncClient, auth: Auth
) -> None:
    await created(registry, auth("civil_affairs"), registered_org())
    stats = (await registry.get(f"{ORGS}/stats", headers=auth("auditor"))).json()
    # The register as the sources count it: in being, registered by the district or
    # filed at its streets; the closed and the province's foundations are counted apart.
    in_register = "status NOT IN ('deregistered', 'revoked') AND kind <> 'foundation'"
    async with database.transaction() as session:
        by_status = dict(
            (
                await session.execute(
                    text(
                        "SELECT status, count(*) FROM registry.organization"  # noqa: S608
                        f" WHERE {in_register} GROUP BY status"
                    )
                )
            ).all()
        )
        closed = dict(
            (
                await session.execute(
                    text(
                        "SELECT status, count(*) FROM registry.organization"
                        " WHERE status IN ('deregistered', 'revoked') GROUP BY status"
                    )
                )
            ).all()
        )
        above = (
            await session.execute(
                text(
                    "SELECT count(*) FROM registry.organization"
                    " WHERE status NOT IN ('deregistered', 'revoked') AND kind = 'foundation'"
                )
            )
        ).scalar()
    assert stats["total"] == sum(by_status.values())
    assert {c["key"]: c["count"] for c in stats["by_status"]} == by_status
    assert {c["key"]: c["count"] for c in stats["closed"]} == closed
    assert stats["registered_above_district"] == above


async def test_foundations_and_closed_organizations_are_counted_apart(
    registry: httpx.AsyncClient, auth: Auth
) -> None:
    """866 counts the district's organizations in being; the rest is shown beside it."""
    bureau = auth("civil_affairs")

    async def stats() -> dict[str, Any]:
        response = await registry.get(f"{ORGS}/stats", headers=bureau)
        assert response.status_code == 200
        result: dict[str, Any] = response.json()
        return result

    before = await stats()
    await created(registry, bureau, province_foundation())
    closing = await created(registry, bureau, registered_org())
    middle = await stats()
    assert middle["total"] == before["total"] + 1
    assert middle["registered_above_district"] == before["registered_above_district"] + 1
    closed = await registry.post(
        f"{ORGS}/{closing['id']}/status",
        json={"status": "deregistered", "reason": "注销登记"},
        headers=bureau,
    )
    assert closed.status_code == 200, closed.text
    after = await stats()
    assert after["total"] == before["total"]
    assert sum(c["count"] for c in after["by_registration"]) == after["total"]

    def deregistered(s: dict[str, Any]) -> int:
        return next((c["count"] for c in s["closed"] if c["key"] == "deregistered"), 0)

    assert deregistered(after) == deregistered(before) + 1
    assert "deregistered" not in {c["key"] for c in after["by_status"]}
