"""Eligibility of an organization, asked of the registry over HTTP.

The client is taken from `app.state.registry_client` when set (tests inject a client
pointed at a stand-in registry), else one is created from settings on first use and
kept for the process.
"""

from __future__ import annotations

import asyncio
import uuid
from typing import Annotated

from fastapi import Depends, Request

from shared.clients import RegistryClient, ServiceCallError, ServiceUnavailable, registry_client
from shared.errors import FieldError, ProblemError, Unprocessable
from shared.interservice import AdmissionCriteria, Eligibility, OrganizationSummary


class RegistryUnavailable(ProblemError):
    status = 503
    default_code = "registry_unavailable"
    title = "Service unavailable"


def get_registry(request: Request) -> RegistryClient:
    client: RegistryClient | None = getattr(request.app.state, "registry_client", None)
    if client is None:
        client = registry_client("projects")
        request.app.state.registry_client = client
    return client


RegistryDep = Annotated[RegistryClient, Depends(get_registry)]


async def eligible_organization(
    client: RegistryClient,
    org_id: uuid.UUID,
    *,
    field: str = "org_id",
    criteria: AdmissionCriteria | None = None,
) -> OrganizationSummary:
    """The organization if it may take a project (under a call's admission criteria, by
    default registered organizations only); 422 if not, 503 if the registry is down."""
    criteria = criteria or AdmissionCriteria()
    try:
        eligibility, organization = await asyncio.gather(
            client.get_eligibility(org_id, criteria), client.get_organization(org_id)
        )
    except ServiceUnavailable:
        raise RegistryUnavailable(
            "The registry cannot be reached to check eligibility; nothing was changed"
        ) from None
    except ServiceCallError as exc:
        if exc.status == 404:
            raise Unprocessable(
                "The registry does not know this organization",
                code="organization_unknown",
                errors=[
                    FieldError(
                        field=field, message="no such organization in the registry", code="unknown"
                    )
                ],
            ) from None
        raise RegistryUnavailable(
            f"The registry refused the eligibility check ({exc.code})"
        ) from None
    _require_eligible(eligibility, field, criteria)
    return organization


def _require_eligible(eligibility: Eligibility, field: str, criteria: AdmissionCriteria) -> None:
    if eligibility.eligible:
        return
    raise Unprocessable(
        f"The organization is not eligible (status {eligibility.status})",
        code="organization_ineligible",
        errors=[
            FieldError(field=field, message=_explain(reason, eligibility, criteria), code=reason)
            for reason in eligibility.reasons or [f"status_{eligibility.status}"]
        ],
    )


_REGISTRATION = {"registered": "registered (登记)", "filed": "filed (备案)"}


def _explain(reason: str, eligibility: Eligibility, criteria: AdmissionCriteria) -> str:
    """What the failed rule means for the applicant, in the call's own terms."""
    results = ", ".join(criteria.inspection_results or ())
    last = f"{eligibility.last_inspection_year}: {eligibility.last_inspection_result}"
    if reason.startswith("status_"):
        return f"its status is {eligibility.status}, not active"
    messages = {
        "registration_not_admitted": (
            f"the call admits {' or '.join(_REGISTRATION[r] for r in criteria.registrations)}"
            f" organizations only; this one is "
            f"{_REGISTRATION.get(eligibility.registration or '', eligibility.registration)}"
        ),
        "grade_missing": (
            f"the call requires an evaluation grade (等级评估) of at least {criteria.min_grade}"
            " valid today; the organization has none"
        ),
        "grade_below_minimum": (
            f"the call requires an evaluation grade (等级评估) of at least {criteria.min_grade};"
            f" the organization's is {eligibility.evaluation_grade}"
        ),
        "inspection_missing": (
            f"the call requires a concluded annual inspection (年检) with result {results};"
            " the organization has none"
        ),
        "inspection_result_not_admitted": (
            f"the call admits annual inspection results {results} only; the latest was {last}"
        ),
        "last_inspection_failed": f"its latest concluded annual inspection failed ({last})",
        "serious_illegal_listed": (
            "it is on the serious illegal & dishonest list (严重违法失信名单)"
        ),
    }
    return messages.get(reason, f"eligibility rule failed: {reason}")
