"""The committed OpenAPI documents: current, lint-clean, compilable as a TypeScript
client, and compared with the previous commit for breaking changes."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest

from services.workflow.sync.catalogue import catalogue
from tools import openapi_breaking, openapi_build
from tools.openapi_webhooks import payload_schema

OPENAPI = openapi_build.OUT
NODE_DIR = Path(openapi_build.ROOT) / "tools" / "node"
BIN = NODE_DIR / "node_modules" / ".bin"


def test_committed_specs_are_what_the_apps_serve() -> None:
    """`make openapi-check`: a change to the API without `make openapi` fails `make test`."""
    assert openapi_build.main(["--check"]) == 0, "run `make openapi` and commit openapi/"


def test_a_stale_spec_is_caught(tmp_path: Path) -> None:
    for name in ("registry.json", "projects.json", "workflow.json", "sanshe.json", "docs.html"):
        shutil.copy(OPENAPI / name, tmp_path / name)
    spec = json.loads((tmp_path / "projects.json").read_text(encoding="utf-8"))
    del spec["paths"]["/api/v1/project-codes"]
    (tmp_path / "projects.json").write_text(json.dumps(spec), encoding="utf-8")
    assert openapi_build.main(["--check", "--out", str(tmp_path)]) == 1


def test_the_merged_spec_is_what_the_gateway_publishes() -> None:
    merged = json.loads((OPENAPI / "sanshe.json").read_text(encoding="utf-8"))
    paths = set(merged["paths"])
    assert all(p.startswith("/api/v1/") and "/internal/" not in p for p in paths)
    for service in ("registry", "projects", "workflow"):
        spec = json.loads((OPENAPI / f"{service}.json").read_text(encoding="utf-8"))
        public = {p for p in spec["paths"] if p.startswith("/api/v1/") and "/internal/" not in p}
        assert public <= paths
    ids = [op["operationId"] for item in merged["paths"].values() for op in item.values()]
    assert len(ids) == len(set(ids))
    refs = set(_refs(merged))
    for ref in refs:
        _, _, section, name = ref.split("/", 3)
        assert name in merged["components"][section], ref
    assert "Sanshe API" in (OPENAPI / "docs.html").read_text(encoding="utf-8")


def _refs(node: Any) -> list[str]:
    if isinstance(node, dict):
        found = [node["$ref"]] if isinstance(node.get("$ref"), str) else []
        return found + [ref for value in node.values() for ref in _refs(value)]
    if isinstance(node, list):
        return [ref for item in node for ref in _refs(item)]
    return []


def test_webhooks_publish_every_public_event_of_the_catalogue() -> None:
    workflow = json.loads((OPENAPI / "workflow.json").read_text(encoding="utf-8"))
    public = catalogue().public()
    assert set(workflow["webhooks"]) == {event.name for event in public}
    # The same envelope the workflow renders and validates deliveries against.
    for event in public:
        body = workflow["webhooks"][event.name]["post"]["requestBody"]
        published = body["content"]["application/json"]["schema"]
        assert published == payload_schema(event), event.name
        assert published["properties"]["type"] == {"const": event.name}


def test_breaking_changes_are_reported() -> None:
    spec = json.loads((OPENAPI / "registry.json").read_text(encoding="utf-8"))
    assert openapi_breaking.breaking_changes(spec, spec) == []
    changed = json.loads(json.dumps(spec))
    del changed["paths"]["/api/v1/inspections"]
    changed["components"]["schemas"]["OrganizationCreate"]["required"].append("address")
    del changed["components"]["schemas"]["OrganizationOut"]["properties"]["tags"]
    problems = openapi_breaking.breaking_changes(spec, changed)
    assert "paths /api/v1/inspections: removed" in problems
    assert any("field address is now required" in p for p in problems)
    assert any("field tags removed" in p for p in problems)
    assert openapi_breaking.main(["--base", "HEAD"]) == 0


# -- Node tools (pinned in tools/node/package-lock.json) ----------------------------------


@pytest.fixture(scope="module")
def node_tools() -> Path:
    if shutil.which("node") is None or shutil.which("npm") is None:
        pytest.skip("node is not installed")
    if not (BIN / "redocly").exists():
        subprocess.run(
            ["npm", "ci", "--no-audit", "--no-fund"],
            cwd=NODE_DIR,
            check=True,
            capture_output=True,
        )
    return BIN


@pytest.mark.parametrize("name", ["registry", "projects", "workflow", "sanshe"])
def test_redocly_lint_finds_no_error(node_tools: Path, name: str) -> None:
    result = subprocess.run(
        [
            str(node_tools / "redocly"),
            "lint",
            "--config",
            "redocly.yaml",
            "--format",
            "summary",
            str(OPENAPI / f"{name}.json"),
        ],
        cwd=NODE_DIR,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "error " not in result.stdout


def test_the_typescript_client_compiles_strict_and_sends_idempotency_keys(
    node_tools: Path, tmp_path: Path
) -> None:
    subprocess.run(
        [
            str(node_tools / "openapi-typescript"),
            str(OPENAPI / "sanshe.json"),
            "-o",
            str(tmp_path / "sanshe.ts"),
        ],
        check=True,
        capture_output=True,
        timeout=300,
    )
    # A front-end's call: the header types come from the spec, so these must compile...
    (tmp_path / "client.ts").write_text(
        'import type { paths, operations } from "./sanshe";\n'
        'type CreateOrg = paths["/api/v1/organizations"]["post"];\n'
        'export const headers: NonNullable<CreateOrg["parameters"]["header"]> = '
        '{ "Idempotency-Key": "9f1c" };\n'
        'type Update = operations["updateOrganization"]["parameters"]["header"];\n'
        'export const update: Update = { "If-Match": "\\"3\\"" };\n'
        'type Score = operations["getEvaluation"]["responses"][200]["content"]'
        '["application/json"]["composite"];\n'
        'export const composite: Score = "87.50";\n',
        encoding="utf-8",
    )
    compiled = _tsc(node_tools, tmp_path, "client.ts")
    assert compiled.returncode == 0, compiled.stdout
    # ...and If-Match may not be left out where the service requires it.
    (tmp_path / "wrong.ts").write_text(
        'import type { operations } from "./sanshe";\n'
        'export const update: operations["updateOrganization"]["parameters"]["header"] = {};\n',
        encoding="utf-8",
    )
    assert _tsc(node_tools, tmp_path, "wrong.ts").returncode != 0


def _tsc(node_tools: Path, directory: Path, name: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [
            str(node_tools / "tsc"),
            "--strict",
            "--noEmit",
            "--target",
            "es2022",
            "--module",
            "esnext",
            "--moduleResolution",
            "bundler",
            name,
        ],
        cwd=directory,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
