"""Every service's metadata, for migrations and the models-match-migrations test."""

from __future__ import annotations

from sqlalchemy import MetaData

from services.projects.models import Base as ProjectsBase
from services.registry.models import Base as RegistryBase
from services.workflow.models import Base as WorkflowBase
from services.workflow.sync import models as _sync_models  # noqa: F401 - registers the sync tables

SERVICE_METADATA: tuple[MetaData, ...] = (
    RegistryBase.metadata,
    ProjectsBase.metadata,
    WorkflowBase.metadata,
)
SCHEMAS: tuple[str, ...] = tuple(str(metadata.schema) for metadata in SERVICE_METADATA)
