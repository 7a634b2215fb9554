"""Optimistic concurrency: resources carry a `version`, exposed as a strong ETag.

An update must send `If-Match: "<version>"` (428 without it, 412 when stale); the
update itself is guarded by the version column (SQLAlchemy `version_id_col`), so two
writers racing past the check still cannot both win.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import Header, Response

from shared.errors import PreconditionFailed, PreconditionRequired


def etag(version: int) -> str:
    return f'"{version}"'


def set_etag(response: Response, version: int) -> None:
    response.headers["ETag"] = etag(version)


IfMatch = Annotated[
    str | None,
    Header(
        alias="If-Match",
        description='The ETag of the version being changed, e.g. `"3"`',
    ),
]


def require_version(if_match: str | None, current_version: int) -> None:
    """Refuse an update that does not name the current version."""
    if not if_match:
        raise PreconditionRequired(
            "Send If-Match with the resource's ETag to update it", code="if_match_required"
        )
    candidates = {tag.strip().removeprefix("W/") for tag in if_match.split(",")}
    if "*" in candidates or etag(current_version) in candidates:
        return
    raise PreconditionFailed(
        f"The resource has changed (current ETag {etag(current_version)}); reload and retry",
        code="version_mismatch",
    )
