"""The Unified Social Credit Code (统一社会信用代码, GB 32100-2015) of an organization.

`python-stdnum` checks the USCC's length, alphabet and GB 32100-2015 check character.
The rules a civil-affairs register adds on top — registering authority `5`, the
organization-type character matching the kind, the division code of the registering
authority, the GB 11714 check character of the organization code — are ours. Each
failure has its own code.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass

from stdnum.cn import uscc

from services.registry.enums import OrganizationKind

# Character 2 of a civil-affairs USCC (民政部门登记的社会组织).
_TYPE_CHARACTER = {
    OrganizationKind.association: "1",
    OrganizationKind.service_institution: "2",
    OrganizationKind.foundation: "3",
    OrganizationKind.community: "9",
}

# Foundations are registered by the province or by the Ministry of Civil Affairs (100000).
MINISTRY_DIVISION = "100000"

# GB 11714-1997 organization code: weights and alphabet of the check character.
_GB11714_WEIGHTS = (3, 7, 9, 10, 5, 8, 4, 2)
_GB11714_ALPHABET = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ"


@dataclass(frozen=True, slots=True)
class CodeError:
    code: str
    message: str


def _gb11714_check(body: str) -> str:
    total = sum(_GB11714_ALPHABET.index(c) * w for c, w in zip(body, _GB11714_WEIGHTS, strict=True))
    remainder = 11 - total % 11
    return {10: "X", 11: "0"}.get(remainder, str(remainder))


def make_uscc(*, kind: OrganizationKind, authority_division: str, serial: int) -> str:
    """A valid civil-affairs USCC for a serial number (demo data and tests).

    The organization code is `MJ` (the prefix civil-affairs registers use) plus six
    digits of the serial, with its GB 11714 check character; stdnum adds the final one.
    """
    if not 0 <= serial < 1_000_000:
        raise ValueError("the serial must have at most six digits")
    body = f"MJ{serial:06d}"
    partial = f"5{_TYPE_CHARACTER[kind]}{authority_division}{body}{_gb11714_check(body)}"
    return partial + uscc.calc_check_digit(partial)


def authority_divisions(kind: OrganizationKind, district_code: str) -> tuple[str, ...]:
    """Divisions whose registering authority may have issued the code (characters 3-8).

    A district registers associations, service institutions and community
    organizations; foundations are registered by the province or the ministry.
    """
    if kind is OrganizationKind.foundation:
        return (district_code[:2] + "0000", MINISTRY_DIVISION)
    return (district_code,)


def uscc_errors(
    code: str, *, kind: OrganizationKind, authority_division: str | Collection[str] | None
) -> list[CodeError]:
    """Every rule the code breaks (empty when valid).

    `authority_division` is the six-digit division code of the registering authority
    (the district for district-registered organizations), or the set of acceptable
    ones (see `authority_divisions`); None skips that rule.
    """
    try:
        compact = uscc.validate(code)
    except uscc.InvalidLength:
        return [CodeError("uscc_length", "A USCC has exactly 18 characters")]
    except uscc.InvalidFormat:
        return [
            CodeError("uscc_format", "A USCC uses only digits and letters other than I, O, Z, S, V")
        ]
    except uscc.InvalidChecksum:
        return [CodeError("uscc_checksum", "The 18th character (check character) does not match")]
    except uscc.ValidationError:
        return [CodeError("uscc_invalid", "Not a valid Unified Social Credit Code")]
    errors = []
    if compact[0] != "5":
        errors.append(
            CodeError("uscc_authority", "Character 1 must be 5 (registered by civil affairs)")
        )
    expected_type = _TYPE_CHARACTER[kind]
    if compact[1] != expected_type:
        errors.append(
            CodeError(
                "uscc_kind_mismatch", f"Character 2 must be {expected_type} for a {kind.value}"
            )
        )
    allowed = {authority_division} if isinstance(authority_division, str) else authority_division
    if allowed is not None and compact[2:8] not in allowed:
        errors.append(
            CodeError(
                "uscc_division_mismatch",
                "Characters 3-8 must be the registering authority's division "
                + " or ".join(sorted(allowed)),
            )
        )
    organization_code = compact[8:17]
    if _gb11714_check(organization_code[:8]) != organization_code[8]:
        errors.append(
            CodeError(
                "uscc_organization_code", "Character 17 fails the GB 11714 organization-code check"
            )
        )
    return errors
