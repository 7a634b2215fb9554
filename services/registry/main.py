"""The registry service: the register of social organizations."""

from __future__ import annotations

from services.registry.models import infra
from services.registry.routers import (
    applications,
    inspections,
    organizations,
    reference,
    standing,
    transfer,
)
from shared.app import create_service_app

app = create_service_app(
    service="registry",
    title="Sanshe registry",
    description="The register of social organizations (社会组织登记管理): registration and "
    "filing, search, statistics, status and credit lists, annual inspections and spot "
    "checks, incubation, history and import/export.",
    # Routers with fixed paths under /organizations come before `/organizations/{id}`.
    routers=[
        reference.router,
        transfer.router,
        standing.router,
        organizations.router,
        applications.router,
        inspections.router,
    ],
    infra=infra,
)
