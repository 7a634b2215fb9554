"""The shipped OCDS release schema, alone or patched with the SPPE extension."""

from __future__ import annotations

import copy
import json
from functools import cache
from pathlib import Path
from typing import Any

HERE = Path(__file__).parent
RELEASE_SCHEMA = HERE / "release-schema-1__1__4.json"
EXTENSION_DIR = HERE / "sppe_extension"


def merge_patch(target: Any, patch: Any) -> Any:
    """RFC 7386 JSON Merge Patch, as OCDS extensions are applied."""
    if not isinstance(patch, dict):
        return copy.deepcopy(patch)
    result = dict(target) if isinstance(target, dict) else {}
    for key, value in patch.items():
        if value is None:
            result.pop(key, None)
        else:
            result[key] = merge_patch(result.get(key), value)
    return result


@cache
def release_schema() -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads(RELEASE_SCHEMA.read_text("utf-8"))
    return loaded


@cache
def patched_release_schema() -> dict[str, Any]:
    extension = json.loads((EXTENSION_DIR / "release-schema.json").read_text("utf-8"))
    patched: dict[str, Any] = merge_patch(release_schema(), extension)
    return patched
