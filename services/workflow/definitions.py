"""Case definitions: data files in `definitions/`, stored in Postgres by version.

A file is `<case_type>.v<version>.yaml`. Stored versions are immutable: if a file's
content differs from what is stored under the same version, start-up fails loudly
(publish a new version instead), because running cases keep the version they began on.
"""

from __future__ import annotations

import hashlib
import json
from enum import StrEnum
from pathlib import Path
from typing import Self

import yaml
from pydantic import BaseModel, ConfigDict, Field, model_validator
from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.ext.asyncio import AsyncSession

from services.workflow.models import CaseDefinition
from shared.db import database

DEFINITIONS_DIR = Path(__file__).parent / "definitions"


class JoinKind(StrEnum):
    all = "all"  # every department must approve; the first rejection rejects
    any = "any"  # the first approval approves; rejected only when every department rejects
    n_of_m = "n_of_m"  # approved once n approve; rejected once n approvals are out of reach


class JoinRule(BaseModel):
    model_config = ConfigDict(extra="forbid")

    kind: JoinKind
    n: int | None = Field(default=None, ge=1)


class Material(BaseModel):
    model_config = ConfigDict(extra="forbid")

    code: str = Field(pattern=r"^[a-z][a-z0-9_]*$")
    name: str
    optional: bool = False


class DefinitionContent(BaseModel):
    model_config = ConfigDict(extra="forbid")

    case_type: str = Field(pattern=r"^[a-z][a-z0-9_]*$")
    version: int = Field(ge=1)
    name: str
    subject_service: str = Field(pattern=r"^(registry|projects)$")
    statutory_limit_days: int = Field(ge=1, description="Calendar days allowed by law")
    time_limit_working_days: int = Field(ge=1, description="Committed limit (承诺时限)")
    reminder_at_working_days: int = Field(ge=0)
    materials: list[Material] = Field(min_length=1)
    departments: list[str] = Field(min_length=1)
    reviewed_by_subject_department: bool = Field(
        default=False,
        description="The department the subject belongs to reviews too (a project's "
        "purchasing department); the requesting service names it in the case request",
    )
    join_rule: JoinRule

    @model_validator(mode="after")
    def _consistent(self) -> Self:
        if self.reminder_at_working_days >= self.time_limit_working_days:
            raise ValueError("the reminder must come before the committed time limit")
        if len(set(self.departments)) != len(self.departments):
            raise ValueError("departments must be distinct")
        if len({m.code for m in self.materials}) != len(self.materials):
            raise ValueError("material codes must be distinct")
        rule = self.join_rule
        reviewers = len(self.departments) + int(self.reviewed_by_subject_department)
        if rule.kind is JoinKind.n_of_m and not (rule.n and rule.n <= reviewers):
            raise ValueError("n_of_m needs 1 <= n <= number of departments")
        return self

    def review_departments(self, subject_department: str | None) -> list[str]:
        """The departments that each get a review task, the subject's own first."""
        if not self.reviewed_by_subject_department:
            return list(self.departments)
        if subject_department is None:
            raise ValueError(f"{self.case_type} cases are reviewed by the subject's department")
        return [subject_department, *(d for d in self.departments if d != subject_department)]

    def sha256(self) -> str:
        content = self.model_dump(mode="json")
        if not self.reviewed_by_subject_department:
            # Versions stored before the field existed keep their digest.
            del content["reviewed_by_subject_department"]
        canonical = json.dumps(content, sort_keys=True, ensure_ascii=False)
        return hashlib.sha256(canonical.encode()).hexdigest()


class DefinitionConflict(RuntimeError):
    """A definition file changed the content of an already stored version."""


def read_definition_files(directory: Path = DEFINITIONS_DIR) -> list[DefinitionContent]:
    definitions = []
    for path in sorted(directory.glob("*.yaml")):
        content = DefinitionContent.model_validate(yaml.safe_load(path.read_text("utf-8")))
        expected = f"{content.case_type}.v{content.version}.yaml"
        if path.name != expected:
            raise ValueError(f"{path.name}: a definition file must be named {expected}")
        definitions.append(content)
    return definitions


async def sync_definitions(session: AsyncSession, definitions: list[DefinitionContent]) -> None:
    """Store new versions; refuse a stored version whose content changed."""
    for definition in definitions:
        digest = definition.sha256()
        await session.execute(
            pg_insert(CaseDefinition)
            .values(
                case_type=definition.case_type,
                version=definition.version,
                content=definition.model_dump(mode="json"),
                content_sha256=digest,
            )
            .on_conflict_do_nothing(index_elements=["case_type", "version"])
        )
        stored = (
            await session.execute(
                select(CaseDefinition.content_sha256).where(
                    CaseDefinition.case_type == definition.case_type,
                    CaseDefinition.version == definition.version,
                )
            )
        ).scalar_one()
        if stored != digest:
            raise DefinitionConflict(
                f"{definition.case_type} v{definition.version} differs from the stored version; "
                "publish it as a new version"
            )


async def load_case_definitions() -> None:
    """Store the repository's definition files (API and worker start-up)."""
    async with database.transaction() as session:
        await sync_definitions(session, read_definition_files())
