"""Publishing OCDS releases: one per change, in the change's transaction, never rewritten.

Every project event goes through `core.lifecycle.emit`, which calls `publish_for_event`
in the same transaction: the change and its release commit together or not at all. The
event decides the release's tag —

- the milestones of the contracting process have their own tag (`planning` when the
  application is made, `tender`, `tenderCancellation` (废标), `award`,
  `awardCancellation` (the winning bid disqualified), `contract`, `contractAmendment`,
  `implementation` at 立项, `contractTermination` at closure);
- any other event publishes an update of the stage's section (`planningUpdate`,
  `tenderUpdate`, `contractUpdate`, `implementationUpdate`: a payment, a milestone met,
  the SPPE result), but only if it changed something OCDS shows;
- a stage change that another event of the same change speaks for publishes nothing
  (the contract is signed in the same transaction that moves the project to
  `contracted`: one `contract` release, not two).

A release is a full snapshot (`builder.snapshot`) with its own id (`<ocid>-<number>`)
and its own date, strictly after the previous release's, so that the releases of a
process sort in the order they were published (OCDS merging sorts them by date). The
row is append-only: a database trigger refuses UPDATE and DELETE.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.ext.asyncio import AsyncSession

from services.projects.core.models import Project, ProjectStage
from services.projects.ocds.builder import snapshot
from services.projects.ocds.models import OcdsParty, OcdsRelease
from shared.clock import SHANGHAI
from shared.interservice import OrganizationSummary

OCID_PREFIX = "ocds-sanshe"
STAGE_CHANGED = "project.stage_changed"
BID_DISQUALIFIED = "procurement.bid_disqualified"  # revoking the award if the bid had won

# The stage a project enters -> the tag of the release that entering it publishes. The
# other stage changes come with an event of their own (award, signing, closure) or
# change nothing OCDS shows (approval, evaluation started, closure requested).
STAGE_TAGS: dict[ProjectStage, str] = {
    ProjectStage.applied: "planning",
    ProjectStage.procuring: "tender",
    ProjectStage.implementing: "implementation",
}
EVENT_TAGS: dict[str, str] = {
    "procurement.cancelled": "tenderCancellation",
    "procurement.awarded": "award",
    "contract.signed": "contract",
    "contract.amended": "contractAmendment",
    "project.closed": "contractTermination",
}
# Any other event: an update of the section the project's stage is about.
UPDATE_TAGS: dict[ProjectStage, str] = {
    ProjectStage.applied: "planningUpdate",
    ProjectStage.approved: "planningUpdate",
    ProjectStage.rejected: "planningUpdate",
    ProjectStage.withdrawn: "planningUpdate",
    ProjectStage.procuring: "tenderUpdate",
    ProjectStage.contracted: "contractUpdate",
    ProjectStage.implementing: "implementationUpdate",
    ProjectStage.evaluating: "implementationUpdate",
    ProjectStage.evaluated: "implementationUpdate",
    ProjectStage.closing: "implementationUpdate",
    ProjectStage.closed: "contractUpdate",
}
# Fields every release has of its own: left out when asking whether anything changed.
_OWN = ("ocid", "id", "date", "tag")


def ocid_of(project_id: object) -> str:
    return f"{OCID_PREFIX}-{project_id}"


def tag_for(project: Project, event_type: str, data: dict[str, Any]) -> tuple[str | None, bool]:
    """The tag of the release an event publishes (None: none) and whether it is an update,
    published only when something changed."""
    if event_type == STAGE_CHANGED:
        return STAGE_TAGS.get(project.stage), False
    if event_type in EVENT_TAGS:
        return EVENT_TAGS[event_type], False
    if event_type == BID_DISQUALIFIED and data.get("award_revoked"):
        return "awardCancellation", False
    return UPDATE_TAGS[project.stage], True


async def publish_for_event(
    session: AsyncSession, project: Project, event_type: str, data: dict[str, Any]
) -> OcdsRelease | None:
    """Publish the release that the event implies, if any (see the module's rules)."""
    tag, update = tag_for(project, event_type, data)
    if tag is None:
        return None
    return await publish(session, project, tag, only_if_changed=update)


async def publish(
    session: AsyncSession, project: Project, tag: str, *, only_if_changed: bool = False
) -> OcdsRelease | None:
    """Append a release of the project's current state; None if `only_if_changed` and
    nothing OCDS shows has changed since the last one."""
    # The project's row lock (commands already hold it) numbers and dates its releases
    # one after the other, each snapshot seeing the one before committed.
    await session.execute(select(Project.id).where(Project.id == project.id).with_for_update())
    last = (
        await session.execute(
            select(OcdsRelease)
            .where(OcdsRelease.project_id == project.id)
            .order_by(OcdsRelease.number.desc())
            .limit(1)
        )
    ).scalar_one_or_none()
    content = await snapshot(session, project)
    if last is not None:
        _keep_revoked_awards(last.body, content)
    if only_if_changed and last is not None and _content(last.body) == content:
        return None
    number = 1 if last is None else last.number + 1
    now = datetime.now(UTC)
    if last is not None and now <= last.date:
        now = last.date + timedelta(microseconds=1)
    ocid = ocid_of(project.id)
    release_id = f"{ocid}-{number:04d}"
    body = {
        "ocid": ocid,
        "id": release_id,
        # Fixed width (always microseconds, always +08:00): lexical order is time order.
        "date": now.astimezone(SHANGHAI).isoformat(timespec="microseconds"),
        "tag": [tag],
        **content,
    }
    release = OcdsRelease(
        project_id=project.id,
        number=number,
        release_id=release_id,
        date=now,
        tags=[tag],
        body=body,
    )
    session.add(release)
    await session.flush()
    return release


def _keep_revoked_awards(previous: dict[str, Any], content: dict[str, Any]) -> None:
    """An award published before and no longer standing (its bid disqualified, or its
    procurement cancelled) stays in the release as `cancelled`: merging never removes an
    award, it can only be told that the award fell."""
    standing = {award["id"] for award in content.get("awards", [])}
    revoked = [
        {**award, "status": "cancelled"}
        for award in previous.get("awards", [])
        if award["id"] not in standing
    ]
    if revoked:
        content["awards"] = revoked + content.get("awards", [])


def _content(body: dict[str, Any]) -> dict[str, Any]:
    return {key: item for key, item in body.items() if key not in _OWN}


async def remember_party(session: AsyncSession, organization: OrganizationSummary) -> None:
    """Keep the registry's name and USCC of an organization taking part in a project."""
    values = {
        "org_id": organization.id,
        "legal_name": organization.name[:200],
        "uscc": organization.uscc,
    }
    await session.execute(
        pg_insert(OcdsParty)
        .values(**values)
        .on_conflict_do_update(
            index_elements=[OcdsParty.org_id],
            set_={
                "legal_name": values["legal_name"],
                "uscc": values["uscc"],
                "updated_at": func.now(),
            },
        )
    )
