"""Request models of an application (统一申报)."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field, model_validator

from services.projects.funds.schemas import MAX_FEN
from services.projects.reference.central_task import CentralTaskOther, central_task_errors
from services.projects.reference.code_lists import BudgetCategory, CentralTask, ServiceTarget
from shared.dates import CalendarDate
from shared.interservice import MaterialRef


class BudgetLineIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    category: BudgetCategory
    description: str = Field(min_length=1, max_length=300, examples=["社工人员服务费"])
    amount_fen: int = Field(gt=0, le=MAX_FEN)


class MilestoneIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    title: str = Field(min_length=1, max_length=200, examples=["完成需求评估"])
    description: str | None = Field(default=None, max_length=1000)
    due_on: CalendarDate


class ApplicationCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    title: str = Field(min_length=1, max_length=200, examples=["“童心护航”困境儿童关爱项目"])
    summary: str = Field(min_length=1, max_length=20_000, description="The proposal (项目方案)")
    proposal_url: str | None = Field(default=None, max_length=500)
    street_code: str | None = Field(default=None, pattern=r"^\d{9}$", description="Street served")
    service_targets: list[ServiceTarget] = Field(min_length=1, max_length=6)
    central_task: CentralTask | None = None
    central_task_other: CentralTaskOther | None = None
    budget_lines: list[BudgetLineIn] = Field(min_length=1, max_length=100)
    milestones: list[MilestoneIn] = Field(min_length=1, max_length=50)
    materials: list[MaterialRef] = Field(
        default_factory=list,
        max_length=50,
        description="Documents for the workflow case (codes of project_application)",
    )

    @model_validator(mode="after")
    def _consistent(self) -> ApplicationCreate:
        if len(set(self.service_targets)) != len(self.service_targets):
            raise ValueError("service targets must be distinct")
        if sum(line.amount_fen for line in self.budget_lines) > MAX_FEN:
            raise ValueError("the budget is too large")
        if problem := central_task_errors(self.central_task, self.central_task_other):
            raise ValueError(problem)
        return self

    @property
    def requested_fen(self) -> int:
        return sum(line.amount_fen for line in self.budget_lines)
