"""projects: town/street social-work stations (镇(街道)社会工作站) and their 123X lists

Revision ID: 0161
Revises: 0141
Create Date: 2026-12-05 10:30:00+00:00

- `station`: one per town/street of a district (unique), its host agency (a registry
  organization and the name the registry gave it), the "二合一" flag (merged with the
  party-mass service centre), staff and certified social workers, the villages and
  communities it serves. Versioned for `If-Match`.
- `station_project`: a project on a station's "123X" list for the project's year, in its
  call's slot; a project on at most one station a year (unique), at most one core
  project a station a year (partial unique index behind the service's quota check).

New tables only: nothing to backfill.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0161"
down_revision: str | None = "0141"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

SCHEMA = "projects"


def upgrade() -> None:
    op.create_table(
        "station",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("district_code", sa.String(length=6), nullable=False),
        sa.Column("street_code", sa.String(length=9), nullable=False),
        sa.Column("town_name", sa.String(length=50), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("host_org_id", sa.Uuid(), nullable=False),
        sa.Column("host_org_name", sa.String(length=200), nullable=False),
        sa.Column("merged_with_party_centre", sa.Boolean(), nullable=False),
        sa.Column("staff_count", sa.SmallInteger(), nullable=False),
        sa.Column("certified_social_workers", sa.SmallInteger(), nullable=False),
        sa.Column("communities_total", sa.SmallInteger(), nullable=False),
        sa.Column("communities_served", sa.SmallInteger(), nullable=False),
        sa.Column("established_year", sa.Integer(), nullable=False),
        sa.Column("created_by", sa.String(length=200), nullable=False),
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
        sa.Column("version", sa.Integer(), nullable=False),
        sa.CheckConstraint(
            "communities_total >= 0 AND communities_served BETWEEN 0 AND communities_total",
            name=op.f("ck_station_coverage_consistent"),
        ),
        sa.CheckConstraint(
            "left(street_code, 6) = district_code", name=op.f("ck_station_street_in_district")
        ),
        sa.CheckConstraint(
            "staff_count >= 0 AND certified_social_workers BETWEEN 0 AND staff_count",
            name=op.f("ck_station_staff_consistent"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_station")),
        sa.UniqueConstraint(
            "district_code", "street_code", name=op.f("uq_station_district_code_street_code")
        ),
        schema=SCHEMA,
    )
    op.create_index(
        op.f("ix_projects_station_host_org_id"), "station", ["host_org_id"], schema=SCHEMA
    )
    op.create_index(
        op.f("ix_projects_station_street_code"), "station", ["street_code"], schema=SCHEMA
    )
    op.create_table(
        "station_project",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("station_id", sa.Uuid(), nullable=False),
        sa.Column("project_id", sa.Uuid(), nullable=False),
        sa.Column("year", sa.Integer(), nullable=False),
        sa.Column(
            "role",
            sa.Enum(
                "core",
                "brand",
                "basic",
                "special",
                name="station_role",
                native_enum=False,
                create_constraint=True,
                length=32,
            ),
            nullable=False,
        ),
        sa.Column("attached_by", sa.String(length=200), nullable=False),
        sa.Column(
            "attached_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.ForeignKeyConstraint(
            ["project_id"],
            ["projects.project.id"],
            name=op.f("fk_station_project_project_id_project"),
        ),
        sa.ForeignKeyConstraint(
            ["station_id"],
            ["projects.station.id"],
            name=op.f("fk_station_project_station_id_station"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_station_project")),
        sa.UniqueConstraint("project_id", "year", name=op.f("uq_station_project_project_id_year")),
        schema=SCHEMA,
    )
    op.create_index(
        op.f("ix_projects_station_project_station_id"),
        "station_project",
        ["station_id"],
        schema=SCHEMA,
    )
    op.create_index(
        "uq_station_project_one_core",
        "station_project",
        ["station_id", "year"],
        unique=True,
        schema=SCHEMA,
        postgresql_where=sa.text("role = 'core'"),
    )


def downgrade() -> None:
    op.drop_index("uq_station_project_one_core", table_name="station_project", schema=SCHEMA)
    op.drop_index(
        op.f("ix_projects_station_project_station_id"), table_name="station_project", schema=SCHEMA
    )
    op.drop_table("station_project", schema=SCHEMA)
    op.drop_index(op.f("ix_projects_station_street_code"), table_name="station", schema=SCHEMA)
    op.drop_index(op.f("ix_projects_station_host_org_id"), table_name="station", schema=SCHEMA)
    op.drop_table("station", schema=SCHEMA)
