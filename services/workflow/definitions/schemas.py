"""Case definitions as data: what a case type needs, who reviews it, how long it may take."""

from __future__ import annotations

import hashlib
import json
from datetime import datetime
from enum import StrEnum
from typing import Self

from pydantic import BaseModel, ConfigDict, Field, model_validator


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
    deferrable: bool = Field(
        default=False,
        description="A minor material (容缺): the applicant may commit to supply it after "
        "acceptance instead of before",
    )


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
    pending_limit_working_days: int | None = Field(
        default=None,
        ge=1,
        description="容缺受理: working days after acceptance to supply the deferrable "
        "materials committed to (required when a material is deferrable)",
    )

    @model_validator(mode="after")
    def _consistent(self) -> Self:
        if self.reminder_at_working_days >= self.time_limit_working_days:
            raise ValueError("the reminder must come before the committed time limit")
        if len(set(self.departments)) != len(self.departments):
            raise ValueError("departments must be distinct")
        if len({m.code for m in self.materials}) != len(self.materials):
            raise ValueError("material codes must be distinct")
        if any(m.deferrable for m in self.materials) and self.pending_limit_working_days is None:
            raise ValueError("deferrable materials need pending_limit_working_days")
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

    def deferrable_codes(self) -> set[str]:
        return {m.code for m in self.materials if m.deferrable}

    def sha256(self) -> str:
        content = self.model_dump(mode="json")
        if not self.reviewed_by_subject_department:
            # Versions stored before the field existed keep their digest.
            del content["reviewed_by_subject_department"]
        if self.pending_limit_working_days is None:
            del content["pending_limit_working_days"]
        for material in content["materials"]:
            if not material["deferrable"]:
                del material["deferrable"]
        canonical = json.dumps(content, sort_keys=True, ensure_ascii=False)
        return hashlib.sha256(canonical.encode()).hexdigest()


class CaseDefinitionOut(BaseModel):
    case_type: str
    version: int
    content_sha256: str
    loaded_at: datetime
    definition: DefinitionContent
