"""Case commands: submit, pre-check, request supplement, resubmit, withdraw, conclude.

Functions flush, never commit; the caller's transaction (a request, or a job) commits
the state change, its trail, its events and the command record together.
"""

from __future__ import annotations

import logging
import uuid
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from services.workflow.calendar.service import load_calendar
from services.workflow.calendar.working_days import statutory_deadline
from services.workflow.cases import notice, repository
from services.workflow.cases.machine import (
    AWAITING_PRECHECK,
    MAX_SUPPLEMENT_ROUNDS,
    TERMINAL,
    join_outcome,
)
from services.workflow.cases.models import (
    ApprovalCase,
    CaseCommand,
    CaseState,
    ReviewTask,
    TaskState,
)
from services.workflow.cases.schemas import (
    CaseSubmit,
    CommandResult,
    NoticeItem,
    PendingMaterial,
    SupplementItem,
)
from services.workflow.cases.transitions import (
    SYSTEM,
    emit,
    emit_data,
    event_data,
    lock_case,
    lock_command,
    move,
    remember,
    replayed,
)
from services.workflow.definitions import repository as definitions
from services.workflow.definitions.models import CaseDefinition
from services.workflow.definitions.schemas import DefinitionContent
from services.workflow.notifications.service import notify_applicant
from shared.auth import Principal, Role
from shared.db import utcnow
from shared.errors import Conflict, Forbidden, Unprocessable
from shared.interservice import CASE_OUTCOME_CALLBACK_PATH, CaseWithdrawalRequest, MaterialRef

logger = logging.getLogger("sanshe.workflow.commands")


def _result(
    command_id: uuid.UUID, case: ApprovalCase, task_id: uuid.UUID | None = None
) -> dict[str, Any]:
    return CommandResult(
        command_id=command_id, case_id=case.id, state=case.state, task_id=task_id
    ).model_dump(mode="json")


def replay_result(stored: dict[str, Any]) -> CommandResult:
    return CommandResult.model_validate({**stored, "replayed": True})


async def latest_definition(session: AsyncSession, case_type: str) -> CaseDefinition:
    definition = await definitions.latest_version(session, case_type)
    if definition is None:
        raise Unprocessable(f"Unknown case type {case_type!r}", code="unknown_case_type")
    return definition


def content_of(definition: CaseDefinition) -> DefinitionContent:
    return DefinitionContent.model_validate(definition.content)


# Stored definition versions are immutable (the loader refuses a changed one), so a
# version's content, once read and validated, is kept for the process: a pre-check then
# costs no query and no validation for it. A handful of versions exist; keyed by row id.
_contents: dict[uuid.UUID, DefinitionContent] = {}


async def definition_of(session: AsyncSession, case: ApprovalCase) -> DefinitionContent:
    content = _contents.get(case.definition_id)
    if content is None:
        definition = await session.get(CaseDefinition, case.definition_id)
        assert definition is not None  # a foreign key guarantees it
        content = _contents[case.definition_id] = content_of(definition)
    return content


def _authorize_submit(actor: Principal, data: CaseSubmit) -> str | None:
    """The applicant organization the case belongs to (checked against the token)."""
    if actor.role is Role.organization:
        # Which service and department a case belongs to is for the services to say.
        if data.subject_service is not None or data.subject_department is not None:
            raise Forbidden("Organizations file cases for themselves only", code="scope_forbidden")
        if data.applicant_org_id not in (None, actor.org_id):
            raise Forbidden("An organization files cases for itself only", code="scope_forbidden")
        if data.case_id is not None:
            raise Forbidden("Only a service names the id of its case", code="scope_forbidden")
        return actor.org_id
    if actor.role is Role.service:
        if not (data.subject_service and data.subject_type and data.subject_id):
            raise Unprocessable("A service names the subject of its case", code="subject_required")
        return data.applicant_org_id
    raise Forbidden(f"Role {actor.role} may not submit cases", code="role_forbidden")


