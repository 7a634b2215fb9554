"""projects: the three meetings belong to a call's batch; other central tasks; 培育发展奖补

Revision ID: 0162
Revises: 0161
Create Date: 2026-12-05 11:00:00+00:00

- 三会: "由市委社工办……举办项目新闻发布会、督导见面会和评估说明会" — a meeting is held for
  the projects of a call, not per project. `meeting` gets its `call_id` and loses
  `project_id`; `meeting_project` lists the projects each meeting covered (one meeting
  of each kind per project). Every existing meeting becomes a meeting of its project's
  call covering that project: nothing is merged, so every id the timeline and the events
  carry stays valid.
- "6+1": the central tasks end in 等, so `central_task` admits `other`, named in
  `central_task_other` (on calls and projects), with `other` and only with it.
- Haining's second pool is for 社会组织培育发展奖补: the purpose `incubation_reward` is
  now `cultivation_reward`, rows included.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0162"
down_revision: str | None = "0161"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

SCHEMA = "projects"
CENTRAL_TASKS = ("waste_sorting", "dispute_mediation", "safety")
PURPOSES_BEFORE = ("social_work_purchase", "incubation_reward", "community_governance", "other")
PURPOSES_AFTER = ("social_work_purchase", "cultivation_reward", "community_governance", "other")
OTHER_NAMED = "(central_task IS NOT DISTINCT FROM 'other') = (central_task_other IS NOT NULL)"


def _codes(column: str, codes: Sequence[str]) -> str:
    return f"{column} IN ({', '.join(repr(code) for code in codes)})"


def _recheck(table: str, name: str, condition: str) -> None:
    op.drop_constraint(name, table, type_="check", schema=SCHEMA)
    op.create_check_constraint(name, table, condition, schema=SCHEMA)


def upgrade() -> None:
    # 培育发展奖补: the code says what the source says.
    op.drop_constraint("purpose", "fund_pool", type_="check", schema=SCHEMA)
    op.execute(
        "UPDATE projects.fund_pool SET purpose = 'cultivation_reward' "
        "WHERE purpose = 'incubation_reward'"
    )
    op.create_check_constraint(
        "purpose", "fund_pool", _codes("purpose", PURPOSES_AFTER), schema=SCHEMA
    )

    # "6+1": other central tasks, named.
    for table in ("call", "project"):
        _recheck(table, "central_task", _codes("central_task", (*CENTRAL_TASKS, "other")))
        op.add_column(
            table,
            sa.Column("central_task_other", sa.String(length=100), nullable=True),
            schema=SCHEMA,
        )
        op.create_check_constraint(
            op.f(f"ck_{table}_central_task_other_named"), table, OTHER_NAMED, schema=SCHEMA
        )

    # 三会: a meeting belongs to its call and covers a batch of projects.
    op.add_column("meeting", sa.Column("call_id", sa.Uuid(), nullable=True), schema=SCHEMA)
    op.execute(
        "UPDATE projects.meeting m SET call_id = p.call_id FROM projects.project p "
        "WHERE p.id = m.project_id"
    )
    op.alter_column("meeting", "call_id", nullable=False, schema=SCHEMA)
    op.create_foreign_key(
        op.f("fk_meeting_call_id_call"),
        "meeting",
        "call",
        ["call_id"],
        ["id"],
        source_schema=SCHEMA,
        referent_schema=SCHEMA,
    )
    op.create_index(
        op.f("ix_projects_meeting_call_id"), "meeting", ["call_id"], unique=False, schema=SCHEMA
    )
    op.create_unique_constraint(
        op.f("uq_meeting_id_kind"), "meeting", ["id", "kind"], schema=SCHEMA
    )
    op.create_table(
        "meeting_project",
        sa.Column("meeting_id", sa.Uuid(), nullable=False),
        sa.Column("project_id", sa.Uuid(), nullable=False),
        sa.Column(
            "kind",
            sa.Enum(
                "press_conference",
                "supervision_meeting",
                "evaluation_briefing",
                name="meeting_kind",
                native_enum=False,
                create_constraint=True,
                length=32,
            ),
            nullable=False,
        ),
        sa.ForeignKeyConstraint(
            ["meeting_id", "kind"],
            ["projects.meeting.id", "projects.meeting.kind"],
            name=op.f("fk_meeting_project_meeting_id_meeting"),
        ),
        sa.ForeignKeyConstraint(
            ["project_id"],
            ["projects.project.id"],
            name=op.f("fk_meeting_project_project_id_project"),
        ),
        sa.PrimaryKeyConstraint("meeting_id", "project_id", name=op.f("pk_meeting_project")),
        sa.UniqueConstraint("project_id", "kind", name=op.f("uq_meeting_project_project_id_kind")),
        schema=SCHEMA,
    )
    op.create_index(
        op.f("ix_projects_meeting_project_project_id"),
        "meeting_project",
        ["project_id"],
        unique=False,
        schema=SCHEMA,
    )
    op.execute(
        "INSERT INTO projects.meeting_project (meeting_id, project_id, kind) "
        "SELECT id, project_id, kind FROM projects.meeting"
    )
    op.drop_constraint("uq_meeting_project_id_kind", "meeting", type_="unique", schema=SCHEMA)
    op.drop_constraint(
        "fk_meeting_project_id_project", "meeting", type_="foreignkey", schema=SCHEMA
    )
    op.drop_index("ix_projects_meeting_project_id", table_name="meeting", schema=SCHEMA)
    op.drop_column("meeting", "project_id", schema=SCHEMA)


def downgrade() -> None:
    # A batch meeting becomes one record per project it covered, as before.
    op.add_column("meeting", sa.Column("project_id", sa.Uuid(), nullable=True), schema=SCHEMA)
    op.execute(
        """
        INSERT INTO projects.meeting (id, project_id, call_id, kind, held_at, location,
            attendees, minutes, documents, recorded_by, recorded_at)
        SELECT gen_random_uuid(), mp.project_id, m.call_id, m.kind, m.held_at, m.location,
            m.attendees, m.minutes, m.documents, m.recorded_by, m.recorded_at
        FROM projects.meeting_project mp JOIN projects.meeting m ON m.id = mp.meeting_id
        WHERE mp.project_id <> (
            SELECT min(first.project_id::text)::uuid FROM projects.meeting_project first
            WHERE first.meeting_id = m.id
        )
        """
    )
    op.execute(
        """
        UPDATE projects.meeting m SET project_id = (
            SELECT min(mp.project_id::text)::uuid FROM projects.meeting_project mp
            WHERE mp.meeting_id = m.id
        ) WHERE m.project_id IS NULL
        """
    )
    op.drop_table("meeting_project", schema=SCHEMA)
    op.execute("DELETE FROM projects.meeting WHERE project_id IS NULL")
    op.alter_column("meeting", "project_id", nullable=False, schema=SCHEMA)
    op.drop_constraint(op.f("uq_meeting_id_kind"), "meeting", type_="unique", schema=SCHEMA)
    op.drop_index(op.f("ix_projects_meeting_call_id"), table_name="meeting", schema=SCHEMA)
    op.drop_constraint(
        op.f("fk_meeting_call_id_call"), "meeting", type_="foreignkey", schema=SCHEMA
    )
    op.drop_column("meeting", "call_id", schema=SCHEMA)
    op.create_index(
        "ix_projects_meeting_project_id", "meeting", ["project_id"], unique=False, schema=SCHEMA
    )
    op.create_foreign_key(
        "fk_meeting_project_id_project",
        "meeting",
        "project",
        ["project_id"],
        ["id"],
        source_schema=SCHEMA,
        referent_schema=SCHEMA,
    )
    op.create_unique_constraint(
        "uq_meeting_project_id_kind", "meeting", ["project_id", "kind"], schema=SCHEMA
    )

    for table in ("call", "project"):
        op.drop_constraint(
            op.f(f"ck_{table}_central_task_other_named"), table, type_="check", schema=SCHEMA
        )
        op.drop_column(table, "central_task_other", schema=SCHEMA)
        # Before, an `other` task could not be said: the row says no central task.
        rows = sa.table(table, sa.column("central_task"), schema=SCHEMA)
        op.execute(rows.update().where(rows.c.central_task == "other").values(central_task=None))
        _recheck(table, "central_task", _codes("central_task", CENTRAL_TASKS))

    op.drop_constraint("purpose", "fund_pool", type_="check", schema=SCHEMA)
    op.execute(
        "UPDATE projects.fund_pool SET purpose = 'incubation_reward' "
        "WHERE purpose = 'cultivation_reward'"
    )
    op.create_check_constraint(
        "purpose", "fund_pool", _codes("purpose", PURPOSES_BEFORE), schema=SCHEMA
    )
