"""Every table of the `projects` schema, gathered so that `Base.metadata` is complete.

`migrations/metadata.py` imports `Base` from here; each stage keeps its own models.
"""

from __future__ import annotations

from services.projects.applications.models import BudgetLine, ProjectMilestone
from services.projects.base import SCHEMA, Base, infra, receipts
from services.projects.calls.models import Call
from services.projects.core.models import Project, TimelineEntry
from services.projects.evaluation.models import (
    Evaluation,
    EvaluatorAssignment,
    ScoreSheet,
    SppeScheme,
)
from services.projects.funds.models import Allocation, Fund, FundPool
from services.projects.meetings.models import Meeting, MeetingProject
from services.projects.ocds.models import OcdsParty, OcdsRelease
from services.projects.payments.models import LedgerEntry, PaymentAttempt, PaymentRequest
from services.projects.procurement.models import (
    Bid,
    Contract,
    ContractAmendment,
    ContractVersion,
    Procurement,
    Tranche,
)
from services.projects.stations.models import Station, StationProject
from services.projects.supervision.models import ProgressReport, Rectification, SupervisionVisit

__all__ = [
    "SCHEMA",
    "Allocation",
    "Base",
    "Bid",
    "BudgetLine",
    "Call",
    "Contract",
    "ContractAmendment",
    "ContractVersion",
    "Evaluation",
    "EvaluatorAssignment",
    "Fund",
    "FundPool",
    "LedgerEntry",
    "Meeting",
    "MeetingProject",
    "OcdsParty",
    "OcdsRelease",
    "PaymentAttempt",
    "PaymentRequest",
    "Procurement",
    "ProgressReport",
    "Project",
    "ProjectMilestone",
    "Rectification",
    "ScoreSheet",
    "SppeScheme",
    "Station",
    "StationProject",
    "SupervisionVisit",
    "TimelineEntry",
    "Tranche",
    "infra",
    "receipts",
]
