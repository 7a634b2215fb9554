"""Every table of the `workflow` schema, gathered so that `Base.metadata` is complete.

`migrations/metadata.py` imports `Base` from here; each domain keeps its own models
(the provincial sync's tables register themselves when `services.workflow.sync` is
imported).
"""

from __future__ import annotations

from services.workflow.base import SCHEMA, Base, infra
from services.workflow.calendar.models import CalendarDay
from services.workflow.cases.models import (
    ApprovalCase,
    CaseCommand,
    CaseState,
    CaseTransition,
    ReviewTask,
    TaskComment,
    TaskState,
)
from services.workflow.definitions.models import CaseDefinition
from services.workflow.notifications.models import ApplicantNotification

__all__ = [
    "SCHEMA",
    "ApplicantNotification",
    "ApprovalCase",
    "Base",
    "CalendarDay",
    "CaseCommand",
    "CaseDefinition",
    "CaseState",
    "CaseTransition",
    "ReviewTask",
    "TaskComment",
    "TaskState",
    "infra",
]