async def submit(
    session: AsyncSession,
    *,
    actor: Principal,
    data: CaseSubmit,
    callback_path: str | None = None,
) -> CommandResult:
    """Open a case. `callback_path` is where a requesting service wants its outcome."""
    if stored := await replayed(
        session, actor=actor, command_id=data.command_id, kind="submit", case_id=None
    ):
        return replay_result(stored)
    applicant_org_id = _authorize_submit(actor, data)
    definition = await latest_definition(session, data.case_type)
    content = content_of(definition)
    if content.reviewed_by_subject_department and data.subject_department is None:
        raise Unprocessable(
            f"A {data.case_type} case is reviewed by the department its subject belongs to: "
            "the requesting service names it",
            code="subject_department_required",
        )
    pending = _pending_commitments(content, data.pending_materials)
    if data.case_id is not None and await session.get(ApprovalCase, data.case_id) is not None:
        raise Conflict("A case with this id exists", code="case_id_taken")
    calendar = await load_calendar(session)
    now = utcnow()
    case = ApprovalCase(
        id=data.case_id or uuid.uuid4(),
        case_type=data.case_type,
        definition_id=definition.id,
        definition_version=definition.version,
        state=None,
        subject_service=data.subject_service,
        subject_type=data.subject_type,
        subject_id=data.subject_id,
        subject_department=data.subject_department,
        callback_path=(callback_path or CASE_OUTCOME_CALLBACK_PATH)
        if data.subject_service
        else None,
        applicant_org_id=applicant_org_id,
        applicant_name=data.applicant_name,
        title=data.title,
        materials=[m.model_dump(mode="json") for m in data.materials],
        supplement_count=0,
        pending_materials=pending,
        submitted_at=now,
        statutory_due_at=statutory_deadline(now, content.statutory_limit_days),
        due_at=calendar.deadline(now, content.time_limit_working_days),
        reminder_at=calendar.deadline(now, content.reminder_at_working_days),
        callback_attempts=0,
        version=0,
    )
    session.add(case)
    move(session, case, CaseState.submitted, actor=actor, command_id=data.command_id)
    await session.flush()
    await emit(session, case, "case.submitted")
    result = _result(data.command_id, case)
    remember(
        session,
        command_id=data.command_id,
        case_id=case.id,
        kind="submit",
        actor=actor,
        result=result,
    )
    return CommandResult.model_validate(result)


def _pending_commitments(
    content: DefinitionContent, codes: list[str]
) -> list[dict[str, Any]] | None:
    """容缺受理: the minor materials the applicant commits to supply after acceptance.

    Only materials the definition marks deferrable qualify; any other is refused, since
    accepting without it would mean a second trip for something that matters.
    """
    if not codes:
        return None
    by_code = {m.code: m for m in content.materials}
    refused = sorted({c for c in codes if c not in content.deferrable_codes()})
    if refused:
        raise Unprocessable(
            f"Not a minor (deferrable) material of this case type: {', '.join(refused)[:200]}",
            code="material_not_deferrable",
        )
    return [
        PendingMaterial(code=code, name=by_code[code].name).model_dump(mode="json")
        for code in dict.fromkeys(codes)
    ]


def outstanding_pending(case: ApprovalCase) -> list[dict[str, Any]]:
    """Committed minor materials not supplied yet."""
    return [m for m in case.pending_materials or [] if not m.get("provided_at")]


def check_materials(
    content: DefinitionContent,
    materials: list[dict[str, Any]],
    pending: frozenset[str] = frozenset(),
) -> list[SupplementItem]:
    """Everything missing or invalid, in one list (一次性告知).

    Minor materials committed to for later (`pending`, 容缺) are not missing.
    """
    known = {m.code: m for m in content.materials}
    given = {str(m.get("code")): m for m in materials}
    problems = [
        SupplementItem(code=code, problem="missing", message=f"缺少材料：{material.name}")
        for code, material in known.items()
        if not material.optional and code not in given and code not in pending
    ]
    for code, material in given.items():
        if code not in known:
            problems.append(
                SupplementItem(code=code, problem="unknown", message="该事项不需要此材料")
            )
        elif not material.get("document_url"):
            problems.append(
                SupplementItem(
                    code=code, problem="invalid", message=f"材料未上传：{known[code].name}"
                )
            )
    return problems


