"""Search: name substring (bigram GIN index, proven by EXPLAIN), codes, filters, sort, pages."""

from __future__ import annotations

import json
import random
import secrets
from collections.abc import AsyncIterator, Callable
from typing import Any

import asyncpg
import httpx
import pytest
from sqlalchemy.dialects import postgresql
from sqlalchemy.engine import make_url

from services.registry.demo import STREETS as DEMO_STREETS
from services.registry.demo import copy_organizations, iter_organizations
from services.registry.enums import OrganizationKind
from services.registry.organizations.models import Organization
from services.registry.organizations.repository import (
    OrganizationFilters,
    _name_page,
    filtered,
    query_grams,
)
from services.registry.organizations.schemas import SortKey
from shared.auth import Principal, Role
from shared.pagination import PageParams
from tests.factories import filed_org, registered_org, unique_street, uscc
from tests.registry.helpers import ORGS, Auth, created, enter_legacy_grade

# Rare characters, so that a test's token matches only the organizations it created.
_RARE = "鼋鼍鼗鼙鼢鼯鼷鼹龃龅龆龇龈龉龊龌龋龌龠龢龤龥"


def token() -> str:
    return "".join(secrets.choice(_RARE) for _ in range(4))


async def search(registry: httpx.AsyncClient, auth: Auth, **params: Any) -> dict[str, Any]:
    response = await registry.get(
        ORGS, params={"page_size": 200, **params}, headers=auth("civil_affairs")
    )
    assert response.status_code == 200, response.text
    result: dict[str, Any] = response.json()
    return result


def names(page: dict[str, Any]) -> list[str]:
    return [item["name"] for item in page["items"]]


class TestName:
    async def test_chinese_substring_anywhere_in_the_name(
        self, registry: httpx.AsyncClient, auth: Auth
    ) -> None:
        mark = token()
        bureau = auth("civil_affairs")
        elderly = await created(registry, bureau, registered_org(name=f"庐阳{mark}助老服务中心"))
        await created(registry, bureau, registered_org(name=f"{mark}青少年社工站"))
        assert names(await search(registry, auth, name=f"{mark}助老")) == [elderly["name"]]
        assert len((await search(registry, auth, name=mark))["items"]) == 2
        assert (await search(registry, auth, name=f"{mark}助少"))["total"] == 0

    async def test_one_character_latin_case_and_wildcards(
        self, registry: httpx.AsyncClient, auth: Auth
    ) -> None:
        mark = token()
        bureau = auth("civil_affairs")
        await created(registry, bureau, registered_org(name=f"{mark}ABC_100%社工"))
        await created(registry, bureau, registered_org(name=f"{mark}ABCx1000社工"))
        assert (await search(registry, auth, name=mark[2]))["total"] >= 2
        assert (await search(registry, auth, name=f"{mark}abc"))["total"] == 2
        # `_` and `%` are characters here, not LIKE wildcards.
        assert names(await search(registry, auth, name="C_100%")) == [f"{mark}ABC_100%社工"]

    def test_query_grams_are_bigrams_or_the_single_character(self) -> None:
        assert query_grams("助老服务") == ["助老", "服务", "老服"]
        assert query_grams("A") == ["a"]
        assert query_grams("abab") == ["ab", "ba"]


