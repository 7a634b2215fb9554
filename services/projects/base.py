"""The declarative base of the `projects` schema and its bookkeeping tables.

Every stage's models derive from `Base`; `services.projects.models` imports them all so
that `Base.metadata` is complete for migrations.
"""

from __future__ import annotations

from sqlalchemy.orm import DeclarativeBase

from shared.db import TYPE_ANNOTATION_MAP, schema_metadata
from shared.outbox import infra_tables

SCHEMA = "projects"


class Base(DeclarativeBase):
    metadata = schema_metadata(SCHEMA)
    type_annotation_map = TYPE_ANNOTATION_MAP


infra = infra_tables(Base.metadata)
