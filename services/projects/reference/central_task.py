"""The "1" of "6+1" as a request states it: a listed central task, or `other` named.

The source's list is open ("垃圾分类、矛盾调解、平安建设等1类中心工作"): a call or an
application may serve another task of local government (文明创建, 疫情防控…) by choosing
`other` and naming it in `central_task_other`. The name goes with `other` and only with
it, so that a listed task is never also described differently.
"""

from __future__ import annotations

from typing import Annotated

from pydantic import Field, StringConstraints

from services.projects.reference.code_lists import CENTRAL_TASK_OTHER_MAX, CentralTask

CentralTaskOther = Annotated[
    str,
    StringConstraints(
        strip_whitespace=True,
        min_length=1,
        max_length=CENTRAL_TASK_OTHER_MAX,
        # One line of text: no control characters (newlines, NUL…).
        pattern=r"^[^\x00-\x1f\x7f]+$",
    ),
    Field(
        description="The central task's name when `central_task` is `other` (其他中心工作), "
        "and only then",
        examples=["文明创建"],
    ),
]


def central_task_errors(task: CentralTask | None, other: str | None) -> str | None:
    """Why `central_task` and `central_task_other` do not go together, or None."""
    if task is CentralTask.other and other is None:
        return "an `other` central task needs its name in central_task_other"
    if task is not CentralTask.other and other is not None:
        return "central_task_other names an `other` central task only"
    return None
