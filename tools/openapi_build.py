"""Write the committed OpenAPI documents from the running apps, or check them.

    python -m tools.openapi_build           # make openapi: rewrite openapi/*.json, docs.html
    python -m tools.openapi_build --check   # make openapi-check: exit 1 if any is stale

openapi/<service>.json is each service's own document (the workflow's with the event
payloads as `webhooks`); openapi/sanshe.json merges what the gateway publishes (every
/api/v1 path but the internal ones) into one document for one origin; docs.html is the
page the gateway serves beside it (/docs). The gateway's route table is checked too.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from tools import gateway_routes
from tools.openapi_docs import render_docs
from tools.openapi_webhooks import webhooks
from tools.specs import SERVICES, is_public_path, service_spec

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "openapi"
MERGED = "sanshe.json"
DOCS = "docs.html"
METHODS = ("get", "put", "post", "delete", "options", "head", "patch", "trace")


def service_document(service: str) -> dict[str, Any]:
    spec = service_spec(service)
    spec["servers"] = [
        {
            "url": "/",
            "description": "The service itself (make run: registry on :8001, "
            "projects :8002, workflow :8003)",
        }
    ]
    if service == "workflow":
        spec["webhooks"] = webhooks()
    return spec


def merged_document(specs: dict[str, dict[str, Any]]) -> dict[str, Any]:
    """One document of what the gateway publishes; a schema name two services define
    differently is prefixed with its service's name in that service's part."""
    merged: dict[str, Any] = {
        "openapi": specs[SERVICES[0]]["openapi"],
        "info": {
            "title": "Sanshe API",
            "version": specs[SERVICES[0]]["info"]["version"],
            "description": "The three Sanshe services behind one origin (the gateway): "
            + "; ".join(f"{s}: {specs[s]['info']['title']}" for s in SERVICES)
            + ". Every error is `application/problem+json`; tokens are JWT bearer tokens.",
        },
        "servers": [{"url": "/", "description": "The gateway (one origin for every service)"}],
        "paths": {},
        "components": {},
        "tags": [],
    }
    seen: dict[str, dict[str, Any]] = {}
    for service in SERVICES:
        spec = json.loads(json.dumps(specs[service]))
        renames = _collisions(spec, seen, service)
        if renames:
            spec = _rename_refs(spec, renames)
        for section, entries in spec.get("components", {}).items():
            target = merged["components"].setdefault(section, {})
            for name, value in entries.items():
                target.setdefault(renames.get(name, name) if section == "schemas" else name, value)
        seen.update(merged["components"].get("schemas", {}))
        for path, item in spec["paths"].items():
            if not is_public_path(path):
                continue
            for method in METHODS:
                if method in item:
                    item[method]["x-service"] = service
            merged["paths"][path] = item
        names = {tag["name"] for tag in merged["tags"]}
        merged["tags"] += [tag for tag in spec.get("tags", []) if tag["name"] not in names]
        if "webhooks" in spec:
            merged["webhooks"] = spec["webhooks"]
    used = {
        tag
        for item in merged["paths"].values()
        for m in METHODS
        for tag in item.get(m, {}).get("tags", [])
    }
    used |= {tag for item in merged.get("webhooks", {}).values() for tag in item["post"]["tags"]}
    merged["tags"] = [tag for tag in merged["tags"] if tag["name"] in used]
    _prune_components(merged)
    return merged


def _collisions(
    spec: dict[str, Any], seen: dict[str, dict[str, Any]], service: str
) -> dict[str, str]:
    renames = {}
    for name, schema in spec.get("components", {}).get("schemas", {}).items():
        if name in seen and seen[name] != schema:
            renames[name] = service.capitalize() + name
    return renames


def _rename_refs(node: Any, renames: dict[str, str]) -> Any:
    if isinstance(node, dict):
        out = {}
        for key, value in node.items():
            if key == "$ref" and isinstance(value, str):
                prefix, _, name = value.rpartition("/")
                if prefix == "#/components/schemas" and name in renames:
                    value = f"{prefix}/{renames[name]}"
            out[key] = _rename_refs(value, renames)
        return out
    if isinstance(node, list):
        return [_rename_refs(item, renames) for item in node]
    return node


def _prune_components(document: dict[str, Any]) -> None:
    """Drop the components only unpublished (internal) operations referred to."""
    components = document["components"]
    reachable: set[str] = set()
    pending = [
        document["paths"],
        document.get("webhooks", {}),
        components.get("securitySchemes", {}),
    ]
    while pending:
        node = pending.pop()
        if isinstance(node, dict):
            ref = node.get("$ref")
            if isinstance(ref, str) and ref.startswith("#/components/") and ref not in reachable:
                reachable.add(ref)
                _, _, section, name = ref.split("/", 3)
                pending.append(components.get(section, {}).get(name))
            pending.extend(node.values())
        elif isinstance(node, list):
            pending.extend(node)
    for section in ("schemas", "headers", "parameters", "responses"):
        entries = components.get(section, {})
        for name in list(entries):
            if f"#/components/{section}/{name}" not in reachable:
                del entries[name]


def dump(document: dict[str, Any]) -> str:
    return json.dumps(document, indent=2, ensure_ascii=False) + "\n"


def documents() -> dict[str, str]:
    """File name -> the text it must hold."""
    specs = {service: service_document(service) for service in SERVICES}
    merged = merged_document(specs)
    files = {f"{service}.json": dump(spec) for service, spec in specs.items()}
    files[MERGED] = dump(merged)
    files[DOCS] = render_docs(merged)
    return files


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--check", action="store_true", help="fail if a committed file is stale")
    parser.add_argument("--out", type=Path, default=OUT)
    args = parser.parse_args(argv)
    stale = []
    for name, text in documents().items():
        path = args.out / name
        current = path.read_text(encoding="utf-8") if path.exists() else None
        if current == text:
            continue
        if args.check:
            stale.append(name)
        else:
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(text, encoding="utf-8")
            print(f"wrote {path}")
    if args.check:
        if gateway_routes.main(["--check"]) != 0:
            stale.append(str(gateway_routes.GATEWAY_CONF.relative_to(ROOT)))
        if stale:
            print(
                "The API changed but these committed files did not: "
                + ", ".join(stale)
                + ". Run `make openapi` and commit the result.",
                file=sys.stderr,
            )
            return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
