"""Request and response models of the review-task API (tasks themselves: `TaskOut`)."""

from __future__ import annotations

import uuid
from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field

from services.workflow.cases.schemas import Command


class TaskDecision(Command):
    comment: str | None = Field(default=None, max_length=5000)


class TaskCommentIn(Command):
    body: str = Field(min_length=1, max_length=5000)


class CommentOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    task_id: uuid.UUID
    author: str
    body: str
    created_at: datetime
