"""The registry's declarative base (its `registry` schema) and its outbox/inbox tables."""

from __future__ import annotations

from shared.db import Model, schema_metadata
from shared.outbox import infra_tables

SCHEMA = "registry"


class Base(Model):
    __abstract__ = True
    metadata = schema_metadata(SCHEMA)


infra = infra_tables(Base.metadata)
