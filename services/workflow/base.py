"""The declarative base of the `workflow` schema and its bookkeeping tables.

Every domain's models derive from `Base`; `services.workflow.models` imports them all
so that `Base.metadata` is complete for migrations.
"""

from __future__ import annotations

from shared.db import Model, schema_metadata
from shared.outbox import infra_tables

SCHEMA = "workflow"


class Base(Model):
    __abstract__ = True
    metadata = schema_metadata(SCHEMA)


infra = infra_tables(Base.metadata)
