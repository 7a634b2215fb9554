"""People's resident ID numbers (居民身份证号码): checked, then kept only as a keyed digest
and a masked form, so that no response, log or database dump holds the full number.

The digest (HMAC-SHA256 under `REGISTRY_ID_NUMBER_KEY`) finds a person by their exact
number and refuses a second record of the same person; the masked form
(`organizations.id_numbers.mask_id_number`: region and last two characters) is what
everyone is shown. A lower-case check character `x` is the same number as `X`.
"""

from __future__ import annotations

import hashlib
import hmac
from dataclasses import dataclass

from services.registry.config import get_registry_settings
from services.registry.organizations.id_numbers import mask_id_number, resident_id_error
from shared.clock import shanghai_today
from shared.errors import FieldError, Unprocessable


@dataclass(frozen=True, slots=True)
class StoredIdNumber:
    digest: str
    masked: str


def digest(number: str) -> str:
    key = get_registry_settings().registry_id_number_key.encode()
    return hmac.new(key, number.strip().upper().encode(), hashlib.sha256).hexdigest()


def checked(number: str | None, *, field: str = "body.id_number") -> StoredIdNumber | None:
    """The stored form of a valid number (None for None); a 422 naming what is wrong.

    The problem never repeats the number: only which of its parts fails.
    """
    if number is None:
        return None
    normalized = number.strip().upper()
    if error := resident_id_error(normalized, today=shanghai_today()):
        raise Unprocessable(
            "The resident ID number is invalid",
            code="invalid_id_number",
            errors=[FieldError(field=field, message=error.message, code=error.code)],
        )
    masked = mask_id_number(normalized)
    assert masked is not None  # a valid number is not empty
    return StoredIdNumber(digest=digest(normalized), masked=masked)