class TestFilters:
    async def test_codes_regions_enums_tags_and_dates(
        self, registry: httpx.AsyncClient, auth: Auth
    ) -> None:
        mark = token()
        street = unique_street()
        bureau = auth("civil_affairs")
        association = await created(
            registry,
            bureau,
            registered_org(
                name=f"{mark}协会",
                kind="association",
                uscc=uscc(OrganizationKind.association),
                category="charity",
                street_code=street,
                community_code=f"{street}001",
                tags=["党建", "品牌"],
                established_on="2010-01-01",
            ),
        )
        await enter_legacy_grade(association["id"], "5A", "2024-01-01", "2028-12-31")
        filed = await created(
            registry, bureau, filed_org(street, name=f"{mark}服务队", established_on="2020-06-01")
        )
        assert names(await search(registry, auth, name=mark, kind="association")) == [
            association["name"]
        ]
        assert names(await search(registry, auth, name=mark, registration="filed")) == [
            filed["name"]
        ]
        assert names(await search(registry, auth, name=mark, category="charity")) == [
            association["name"]
        ]
        assert names(await search(registry, auth, name=mark, evaluation_grade="5A")) == [
            association["name"]
        ]
        assert names(await search(registry, auth, name=mark, tag="品牌")) == [association["name"]]
        assert (await search(registry, auth, street_code=street))["total"] == 2
        assert names(await search(registry, auth, community_code=f"{street}001")) == [
            association["name"]
        ]
        assert names(await search(registry, auth, name=mark, established_from="2015-01-01")) == [
            filed["name"]
        ]
        prefix = association["uscc"][:14]
        assert association["id"] in {
            item["id"] for item in (await search(registry, auth, uscc_prefix=prefix))["items"]
        }
        assert names(await search(registry, auth, filing_number=filed["filing_number"])) == [
            filed["name"]
        ]
        assert (await search(registry, auth, name=mark, kind=["association", "community"]))[
            "total"
        ] == 2

    async def test_status_and_incubation_stage(
        self, registry: httpx.AsyncClient, auth: Auth
    ) -> None:
        mark = token()
        bureau = auth("civil_affairs")
        active = await created(registry, bureau, registered_org(name=f"{mark}甲"))
        abnormal = await created(registry, bureau, registered_org(name=f"{mark}乙"))
        await registry.post(
            f"{ORGS}/{abnormal['id']}/status",
            json={"status": "abnormal", "reason": "失联"},
            headers=bureau,
        )
        await registry.post(
            f"{ORGS}/{active['id']}/incubation", json={"stage": "emerge"}, headers=bureau
        )
        assert names(await search(registry, auth, name=mark, status="abnormal")) == [
            abnormal["name"]
        ]
        assert names(await search(registry, auth, name=mark, incubation_stage="emerge")) == [
            active["name"]
        ]

    async def test_name_with_one_status_and_registration_follows_changes(
        self, registry: httpx.AsyncClient, auth: Auth
    ) -> None:
        # One status and one registration are asked of the name index too (migration
        # 0119): its keys must follow a status change, for a one-character term as well
        # (龘 is in no other test's names).
        mark = token()
        bureau = auth("civil_affairs")
        kept = await created(registry, bureau, registered_org(name=f"{mark}丙"))
        moved = await created(registry, bureau, registered_org(name=f"{mark}龘"))
        filed = await created(registry, bureau, filed_org(name=f"{mark}戊"))
        response = await registry.post(
            f"{ORGS}/{moved['id']}/status",
            json={"status": "abnormal", "reason": "失联"},
            headers=bureau,
        )
        assert response.status_code == 200, response.text
        one = {"status": "active", "registration": "registered"}
        assert names(await search(registry, auth, name=mark, **one)) == [kept["name"]]
        assert names(await search(registry, auth, name="龘", **one)) == []
        abnormal = {"status": "abnormal", "registration": "registered"}
        assert names(await search(registry, auth, name="龘", **abnormal)) == [moved["name"]]
        both = await search(
            registry, auth, name=mark, status=["active", "abnormal"], registration="registered"
        )
        assert sorted(names(both)) == sorted([kept["name"], moved["name"]])
        filed_only = await search(registry, auth, name=mark, registration="filed")
        assert names(filed_only) == [filed["name"]]

    async def test_inspection_result_of_a_year(
        self, registry: httpx.AsyncClient, auth: Auth
    ) -> None:
        from tests.registry.helpers import outcome_body, post_outcome

        mark = token()
        year = random.randrange(2001, 2020)
        bureau = auth("civil_affairs")
        results = {}
        for result in ("pass", "fail"):
            org = await created(registry, bureau, registered_org(name=f"{mark}{result}"))
            inspection = (
                await registry.post(
                    f"{ORGS}/{org['id']}/annual-inspections", json={"year": year}, headers=bureau
                )
            ).json()
            await registry.put(
                f"{ORGS}/{org['id']}/annual-inspections/{year}/conclusion",
                json={"result": result, "party_building_ok": True, "financial_audit_ok": True},
                headers=bureau,
            )
            # The outcome names the case the registry opened for the report.
            application = (
                await registry.get(
                    f"/api/v1/applications/{inspection['application_id']}", headers=bureau
                )
            ).json()
            decided = await post_outcome(registry, auth, outcome_body(application))
            assert decided.status_code < 300, decided.text
            results[result] = org["name"]
        failed = await search(
            registry, auth, name=mark, inspection_year=year, inspection_result="fail"
        )
        assert names(failed) == [results["fail"]]
        other_year = await search(
            registry, auth, name=mark, inspection_year=year + 1, inspection_result="fail"
        )
        assert other_year["total"] == 0
        assert (await search(registry, auth, name=mark, inspection_year=year))["total"] == 2
        missing_year = await registry.get(
            ORGS, params={"inspection_result": "fail"}, headers=bureau
        )
        assert missing_year.status_code == 422
        assert missing_year.json()["code"] == "inspection_year_required"


