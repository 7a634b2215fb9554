"""The SPPE scheme: a versioned data file, validated, stored at start-up, frozen per project.

A file is `schemes/sppe.v<version>.yaml`. Validation enforces the scheme's shape: four
dimensions (Standard, Professional, Planning, Effect), 23 indicators whose maximum
points add up to 100 (and to each dimension's maximum), four capped adjustments, and
grade thresholds from best to worst. A stored version is immutable: if a file changes
what is stored under its version, start-up fails (publish a new version instead).
"""

from __future__ import annotations

import hashlib
import json
from decimal import Decimal
from enum import StrEnum
from pathlib import Path
from typing import Literal, Self

import yaml
from pydantic import BaseModel, ConfigDict, Field, model_validator
from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.ext.asyncio import AsyncSession

from services.projects.evaluation.models import Grade, SppeScheme
from shared.db import database
from shared.errors import NotFound

SCHEMES_DIR = Path(__file__).parent / "schemes"
DIMENSIONS = ("standard", "professional", "planning", "effect")
INDICATOR_COUNT = 23
ADJUSTMENT_COUNT = 4
BASE_POINTS = 100


class AdjustmentKind(StrEnum):
    bonus = "bonus"
    penalty = "penalty"


class Indicator(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    code: str = Field(pattern=r"^[A-Z]{1,2}\d{1,2}$")
    name: str
    max_points: Decimal = Field(gt=0)


class Dimension(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    code: Literal["standard", "professional", "planning", "effect"]
    name: str
    max_points: Decimal = Field(gt=0)
    indicators: list[Indicator] = Field(min_length=1)


class Adjustment(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    code: str = Field(pattern=r"^A\d$")
    name: str
    kind: AdjustmentKind
    cap: Decimal = Field(gt=0, description="Largest bonus, or largest penalty (as a positive)")


class GradeBand(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    grade: Grade
    min: Decimal = Field(ge=0)
    label: str


class CompositeRule(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    rule: Literal["mean"]
    divergence_threshold: Decimal = Field(gt=0)
    max_rounds: int = Field(ge=1, le=5)
    after_max_rounds: Literal["median"]


class SchemeContent(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    version: int = Field(ge=1)
    name: str
    points_step: Decimal = Field(gt=0)
    min_evaluators: int = Field(ge=1)
    composite: CompositeRule
    grades: list[GradeBand]
    dimensions: list[Dimension]
    adjustments: list[Adjustment]

    @model_validator(mode="after")
    def _shape(self) -> Self:
        if tuple(d.code for d in self.dimensions) != DIMENSIONS:
            raise ValueError(f"the dimensions must be {', '.join(DIMENSIONS)}, in that order")
        indicators = self.indicators
        if len(indicators) != INDICATOR_COUNT:
            raise ValueError(f"the scheme must have {INDICATOR_COUNT} indicators")
        if len({i.code for i in indicators}) != len(indicators):
            raise ValueError("indicator codes must be distinct")
        for dimension in self.dimensions:
            if sum(i.max_points for i in dimension.indicators) != dimension.max_points:
                raise ValueError(f"{dimension.code}: indicators must add up to its maximum")
        if sum(d.max_points for d in self.dimensions) != BASE_POINTS:
            raise ValueError(f"the indicators' maximum points must add up to {BASE_POINTS}")
        if len(self.adjustments) != ADJUSTMENT_COUNT:
            raise ValueError(f"the scheme must have {ADJUSTMENT_COUNT} adjustment criteria")
        if len({a.code for a in self.adjustments}) != ADJUSTMENT_COUNT:
            raise ValueError("adjustment codes must be distinct")
        if {g.grade for g in self.grades} != set(Grade) or [g.min for g in self.grades] != sorted(
            (g.min for g in self.grades), reverse=True
        ):
            raise ValueError("grades must list every grade once, best (highest minimum) first")
        if self.grades[-1].min != 0:
            raise ValueError("the lowest grade must start at 0")
        return self

    @property
    def indicators(self) -> list[Indicator]:
        return [i for d in self.dimensions for i in d.indicators]

    def sha256(self) -> str:
        canonical = json.dumps(self.model_dump(mode="json"), sort_keys=True, ensure_ascii=False)
        return hashlib.sha256(canonical.encode()).hexdigest()


class SchemeConflict(RuntimeError):
    """A scheme file changed the content of an already stored version."""


def read_scheme_files(directory: Path = SCHEMES_DIR) -> list[SchemeContent]:
    schemes = []
    for path in sorted(directory.glob("sppe.v*.yaml")):
        scheme = SchemeContent.model_validate(yaml.safe_load(path.read_text("utf-8")))
        if path.name != f"sppe.v{scheme.version}.yaml":
            raise ValueError(
                f"{path.name}: a scheme file must be named sppe.v{scheme.version}.yaml"
            )
        schemes.append(scheme)
    return schemes


async def sync_schemes(session: AsyncSession, schemes: list[SchemeContent]) -> None:
    for scheme in schemes:
        digest = scheme.sha256()
        await session.execute(
            pg_insert(SppeScheme)
            .values(
                version=scheme.version,
                content=scheme.model_dump(mode="json"),
                content_sha256=digest,
            )
            .on_conflict_do_nothing(index_elements=["version"])
        )
        stored = await session.scalar(
            select(SppeScheme.content_sha256).where(SppeScheme.version == scheme.version)
        )
        if stored != digest:
            raise SchemeConflict(
                f"SPPE scheme v{scheme.version} differs from the stored version; publish a new one"
            )


async def load_sppe_schemes() -> None:
    """Store the repository's scheme files (API start-up)."""
    async with database.transaction() as session:
        await sync_schemes(session, read_scheme_files())


async def stored_schemes(session: AsyncSession) -> list[SppeScheme]:
    """Every stored scheme version, oldest first."""
    return list((await session.scalars(select(SppeScheme).order_by(SppeScheme.version))).all())


async def stored_scheme(session: AsyncSession, version: int) -> SppeScheme:
    """One stored scheme version, else 404."""
    scheme = await session.get(SppeScheme, version)
    if scheme is None:
        raise NotFound("No such scheme version", code="scheme_not_found")
    return scheme