async def precheck(session: AsyncSession, *, case_id: uuid.UUID) -> CaseState:
    """Check completeness; accept into joint review, or send back once, or reject.

    Idempotent by state: a case no longer awaiting pre-check is left alone, so a
    redelivered trigger changes nothing.
    """
    case = await lock_case(session, case_id)
    if case.state not in AWAITING_PRECHECK:
        return case.state
    content = await definition_of(session, case)
    pending = frozenset(m["code"] for m in outstanding_pending(case))
    problems = check_materials(content, case.materials, pending)
    if problems:
        if case.supplement_count >= MAX_SUPPLEMENT_ROUNDS:
            await conclude(
                session,
                case,
                CaseState.rejected,
                actor=SYSTEM,
                reason="Materials still incomplete after the one supplement round",
            )
        else:
            items = [NoticeItem(**p.model_dump()) for p in problems]
            await _send_back(session, case, items, actor=SYSTEM, note=None, command_id=None)
        return case.state
    now = utcnow()
    # Tasks are created only here, at acceptance: a case accepted for the first time has
    # none to look up (a resubmitted one keeps those of its earlier review).
    first_acceptance = case.accepted_at is None
    move(session, case, CaseState.accepted, actor=SYSTEM)
    case.accepted_at = case.accepted_at or now
    await _start_pending_clock(session, case, content)
    notify_applicant(session, case)
    # Both events are recorded after one flush of the case, its trail, the message and
    # the tasks (an event recorded in between would flush the case twice); the first
    # keeps the payload of the state it announces.
    accepted = event_data(case)
    move(session, case, CaseState.in_joint_review, actor=SYSTEM)
    existing = set() if first_acceptance else await repository.task_departments(session, case.id)
    departments = content.review_departments(case.subject_department)
    # All departments at once (部门联办): tasks are parallel, not a chain.
    session.add_all(
        ReviewTask(id=uuid.uuid4(), case_id=case.id, department=department, state=TaskState.open)
        for department in departments
        if department not in existing
    )
    await session.flush()
    await emit_data(session, case, "case.accepted", accepted)
    await emit(session, case, "case.review_started", departments=departments)
    return case.state


async def _start_pending_clock(
    session: AsyncSession, case: ApprovalCase, content: DefinitionContent
) -> None:
    """At acceptance, the committed minor materials get their due date (working days).

    One given with the application (or its supplement) anyway counts as supplied.
    """
    if not case.pending_materials or case.pending_due_at is not None:
        return
    given = {str(m.get("code")) for m in case.materials}
    now = utcnow()
    case.pending_materials = [
        {
            **m,
            "provided_at": m.get("provided_at")
            or (now.isoformat() if m["code"] in given else None),
        }
        for m in case.pending_materials
    ]
    if outstanding_pending(case) and content.pending_limit_working_days:
        calendar = await load_calendar(session)
        case.pending_due_at = calendar.deadline(now, content.pending_limit_working_days)


async def _send_back(
    session: AsyncSession,
    case: ApprovalCase,
    items: list[NoticeItem],
    *,
    actor: Principal,
    note: str | None,
    command_id: uuid.UUID | None,
) -> None:
    if case.supplement_count >= MAX_SUPPLEMENT_ROUNDS:
        raise Conflict(
            "This case was already sent back once; it must now be decided",
            code="supplement_already_used",
        )
    move(
        session,
        case,
        CaseState.supplement_requested,
        actor=actor,
        reason=note,
        command_id=command_id,
    )
    case.supplement_count += 1
    case.supplement_notice = [item.model_dump(mode="json") for item in items]
    case.paused_at = utcnow()
    # The departments' held requests are in this notice now.
    await repository.clear_held_requests(session, case.id)
    notify_applicant(session, case)
    await emit(session, case, "case.supplement_requested", items=[item.code for item in items])


async def request_supplement(
    session: AsyncSession,
    *,
    actor: Principal,
    case_id: uuid.UUID,
    command_id: uuid.UUID,
    items: list[SupplementItem],
    note: str | None,
) -> CommandResult:
    if stored := await replayed(
        session, actor=actor, command_id=command_id, kind="request_supplement", case_id=case_id
    ):
        return replay_result(stored)
    case = await lock_case(session, case_id)
    await _authorize_send_back(session, actor, case)
    if actor.role is Role.department_reviewer:
        await _hold_department_request(session, case, items, actor=actor, command_id=command_id)
    else:
        notice_items = [NoticeItem(**item.model_dump()) for item in items]
        await _send_back(session, case, notice_items, actor=actor, note=note, command_id=command_id)
    await session.flush()
    result = _result(command_id, case)
    remember(
        session,
        command_id=command_id,
        case_id=case.id,
        kind="request_supplement",
        actor=actor,
        result=result,
    )
    return CommandResult.model_validate(result)


