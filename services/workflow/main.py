"""The workflow service: the "run at most once" (最多跑一次) approval state machine."""

from __future__ import annotations

from services.workflow import sync
from services.workflow.base import infra
from services.workflow.cases.router import router as cases_router
from services.workflow.definitions.router import router as definitions_router
from services.workflow.documents.router import router as documents_router
from services.workflow.notifications.router import router as notifications_router
from services.workflow.reference.labels import LABELS
from services.workflow.reviews.router import router as tasks_router
from services.workflow.worker import load_reference_data
from shared.app import create_service_app

app = create_service_app(
    service="workflow",
    title="Sanshe workflow",
    description="The 'run at most once' approval workflow: cases, one-time notification of "
    "missing materials, joint parallel review by departments, committed time limits.",
    routers=[
        cases_router,
        documents_router,
        tasks_router,
        definitions_router,
        notifications_router,
        *sync.routers,
    ],
    infra=infra,
    on_startup=[load_reference_data],
    vocabulary=LABELS,
)
