"""The register's rules on an organization's fields, shared by the API, applications and imports.

Each broken rule is one `Issue` with its own code; callers report all of them at once
(`body.<field>` in API problems, row and column in import reports).
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from dataclasses import dataclass
from datetime import date
from typing import Any

from services.registry.enums import OrganizationKind, Registration
from services.registry.organizations.id_numbers import resident_id_error
from services.registry.organizations.uscc import authority_divisions, uscc_errors
from shared.errors import FieldError


@dataclass(frozen=True, slots=True)
class Issue:
    field: str
    code: str
    message: str
    # Every field the rule reads: an update re-checks a rule only if it touches one.
    involves: tuple[str, ...] = ()

    def field_error(self, prefix: str = "body.") -> FieldError:
        return FieldError(field=prefix + self.field, message=self.message, code=self.code)


def organization_issues(values: Mapping[str, Any], *, today: date) -> list[Issue]:
    """Every rule that `values` (an organization's fields, typed) breaks."""
    issues: list[Issue] = []
    kind = values.get("kind")
    registration = values.get("registration")
    uscc = values.get("uscc")
    filing_number = values.get("filing_number")
    district = values.get("district_code") or ""
    street = values.get("street_code")
    community = values.get("community_code")

    if registration is Registration.registered:
        if not uscc:
            issues.append(
                Issue("uscc", "uscc_required", "A registered organization needs its USCC")
            )
        elif isinstance(kind, OrganizationKind):
            issues += [
                Issue("uscc", e.code, e.message, ("uscc", "kind", "district_code"))
                for e in uscc_errors(
                    uscc, kind=kind, authority_division=authority_divisions(kind, district)
                )
            ]
        if filing_number:
            issues.append(
                Issue(
                    "filing_number",
                    "filing_number_not_allowed",
                    "Only filed organizations have a filing number",
                )
            )
    elif registration is Registration.filed:
        if not filing_number:
            issues.append(
                Issue(
                    "filing_number",
                    "filing_number_required",
                    "A filed organization needs its filing number",
                )
            )
        if not street:
            issues.append(
                Issue("street_code", "street_required", "A filed organization belongs to a street")
            )
        if uscc:
            issues.append(Issue("uscc", "uscc_not_allowed", "A filed organization has no USCC yet"))
    # Division codes are hierarchical (GB/T 2260, GB/T 10114): a street's code starts
    # with its district's, a community's with its street's.
    if street and not street.startswith(district):
        issues.append(
            Issue(
                "street_code",
                "street_outside_district",
                "The street must lie in the district",
                ("street_code", "district_code"),
            )
        )
    if community and not (street and community.startswith(street)):
        issues.append(
            Issue(
                "community_code",
                "community_outside_street",
                "The community must lie in the street",
                ("community_code", "street_code"),
            )
        )
    id_number = values.get("legal_rep_id_number")
    if id_number and (error := resident_id_error(id_number, today=today)):
        issues.append(Issue("legal_rep_id_number", error.code, error.message))
    valid_from, valid_until = values.get("grade_valid_from"), values.get("grade_valid_until")
    if valid_from and valid_until and valid_until < valid_from:
        issues.append(
            Issue(
                "grade_valid_until",
                "grade_validity_order",
                "The grade's validity cannot end before it starts",
                ("grade_valid_from", "grade_valid_until"),
            )
        )
    established = values.get("established_on")
    if established and established > today:
        issues.append(
            Issue("established_on", "established_in_future", "The establishment date is ahead")
        )
    return issues


def issues_touching(issues: list[Issue], changed: Collection[str]) -> list[Issue]:
    """The issues an update is responsible for: those reading a field it changes."""
    return [
        issue
        for issue in issues
        if issue.field in changed or any(field in changed for field in issue.involves)
    ]
