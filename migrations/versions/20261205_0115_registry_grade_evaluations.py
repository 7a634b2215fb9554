"""registry: grade evaluations (等级评估), experts' scores, grade changes; the field follows

Revision ID: 0115
Revises: 0114
Create Date: 2026-12-05 10:30:00+00:00

- `grade_evaluation`: an organization's evaluation from application to the end of its
  grade (one in progress and one in force per organization, partial unique indexes).
- `grade_score`: one expert's scores of the four indicators (1000 points).
- `grade_change`: every change of a grade, append-only (the history's trigger function).

Backfill, so that the organization's grade field and the evaluations agree from now on:
- a *filed* (备案) organization cannot be graded: a grade it carries (entered by hand or
  imported) is cleared, each cleared field recorded in its history (`grade_cleared`);
- each *registered* organization with a grade gets a granted evaluation of it, decided
  and published on its `grade_valid_from` (or the day it was entered), valid until its
  `grade_valid_until` (or five years, the day before): a `granted` grade change. Missing
  validity dates are filled in on the organization the same way. A grade whose validity
  ended already is expired at once (an `expired` change) and cleared from the field, as
  the hourly sweep would do.
"""

# The statements are assembled from this file's own constants (no outside input).
# ruff: noqa: S608

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0115"
down_revision: str | None = "0114"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

SCHEMA = "registry"
GRADES = ("1A", "2A", "3A", "4A", "5A")
STATES = (
    "applied",
    "scored",
    "granted",
    "refused",
    "withdrawn",
    "expired",
    "revoked",
    "superseded",
)
CHANGE_KINDS = ("granted", "downgraded", "revoked", "expired", "superseded")
ACTOR = "migration:0115"
TODAY = "(now() AT TIME ZONE 'Asia/Shanghai')::date"


def _grade(name: str) -> sa.Enum:
    return sa.Enum(
        *GRADES, name=name, native_enum=False, create_constraint=True, length=32, schema=SCHEMA
    )


