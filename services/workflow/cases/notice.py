"""The one-time notice (一次性告知): every department's supplement requests, in one notice.

Seed (海宁): 创新"网上申办、部门联办"等服务举措……构建了社会组织"线上+线下"全闭环
"最多跑一次"融合服务机制。 Departments review in parallel (部门联办), so each may find
something missing. A department's request is held on its task; the case goes back to
the applicant only when every department still reviewing has asked for something (or
decided), with all the requests merged: the applicant comes back once, not once per
department. No I/O here: the rules only.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from services.workflow.cases.models import ReviewTask, TaskState
from services.workflow.cases.schemas import NoticeItem

_STILL_REVIEWING = (TaskState.open, TaskState.claimed)


def every_reviewer_has_spoken(tasks: Iterable[ReviewTask]) -> bool:
    """Some department asked for materials and none still reviewing has yet to speak."""
    reviewing = [t for t in tasks if t.state in _STILL_REVIEWING]
    return bool(reviewing) and all(t.supplement_items for t in reviewing)


def merge(requests: Iterable[list[dict[str, Any]]]) -> list[NoticeItem]:
    """One item per material and problem, naming every department that raised it."""
    merged: dict[tuple[str, str], NoticeItem] = {}
    for items in requests:
        for raw in items:
            item = NoticeItem.model_validate(raw)
            key = (item.code, item.problem)
            if key not in merged:
                merged[key] = item
                continue
            known = merged[key]
            departments = [
                *known.departments,
                *(d for d in item.departments if d not in known.departments),
            ]
            message = (
                known.message
                if item.message in known.message
                else f"{known.message}；{item.message}"
            )
            merged[key] = known.model_copy(
                update={"departments": departments, "message": message[:500]}
            )
    return list(merged.values())
