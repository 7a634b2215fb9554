"""Standard Webhooks signatures (https://www.standardwebhooks.com/, "Signature scheme").

`webhook-signature` is `v1,<base64 HMAC-SHA256(secret, "{id}.{timestamp}.{body}")>`;
several space-separated signatures may be sent, and a receiver accepts the message when
any one verifies. That is how a rotation works without downtime: for the overlap
period we sign with the new secret *and* the old one, so a receiver still configured
with the old secret keeps verifying, and one already switched verifies too.

Signing and verifying are done by the `standardwebhooks` package itself, so what we
send is exactly what its receivers verify. Secrets never reach a log (and
`shared.logging` masks anything shaped like `whsec_...` should one slip through).
"""

from __future__ import annotations

import base64
import secrets
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import lru_cache

from standardwebhooks import Webhook

SECRET_PREFIX = "whsec_"  # noqa: S105 - the spec's prefix, not a secret
# The specification asks for 24 to 64 random bytes.
_SECRET_BYTES = 32


def new_secret() -> str:
    return SECRET_PREFIX + base64.b64encode(secrets.token_bytes(_SECRET_BYTES)).decode()


@dataclass(frozen=True, slots=True)
class SigningKeys:
    """An endpoint's (or a source's) current secret and, during a rotation, the old one."""

    current: str
    previous: str | None = None
    previous_expires_at: datetime | None = None

    def active(self, now: datetime) -> list[str]:
        keys = [self.current]
        if self.previous and self.previous_expires_at and self.previous_expires_at > now:
            keys.append(self.previous)
        return keys

    def __repr__(self) -> str:  # never print the secrets themselves
        return f"SigningKeys(previous={'yes' if self.previous else 'no'})"


@lru_cache(maxsize=1024)
def _signer(key: str) -> Webhook:
    """One `Webhook` per secret (it decodes the secret once), not one per message."""
    return Webhook(key)


def signature_headers(
    *, message_id: str, timestamp: datetime, body: str, keys: Sequence[str]
) -> dict[str, str]:
    """The three Standard Webhooks headers for one message, signed with every key."""
    whole_seconds = timestamp.astimezone(UTC).replace(microsecond=0)
    signatures = [_signer(key).sign(message_id, whole_seconds, body) for key in keys]
    return {
        "webhook-id": message_id,
        "webhook-timestamp": str(int(whole_seconds.timestamp())),
        "webhook-signature": " ".join(signatures),
    }


class VerificationFailed(Exception):
    """Any reason at all: callers answer 401 without saying which."""


def verify(
    body: bytes,
    headers: Mapping[str, str],
    *,
    keys: Sequence[str],
    now: datetime,
    tolerance: timedelta,
) -> tuple[str, datetime]:
    """Check a message's signature on its raw body; returns (webhook-id, timestamp).

    The timestamp is checked against our clock first (replays of a captured message
    fail once it is older than `tolerance`); the library then checks the signature (and
    its own 5-minute window).
    """
    lowered = {name.lower(): value for name, value in headers.items()}
    message_id = lowered.get("webhook-id", "")
    timestamp_header = lowered.get("webhook-timestamp", "")
    signature = lowered.get("webhook-signature", "")
    if not (message_id and timestamp_header and signature) or len(message_id) > 200:
        raise VerificationFailed
    try:
        sent_at = datetime.fromtimestamp(int(timestamp_header), UTC)
    except (ValueError, OverflowError, OSError):
        raise VerificationFailed from None
    if abs(now - sent_at) > tolerance:
        raise VerificationFailed
    subset = {
        "webhook-id": message_id,
        "webhook-timestamp": timestamp_header,
        "webhook-signature": signature,
    }
    for key in keys:
        try:
            Webhook(key).verify(body, subset, json_parse=False)
        except Exception:  # noqa: S112 - malformed headers, bad UTF-8, wrong key: all just "no"
            continue
        return message_id, sent_at
    raise VerificationFailed


def rotated(keys: SigningKeys, *, now: datetime, overlap: timedelta) -> tuple[SigningKeys, str]:
    """A new current secret; the old one keeps signing (and verifying) for `overlap`."""
    fresh = new_secret()
    return SigningKeys(
        current=fresh, previous=keys.current, previous_expires_at=now + overlap
    ), fresh