def upgrade() -> None:
    op.create_table(
        "grade_evaluation",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("organization_id", sa.Uuid(), nullable=False),
        sa.Column("year", sa.Integer(), nullable=False),
        sa.Column("requested_grade", _grade("requested_grade"), nullable=True),
        sa.Column(
            "state",
            sa.Enum(
                *STATES,
                name="grade_evaluation_state",
                native_enum=False,
                create_constraint=True,
                length=32,
                schema=SCHEMA,
            ),
            nullable=False,
        ),
        sa.Column("remarks", sa.Text(), nullable=True),
        sa.Column("applied_by", sa.String(length=200), nullable=False),
        sa.Column(
            "applied_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column("total_score", sa.Integer(), nullable=True),
        sa.Column("decided_by", sa.String(length=200), nullable=True),
        sa.Column("decided_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("decision_reason", sa.Text(), nullable=True),
        sa.Column("granted_grade", _grade("granted_grade"), nullable=True),
        sa.Column("grade", _grade("grade"), nullable=True),
        sa.Column("valid_from", sa.Date(), nullable=True),
        sa.Column("valid_until", sa.Date(), nullable=True),
        sa.Column("published_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("published_by", sa.String(length=200), nullable=True),
        sa.Column("ended_on", sa.Date(), nullable=True),
        sa.CheckConstraint(
            "year BETWEEN 2000 AND 2100", name=op.f("ck_grade_evaluation_year_in_range")
        ),
        sa.CheckConstraint(
            "total_score BETWEEN 0 AND 1000", name=op.f("ck_grade_evaluation_total_in_range")
        ),
        sa.CheckConstraint(
            "valid_until IS NULL OR valid_from IS NULL OR valid_until >= valid_from",
            name=op.f("ck_grade_evaluation_validity_ordered"),
        ),
        sa.CheckConstraint(
            "state <> 'granted' OR (grade IS NOT NULL AND valid_until IS NOT NULL)",
            name=op.f("ck_grade_evaluation_granted_has_grade"),
        ),
        sa.ForeignKeyConstraint(
            ["organization_id"],
            ["registry.organization.id"],
            name=op.f("fk_grade_evaluation_organization_id_organization"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_grade_evaluation")),
        schema=SCHEMA,
    )
    op.create_index(
        op.f("ix_registry_grade_evaluation_organization_id"),
        "grade_evaluation",
        ["organization_id"],
        unique=False,
        schema=SCHEMA,
    )
    op.create_index(
        "uq_grade_evaluation_open",
        "grade_evaluation",
        ["organization_id"],
        unique=True,
        schema=SCHEMA,
        postgresql_where=sa.text("state IN ('applied', 'scored')"),
    )
    op.create_index(
        "uq_grade_evaluation_in_force",
        "grade_evaluation",
        ["organization_id"],
        unique=True,
        schema=SCHEMA,
        postgresql_where=sa.text("state = 'granted'"),
    )
    op.create_index(
        "ix_grade_evaluation_in_force_until",
        "grade_evaluation",
        ["valid_until"],
        unique=False,
        schema=SCHEMA,
        postgresql_where=sa.text("state = 'granted'"),
    )
    op.create_table(
        "grade_score",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("evaluation_id", sa.Uuid(), nullable=False),
        sa.Column("expert_sub", sa.String(length=200), nullable=False),
        sa.Column("basic_conditions", sa.Integer(), nullable=False),
        sa.Column("internal_governance", sa.Integer(), nullable=False),
        sa.Column("work_performance", sa.Integer(), nullable=False),
        sa.Column("social_evaluation", sa.Integer(), nullable=False),
        sa.Column("total", sa.Integer(), nullable=False),
        sa.Column("comments", sa.Text(), nullable=True),
        sa.Column(
            "scored_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.CheckConstraint(
            "basic_conditions BETWEEN 0 AND 100",
            name=op.f("ck_grade_score_basic_conditions_in_range"),
        ),
        sa.CheckConstraint(
            "internal_governance BETWEEN 0 AND 350",
            name=op.f("ck_grade_score_internal_governance_in_range"),
        ),
        sa.CheckConstraint(
            "work_performance BETWEEN 0 AND 400",
            name=op.f("ck_grade_score_work_performance_in_range"),
        ),
        sa.CheckConstraint(
            "social_evaluation BETWEEN 0 AND 150",
            name=op.f("ck_grade_score_social_evaluation_in_range"),
        ),
        sa.CheckConstraint(
            "total = basic_conditions + internal_governance + work_performance + social_evaluation",
            name=op.f("ck_grade_score_total_is_sum"),
        ),
        sa.ForeignKeyConstraint(
            ["evaluation_id"],
            ["registry.grade_evaluation.id"],
            name=op.f("fk_grade_score_evaluation_id_grade_evaluation"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_grade_score")),
        sa.UniqueConstraint(
            "evaluation_id", "expert_sub", name=op.f("uq_grade_score_evaluation_id_expert_sub")
        ),
        schema=SCHEMA,
    )
    op.create_table(
        "grade_change",
        sa.Column("id", sa.BigInteger(), sa.Identity(always=True), nullable=False),
        sa.Column("evaluation_id", sa.Uuid(), nullable=False),
        sa.Column("organization_id", sa.Uuid(), nullable=False),
        sa.Column(
            "kind",
            sa.Enum(
                *CHANGE_KINDS,
                name="grade_change_kind",
                native_enum=False,
                create_constraint=True,
                length=32,
                schema=SCHEMA,
            ),
            nullable=False,
        ),
        sa.Column("grade_before", _grade("grade_before"), nullable=True),
        sa.Column("grade_after", _grade("grade_after"), nullable=True),
        sa.Column("reason", sa.Text(), nullable=True),
        sa.Column("inspection_year", sa.Integer(), nullable=True),
        sa.Column("actor_sub", sa.String(length=200), nullable=False),
        sa.Column(
            "at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False
        ),
        sa.ForeignKeyConstraint(
            ["evaluation_id"],
            ["registry.grade_evaluation.id"],
            name=op.f("fk_grade_change_evaluation_id_grade_evaluation"),
        ),
        sa.ForeignKeyConstraint(
            ["organization_id"],
            ["registry.organization.id"],
            name=op.f("fk_grade_change_organization_id_organization"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_grade_change")),
        schema=SCHEMA,
    )
    op.create_index(
        "ix_grade_change_evaluation_id_id",
        "grade_change",
        ["evaluation_id", "id"],
        unique=False,
        schema=SCHEMA,
    )
    op.create_index(
        op.f("ix_registry_grade_change_organization_id"),
        "grade_change",
        ["organization_id"],
        unique=False,
        schema=SCHEMA,
    )
    # Append-only, as the organization's history (the function is migration 0002's).
    op.execute(
        "CREATE TRIGGER grade_change_append_only BEFORE UPDATE OR DELETE ON "
        "registry.grade_change FOR EACH ROW EXECUTE FUNCTION registry.refuse_history_change()"
    )
    op.execute(
        "CREATE TRIGGER grade_change_no_truncate BEFORE TRUNCATE ON registry.grade_change "
        "FOR EACH STATEMENT EXECUTE FUNCTION registry.refuse_history_change()"
    )
    _backfill()


def _history(where: str, action: str, fields: dict[str, str]) -> str:
    """History rows (one per field whose before differs from after) of the organizations
    `where` selects, before the UPDATE that follows makes the change."""
    values = ", ".join(
        f"('{field}', to_jsonb(o.{field}), {after})" for field, after in fields.items()
    )
    return f"""
        INSERT INTO registry.change_record
            (organization_id, actor_sub, actor_role, action, field, before, after, reason, source)
        SELECT o.id, '{ACTOR}', 'service', '{action}', f.field, f.before, f.after,
               'Grade evaluations (migration 0115)', 'migration'
        FROM registry.organization o
        CROSS JOIN LATERAL (VALUES {values}) AS f(field, before, after)
        WHERE {where}
          AND coalesce(f.before, 'null') IS DISTINCT FROM coalesce(f.after, 'null')
    """


def _backfill() -> None:
    cleared = "'null'::jsonb"
    grade_fields = {
        "evaluation_grade": cleared,
        "grade_valid_from": cleared,
        "grade_valid_until": cleared,
    }
    # 1. Filed organizations are not graded: clear what they carry.
    filed = (
        "o.registration = 'filed' AND (o.evaluation_grade IS NOT NULL "
        "OR o.grade_valid_from IS NOT NULL OR o.grade_valid_until IS NOT NULL)"
    )
    op.execute(_history(filed, "grade_cleared", grade_fields))
    op.execute(
        f"""
        UPDATE registry.organization o
        SET evaluation_grade = NULL, grade_valid_from = NULL, grade_valid_until = NULL,
            version = version + 1, updated_at = now()
        WHERE {filed}
        """
    )
    # 2. Registered organizations with a grade: fill in missing validity dates.
    valid_from = "coalesce(o.grade_valid_from, (o.created_at AT TIME ZONE 'Asia/Shanghai')::date)"
    valid_until = f"coalesce(o.grade_valid_until, ({valid_from} + interval '5 years' - interval '1 day')::date)"
    graded = "o.registration = 'registered' AND o.evaluation_grade IS NOT NULL"
    undated = f"{graded} AND (o.grade_valid_from IS NULL OR o.grade_valid_until IS NULL)"
    op.execute(
        _history(
            undated,
            "updated",
            {
                "grade_valid_from": f"to_jsonb({valid_from})",
                "grade_valid_until": f"to_jsonb({valid_until})",
            },
        )
    )
    op.execute(
        f"""
        UPDATE registry.organization o
        SET grade_valid_from = {valid_from}, grade_valid_until = {valid_until},
            version = version + 1, updated_at = now()
        WHERE {undated}
        """
    )
    # 3. An evaluation of each, granted (or expired already) and published.
    op.execute(
        f"""
        INSERT INTO registry.grade_evaluation
            (id, organization_id, year, state, applied_by, applied_at, decided_by, decided_at,
             decision_reason, granted_grade, grade, valid_from, valid_until, published_at,
             published_by, ended_on)
        SELECT gen_random_uuid(), o.id,
               greatest(2000, least(2100, extract(year FROM o.grade_valid_from)::int)),
               CASE WHEN o.grade_valid_until < {TODAY} THEN 'expired' ELSE 'granted' END,
               '{ACTOR}', now(), '{ACTOR}',
               o.grade_valid_from::timestamp AT TIME ZONE 'Asia/Shanghai',
               'Grade of the register before evaluations were kept',
               o.evaluation_grade,
               CASE WHEN o.grade_valid_until < {TODAY} THEN NULL ELSE o.evaluation_grade END,
               o.grade_valid_from, o.grade_valid_until,
               o.grade_valid_from::timestamp AT TIME ZONE 'Asia/Shanghai', '{ACTOR}',
               CASE WHEN o.grade_valid_until < {TODAY} THEN {TODAY} END
        FROM registry.organization o
        WHERE {graded}
        """
    )
    op.execute(
        f"""
        INSERT INTO registry.grade_change
            (evaluation_id, organization_id, kind, grade_before, grade_after, reason, actor_sub,
             at)
        SELECT e.id, e.organization_id, 'granted', NULL, e.granted_grade,
               'Grade of the register before evaluations were kept', '{ACTOR}', e.decided_at
        FROM registry.grade_evaluation e WHERE e.applied_by = '{ACTOR}'
        """
    )
    op.execute(
        f"""
        INSERT INTO registry.grade_change
            (evaluation_id, organization_id, kind, grade_before, grade_after, reason, actor_sub)
        SELECT e.id, e.organization_id, 'expired', e.granted_grade, NULL,
               'Valid until ' || e.valid_until, '{ACTOR}'
        FROM registry.grade_evaluation e
        WHERE e.applied_by = '{ACTOR}' AND e.state = 'expired'
        """
    )
    # 4. Expired ones leave the organization's field, as the sweep does.
    lapsed = f"{graded} AND o.grade_valid_until < {TODAY}"
    op.execute(_history(lapsed, "grade_expired", grade_fields))
    op.execute(
        f"""
        UPDATE registry.organization o
        SET evaluation_grade = NULL, grade_valid_from = NULL, grade_valid_until = NULL,
            version = version + 1, updated_at = now()
        WHERE {lapsed}
        """
    )


def downgrade() -> None:
    # The backfilled field changes stay (the history records them); the tables go.
    for name in ("grade_change_no_truncate", "grade_change_append_only"):
        op.execute(f"DROP TRIGGER {name} ON registry.grade_change")
    op.drop_table("grade_change", schema=SCHEMA)
    op.drop_table("grade_score", schema=SCHEMA)
    op.drop_table("grade_evaluation", schema=SCHEMA)