class TestOrder:
    async def test_sort_and_pages_neither_overlap_nor_skip(
        self, registry: httpx.AsyncClient, auth: Auth
    ) -> None:
        mark = token()
        bureau = auth("civil_affairs")
        funds = [5_000_000, 1_000_000, 3_000_000, 3_000_000, 2_000_000]
        for index, fen in enumerate(funds):
            await created(
                registry,
                bureau,
                registered_org(name=f"{mark}{index}", registered_funds_fen=fen),
            )
        by_name = await search(registry, auth, name=mark, sort="-name")
        assert names(by_name) == [f"{mark}{i}" for i in (4, 3, 2, 1, 0)]
        pages = [
            await search(
                registry, auth, name=mark, sort="registered_funds_fen", page=page, page_size=2
            )
            for page in (1, 2, 3)
        ]
        assert [p["total"] for p in pages] == [5, 5, 5]
        seen = [item for p in pages for item in p["items"]]
        assert [item["registered_funds_fen"] for item in seen] == sorted(funds)
        assert len({item["id"] for item in seen}) == 5


@pytest.fixture(scope="module")
async def large_register(
    fresh_database: Callable[[str], AsyncIterator[str]],
) -> AsyncIterator[asyncpg.Connection]:
    """A database of 30,000 generated organizations, analysed, for the planner to choose."""
    async for url in fresh_database("search"):
        dsn = make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)
        connection = await asyncpg.connect(dsn)
        rng = random.Random(7)
        await copy_organizations(
            connection, iter_organizations(rng, registered=15_000, filed=15_000)
        )
        await connection.execute("ANALYZE registry.organization")
        await connection.execute("ANALYZE registry.organization_search")
        yield connection
        await connection.close()


STREETS = tuple(code for code, _ in DEMO_STREETS[:5])


def _sql(filters: OrganizationFilters) -> str:
    query = filtered(Principal(sub="t", role=Role.civil_affairs), filters).with_only_columns(
        Organization.name
    )
    compiled = query.compile(dialect=postgresql.dialect(), compile_kwargs={"literal_binds": True})
    return str(compiled)


def _plan_nodes(plan: dict[str, Any]) -> list[dict[str, Any]]:
    nodes = [plan]
    for child in plan.get("Plans", []):
        nodes += _plan_nodes(child)
    return nodes


class TestIndex:
    @pytest.mark.parametrize(
        ("text", "filters"),
        [
            ("助老服务中心（12", {}),
            ("杏花助老", {"statuses": ("active",), "registrations": ("registered",)}),
            ("服务队1512", {"registrations": ("filed",), "street_codes": STREETS}),
        ],
    )
    async def test_name_search_uses_the_bigram_index_and_finds_what_like_finds(
        self, large_register: asyncpg.Connection, text: str, filters: dict[str, Any]
    ) -> None:
        sql = _sql(OrganizationFilters(name=text, **filters))
        [row] = await large_register.fetch(f"EXPLAIN (ANALYZE, FORMAT JSON) {sql}")
        plan = json.loads(row[0])[0]["Plan"]
        indexes = {node.get("Index Name") for node in _plan_nodes(plan)}
        assert "ix_organization_search_keys" in indexes, plan
        found = sorted(r["name"] for r in await large_register.fetch(sql))
        conditions = ["name LIKE '%' || $1 || '%'"]
        args: list[Any] = [text]
        for column, key in (
            ("status", "statuses"),
            ("registration", "registrations"),
            ("street_code", "street_codes"),
        ):
            if key in filters:
                args.append(list(filters[key]))
                conditions.append(f"{column} = ANY(${len(args)})")
        # The conditions are the constants above; the values are parameters.
        brute_force = f"SELECT name FROM registry.organization WHERE {' AND '.join(conditions)}"  # noqa: S608
        expected = sorted(r["name"] for r in await large_register.fetch(brute_force, *args))
        assert found == expected and found


