"""The declarative base of the `projects` schema and its bookkeeping tables.

Every stage's models derive from `Base`; `services.projects.models` imports them all so
that `Base.metadata` is complete for migrations. The mapping conventions are those of
the one `shared.db.Model`; only the schema is this service's.
"""

from __future__ import annotations

from shared.cases import outcome_receipts
from shared.db import Model, schema_metadata
from shared.outbox import infra_tables

SCHEMA = "projects"


class Base(Model):
    __abstract__ = True
    metadata = schema_metadata(SCHEMA)


infra = infra_tables(Base.metadata)
# One row per workflow case outcome applied here (`outcomes/service.py`).
receipts = outcome_receipts(Base.metadata)
