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
from shared.contracts import Eligibility, OrganizationSummary
from shared.errors import FieldError, ProblemError, Unprocessable


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
    client: RegistryClient, org_id: uuid.UUID, *, field: str = "org_id"
) -> OrganizationSummary:
    """The organization if it may take a project; 422 if not, 503 if the registry is down."""
    try:
        eligibility, organization = await asyncio.gather(
            client.get_eligibility(org_id), client.get_organization(org_id)
        )
    except ServiceUnavailable:
        raise RegistryUnavailable(
            "The registry cannot be reached to check eligibility; nothing was changed"
        ) from None
    except ServiceCallError as exc:
        if exc.status == 404:
            raise Unprocessable(
                "The registry does not know this organization", code="organization_unknown"
            ) from None
        raise RegistryUnavailable(
            f"The registry refused the eligibility check ({exc.code})"
        ) from None
    _require_eligible(eligibility, field)
    return organization


def _require_eligible(eligibility: Eligibility, field: str) -> None:
    if eligibility.eligible:
        return
    raise Unprocessable(
        f"The organization is not eligible (status {eligibility.status})",
        code="organization_ineligible",
        errors=[
            FieldError(field=field, message=f"eligibility rule failed: {reason}", code=reason)
            for reason in eligibility.reasons or [f"status_{eligibility.status}"]
        ],
    )
