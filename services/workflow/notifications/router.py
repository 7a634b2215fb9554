"""The applicant organization's in-app messages (站内信)."""

from __future__ import annotations

from fastapi import APIRouter

from services.workflow.notifications import repository
from services.workflow.notifications.schemas import NotificationOut
from shared.app import API_PREFIX
from shared.auth import CurrentPrincipal, Role, allow
from shared.db import SessionDep
from shared.errors import Forbidden, problem_responses
from shared.pagination import Page, PageDep, to_page

router = APIRouter(prefix=f"{API_PREFIX}/notifications", tags=["notifications"])


@router.get(
    "",
    response_model=Page[NotificationOut],
    operation_id="listMyNotifications",
    dependencies=[allow(Role.organization)],
    responses=problem_responses(401, 403, 422),
)
async def list_my_notifications(
    session: SessionDep, principal: CurrentPrincipal, page: PageDep
) -> Page[NotificationOut]:
    """The caller organization's messages about its cases, newest first."""
    if principal.org_id is None:
        raise Forbidden("The inbox belongs to an organization", code="scope_forbidden")
    rows, total = await repository.inbox(session, recipient=principal.org_id, page=page)
    return to_page(rows, total, page, NotificationOut.model_validate)
