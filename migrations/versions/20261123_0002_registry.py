"""registry: history, applications, lists, spot checks, incubation, name search

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-23 02:32:59.132899+00:00

Besides the tables, it creates `registry.name_grams(text)`, the immutable function
behind the GIN index of the name search (no pg_trgm needed), and the trigger that makes
`change_record` (the history) append-only.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


# The lower-cased name's distinct characters and character bigrams. A substring query
# of two or more characters is contained in a name only if all its bigrams are (a
# one-character query, only if its character is), so `name_grams(name) @> grams(query)`
# is a lossless pre-filter for `name LIKE '%query%'`, served by a GIN index.
NAME_GRAMS = """
CREATE FUNCTION registry.name_grams(name text) RETURNS text[]
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE AS $$
    SELECT coalesce(array_agg(DISTINCT gram), '{}')
    FROM (
        SELECT substr(lower(name), i, 1) AS gram
        FROM generate_series(1, char_length(name)) AS i
        UNION ALL
        SELECT substr(lower(name), i, 2)
        FROM generate_series(1, char_length(name) - 1) AS i
    ) AS grams
$$
"""


def upgrade() -> None:
    op.execute(NAME_GRAMS)
    # USCCs the registry issues itself (organization codes MJ950000-MJ999999).
    op.execute("CREATE SEQUENCE registry.uscc_serial START 950000 MINVALUE 950000 MAXVALUE 999999")
    op.create_table(
        "spot_check",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("year", sa.SmallInteger(), nullable=False),
        sa.Column(
            "level",
            sa.Enum(
                "county",
                "city",
                "province",
                name="spot_check_level",
                native_enum=False,
                create_constraint=True,
                length=32,
                schema="registry",
            ),
            nullable=False,
        ),
        sa.Column("percentage", sa.Numeric(precision=5, scale=2), nullable=False),
        sa.Column("seed", sa.BigInteger(), nullable=False),
        sa.Column("algorithm", sa.String(length=40), nullable=False),
        sa.Column(
            "registration",
            sa.Enum(
                "registered",
                "filed",
                name="spot_check_registration",
                native_enum=False,
                create_constraint=True,
                length=32,
                schema="registry",
            ),
            nullable=True,
        ),
        sa.Column("district_code", sa.String(length=6), nullable=True),
        sa.Column("population_size", sa.Integer(), nullable=False),
        sa.Column("sample_size", sa.Integer(), nullable=False),
        sa.Column("drawn_by", sa.String(length=200), nullable=False),
        sa.Column(
            "drawn_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False
        ),
        sa.CheckConstraint(
            "percentage > 0 AND percentage <= 100", name=op.f("ck_spot_check_percentage_range")
        ),
        sa.CheckConstraint("seed >= 0", name=op.f("ck_spot_check_seed_not_negative")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_spot_check")),
        schema="registry",
    )
    op.create_index(
        op.f("ix_registry_spot_check_year"), "spot_check", ["year"], unique=False, schema="registry"
    )
    op.create_table(
        "application",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column(
            "kind",
            sa.Enum(
                "registration",
                "change",
                "deregistration",
                "annual_inspection",
                name="application_kind",
                native_enum=False,
                create_constraint=True,
                length=32,
                schema="registry",
            ),
            nullable=False,
        ),
        sa.Column(
            "state",
            sa.Enum(
                "pending",
                "approved",
                "rejected",
                "withdrawn",
                "lapsed",
                name="application_state",
                native_enum=False,
                create_constraint=True,
                length=32,
                schema="registry",
            ),
            nullable=False,
        ),
        sa.Column("organization_id", sa.Uuid(), nullable=True),
        sa.Column("proposal", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column("materials", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column("applicant_name", sa.String(length=200), nullable=False),
        sa.Column("title", sa.String(length=300), nullable=False),
        sa.Column("command_id", sa.Uuid(), nullable=False),
        sa.Column("case_id", sa.Uuid(), nullable=True),
        sa.Column("assigned_uscc", sa.String(length=18), nullable=True),
        sa.Column("outcome_reason", sa.Text(), nullable=True),
        sa.Column("submitted_by", sa.String(length=200), nullable=False),
        sa.Column(
            "submitted_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column("decided_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["organization_id"],
            ["registry.organization.id"],
            name=op.f("fk_application_organization_id_organization"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_application")),
        sa.UniqueConstraint("assigned_uscc", name=op.f("uq_application_assigned_uscc")),
        sa.UniqueConstraint("command_id", name=op.f("uq_application_command_id")),
        schema="registry",
    )
    op.create_index(
        op.f("ix_registry_application_organization_id"),
        "application",
        ["organization_id"],
        unique=False,
        schema="registry",
    )
    op.create_index(
        "uq_application_pending_per_organization",
        "application",
        ["organization_id", "kind"],
        unique=True,
        schema="registry",
        postgresql_where=sa.text(
            "state = 'pending' AND organization_id IS NOT NULL AND kind <> 'annual_inspection'"
        ),
    )
    op.create_table(
        "change_record",
        sa.Column("id", sa.BigInteger(), sa.Identity(always=True), nullable=False),
        sa.Column("organization_id", sa.Uuid(), nullable=False),
        sa.Column(
            "at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False
        ),
        sa.Column("actor_sub", sa.String(length=200), nullable=False),
        sa.Column("actor_role", sa.String(length=40), nullable=False),
        sa.Column("action", sa.String(length=40), nullable=False),
        sa.Column("field", sa.String(length=60), nullable=True),
        sa.Column("before", postgresql.JSONB(astext_type=sa.Text()), nullable=True),
        sa.Column("after", postgresql.JSONB(astext_type=sa.Text()), nullable=True),
        sa.Column("reason", sa.Text(), nullable=True),
        sa.Column("source", sa.String(length=40), nullable=False),
        sa.Column("request_id", sa.String(length=128), nullable=True),
        sa.ForeignKeyConstraint(
            ["organization_id"],
            ["registry.organization.id"],
            name=op.f("fk_change_record_organization_id_organization"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_change_record")),
        schema="registry",
    )
    op.create_index(
        "ix_change_record_organization_id_id",
        "change_record",
        ["organization_id", "id"],
        unique=False,
        schema="registry",
    )
    # The history cannot be edited: refuse UPDATE, DELETE and TRUNCATE at the database.
    op.execute(
        """
        CREATE FUNCTION registry.refuse_history_change() RETURNS trigger
        LANGUAGE plpgsql AS $$
        BEGIN
            RAISE EXCEPTION 'change_record is append-only' USING ERRCODE = 'insufficient_privilege';
        END $$
        """
    )
    op.execute(
        """
        CREATE TRIGGER change_record_append_only
            BEFORE UPDATE OR DELETE ON registry.change_record
            FOR EACH ROW EXECUTE FUNCTION registry.refuse_history_change()
        """
    )
    op.execute(
        """
        CREATE TRIGGER change_record_no_truncate
            BEFORE TRUNCATE ON registry.change_record
            FOR EACH STATEMENT EXECUTE FUNCTION registry.refuse_history_change()
        """
    )
    op.create_table(
        "incubation_record",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("organization_id", sa.Uuid(), nullable=False),
        sa.Column(
            "stage",
            sa.Enum(
                "incubate",
                "serve",
                "emerge",
                "support",
                "radiate",
                name="incubation_record_stage",
                native_enum=False,
                create_constraint=True,
                length=32,
                schema="registry",
            ),
            nullable=False,
        ),
        sa.Column(
            "phase",
            sa.Enum(
                "early",
                "middle",
                "late",
                "follow_up",
                name="incubation_phase",
                native_enum=False,
                create_constraint=True,
                length=32,
                schema="registry",
            ),
            nullable=True,
        ),
        sa.Column("seed_funding_fen", sa.BigInteger(), nullable=False),
        sa.Column("note", sa.Text(), nullable=True),
        sa.Column("recorded_by", sa.String(length=200), nullable=False),
        sa.Column(
            "recorded_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.CheckConstraint(
            "seed_funding_fen >= 0", name=op.f("ck_incubation_record_seed_funding_not_negative")
        ),
        sa.ForeignKeyConstraint(
            ["organization_id"],
            ["registry.organization.id"],
            name=op.f("fk_incubation_record_organization_id_organization"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_incubation_record")),
        schema="registry",
    )
    op.create_index(
        op.f("ix_registry_incubation_record_organization_id"),
        "incubation_record",
        ["organization_id"],
        unique=False,
        schema="registry",
    )
    op.create_table(
        "list_entry",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("organization_id", sa.Uuid(), nullable=False),
        sa.Column(
            "list_type",
            sa.Enum(
                "abnormal",
                "serious_illegal",
                name="list_type",
                native_enum=False,
                create_constraint=True,
                length=32,
                schema="registry",
            ),
            nullable=False,
        ),
        sa.Column(
            "reason_code",
            sa.Enum(
                "annual_report_not_filed",
                "no_party_organization",
                "rectification_overdue",
                "minor_penalty",
                "unreachable_at_address",
                "abnormal_two_years",
                "change_registration_revoked",
                "activities_suspended",
                "major_penalty",
                "repeated_penalties",
                "dishonest_judgment_debtor",
                "registration_revoked",
                "other",
                name="reason_code",
                native_enum=False,
                create_constraint=True,
                length=32,
                schema="registry",
            ),
            nullable=False,
        ),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("listed_on", sa.Date(), nullable=False),
        sa.Column("listed_by", sa.String(length=200), nullable=False),
        sa.Column("removed_on", sa.Date(), nullable=True),
        sa.Column("removal_reason", sa.Text(), nullable=True),
        sa.Column("removed_by", sa.String(length=200), nullable=True),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.CheckConstraint(
            "removed_on IS NULL OR removed_on >= listed_on",
            name=op.f("ck_list_entry_removal_ordered"),
        ),
        sa.ForeignKeyConstraint(
            ["organization_id"],
            ["registry.organization.id"],
            name=op.f("fk_list_entry_organization_id_organization"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_list_entry")),
        schema="registry",
    )
    op.create_index(
        "ix_list_entry_list_type_listed_on",
        "list_entry",
        ["list_type", "listed_on"],
        unique=False,
        schema="registry",
    )
    op.create_index(
        op.f("ix_registry_list_entry_organization_id"),
        "list_entry",
        ["organization_id"],
        unique=False,
        schema="registry",
    )
    op.create_index(
        "uq_list_entry_open_reason",
        "list_entry",
        ["organization_id", "list_type", "reason_code"],
        unique=True,
        schema="registry",
        postgresql_where=sa.text("removed_on IS NULL"),
    )
    op.create_table(
        "spot_check_item",
        sa.Column("spot_check_id", sa.Uuid(), nullable=False),
        sa.Column("organization_id", sa.Uuid(), nullable=False),
        sa.Column("stratum", sa.String(length=12), nullable=False),
        sa.Column("rank", sa.Integer(), nullable=False),
        sa.Column(
            "finding",
            sa.Enum(
                "pending",
                "compliant",
                "rectification_required",
                "serious_violation",
                name="spot_check_finding",
                native_enum=False,
                create_constraint=True,
                length=32,
                schema="registry",
            ),
            nullable=False,
        ),
        sa.Column("remarks", sa.Text(), nullable=True),
        sa.Column("checked_by", sa.String(length=200), nullable=True),
        sa.Column("checked_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["organization_id"],
            ["registry.organization.id"],
            name=op.f("fk_spot_check_item_organization_id_organization"),
        ),
        sa.ForeignKeyConstraint(
            ["spot_check_id"],
            ["registry.spot_check.id"],
            name=op.f("fk_spot_check_item_spot_check_id_spot_check"),
        ),
        sa.PrimaryKeyConstraint(
            "spot_check_id", "organization_id", name=op.f("pk_spot_check_item")
        ),
        schema="registry",
    )
    op.create_index(
        op.f("ix_registry_spot_check_item_organization_id"),
        "spot_check_item",
        ["organization_id"],
        unique=False,
        schema="registry",
    )
    # Inspections recorded before this revision were concluded (demo data); the default
    # only fills them in and is dropped, the service always sets the state.
    op.add_column(
        "annual_inspection",
        sa.Column(
            "state",
            sa.Enum(
                "submitted",
                "reviewed",
                "concluded",
                "returned",
                name="inspection_state",
                native_enum=False,
                create_constraint=True,
                length=32,
                schema="registry",
            ),
            nullable=False,
            server_default="concluded",
        ),
        schema="registry",
    )
    op.alter_column("annual_inspection", "state", server_default=None, schema="registry")
    op.add_column(
        "annual_inspection",
        sa.Column("application_id", sa.Uuid(), nullable=True),
        schema="registry",
    )
    op.add_column(
        "annual_inspection",
        sa.Column("conclusion_recorded_by", sa.String(length=200), nullable=True),
        schema="registry",
    )
    op.create_index(
        "ix_annual_inspection_year_result",
        "annual_inspection",
        ["year", "result"],
        unique=False,
        schema="registry",
    )
    op.create_index(
        "ix_organization_name_grams",
        "organization",
        [sa.literal_column("registry.name_grams(name)")],
        unique=False,
        schema="registry",
        postgresql_using="gin",
    )
    op.create_index(
        "ix_organization_uscc_prefix",
        "organization",
        ["uscc"],
        unique=False,
        schema="registry",
        postgresql_ops={"uscc": "varchar_pattern_ops"},
    )
    op.create_index(
        op.f("ix_registry_organization_created_at"),
        "organization",
        ["created_at"],
        unique=False,
        schema="registry",
    )
    op.create_index(
        op.f("ix_registry_organization_name"),
        "organization",
        ["name"],
        unique=False,
        schema="registry",
    )


def downgrade() -> None:
    op.drop_index(
        op.f("ix_registry_organization_name"), table_name="organization", schema="registry"
    )
    op.drop_index(
        op.f("ix_registry_organization_created_at"), table_name="organization", schema="registry"
    )
    op.drop_index(
        "ix_organization_uscc_prefix",
        table_name="organization",
        schema="registry",
        postgresql_ops={"uscc": "varchar_pattern_ops"},
    )
    op.drop_index(
        "ix_organization_name_grams",
        table_name="organization",
        schema="registry",
        postgresql_using="gin",
    )
    op.drop_index(
        "ix_annual_inspection_year_result", table_name="annual_inspection", schema="registry"
    )
    op.drop_column("annual_inspection", "conclusion_recorded_by", schema="registry")
    op.drop_column("annual_inspection", "application_id", schema="registry")
    op.drop_column("annual_inspection", "state", schema="registry")
    op.drop_index(
        op.f("ix_registry_spot_check_item_organization_id"),
        table_name="spot_check_item",
        schema="registry",
    )
    op.drop_table("spot_check_item", schema="registry")
    op.drop_index(
        "uq_list_entry_open_reason",
        table_name="list_entry",
        schema="registry",
        postgresql_where=sa.text("removed_on IS NULL"),
    )
    op.drop_index(
        op.f("ix_registry_list_entry_organization_id"), table_name="list_entry", schema="registry"
    )
    op.drop_index("ix_list_entry_list_type_listed_on", table_name="list_entry", schema="registry")
    op.drop_table("list_entry", schema="registry")
    op.drop_index(
        op.f("ix_registry_incubation_record_organization_id"),
        table_name="incubation_record",
        schema="registry",
    )
    op.drop_table("incubation_record", schema="registry")
    op.drop_index(
        "ix_change_record_organization_id_id", table_name="change_record", schema="registry"
    )
    op.drop_table("change_record", schema="registry")
    op.execute("DROP FUNCTION registry.refuse_history_change()")
    op.drop_index(
        "uq_application_pending_per_organization",
        table_name="application",
        schema="registry",
        postgresql_where=sa.text(
            "state = 'pending' AND organization_id IS NOT NULL AND kind <> 'annual_inspection'"
        ),
    )
    op.drop_index(
        op.f("ix_registry_application_organization_id"), table_name="application", schema="registry"
    )
    op.drop_table("application", schema="registry")
    op.drop_index(op.f("ix_registry_spot_check_year"), table_name="spot_check", schema="registry")
    op.drop_table("spot_check", schema="registry")
    op.execute("DROP FUNCTION registry.name_grams(text)")
    op.execute("DROP SEQUENCE registry.uscc_serial")
