"""The house shape (README "Layout"): one layout for the three services, read from the tree.

A newcomer finds a rule from folder and file names alone, so these hold by construction:
routers do not build queries, every service is laid out by domain, no two modules of the
services share a name unless they mean the same thing, and the README's table of where
each rule lives names files that exist.
"""

from __future__ import annotations

import ast
import re
from collections import defaultdict
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SERVICES = ("registry", "projects", "workflow")

# Module names several domains use on purpose, each with one meaning everywhere: the
# layers of a domain folder and the root files every service has.
LAYER_NAMES = {
    "__init__.py",
    "router.py",
    "schemas.py",
    "service.py",
    "repository.py",
    "models.py",
    "main.py",
    "config.py",
    "base.py",
    "access.py",
    "README.md",
}
# Names that appear in more than one place and mean the same thing in each.
SAME_MEANING = {
    "outcomes.py",  # receiving a case outcome from the workflow (shared.cases)
    "events.py",  # the event types a service or domain publishes
    "jobs.py",  # arq job functions
    "filters.py",  # query-string filters of a list endpoint
    "enums.py",  # a service's enumerations
    "labels.py",  # the Chinese labels of a service's codes (shared.vocabulary)
    "demo.py",  # a service's demo data, loaded once per database by `make run`
}


def _python_files(service: str) -> list[Path]:
    return sorted((ROOT / "services" / service).rglob("*.py"))


def _imported_modules(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    modules: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module:
            modules.add(node.module)
        elif isinstance(node, ast.Import):
            modules.update(alias.name for alias in node.names)
    return modules


def _routers() -> list[Path]:
    return [
        path
        for service in SERVICES
        for path in _python_files(service)
        if path.name == "router.py" or path.parent.name == "routers"
    ]


def test_routers_exist_in_every_service() -> None:
    by_service = {s: [p for p in _routers() if f"/services/{s}/" in p.as_posix()] for s in SERVICES}
    assert all(by_service.values()), by_service


@pytest.mark.parametrize("router", _routers(), ids=lambda p: str(p.relative_to(ROOT)))
def test_routers_do_not_build_queries(router: Path) -> None:
    # A router parses, authorizes and answers; the SQL lives in the domain's repository
    # (or service), where it can be read and tested as one thing.
    offending = sorted(
        module
        for module in _imported_modules(router)
        if (module == "sqlalchemy" or module.startswith("sqlalchemy."))
        and module != "sqlalchemy.ext.asyncio"
    )
    assert offending == [], f"{router.relative_to(ROOT)} imports {offending}"


@pytest.mark.parametrize("service", SERVICES)
def test_services_are_laid_out_by_domain(service: str) -> None:
    root = ROOT / "services" / service
    # Layer folders (all routers together, all schemas together) are the shape we left.
    assert not (root / "routers").exists()
    assert not (root / "schemas").exists()
    assert (root / "README.md").is_file()
    assert (root / "config.py").is_file()
    assert (root / "main.py").is_file()
    domains = [p for p in root.iterdir() if p.is_dir() and (p / "__init__.py").exists()]
    assert len(domains) >= 3, domains


def test_module_names_do_not_clash() -> None:
    places: dict[str, list[str]] = defaultdict(list)
    for service in SERVICES:
        for path in _python_files(service):
            if path.parent.name == "routers":
                # A domain with several routers (workflow/sync) names each after the
                # module it serves: routers/inbound.py is the HTTP side of inbound.py.
                continue
            places[path.name].append(path.relative_to(ROOT).as_posix())
    for path in (ROOT / "shared").rglob("*.py"):
        places[path.name].append(path.relative_to(ROOT).as_posix())
    clashes = {
        name: where
        for name, where in places.items()
        if len(where) > 1 and name not in LAYER_NAMES | SAME_MEANING
    }
    assert clashes == {}


def _rule_table() -> list[tuple[str, str]]:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    section = readme.split("## Where each rule lives", 1)[1].split("\n## ", 1)[0]
    rows = []
    for line in section.splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if len(cells) >= 2 and (match := re.search(r"`([^`]+\.py)`", cells[1])):
            rows.append((cells[0], match.group(1)))
    return rows


def test_readme_names_where_each_rule_lives() -> None:
    rows = _rule_table()
    rules = " ".join(rule for rule, _ in rows).lower()
    for rule in ("supplement", "payment", "sppe", "retry", "uscc", "stage"):
        assert rule in rules, f"the README's rule table does not name {rule!r}"
    for rule, path in rows:
        assert (ROOT / path).is_file(), f"{rule}: {path} does not exist"
        # services/<svc>/<domain>/<file>: three hops from the top.
        assert len(Path(path).parts) <= 4, f"{rule}: {path} is deeper than three hops"
