"""The provincial event payloads (the workflow's `events.yaml`) as OpenAPI `webhooks`.

Each public outbound event type becomes one webhook: the POST a subscriber's endpoint
receives, signed per Standard Webhooks (`webhook-id`, `webhook-timestamp`,
`webhook-signature`), whose body is the common envelope with the type's `data`. The
schemas are the workflow's own (`services.workflow.sync.catalogue`), never a copy.
"""

from __future__ import annotations

from typing import Any

from services.workflow.sync.catalogue import EventType, catalogue

SIGNATURE_HEADERS = {
    "webhook-id": "The event id (the same as the body's `id`): deduplicate on it.",
    "webhook-timestamp": "Seconds since the epoch when this attempt was signed.",
    "webhook-signature": "`v1,<base64 HMAC-SHA256>` of `<id>.<timestamp>.<body>` with the "
    "endpoint's secret; during a rotation, two signatures separated by a space.",
}


def webhooks() -> dict[str, Any]:
    result: dict[str, Any] = {}
    for event in sorted(catalogue().public(), key=lambda event: event.name):
        name, description = event.name, event.description
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
                    "content": {"application/json": {"schema": payload_schema(event)}},
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


def payload_schema(event: EventType) -> dict[str, Any]:
    """The envelope the workflow renders and validates deliveries against (one definition:
    `EventType.payload_schema`), less what OpenAPI states elsewhere."""
    schema = event.payload_schema()
    return {key: value for key, value in schema.items() if key not in ("$schema", "description")}
