"""registry: people of 三社联动 (staff and certified social workers, volunteers and their
service time, party organizations) and the resident population of streets

Revision ID: 0116
Revises: 0115
Create Date: 2026-12-05 10:30:00+00:00

Resident ID numbers are not stored: `id_number_digest` (HMAC-SHA256 under
REGISTRY_ID_NUMBER_KEY) finds a person by their exact number, `id_number_masked` is what
is shown. `region.population` / `population_year` are new and empty: the figures come
from the bureau (`PUT /api/v1/people/streets/{code}/population`) or the demo loader
(illustrative values); nothing to backfill.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0116"
down_revision: str | None = "0115"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "party_organization",
        sa.Column("organization_id", sa.Uuid(), nullable=False),
        sa.Column(
            "form",
            sa.Enum(
                "branch",
                "joint_branch",
                "general_branch",
                "committee",
                name="party_organization_form",
                native_enum=False,
                create_constraint=True,
                length=32,
                schema="registry",
            ),
            nullable=False,
        ),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("established_on", sa.Date(), nullable=False),
        sa.Column("members", sa.Integer(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column(
            "updated_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.CheckConstraint(
            "form = 'joint_branch' OR members >= 3",
            name=op.f("ck_party_organization_own_branch_has_members"),
        ),
        sa.CheckConstraint("members >= 0", name=op.f("ck_party_organization_members_not_negative")),
        sa.ForeignKeyConstraint(
            ["organization_id"],
            ["registry.organization.id"],
            name=op.f("fk_party_organization_organization_id_organization"),
        ),
        sa.PrimaryKeyConstraint("organization_id", name=op.f("pk_party_organization")),
        schema="registry",
    )
    op.create_table(
        "staff_member",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("name", sa.String(length=60), nullable=False),
        sa.Column("id_number_digest", sa.String(length=64), nullable=True),
        sa.Column("id_number_masked", sa.String(length=18), nullable=True),
        sa.Column("organization_id", sa.Uuid(), nullable=True),
        sa.Column("street_code", sa.String(length=12), nullable=False),
        sa.Column(
            "employment",
            sa.Enum(
                "full_time",
                "part_time",
                name="employment",
                native_enum=False,
                create_constraint=True,
                length=32,
                schema="registry",
            ),
            nullable=False,
        ),
        sa.Column(
            "certificate_level",
            sa.Enum(
                "assistant",
                "intermediate",
                "senior",
                name="certificate_level",
                native_enum=False,
                create_constraint=True,
                length=32,
                schema="registry",
            ),
            nullable=True,
        ),
        sa.Column("certificate_number", sa.String(length=40), nullable=True),
        sa.Column("certificate_year", sa.SmallInteger(), nullable=True),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column(
            "updated_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.CheckConstraint(
            "(certificate_level IS NULL) = (certificate_number IS NULL) AND (certificate_level IS NULL) = (certificate_year IS NULL)",
            name=op.f("ck_staff_member_certificate_complete"),
        ),
        sa.CheckConstraint(
            "(id_number_digest IS NULL) = (id_number_masked IS NULL)",
            name=op.f("ck_staff_member_id_number_pair"),
        ),
        sa.ForeignKeyConstraint(
            ["organization_id"],
            ["registry.organization.id"],
            name=op.f("fk_staff_member_organization_id_organization"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_staff_member")),
        sa.UniqueConstraint("certificate_number", name=op.f("uq_staff_member_certificate_number")),
        sa.UniqueConstraint("id_number_digest", name=op.f("uq_staff_member_id_number_digest")),
        schema="registry",
    )
    op.create_index(
        op.f("ix_registry_staff_member_organization_id"),
        "staff_member",
        ["organization_id"],
        unique=False,
        schema="registry",
    )
    op.create_index(
        op.f("ix_registry_staff_member_street_code"),
        "staff_member",
        ["street_code"],
        unique=False,
        schema="registry",
    )
    op.create_table(
        "volunteer",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("name", sa.String(length=60), nullable=False),
        sa.Column("id_number_digest", sa.String(length=64), nullable=True),
        sa.Column("id_number_masked", sa.String(length=18), nullable=True),
        sa.Column("organization_id", sa.Uuid(), nullable=True),
        sa.Column("street_code", sa.String(length=12), nullable=False),
        sa.Column("registered_on", sa.Date(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.CheckConstraint(
            "(id_number_digest IS NULL) = (id_number_masked IS NULL)",
            name=op.f("ck_volunteer_id_number_pair"),
        ),
        sa.ForeignKeyConstraint(
            ["organization_id"],
            ["registry.organization.id"],
            name=op.f("fk_volunteer_organization_id_organization"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_volunteer")),
        sa.UniqueConstraint("id_number_digest", name=op.f("uq_volunteer_id_number_digest")),
        schema="registry",
    )
    op.create_index(
        op.f("ix_registry_volunteer_organization_id"),
        "volunteer",
        ["organization_id"],
        unique=False,
        schema="registry",
    )
    op.create_index(
        op.f("ix_registry_volunteer_street_code"),
        "volunteer",
        ["street_code"],
        unique=False,
        schema="registry",
    )
    op.create_table(
        "volunteer_service",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("volunteer_id", sa.Uuid(), nullable=False),
        sa.Column("organization_id", sa.Uuid(), nullable=True),
        sa.Column("served_on", sa.Date(), nullable=False),
        sa.Column("minutes", sa.Integer(), nullable=False),
        sa.Column("activity", sa.Text(), nullable=False),
        sa.Column("recorded_by", sa.String(length=200), nullable=False),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.CheckConstraint(
            "minutes BETWEEN 1 AND 1440", name=op.f("ck_volunteer_service_minutes_in_a_day")
        ),
        sa.ForeignKeyConstraint(
            ["organization_id"],
            ["registry.organization.id"],
            name=op.f("fk_volunteer_service_organization_id_organization"),
        ),
        sa.ForeignKeyConstraint(
            ["volunteer_id"],
            ["registry.volunteer.id"],
            name=op.f("fk_volunteer_service_volunteer_id_volunteer"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_volunteer_service")),
        schema="registry",
    )
    op.create_index(
        op.f("ix_registry_volunteer_service_organization_id"),
        "volunteer_service",
        ["organization_id"],
        unique=False,
        schema="registry",
    )
    op.create_index(
        "ix_volunteer_service_volunteer_id_served_on",
        "volunteer_service",
        ["volunteer_id", "served_on"],
        unique=False,
        schema="registry",
    )
    op.add_column("region", sa.Column("population", sa.Integer(), nullable=True), schema="registry")
    op.add_column(
        "region", sa.Column("population_year", sa.SmallInteger(), nullable=True), schema="registry"
    )
    op.create_check_constraint(
        op.f("ck_region_population_not_negative"),
        "region",
        "population IS NULL OR population >= 0",
        schema="registry",
    )
    op.create_check_constraint(
        op.f("ck_region_population_has_year"),
        "region",
        "(population IS NULL) = (population_year IS NULL)",
        schema="registry",
    )


def downgrade() -> None:
    op.drop_constraint(op.f("ck_region_population_has_year"), "region", schema="registry")
    op.drop_constraint(op.f("ck_region_population_not_negative"), "region", schema="registry")
    op.drop_column("region", "population_year", schema="registry")
    op.drop_column("region", "population", schema="registry")
    op.drop_index(
        "ix_volunteer_service_volunteer_id_served_on",
        table_name="volunteer_service",
        schema="registry",
    )
    op.drop_index(
        op.f("ix_registry_volunteer_service_organization_id"),
        table_name="volunteer_service",
        schema="registry",
    )
    op.drop_table("volunteer_service", schema="registry")
    op.drop_index(
        op.f("ix_registry_volunteer_street_code"), table_name="volunteer", schema="registry"
    )
    op.drop_index(
        op.f("ix_registry_volunteer_organization_id"), table_name="volunteer", schema="registry"
    )
    op.drop_table("volunteer", schema="registry")
    op.drop_index(
        op.f("ix_registry_staff_member_street_code"), table_name="staff_member", schema="registry"
    )
    op.drop_index(
        op.f("ix_registry_staff_member_organization_id"),
        table_name="staff_member",
        schema="registry",
    )
    op.drop_table("staff_member", schema="registry")
    op.drop_table("party_organization", schema="registry")
