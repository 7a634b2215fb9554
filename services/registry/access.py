"""Who may see and change which organizations.

Route-level gates (`allow(...)`) admit roles; the scope rules here then narrow what an
admitted caller reaches. An organization outside the caller's scope answers 404, as if
it did not exist: a street office cannot even learn that another street's
organization is there.

- civil-affairs staff, auditors, services and provincial systems see the whole register;
- a street office sees the *filed* organizations of its own street;
- an organization user sees itself;
- department reviewers and evaluators read the register (they review and score);
- applications: the bureau, auditors, services and provincial systems read them all, an
  organization its own, a department reviewer one its department reviews.
"""

from __future__ import annotations

import uuid

from sqlalchemy import ColumnElement, bindparam, false, true
from sqlalchemy.orm import InstrumentedAttribute

from services.registry.enums import Registration
from services.registry.organizations.models import Organization, OrganizationTally
from shared.auth import Principal, Role
from shared.errors import Forbidden

R = Role

READ_ALL = frozenset(
    {
        R.civil_affairs,
        R.auditor,
        R.service,
        R.provincial_system,
        R.department_reviewer,
        R.evaluator,
    }
)
ANYONE = frozenset(Role)
# Change the register directly (the provincial sync changes it through a service token).
EDITORS = (R.civil_affairs, R.street_office, R.service)
# Apply for a change or a deregistration, submit an annual report.
APPLICANTS = (R.organization, R.civil_affairs)
# Bulk reads of whole sets of records.
EXPORTERS = (R.civil_affairs, R.street_office, R.auditor, R.service, R.provincial_system)
BUREAU_AND_AUDIT = (R.civil_affairs, R.auditor)
# Grade evaluations: the experts (评估专家) who score them are the evaluators; they, the
# bureau and auditors read them all (an organization reads its own, by organization).
GRADE_EXPERTS = (R.evaluator,)
GRADE_READERS = (R.civil_affairs, R.auditor, R.evaluator)
# One evaluation by id: whoever sees its organization, but a street office (it keeps
# filed organizations, which are never graded).
GRADE_EVALUATION_READERS = tuple(role for role in Role if role is not R.street_office)
# Applications: these roles read all of them, an organization its own.
APPLICATION_READERS_ALL = frozenset({R.civil_affairs, R.auditor, R.service, R.provincial_system})
APPLICATION_READERS = (*APPLICATION_READERS_ALL, R.organization)
# One application by id: also a department reviewer, when the workflow confirms that its
# department reviews the application's case (`shared.reviewers`; others get a 404).
APPLICATION_READERS_BY_ID = (*APPLICATION_READERS, R.department_reviewer)


def visible_to(principal: Principal) -> ColumnElement[bool]:
    """The organizations a principal may see at all (others answer 404).

    Its shape depends on the role only and its values are named parameters, so a
    statement using it can be compiled once per role (`shared.reads.CompiledSelect`)
    and run with `scope_values(principal)`.
    """
    if principal.role in READ_ALL:
        return true()
    if principal.role is Role.street_office:
        return (Organization.registration == Registration.filed) & (
            Organization.street_code == bindparam("scope_street_code", principal.street_code)
        )
    if principal.role is Role.organization:
        # No usable org_id compares the id with NULL: no rows, as false() would.
        return Organization.id == bindparam("scope_org_id", own_organization_id(principal))
    return false()


def scope_values(principal: Principal) -> dict[str, object]:
    """The values of `visible_to`'s named parameters for this principal."""
    return {
        "scope_street_code": principal.street_code,
        "scope_org_id": own_organization_id(principal),
    }


def tally_visible_to(principal: Principal) -> ColumnElement[bool] | None:
    """`visible_to` on the tally's rows; None where only the register can say (itself)."""
    if principal.role in READ_ALL:
        return true()
    if principal.role is Role.street_office:
        return (OrganizationTally.registration == Registration.filed.value) & (
            OrganizationTally.street_code == principal.street_code
        )
    if principal.role is Role.organization:
        return None
    return false()


def own_organization_id(principal: Principal) -> uuid.UUID | None:
    if principal.role is not Role.organization or not principal.org_id:
        return None
    try:
        return uuid.UUID(principal.org_id)
    except ValueError:
        return None


def may_see_id_numbers(principal: Principal) -> bool:
    # Whoever keeps the organization's file: the bureau, the street office of a filed
    # organization (scoping already limits it) and the organization itself. Auditors,
    # services and provincial systems get masked numbers.
    return principal.role in {Role.civil_affairs, Role.street_office, Role.organization}


def require_editor(principal: Principal, organization: Organization | None = None) -> None:
    """Refuse read-only roles; a street office may edit only the filed organizations it sees."""
    if principal.role not in EDITORS:
        raise Forbidden(
            f"Role {principal.role} may not change organizations", code="role_forbidden"
        )
    if (
        principal.role is Role.street_office
        and organization is not None
        and (
            organization.registration is not Registration.filed
            or organization.street_code != principal.street_code
        )
    ):
        raise Forbidden("A street office changes its own street's filed organizations only")


def require_street_scope(
    principal: Principal, *, registration: Registration, street: str | None
) -> None:
    """A street office files organizations of its own street only."""
    if principal.role is Role.street_office and (
        registration is not Registration.filed or street != principal.street_code
    ):
        raise Forbidden(
            "A street office files organizations of its own street only", code="scope_forbidden"
        )


# --- People (people/): staff and social workers, volunteers, party organizations -------
# Personal records: not for reviewers and evaluators, who judge organizations, not people.
PEOPLE_READERS_ALL = frozenset({R.civil_affairs, R.auditor, R.service, R.provincial_system})
PEOPLE_READERS = (*PEOPLE_READERS_ALL, R.street_office, R.organization)
# The bureau keeps everyone's; an organization its own staff and volunteers.
PEOPLE_KEEPERS = (R.civil_affairs, R.service, R.organization)
# Party organizations and street population: the bureau's records.
BUREAU_KEEPERS = (R.civil_affairs, R.service)
# Street figures: the district's for the bureau, its own street's for a street office.
PEOPLE_STATS_READERS = (*PEOPLE_READERS_ALL, R.street_office)


def people_visible_to(
    principal: Principal,
    *,
    street: InstrumentedAttribute[str],
    organization: InstrumentedAttribute[uuid.UUID | None],
) -> ColumnElement[bool]:
    """The people records a principal may see (others answer 404): a street office those
    of its street, an organization its own (by employer or team)."""
    if principal.role in PEOPLE_READERS_ALL:
        return true()
    if principal.role is Role.street_office and principal.street_code:
        return street == principal.street_code
    if principal.role is Role.organization and (own := own_organization_id(principal)):
        return organization == own
    return false()


def require_people_keeper(principal: Principal, organization_id: uuid.UUID | None) -> None:
    """An organization keeps only records of its own; the bureau and services everyone's."""
    if principal.role is Role.organization and (
        organization_id is None or organization_id != own_organization_id(principal)
    ):
        raise Forbidden(
            "An organization keeps the records of its own people only", code="scope_forbidden"
        )
