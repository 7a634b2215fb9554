"""USCC and resident ID numbers: stdnum's checks plus the register's own, one code per rule."""

from __future__ import annotations

from datetime import date

import httpx
import pytest
from stdnum.cn import ric, uscc

from services.registry.enums import OrganizationKind
from services.registry.organizations.id_numbers import mask_id_number, resident_id_error
from services.registry.organizations.uscc import _gb11714_check, authority_divisions, uscc_errors
from tests.factories import VALID_ID_NUMBER, registered_org
from tests.registry.helpers import ORGS, Auth, problem_codes

K = OrganizationKind


def _uscc(authority: str, kind_character: str, division: str, body: str = "MJ000001") -> str:
    """A code that passes stdnum (length, alphabet, check character), whatever our rules say."""
    partial = f"{authority}{kind_character}{division}{body}{_gb11714_check(body)}"
    return partial + uscc.calc_check_digit(partial)


def _id_number(first17: str) -> str:
    return first17 + ric.calc_check_digit(first17 + "0")


def _codes(code: str, kind: OrganizationKind, district: str = "340103") -> list[str]:
    errors = uscc_errors(code, kind=kind, authority_division=authority_divisions(kind, district))
    return [error.code for error in errors]


class TestUscc:
    @pytest.mark.parametrize(
        ("code", "kind"),
        [
            # The domain brief's examples: an association and a service institution of
            # Luyang, a foundation of Anhui province.
            ("51340103MJ0000018A", K.association),
            ("52340103MJ00000262", K.service_institution),
            ("53340000MJ00000349", K.foundation),
            (_uscc("5", "9", "340103"), K.community),
            # Foundations may also be registered by the ministry.
            (_uscc("5", "3", "100000"), K.foundation),
        ],
    )
    def test_valid_codes_break_no_rule(self, code: str, kind: OrganizationKind) -> None:
        assert _codes(code, kind) == []

    @pytest.mark.parametrize(
        ("code", "kind", "expected"),
        [
            ("51340103MJ000001", K.association, ["uscc_length"]),
            ("51340103MJ0000O18A", K.association, ["uscc_format"]),
            ("51340103MJ0000018B", K.association, ["uscc_checksum"]),
            (_uscc("9", "1", "340103"), K.association, ["uscc_authority"]),
            ("52340103MJ00000262", K.association, ["uscc_kind_mismatch"]),
            ("51340103MJ0000018A", K.community, ["uscc_kind_mismatch"]),
            (_uscc("5", "1", "340104"), K.association, ["uscc_division_mismatch"]),
            # A foundation registered by a district is not a foundation's code.
            (_uscc("5", "3", "340103"), K.foundation, ["uscc_division_mismatch"]),
        ],
    )
    def test_each_rule_has_its_own_code(
        self, code: str, kind: OrganizationKind, expected: list[str]
    ) -> None:
        assert _codes(code, kind) == expected

    def test_the_gb11714_character_is_checked(self) -> None:
        body = "MJ000001"
        wrong = "0" if _gb11714_check(body) != "0" else "1"
        partial = f"51340103{body}{wrong}"
        code = partial + uscc.calc_check_digit(partial)
        assert uscc.is_valid(code)  # stdnum alone accepts it
        assert _codes(code, K.association) == ["uscc_organization_code"]

    def test_several_broken_rules_are_all_reported(self) -> None:
        partial = "9234010" + "4MJ00000" + "10"
        code = partial + uscc.calc_check_digit(partial)
        assert set(_codes(code, K.association)) == {
            "uscc_authority",
            "uscc_kind_mismatch",
            "uscc_division_mismatch",
            "uscc_organization_code",
        }


class TestResidentId:
    def test_valid_numbers(self) -> None:
        assert resident_id_error(VALID_ID_NUMBER) is None
        assert resident_id_error("110101199003074514") is None

    @pytest.mark.parametrize(
        ("number", "code"),
        [
            ("11010519491231002", "id_number_length"),
            ("1101051949123100AX", "id_number_format"),
            ("110105194912310021", "id_number_checksum"),
            (_id_number("11010519491331002"), "id_number_birth_date"),
            (_id_number("99999919491231002"), "id_number_region"),
            (_id_number("11010520991231002"), "id_number_birth_date"),
        ],
    )
    def test_each_check_has_its_own_code(self, number: str, code: str) -> None:
        error = resident_id_error(number, today=date(2026, 11, 23))
        assert error is not None and error.code == code

    def test_masking_keeps_the_region_and_the_last_two(self) -> None:
        assert mask_id_number(VALID_ID_NUMBER) == "110105**********2X"


class TestThroughTheApi:
    async def test_an_invalid_uscc_is_refused_with_its_codes_and_nothing_is_created(
        self, registry: httpx.AsyncClient, auth: Auth
    ) -> None:
        bureau = auth("civil_affairs")
        cases = {
            "uscc_checksum": registered_org(uscc="52340103MJ00000263"),
            "uscc_authority": registered_org(uscc=_uscc("9", "2", "340103")),
            "uscc_kind_mismatch": registered_org(uscc=_uscc("5", "1", "340103")),
            "uscc_division_mismatch": registered_org(uscc=_uscc("5", "2", "340104")),
        }
        for code, body in cases.items():
            response = await registry.post(ORGS, json=body, headers=bureau)
            assert response.status_code == 422, code
            assert response.headers["content-type"] == "application/problem+json"
            assert response.json()["code"] == "invalid_codes"
            assert [(e["field"], e["code"]) for e in response.json()["errors"]] == [
                ("body.uscc", code)
            ]
            found = await registry.get(ORGS, params={"name": body["name"]}, headers=bureau)
            assert found.json()["total"] == 0

    async def test_the_division_must_match_the_organizations_region(
        self, registry: httpx.AsyncClient, auth: Auth
    ) -> None:
        # A Luyang code on an organization of the neighbouring district (Yaohai, 340102).
        body = registered_org(
            uscc=_uscc("5", "2", "340103", "MJ000777"),
            district_code="340102",
            street_code="340102001",
        )
        response = await registry.post(ORGS, json=body, headers=auth("civil_affairs"))
        assert response.status_code == 422
        assert problem_codes(response) == {"uscc_division_mismatch"}

    async def test_a_valid_and_an_invalid_id_number(
        self, registry: httpx.AsyncClient, auth: Auth
    ) -> None:
        bureau = auth("civil_affairs")
        good = await registry.post(
            ORGS, json=registered_org(legal_rep_id_number="110101199003074514"), headers=bureau
        )
        assert good.status_code == 201
        bad_body = registered_org(legal_rep_id_number=_id_number("11010519491331002"))
        bad = await registry.post(ORGS, json=bad_body, headers=bureau)
        assert bad.status_code == 422
        assert [(e["field"], e["code"]) for e in bad.json()["errors"]] == [
            ("body.legal_rep_id_number", "id_number_birth_date")
        ]
        found = await registry.get(ORGS, params={"name": bad_body["name"]}, headers=bureau)
        assert found.json()["total"] == 0
