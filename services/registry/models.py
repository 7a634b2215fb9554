"""Every table of the `registry` schema, for `Base.metadata` (migrations, alembic) to see all.

Each domain declares its own tables in `<domain>/models.py`; importing this module
imports them all. Code of a domain imports from its own or another domain's models.
"""

from __future__ import annotations

from services.registry.applications.models import CASE_OUTCOME_RECEIPT, Application
from services.registry.base import SCHEMA, Base, infra
from services.registry.competitions.models import Competition, Entry
from services.registry.grades.models import GradeChange, GradeEvaluation, GradeScore
from services.registry.hubs.models import Hub, Residency
from services.registry.incubation.models import (
    Incubation,
    IncubationRecord,
    MentoringSession,
    PhaseChange,
)
from services.registry.inspections.models import AnnualInspection
from services.registry.organizations.models import (
    USCC_SERIAL,
    ChangeRecord,
    Organization,
    OrganizationTally,
)
from services.registry.people.models import (
    PartyOrganization,
    StaffMember,
    Volunteer,
    VolunteerService,
)
from services.registry.reference.models import Region
from services.registry.seed_funding.models import SeedGrant, SeedPool
from services.registry.spot_checks.models import SpotCheck, SpotCheckItem
from services.registry.standing.models import ListEntry

__all__ = [
    "CASE_OUTCOME_RECEIPT",
    "SCHEMA",
    "USCC_SERIAL",
    "AnnualInspection",
    "Application",
    "Base",
    "ChangeRecord",
    "Competition",
    "Entry",
    "GradeChange",
    "GradeEvaluation",
    "GradeScore",
    "Hub",
    "Incubation",
    "IncubationRecord",
    "ListEntry",
    "MentoringSession",
    "Organization",
    "OrganizationTally",
    "PartyOrganization",
    "PhaseChange",
    "Region",
    "Residency",
    "SeedGrant",
    "SeedPool",
    "SpotCheck",
    "SpotCheckItem",
    "StaffMember",
    "Volunteer",
    "VolunteerService",
    "infra",
]
