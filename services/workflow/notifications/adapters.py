"""How a message leaves the system: one adapter per transport, chosen in config.

The default is a local file sink (one JSON line per message under
`WORKFLOW_NOTIFICATION_DIR`, a file per channel): a deployment without an SMS gateway
still keeps what it would have sent, and a gateway adapter plugs in here later.
"""

from __future__ import annotations

import asyncio
import json
import os
from pathlib import Path
from typing import Protocol

from services.workflow.config import get_workflow_settings
from services.workflow.notifications.models import ApplicantNotification


class DeliveryFailed(Exception):
    """The transport did not take the message; it is tried again later."""


class Adapter(Protocol):
    async def send(self, notification: ApplicantNotification) -> None: ...


class FileSink:
    """Appends each message as one JSON line to `<directory>/<channel>.jsonl`."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory

    def _append(self, notification: ApplicantNotification) -> None:
        self.directory.mkdir(parents=True, exist_ok=True)
        line = json.dumps(
            {
                "id": str(notification.id),
                "case_id": str(notification.case_id),
                "topic": notification.topic,
                "channel": notification.channel.value,
                "recipient": notification.recipient,
                "text": notification.body,
                "created_at": notification.created_at.isoformat(),
            },
            ensure_ascii=False,
        )
        # One write of a whole line with O_APPEND: lines of concurrent workers never mix.
        path = self.directory / f"{notification.channel.value}.jsonl"
        descriptor = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o640)
        try:
            os.write(descriptor, (line + "\n").encode())
        finally:
            os.close(descriptor)

    async def send(self, notification: ApplicantNotification) -> None:
        try:
            await asyncio.to_thread(self._append, notification)
        except OSError as exc:
            raise DeliveryFailed(f"file sink: {type(exc).__name__}") from exc


def default_adapter() -> Adapter:
    return FileSink(get_workflow_settings().workflow_notification_dir)