async def _hold_department_request(
    session: AsyncSession,
    case: ApprovalCase,
    items: list[SupplementItem],
    *,
    actor: Principal,
    command_id: uuid.UUID,
) -> None:
    """Keep the department's request on its task; send back once every department spoke.

    The round is checked now, not when the last department speaks: a department asking
    for more after the one supplement round learns at once that the case must be decided.
    """
    if case.supplement_count >= MAX_SUPPLEMENT_ROUNDS:
        raise Conflict(
            "This case was already sent back once; it must now be decided",
            code="supplement_already_used",
        )
    task = await repository.open_task_of(session, case.id, department=actor.department)
    assert task is not None  # _authorize_send_back checked it
    task.supplement_items = [
        NoticeItem(**item.model_dump(), departments=[task.department]).model_dump(mode="json")
        for item in items
    ]
    await send_back_when_every_department_spoke(session, case, actor=actor, command_id=command_id)


async def send_back_when_every_department_spoke(
    session: AsyncSession, case: ApprovalCase, *, actor: Principal, command_id: uuid.UUID | None
) -> bool:
    """Send the merged one-time notice if no reviewing department has yet to speak."""
    await session.flush()
    tasks = await repository.tasks_of(session, case.id)
    if case.state is not CaseState.in_joint_review or not notice.every_reviewer_has_spoken(tasks):
        return False
    items = notice.merge(t.supplement_items for t in tasks if t.supplement_items)
    await _send_back(session, case, items, actor=actor, note=None, command_id=command_id)
    return True


async def _authorize_send_back(session: AsyncSession, actor: Principal, case: ApprovalCase) -> None:
    if actor.role is Role.civil_affairs and case.state in AWAITING_PRECHECK:
        return
    if (
        actor.role is Role.department_reviewer
        and case.state is CaseState.in_joint_review
        and await repository.has_open_task(session, case.id, department=actor.department)
    ):
        return
    raise Forbidden(
        "Only the acceptance window (before review) or a reviewing department with an open "
        "task may request a supplement",
        code="supplement_forbidden",
    )


def _authorize_applicant(actor: Principal, case: ApprovalCase) -> None:
    if actor.role is Role.organization and case.applicant_org_id == actor.org_id:
        return
    # A registration is filed at the civil-affairs window for promoters whose organization
    # does not exist yet: the window answers the notice and withdraws for them.
    if (
        actor.role is Role.civil_affairs
        and case.applicant_org_id is None
        and case.subject_service is not None
    ):
        return
    if actor.role is Role.service and case.subject_service is not None:
        return
    raise Forbidden("Only the applicant may do this", code="not_the_applicant")


async def resubmit(
    session: AsyncSession,
    *,
    actor: Principal,
    case_id: uuid.UUID,
    command_id: uuid.UUID,
    materials: list[MaterialRef],
) -> CommandResult:
    if stored := await replayed(
        session, actor=actor, command_id=command_id, kind="resubmit", case_id=case_id
    ):
        return replay_result(stored)
    case = await lock_case(session, case_id)
    _authorize_applicant(actor, case)
    if case.state is not CaseState.supplement_requested:
        raise Conflict("The case is not waiting for a supplement", code="not_awaiting_supplement")
    merged = {str(m["code"]): m for m in case.materials}
    merged.update({m.code: m.model_dump(mode="json") for m in materials})
    case.materials = list(merged.values())
    now = utcnow()
    if case.paused_at is not None:
        calendar = await load_calendar(session)
        paused = calendar.working_days_between(case.paused_at, now)
        case.due_at = calendar.extend(case.due_at, paused)
        case.reminder_at = calendar.extend(case.reminder_at, paused)
        case.paused_at = None
    move(session, case, CaseState.resubmitted, actor=actor, command_id=command_id)
    await emit(session, case, "case.resubmitted")
    await session.flush()
    result = _result(command_id, case)
    remember(
        session, command_id=command_id, case_id=case.id, kind="resubmit", actor=actor, result=result
    )
    return CommandResult.model_validate(result)