# Rows of the register and of its search table that disagree (migration 0163).
_DRIFT = """
    SELECT count(*) FROM registry.organization o
    FULL JOIN registry.organization_search s USING (id)
    WHERE o.id IS NULL OR s.id IS NULL
       OR s.folded_name IS DISTINCT FROM normalize(o.name, NFKC)
       OR s.status IS DISTINCT FROM o.status
       OR s.registration IS DISTINCT FROM o.registration
       OR s.created_at IS DISTINCT FROM o.created_at
"""


class TestSearchTable:
    async def test_triggers_keep_it_in_step_with_every_write(
        self, large_register: asyncpg.Connection
    ) -> None:
        connection = large_register
        transaction = connection.transaction()
        await transaction.start()
        try:
            # Filled by the COPY's statement trigger.
            assert await connection.fetchval("SELECT count(*) FROM registry.organization_search")
            assert await connection.fetchval(_DRIFT) == 0
            ids = [
                r["id"]
                for r in await connection.fetch(
                    "SELECT id FROM registry.organization ORDER BY id LIMIT 30"
                )
            ]
            await connection.execute(
                "UPDATE registry.organization SET name = name || '（１２）' WHERE id = ANY($1)",
                ids[:10],
            )
            await connection.execute(
                "UPDATE registry.organization SET status = 'deregistered',"
                " created_at = created_at - interval '1 day' WHERE id = ANY($1)",
                ids[10:20],
            )
            await connection.execute(
                "UPDATE registry.organization SET contact_name = 'x' WHERE id = ANY($1)", ids
            )
            await connection.execute(
                "DELETE FROM registry.organization WHERE id = ANY($1)", ids[20:]
            )
            assert await connection.fetchval(_DRIFT) == 0
            folded = await connection.fetchval(
                "SELECT folded_name FROM registry.organization_search WHERE id = $1", ids[0]
            )
            assert folded.endswith("(12)")
        finally:
            await transaction.rollback()

    @pytest.mark.parametrize("sort", [SortKey.created_at_desc, SortKey.created_at])
    @pytest.mark.parametrize(
        ("text", "filters"),
        [
            ("助老", {"statuses": ("active",), "registrations": ("registered",)}),
            ("服务", {"statuses": ("active", "abnormal")}),
            ("中心", {}),
        ],
    )
    async def test_its_page_and_total_are_the_registers(
        self,
        large_register: asyncpg.Connection,
        text: str,
        filters: dict[str, Any],
        sort: SortKey,
    ) -> None:
        # The bureau's name search by creation reads the search table alone
        # (`_on_search_table`) and the register only by id for the page: it must find
        # what a LIKE on the register finds, in the same order, with the same total.
        page = PageParams(page=2, page_size=20)
        query, values = _name_page(
            Principal(sub="t", role=Role.civil_affairs),
            OrganizationFilters(name=text, **filters),
            sort,
            page,
        )
        compiled = query.params(values).compile(
            dialect=postgresql.dialect(), compile_kwargs={"literal_binds": True}
        )
        [row] = await large_register.fetch(f"EXPLAIN (FORMAT JSON) {compiled}")
        nodes = _plan_nodes(json.loads(row[0])[0]["Plan"])
        on_register = {
            (node["Node Type"], node.get("Index Name"))
            for node in nodes
            if node.get("Relation Name") == "organization"
        }
        assert on_register == {("Index Scan", "pk_organization")}, nodes
        assert any(node.get("Relation Name") == "organization_search" for node in nodes)
        rows = await large_register.fetch(str(compiled))
        conditions = ["normalize(name, NFKC) ILIKE '%' || $1 || '%'"]
        args: list[Any] = [text]
        for column, key in (("status", "statuses"), ("registration", "registrations")):
            if key in filters:
                args.append(list(filters[key]))
                conditions.append(f"{column} = ANY(${len(args)})")
        direction = "DESC" if sort.value.startswith("-") else "ASC"
        # The conditions are the constants above; the values are parameters.
        where = " AND ".join(conditions)
        expected = await large_register.fetch(
            f"SELECT id, count(*) OVER () AS total FROM registry.organization WHERE {where}"  # noqa: S608
            f" ORDER BY created_at {direction}, id {direction} LIMIT 20 OFFSET 20",
            *args,
        )
        assert expected, "the term must match more than a page"
        assert [r["id"] for r in rows] == [r["id"] for r in expected]
        assert rows[0][-1] == expected[0]["total"]
