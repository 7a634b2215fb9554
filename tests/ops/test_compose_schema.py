"""docker-compose.yml against the Compose Specification's JSON schema.

The schema is vendored (tests/data/compose-spec/README.md says from where and which
version); the file is read as `docker compose` reads it, interpolated with the variables an
operator sets (tests/support/compose.py), so what is validated is what compose would run.
"""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import jsonschema
import pytest

from tests.support.compose import compose_variables, load_compose

SCHEMA_FILE = Path(__file__).parents[1] / "data" / "compose-spec" / "compose-spec.json"


@pytest.fixture(scope="module")
def validator() -> jsonschema.protocols.Validator:
    schema = json.loads(SCHEMA_FILE.read_text(encoding="utf-8"))
    cls = jsonschema.validators.validator_for(schema)
    cls.check_schema(schema)
    return cls(schema)


def _compose(directory: Path) -> dict[str, Any]:
    document = load_compose(compose_variables(directory))
    for spec in document["services"].values():
        spec.pop("x-local-secret-files", None)  # load_compose's own note, not the file's
    return document


def test_the_vendored_schema_is_the_current_specification(
    validator: jsonschema.protocols.Validator,
) -> None:
    assert isinstance(validator, jsonschema.Draft202012Validator)
    assert {"name", "services", "secrets"} <= set(validator.schema["properties"])


def test_compose_file_validates_against_the_compose_spec(
    validator: jsonschema.protocols.Validator, tmp_path: Path
) -> None:
    errors = [
        f"{'/'.join(map(str, error.absolute_path))}: {error.message}"
        for error in validator.iter_errors(_compose(tmp_path))
    ]
    assert errors == []


@pytest.mark.parametrize(
    "breakage",
    ["unknown_service_key", "ports_not_a_list", "restart_not_a_string", "unknown_top_level"],
)
def test_a_broken_compose_file_is_refused(
    validator: jsonschema.protocols.Validator, tmp_path: Path, breakage: str
) -> None:
    """The validation can fail: a copy broken in one place is refused, at that place."""
    broken = copy.deepcopy(_compose(tmp_path))
    name, service = next(iter(broken["services"].items()))
    if breakage == "unknown_service_key":
        service["imagee"] = "python:3.11-slim"  # a typo compose would reject
        where: list[str | int] = ["services", name]
    elif breakage == "ports_not_a_list":
        service["ports"] = {"http": 8000}
        where = ["services", name, "ports"]
    elif breakage == "restart_not_a_string":
        service["restart"] = ["always"]
        where = ["services", name, "restart"]
    else:
        broken["servicez"] = {}
        where = []
    errors = list(validator.iter_errors(broken))
    assert errors, breakage
    assert any(list(error.absolute_path) == where for error in errors), [
        (list(e.absolute_path), e.message) for e in errors
    ]