async def supply_pending(
    session: AsyncSession,
    *,
    actor: Principal,
    case_id: uuid.UUID,
    command_id: uuid.UUID,
    materials: list[MaterialRef],
) -> CommandResult:
    """The applicant supplies minor materials accepted as pending (容缺受理).

    Not a return trip: the case keeps its state and its supplement round. Once nothing
    is pending, a case whose departments all approved meanwhile is approved.
    """
    if stored := await replayed(
        session, actor=actor, command_id=command_id, kind="supply_pending", case_id=case_id
    ):
        return replay_result(stored)
    case = await lock_case(session, case_id)
    _authorize_applicant(actor, case)
    if case.state in TERMINAL:
        raise Conflict("The case is already decided", code="case_closed")
    outstanding = {m["code"] for m in outstanding_pending(case)}
    unexpected = sorted({m.code for m in materials} - outstanding)
    if unexpected:
        raise Unprocessable(
            f"Not a pending material of this case: {', '.join(unexpected)[:200]}",
            code="material_not_pending",
        )
    now = utcnow()
    supplied = {m.code: m.model_dump(mode="json") for m in materials}
    merged = {str(m["code"]): m for m in case.materials}
    merged.update(supplied)
    case.materials = list(merged.values())
    case.pending_materials = [
        {**m, "provided_at": now.isoformat()} if m["code"] in supplied else m
        for m in case.pending_materials or []
    ]
    case.version += 1
    if not outstanding_pending(case):
        case.pending_due_at = None
        await _conclude_if_approved(session, case, actor=actor, command_id=command_id)
    await session.flush()
    result = _result(command_id, case)
    remember(
        session,
        command_id=command_id,
        case_id=case.id,
        kind="supply_pending",
        actor=actor,
        result=result,
    )
    return CommandResult.model_validate(result)


async def _conclude_if_approved(
    session: AsyncSession, case: ApprovalCase, *, actor: Principal, command_id: uuid.UUID
) -> None:
    """A decision held for pending materials is taken once they are all supplied."""
    if case.state is not CaseState.in_joint_review:
        return
    states = [t.state for t in await repository.tasks_of(session, case.id)]
    content = await definition_of(session, case)
    if join_outcome(content.join_rule, states) is CaseState.approved:
        await conclude(
            session, case, CaseState.approved, actor=actor, reason=None, command_id=command_id
        )


async def withdraw(
    session: AsyncSession,
    *,
    actor: Principal,
    case_id: uuid.UUID,
    command_id: uuid.UUID,
    reason: str | None,
) -> CommandResult:
    if stored := await replayed(
        session, actor=actor, command_id=command_id, kind="withdraw", case_id=case_id
    ):
        return replay_result(stored)
    case = await lock_case(session, case_id)
    _authorize_applicant(actor, case)
    if case.state in TERMINAL:
        raise Conflict("The case is already decided", code="case_closed")
    await conclude(
        session, case, CaseState.withdrawn, actor=actor, reason=reason, command_id=command_id
    )
    await session.flush()
    result = _result(command_id, case)
    remember(
        session, command_id=command_id, case_id=case.id, kind="withdraw", actor=actor, result=result
    )
    return CommandResult.model_validate(result)


class CaseNotOpenedYet(Exception):
    """A withdrawal request overtook the request opening its case: try again later."""


async def withdraw_on_request(
    session: AsyncSession, *, source: str, request: CaseWithdrawalRequest
) -> CaseState | None:
    """Withdraw the case a subject service asks to withdraw (its outbox's request).

    Only the service the case reports to may withdraw it, and only while it is open: a
    case decided meanwhile keeps its outcome, which goes back to the service as usual.
    Returns the case's state, or None when the request was not the service's to make.
    """
    opened = await session.get(CaseCommand, request.case_command_id)
    if opened is None:
        raise CaseNotOpenedYet(str(request.case_command_id))
    # The command's lock before the case's, in the order every command takes them.
    await lock_command(session, request.command_id)
    case = await lock_case(session, opened.case_id)
    subject = (case.subject_service, case.subject_type, case.subject_id)
    if (
        opened.kind != "submit"
        or source != request.subject_service
        or subject != (request.subject_service, request.subject_type, request.subject_id)
    ):
        logger.warning(
            "withdrawal request for another service's case ignored",
            extra={"case_id": str(case.id), "source": source},
        )
        return None
    if case.state in TERMINAL:
        return case.state
    actor = Principal(sub=f"service:{source}", role=Role.service)
    result = await withdraw(
        session,
        actor=actor,
        case_id=case.id,
        command_id=request.command_id,
        reason=request.reason,
    )
    return result.state


async def conclude(
    session: AsyncSession,
    case: ApprovalCase,
    outcome: CaseState,
    *,
    actor: Principal,
    reason: str | None,
    command_id: uuid.UUID | None = None,
) -> None:
    """End the case: final state, open tasks cancelled, outcome scheduled for callback."""
    move(session, case, outcome, actor=actor, reason=reason, command_id=command_id)
    now = utcnow()
    case.decided_at = now
    case.outcome_reason = reason
    case.paused_at = None
    case.pending_due_at = None
    if case.subject_service:
        case.next_callback_at = now
    await repository.cancel_open_tasks(session, case.id)
    notify_applicant(session, case)
    await emit(session, case, "case.decided", outcome=outcome.value)
