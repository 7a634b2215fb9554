"""Name search folds full-width and half-width forms (NFKC at both ends, migration 0113).

Over HTTP with real role tokens (the bureau, and the street office that sees the filed
organizations of its street) and no other filter: 「（庐阳）」 finds 「(庐阳)」 and back,
「１２３」 finds 「123」. That the folded query still goes through the bigram GIN index on
30,000 names is `test_search.TestIndex` (its first query has a full-width bracket).
"""

from __future__ import annotations

import secrets
from typing import Any

import httpx

from services.registry.organizations.repository import query_grams
from tests.factories import filed_org, unique_street
from tests.registry.helpers import ORGS, Auth, created

# Rare characters, so that a test's token matches only the organizations it created.
_RARE = "鼋鼍鼗鼙鼢鼯鼷鼹龃龅龆龇龈龉龊龌龋龠龢龤龥"


def token() -> str:
    return "".join(secrets.choice(_RARE) for _ in range(4))


async def found(registry: httpx.AsyncClient, headers: dict[str, str], name: str) -> list[str]:
    response = await registry.get(ORGS, params={"name": name}, headers=headers)
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    assert body["total"] == len(body["items"])
    return [item["name"] for item in body["items"]]


class TestWidth:
    async def test_full_width_brackets_are_found_by_half_width_and_back(
        self, registry: httpx.AsyncClient, auth: Auth
    ) -> None:
        mark = token()
        street = unique_street()
        bureau = auth("civil_affairs")
        office = auth("street_office", street_code=street)
        full = f"合肥市（庐阳）{mark}社工协会"
        half = f"合肥市(蜀山){mark}社工协会"
        await created(registry, bureau, filed_org(street, name=full))
        await created(registry, bureau, filed_org(street, name=half))
        for headers in (bureau, office):
            assert await found(registry, headers, f"(庐阳){mark}") == [full]
            assert await found(registry, headers, f"（庐阳）{mark}") == [full]
            assert await found(registry, headers, f"（蜀山）{mark}") == [half]
            assert await found(registry, headers, f"(蜀山){mark}") == [half]
            assert sorted(await found(registry, headers, f"){mark}社工")) == sorted([full, half])

    async def test_full_width_digits_and_letters_are_their_ascii_twins(
        self, registry: httpx.AsyncClient, auth: Auth
    ) -> None:
        mark = token()
        street = unique_street()
        bureau = auth("civil_affairs")
        office = auth("street_office", street_code=street)
        ascii_name = f"{mark}第123社工站"
        wide_name = f"{mark}第４５６ＡＢ社工站"
        await created(registry, bureau, filed_org(street, name=ascii_name))
        await created(registry, bureau, filed_org(street, name=wide_name))
        for headers in (bureau, office):
            assert await found(registry, headers, f"{mark}第１２３") == [ascii_name]
            assert await found(registry, headers, f"{mark}第123") == [ascii_name]
            assert await found(registry, headers, f"{mark}第456ab") == [wide_name]
            assert await found(registry, headers, "５６ＡＢ社工站") == [wide_name]
            # Stored as typed: the folding is for comparing only.
            assert await found(registry, headers, f"{mark}第４５６ＡＢ") == [wide_name]

    async def test_another_streets_office_does_not_see_them(
        self, registry: httpx.AsyncClient, auth: Auth
    ) -> None:
        mark = token()
        street = unique_street()
        bureau = auth("civil_affairs")
        await created(registry, bureau, filed_org(street, name=f"（{mark}）"))
        elsewhere = auth("street_office", street_code=unique_street())
        assert await found(registry, elsewhere, f"({mark})") == []

    def test_query_grams_are_of_the_folded_form(self) -> None:
        assert query_grams("（１") == query_grams("(1") == ["(1"]
