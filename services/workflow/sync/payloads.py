"""The JSON a consumer receives for an event, identical in webhooks and in the feed.

```json
{"id": "<event uuid>", "type": "organization.updated", "timestamp": "2026-11-23T08:00:00Z",
 "source": "registry", "subject": {"type": "organization", "id": "<uuid>", "seq": 7},
 "data": {"id": "<uuid>", "changed_fields": ["address"]}}
```

Payloads are thin (ids, codes, which fields changed) and must stay under 20 KB: an
event whose data would not fit keeps only its short scalar fields and says
`"truncated": true`, and the consumer fetches the resource by id.

Ordering is best effort: retries, parallel workers and several endpoints mean a
consumer can see `seq` 8 before `seq` 7 for the same subject. `subject.seq` counts up by
one per change of that subject (per source service), from 1 and without gaps: internal
commands between our services take no number. A consumer keeps the last seq it
applied per (subject type, subject id) and ignores anything not above it — or, on a gap,
refetches the resource. `id` is the same in every retry (it is the `webhook-id`), so a
consumer also drops exact duplicates.
"""

from __future__ import annotations

import json
from datetime import UTC
from typing import Any

from services.workflow.sync.models import SyncEvent

_SCALAR_MAX_CHARS = 200


def payload_of(event: SyncEvent) -> dict[str, Any]:
    return {
        "id": str(event.id),
        "type": event.type,
        "timestamp": event.occurred_at.astimezone(UTC).isoformat().replace("+00:00", "Z"),
        "source": event.source,
        "subject": {
            "type": event.subject_type,
            "id": event.subject_id,
            "seq": event.subject_seq,
        },
        "data": event.data,
    }


def render(payload: dict[str, Any]) -> str:
    """The exact body we sign and send (compact, UTF-8, stable for every retry)."""
    return json.dumps(payload, ensure_ascii=False, separators=(",", ":"))


def size_of(payload: dict[str, Any]) -> int:
    return len(render(payload).encode())


def thin(data: dict[str, Any]) -> dict[str, Any]:
    """Only the short scalar fields (ids, codes, numbers) of an oversized event."""
    kept: dict[str, Any] = {
        key: value
        for key, value in data.items()
        if isinstance(value, bool | int | float)
        or value is None
        or (isinstance(value, str) and len(value) <= _SCALAR_MAX_CHARS)
    }
    kept["truncated"] = True
    return kept
