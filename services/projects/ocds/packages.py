"""OCDS 1.1 release packages and record packages around published releases.

A record is a contracting process's releases, all of them as published, with the
`compiledRelease` that merges them by the OCDS merge rules. Merging is the Open
Contracting Partnership's reference implementation (`ocdsmerge`), with the rules read
from the shipped release schema patched with the SPPE extension (nothing fetched).
"""

from __future__ import annotations

from datetime import UTC, datetime
from functools import cache
from typing import TYPE_CHECKING, Any

from services.projects.ocds.schema import patched_release_schema
from shared.clock import SHANGHAI

if TYPE_CHECKING:
    import ocdsmerge

VERSION = "1.1"
PUBLISHER = {"name": "三社 Sanshe 政府购买服务监管平台"}
EXTENSION_URL = "https://sanshe.example.cn/ocds/sppe/extension.json"


@cache
def _merger() -> ocdsmerge.Merger:
    # Imported at the first record, not at start-up: ocdsmerge (and the requests it
    # imports) adds ~15 MB to every projects process (bench/idle.py: RSS idle < 120 MB).
    import ocdsmerge

    return ocdsmerge.Merger(patched_release_schema())


def compiled(releases: list[dict[str, Any]]) -> dict[str, Any]:
    """The latest state of the process: its releases merged in date order."""
    merged: dict[str, Any] = _merger().create_compiled_release(releases)
    return merged


def record(ocid: str, releases: list[dict[str, Any]]) -> dict[str, Any]:
    return {"ocid": ocid, "releases": releases, "compiledRelease": compiled(releases)}


def _envelope(uri: str, next_url: str | None) -> dict[str, Any]:
    envelope: dict[str, Any] = {
        "uri": uri,
        "version": VERSION,
        "publishedDate": datetime.now(UTC).astimezone(SHANGHAI).isoformat(timespec="seconds"),
        "publisher": PUBLISHER,
        "extensions": [EXTENSION_URL],
    }
    if next_url is not None:
        envelope["links"] = {"next": next_url}
    return envelope


def release_package(
    releases: list[dict[str, Any]], *, uri: str, next_url: str | None = None
) -> dict[str, Any]:
    return {**_envelope(uri, next_url), "releases": releases}


def record_package(
    records: list[dict[str, Any]], *, uri: str, next_url: str | None = None
) -> dict[str, Any]:
    return {**_envelope(uri, next_url), "records": records}
