"""Chinese labels of every service's codes, in one shape: `GET /api/v1/<svc>/vocabulary`.

The API speaks English codes (`supplement_requested`); a front-end shows the label a
civil-affairs officer knows (待补正). Each service declares only its labels, as
`{EnumClass: {code: label}}` (`services/<svc>/.../labels` or `enums.py`), and passes
them to `shared.app.create_service_app(vocabulary=...)`, which

- serves them at `GET /api/v1/<svc>/vocabulary` (`vocabulary_router`), and
- writes them into the OpenAPI schema of each labelled enum (`annotate_enum_schemas`):
  `x-enum-descriptions` (the labels, parallel to `enum`) and `x-enumNames` (the Python
  member names, identifiers a code generator can use: `passed` for `pass`, `a1` for `1A`).

The shape is the registry's `{EnumName: [{code, label}]}` (`Vocabulary`), kept rather
than a wrapper object or the projects' fixed-field `CodeLists`, because:
- the key is the enum's class name, which is also its schema name in the OpenAPI
  document, so a front-end goes from a field's `$ref` straight to its labels;
- a service adding an enum adds a key without changing the response schema (a fixed
  field per list, as `CodeLists` has, is a schema change for every new list);
- the registry's endpoint already answers it: its clients read the new one unchanged.
Every member of every enum is listed, in declaration order; `tests/contract/
test_vocabulary.py` fails when a member has no label.
"""

from __future__ import annotations

from collections.abc import Mapping
from enum import StrEnum
from typing import Any

from fastapi import APIRouter, Depends
from pydantic import BaseModel, Field, RootModel

from shared.auth import current_principal
from shared.errors import problem_responses

# `{EnumClass: {code or member: label}}`: a member is its code (StrEnum), so either key works.
Labels = Mapping[type[StrEnum], Mapping[Any, str]]


class Term(BaseModel):
    """One code and its Chinese label."""

    code: str = Field(description="The code the API reads and writes")
    label: str = Field(description="Its Chinese label, for people")


class Vocabulary(RootModel[dict[str, list[Term]]]):
    """Every labelled enumeration of a service: `{EnumName: [{code, label}]}`; the
    name is the enum's schema name in the OpenAPI document."""


def terms(enum: type[StrEnum], labels: Mapping[Any, str]) -> list[Term]:
    """Every member of `enum` in declaration order, with its label ('' if it has none)."""
    by_code = _labels_by_code(labels)
    return [Term(code=member.value, label=by_code.get(member.value, "")) for member in enum]


def vocabulary(labels: Labels) -> Vocabulary:
    return Vocabulary({enum.__name__: terms(enum, mapping) for enum, mapping in labels.items()})


def missing_labels(labels: Labels) -> list[str]:
    """`Enum.member` of every member without a label (the tests require none)."""
    return [
        f"{enum.__name__}.{member.name}"
        for enum, mapping in labels.items()
        for member in enum
        if not _labels_by_code(mapping).get(member.value, "").strip()
    ]


def vocabulary_router(
    service: str, labels: Labels, *, prefix: str = "/api/v1", tag: str = "reference"
) -> APIRouter:
    """`GET {prefix}/{service}/vocabulary`, for any authenticated caller."""
    router = APIRouter(prefix=f"{prefix}/{service}", tags=[tag])
    answer = vocabulary(labels)

    @router.get(
        "/vocabulary",
        response_model=Vocabulary,
        operation_id=f"list{service.capitalize()}Vocabularies",
        dependencies=[Depends(current_principal)],
        responses=problem_responses(401),
    )
    async def get_vocabulary() -> Vocabulary:
        """Every enumeration of the service: its codes and their Chinese labels."""
        return answer

    return router


def annotate_enum_schemas(schemas: dict[str, Any], labels: Labels) -> None:
    """`x-enum-descriptions` and `x-enumNames` on each labelled enum's component schema.

    A schema is matched by its name (pydantic names an enum's schema after its class)
    and must list exactly the enum's codes, so a schema of the same name that is not
    this enum is left alone.
    """
    for enum, mapping in labels.items():
        schema = schemas.get(enum.__name__)
        if not isinstance(schema, dict) or "enum" not in schema:
            continue
        members = {member.value: member for member in enum}
        if set(schema["enum"]) != set(members):
            continue
        by_code = _labels_by_code(mapping)
        schema["x-enum-descriptions"] = [by_code.get(code, "") for code in schema["enum"]]
        schema["x-enumNames"] = [members[code].name for code in schema["enum"]]


def _labels_by_code(mapping: Mapping[Any, str]) -> dict[str, str]:
    return {str(getattr(key, "value", key)): label for key, label in mapping.items()}
