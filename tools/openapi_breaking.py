"""Report the breaking changes of the committed OpenAPI documents against a revision.

    python -m tools.openapi_breaking                 # against HEAD~1 (the previous commit)
    python -m tools.openapi_breaking --base main     # against another revision
    python -m tools.openapi_breaking --strict        # exit 1 when anything breaks

Breaking, for a client generated from the old document: a path, operation or webhook
removed; a parameter or request field newly required, or a new required parameter; a
request field's type narrowed or an enum value of a request removed; a response field
or success status removed; a response field no longer required. Adding is never
breaking (the schemas allow extra properties to be ignored).
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
FILES = ("registry.json", "projects.json", "workflow.json", "sanshe.json")
METHODS = ("get", "put", "post", "delete", "options", "head", "patch", "trace")


def breaking_changes(old: dict[str, Any], new: dict[str, Any]) -> list[str]:
    problems: list[str] = []
    for section in ("paths", "webhooks"):
        old_items, new_items = old.get(section, {}), new.get(section, {})
        for path, old_item in old_items.items():
            if path not in new_items:
                problems.append(f"{section} {path}: removed")
                continue
            for method in METHODS:
                if method not in old_item:
                    continue
                where = f"{method.upper()} {path}"
                if method not in new_items[path]:
                    problems.append(f"{where}: removed")
                    continue
                problems += _operation(where, old, old_item[method], new, new_items[path][method])
    return problems


def _operation(
    where: str,
    old: dict[str, Any],
    before: dict[str, Any],
    new: dict[str, Any],
    after: dict[str, Any],
) -> list[str]:
    problems: list[str] = []
    if before.get("operationId") != after.get("operationId"):
        problems.append(
            f"{where}: operationId {before.get('operationId')} -> {after.get('operationId')}"
        )
    old_params = {(p["in"], p["name"]): p for p in _params(old, before)}
    for parameter in _params(new, after):
        key = (parameter["in"], parameter["name"])
        was = old_params.get(key)
        if parameter.get("required") and (was is None or not was.get("required")):
            problems.append(f"{where}: parameter {key[1]} ({key[0]}) is now required")
    old_body = _body_schema(old, before)
    new_body = _body_schema(new, after)
    if old_body is not None and new_body is not None:
        problems += _request_schema(f"{where} request", old, old_body, new, new_body, set())
    elif old_body is None and new_body is not None and after["requestBody"].get("required"):
        problems.append(f"{where}: a request body is now required")
    for status, response in before.get("responses", {}).items():
        if status.startswith("2") and status not in after.get("responses", {}):
            problems.append(f"{where}: success response {status} removed")
            continue
        old_schema = _json_schema(response)
        new_schema = _json_schema(after.get("responses", {}).get(status, {}))
        if old_schema is not None and new_schema is not None:
            problems += _response_schema(
                f"{where} {status}", old, old_schema, new, new_schema, set()
            )
    return problems


def _params(doc: dict[str, Any], operation: dict[str, Any]) -> list[dict[str, Any]]:
    return [_resolve(doc, p) for p in operation.get("parameters", [])]


def _body_schema(doc: dict[str, Any], operation: dict[str, Any]) -> dict[str, Any] | None:
    return _json_schema(operation.get("requestBody", {}))


def _json_schema(holder: dict[str, Any]) -> dict[str, Any] | None:
    content = holder.get("content", {})
    for media, body in content.items():
        if "json" in media and "schema" in body:
            return dict(body["schema"])
    return None


def _resolve(doc: dict[str, Any], node: dict[str, Any]) -> dict[str, Any]:
    seen = 0
    while isinstance(node, dict) and "$ref" in node and seen < 50:
        parts = node["$ref"].lstrip("#/").split("/")
        target: Any = doc
        for part in parts:
            target = target[part]
        node, seen = target, seen + 1
    return node


def _object(doc: dict[str, Any], schema: dict[str, Any]) -> dict[str, Any]:
    schema = _resolve(doc, schema)
    for option in schema.get("anyOf", []):
        option = _resolve(doc, option)
        if option.get("type") == "object" or "properties" in option:
            return option
    return schema


def _request_schema(
    where: str,
    old: dict[str, Any],
    before: dict[str, Any],
    new: dict[str, Any],
    after: dict[str, Any],
    seen: set[str],
) -> list[str]:
    problems: list[str] = []
    before, after = _object(old, before), _object(new, after)
    key = json.dumps(before, sort_keys=True)[:200] + where
    if key in seen:
        return problems
    seen.add(key)
    for name in set(after.get("required", ())) - set(before.get("required", ())):
        problems.append(f"{where}: field {name} is now required")
    removed = set(before.get("enum", ())) - set(after.get("enum", before.get("enum", ())))
    if removed:
        problems.append(f"{where}: values {sorted(removed)} no longer accepted")
    if before.get("type") and after.get("type") and before["type"] != after["type"]:
        problems.append(f"{where}: type {before['type']} -> {after['type']}")
    for name, prop in before.get("properties", {}).items():
        if name in after.get("properties", {}):
            problems += _request_schema(
                f"{where}.{name}", old, prop, new, after["properties"][name], seen
            )
        elif after.get("additionalProperties") is False:
            problems.append(f"{where}: field {name} is no longer accepted")
    return problems


def _response_schema(
    where: str,
    old: dict[str, Any],
    before: dict[str, Any],
    new: dict[str, Any],
    after: dict[str, Any],
    seen: set[str],
) -> list[str]:
    problems: list[str] = []
    before, after = _object(old, before), _object(new, after)
    key = json.dumps(before, sort_keys=True)[:200] + where
    if key in seen or where.count(".") > 6:
        return problems
    seen.add(key)
    for name in set(before.get("required", ())) - set(after.get("required", ())):
        problems.append(f"{where}: field {name} is no longer always present")
    for name, prop in before.get("properties", {}).items():
        if name not in after.get("properties", {}):
            problems.append(f"{where}: field {name} removed")
        else:
            problems += _response_schema(
                f"{where}.{name}", old, prop, new, after["properties"][name], seen
            )
    if before.get("type") and after.get("type") and before["type"] != after["type"]:
        problems.append(f"{where}: type {before['type']} -> {after['type']}")
    return problems


def committed(revision: str, name: str) -> dict[str, Any] | None:
    shown = subprocess.run(  # noqa: S603
        ["git", "show", f"{revision}:openapi/{name}"],  # noqa: S607
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
    )
    return json.loads(shown.stdout) if shown.returncode == 0 else None


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--base", default="HEAD~1", help="the revision to compare against")
    parser.add_argument("--strict", action="store_true", help="exit 1 on a breaking change")
    args = parser.parse_args(argv)
    found = 0
    for name in FILES:
        old = committed(args.base, name)
        path = ROOT / "openapi" / name
        if old is None or not path.exists():
            print(f"{name}: nothing to compare against at {args.base}")
            continue
        problems = breaking_changes(old, json.loads(path.read_text(encoding="utf-8")))
        found += len(problems)
        print(f"{name}: {len(problems)} breaking change(s) against {args.base}")
        for problem in problems:
            print(f"  - {problem}")
    return 1 if found and args.strict else 0


if __name__ == "__main__":
    sys.exit(main())
