"""The registry service: the register of social organizations."""

from __future__ import annotations

from services.registry.applications import router as applications
from services.registry.base import infra
from services.registry.competitions import router as competitions
from services.registry.config import get_registry_settings
from services.registry.enums import LABELS
from services.registry.grades import router as grades
from services.registry.grades.expiry import sweep_forever as sweep_grades_forever
from services.registry.hubs import router as hubs
from services.registry.incubation import router as incubation
from services.registry.inspections import router as inspections
from services.registry.inspections.deadlines import sweep_forever
from services.registry.organizations import router as organizations
from services.registry.people import router as people
from services.registry.reference import router as reference
from services.registry.seed_funding import router as seed_funding
from services.registry.spot_checks import router as spot_checks
from services.registry.standing import router as standing
from services.registry.transfer import router as transfer
from shared.app import create_service_app

app = create_service_app(
    service="registry",
    title="Sanshe registry",
    description="The register of social organizations (社会组织登记管理): registration and "
    "filing, search, statistics, status and credit lists, annual inspections and spot "
    "checks, incubation, grade evaluations (等级评估), history and import/export.",
    # Routers with fixed paths under /organizations come before `/organizations/{id}`.
    routers=[
        reference.router,
        transfer.router,
        standing.router,
        incubation.router,
        organizations.router,
        applications.router,
        inspections.router,
        inspections.public_router,
        spot_checks.router,
        grades.router,
        grades.public_router,
        people.router,
        hubs.router,
        competitions.router,
        incubation.pipeline,
        seed_funding.router,
    ],
    infra=infra,
    # The annual-report deadline, checked hourly (inspections/deadlines.py).
    background=[sweep_forever, sweep_grades_forever],
    vocabulary=LABELS,
)

# Read now (after the shared settings, which create_service_app read), not at the first
# person recorded: a production registry with the public ID-number key (or a short one)
# must not start at all (config.py), as with the JWT secret.
get_registry_settings()
