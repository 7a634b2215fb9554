"""The event catalogue: `events.yaml` loaded once, with each type's JSON Schema.

The outbound schema of a type is the whole payload a consumer receives (webhook body
or feed item): the common envelope with the type's `data` schema inside, so a consumer
can validate what it gets with any JSON Schema 2020-12 validator.
"""

from __future__ import annotations

import fnmatch
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

import yaml

CATALOGUE_FILE = Path(__file__).with_name("events.yaml")
JSON_SCHEMA_DIALECT = "https://json-schema.org/draft/2020-12/schema"


@dataclass(frozen=True)
class EventType:
    name: str
    subject: str
    description: str
    data: dict[str, Any]
    required: tuple[str, ...] = ()
    internal: bool = False

    @property
    def family(self) -> str:
        return self.name.split(".", 1)[0]

    def data_schema(self) -> dict[str, Any]:
        properties = {
            **self.data,
            # Set by payloads.thin when an oversized event lost its non-scalar fields.
            "truncated": {"type": "boolean", "description": "Cut to stay under 20 KB"},
        }
        return {
            "type": "object",
            "properties": properties,
            "required": list(self.required),
            "additionalProperties": True,
        }

    def payload_schema(self) -> dict[str, Any]:
        """JSON Schema of the whole outbound payload (see `payloads.render`)."""
        return {
            "$schema": JSON_SCHEMA_DIALECT,
            "title": self.name,
            "description": self.description,
            "type": "object",
            "required": ["id", "type", "timestamp", "source", "subject", "data"],
            "properties": {
                "id": {
                    "type": "string",
                    "format": "uuid",
                    "description": "The event id; also the `webhook-id` header",
                },
                "type": {"const": self.name},
                "timestamp": {"type": "string", "format": "date-time"},
                "source": {"type": "string", "enum": ["registry", "projects", "workflow"]},
                "subject": {
                    "type": "object",
                    "required": ["type", "id", "seq"],
                    "properties": {
                        "type": {"const": self.subject},
                        "id": {"type": "string"},
                        "seq": {
                            "type": "integer",
                            "minimum": 1,
                            "description": "Per-subject sequence: ignore an event whose seq is "
                            "not above the last one you applied for this subject",
                        },
                    },
                },
                "data": self.data_schema(),
            },
        }


@dataclass(frozen=True)
class Catalogue:
    outbound: dict[str, EventType]
    inbound: dict[str, EventType]

    def public(self) -> list[EventType]:
        return [event for event in self.outbound.values() if not event.internal]

    def is_internal(self, event_type: str) -> bool:
        known = self.outbound.get(event_type)
        return known is not None and known.internal

    def unknown_filters(self, patterns: list[str]) -> list[str]:
        """Filters that match no public type (a typo would otherwise silence an endpoint)."""
        names = [event.name for event in self.public()]
        return [p for p in patterns if not any(matches(p, name) for name in names)]


def matches(pattern: str, event_type: str) -> bool:
    """`organization.*` matches a family; anything else must be the exact type."""
    if pattern.endswith(".*"):
        return fnmatch.fnmatchcase(event_type, pattern)
    return pattern == event_type


def wanted(filters: list[str], event_type: str) -> bool:
    return not filters or any(matches(pattern, event_type) for pattern in filters)


def _event_types(section: dict[str, Any]) -> dict[str, EventType]:
    result = {}
    for name, spec in section.items():
        result[name] = EventType(
            name=name,
            subject=str(spec["subject"]),
            description=str(spec.get("description", "")).strip(),
            data=dict(spec.get("data") or {}),
            required=tuple(spec.get("required") or ()),
            internal=bool(spec.get("internal", False)),
        )
        missing = set(result[name].required) - set(result[name].data)
        if missing:
            raise ValueError(f"{CATALOGUE_FILE.name}: {name} requires undeclared {missing}")
    return result


@lru_cache
def catalogue() -> Catalogue:
    raw = yaml.safe_load(CATALOGUE_FILE.read_text("utf-8"))
    return Catalogue(outbound=_event_types(raw["outbound"]), inbound=_event_types(raw["inbound"]))
