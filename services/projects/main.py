"""The projects service: government purchase of services, the "five unified" lifecycle.

统一申报 → 统一采购 → 统一支付 → 统一督导 → 统一评估, from initiation (立项) to closure
(结项), with the three public meetings (三会). Each stage is a subpackage with its own
models, schemas, rules and endpoints.
"""

from __future__ import annotations

from services.projects.applications.router import router as applications_router
from services.projects.calls.router import router as calls_router
from services.projects.closure.router import router as closure_router
from services.projects.core.router import router as projects_router
from services.projects.evaluation.router import router as evaluation_router
from services.projects.evaluation.router import schemes_router
from services.projects.evaluation.scheme import load_sppe_schemes
from services.projects.funds.router import router as funds_router
from services.projects.meetings.router import router as meetings_router
from services.projects.models import infra
from services.projects.ocds.router import router as ocds_router
from services.projects.outcomes.router import router as outcomes_router
from services.projects.payments.router import router as payments_router
from services.projects.procurement.router import router as procurement_router
from services.projects.reference.labels import LABELS
from services.projects.reference.router import router as reference_router
from services.projects.reports.router import router as reports_router
from services.projects.stations.router import router as stations_router
from services.projects.supervision.reminders import sweep_forever
from services.projects.supervision.router import router as supervision_router
from services.projects.supervision.router import sweeps_router
from shared.app import create_service_app

app = create_service_app(
    service="projects",
    title="Sanshe projects",
    description="Government purchase of services (政府购买服务): funds, calls, application, "
    "procurement, payment, supervision, SPPE evaluation and closure, with OCDS export.",
    routers=[
        funds_router,
        calls_router,
        applications_router,
        projects_router,
        procurement_router,
        meetings_router,
        payments_router,
        supervision_router,
        evaluation_router,
        schemes_router,
        closure_router,
        ocds_router,
        reports_router,
        stations_router,
        reference_router,
        outcomes_router,
        sweeps_router,
    ],
    infra=infra,
    on_startup=[load_sppe_schemes],
    background=[sweep_forever],
    vocabulary=LABELS,
)
