"""The provincial event payloads (the workflow's `events.yaml`) as OpenAPI `webhooks`.

Each public outbound event type becomes one webhook: the POST a subscriber's endpoint
receives, signed per Standard Webhooks (`webhook-id`, `webhook-timestamp`,
`webhook-signature`), whose body is the common envelope with the type's `data`. The
YAML is read where the workflow package keeps it, never edited.
"""

from __future__ import annotations

import importlib
from pathlib import Path
from typing import Any

import yaml

SIGNATURE_HEADERS = {
    "webhook-id": "The event id (the same as the body's `id`): deduplicate on it.",
    "webhook-timestamp": "Seconds since the epoch when this attempt was signed.",
    "webhook-signature": "`v1,<base64 HMAC-SHA256>` of `<id>.<timestamp>.<body>` with the "
    "endpoint's secret; during a rotation, two signatures separated by a space.",
}


def events_file() -> Path:
    package = importlib.import_module("services.workflow")
    root = Path(str(package.__file__)).parent
    (found,) = sorted(root.rglob("events.yaml"))
    return found


def webhooks(path: Path | None = None) -> dict[str, Any]:
    raw = yaml.safe_load((path or events_file()).read_text(encoding="utf-8"))
    result: dict[str, Any] = {}
    for name, spec in sorted(raw["outbound"].items()):
        if spec.get("internal"):
            continue
        description = str(spec.get("description", "")).strip()
        result[name] = {
            "post": {
                "operationId": "on" + "".join(p.capitalize() for p in _words(name)),
                "summary": description.split(";")[0].rstrip("."),
                "description": description,
                "tags": ["webhooks"],
                "security": [],
                "parameters": [
                    {
                        "name": header,
                        "in": "header",
                        "required": True,
                        "description": text,
                        "schema": {"type": "string"},
                    }
                    for header, text in SIGNATURE_HEADERS.items()
                ],
                "requestBody": {
                    "required": True,
                    "content": {"application/json": {"schema": payload_schema(name, spec)}},
                },
                "responses": {
                    "2XX": {"description": "Received: any 2xx stops the retries."},
                    "default": {
                        "description": "Anything else (or no answer in 10 s) is retried with "
                        "backoff, then the delivery fails (recover it later)."
                    },
                },
            }
        }
    return result


def _words(name: str) -> list[str]:
    return name.replace(".", "_").split("_")


def payload_schema(name: str, spec: dict[str, Any]) -> dict[str, Any]:
    """The envelope `services/workflow/sync` renders, with this type's data inside."""
    data = {
        **(spec.get("data") or {}),
        "truncated": {"type": "boolean", "description": "Cut to stay under 20 KB"},
    }
    return {
        "title": name,
        "type": "object",
        "required": ["id", "type", "timestamp", "source", "subject", "data"],
        "properties": {
            "id": {
                "type": "string",
                "format": "uuid",
                "description": "The event id; also the `webhook-id` header",
            },
            "type": {"const": name},
            "timestamp": {"type": "string", "format": "date-time"},
            "source": {"type": "string", "enum": ["registry", "projects", "workflow"]},
            "subject": {
                "type": "object",
                "required": ["type", "id", "seq"],
                "properties": {
                    "type": {"const": str(spec["subject"])},
                    "id": {"type": "string"},
                    "seq": {
                        "type": "integer",
                        "minimum": 1,
                        "description": "Per-subject sequence: ignore an event whose seq is "
                        "not above the last one you applied for this subject",
                    },
                },
            },
            "data": {
                "type": "object",
                "properties": data,
                "required": list(spec.get("required") or ()),
                "additionalProperties": True,
            },
        },
    }
