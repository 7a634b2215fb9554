"""Department reviewers read what they decide: the workflow says which subjects that is.

A department reviewer may read the subject of a case (a registry application, a
project) while its department holds a review task on that case, in any state: open,
decided, or cancelled because the case ended first. Task assignments live in the
workflow alone, so the subject's service asks it (`GET /api/v1/cases?subject_id=…&
department=…`, service token) instead of keeping a copy that could go stale. The
question is asked before the service touches its database, so no connection is held
while the workflow answers.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Literal

from fastapi import Request

from shared.auth import Principal, Role
from shared.clients import ServiceCallError, WorkflowClient, workflow_client
from shared.errors import ProblemError

logger = logging.getLogger("sanshe.reviewers")


class WorkflowUnavailable(ProblemError):
    status = 503
    default_code = "workflow_unavailable"
    title = "Service unavailable"


def workflow_for(caller: str) -> Callable[[Request], WorkflowClient]:
    """A dependency giving the app's workflow client: `app.state.workflow_client` when set
    (tests inject one), else one created from settings on first use and kept."""

    def get_workflow(request: Request) -> WorkflowClient:
        client: WorkflowClient | None = getattr(request.app.state, "workflow_client", None)
        if client is None:
            client = workflow_client(caller)
            request.app.state.workflow_client = client
        return client

    return get_workflow


async def reviews_subject(
    client: WorkflowClient,
    principal: Principal,
    *,
    subject_service: Literal["registry", "projects"],
    subject_type: str,
    subject_id: str,
) -> bool | None:
    """Whether the principal's department holds a task on a case of this subject.

    False for anyone but a department reviewer; None when the workflow cannot say
    (unreachable, or refusing), so that the caller decides between its other grounds
    for access and a 503 rather than wrongly answering 404.
    """
    if principal.role is not Role.department_reviewer or not principal.department:
        return False
    try:
        return await client.department_has_task(
            department=principal.department,
            subject_service=subject_service,
            subject_type=subject_type,
            subject_id=subject_id,
        )
    except ServiceCallError as exc:
        logger.warning(
            "the workflow could not say which department reviews a subject",
            extra={"subject_type": subject_type, "subject_id": subject_id, "error": str(exc)},
        )
        return None


def cannot_check_tasks() -> WorkflowUnavailable:
    return WorkflowUnavailable(
        "The workflow cannot be reached to check your department's review tasks",
        headers={"Retry-After": "5"},
    )
