"""provincial sync: webhook endpoints, deliveries and attempts, the event feed, inbound

Revision ID: 0005
Revises: 0001
Create Date: 2026-11-23 02:42:51.411900+00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0005"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


class XID8(sa.types.UserDefinedType[str]):
    """PostgreSQL's 64-bit transaction id (defined here: a migration must not import models)."""

    cache_ok = True

    def get_col_spec(self, **kw: object) -> str:
        return "xid8"


def upgrade() -> None:
    op.create_table(
        "inbound_source",
        sa.Column("name", sa.String(length=60), nullable=False),
        sa.Column("description", sa.String(length=500), server_default="", nullable=False),
        sa.Column("secret", sa.String(length=120), nullable=False),
        sa.Column("previous_secret", sa.String(length=120), nullable=True),
        sa.Column("previous_secret_expires_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("enabled", sa.Boolean(), server_default=sa.text("true"), nullable=False),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.PrimaryKeyConstraint("name", name=op.f("pk_inbound_source")),
        schema="workflow",
    )
    op.create_table(
        "inbound_subject",
        sa.Column("subject_type", sa.String(length=60), nullable=False),
        sa.Column("subject_id", sa.String(length=100), nullable=False),
        sa.Column("occurred_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("sequence", sa.BigInteger(), nullable=True),
        sa.Column("event_id", sa.Uuid(), nullable=True),
        sa.Column(
            "updated_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.PrimaryKeyConstraint("subject_type", "subject_id", name=op.f("pk_inbound_subject")),
        schema="workflow",
    )
    op.create_table(
        "sync_event",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("position", sa.BigInteger(), sa.Identity(always=True), nullable=False),
        sa.Column("txid", XID8(), server_default=sa.text("pg_current_xact_id()"), nullable=False),
        sa.Column("type", sa.String(length=100), nullable=False),
        sa.Column("source", sa.String(length=40), nullable=False),
        sa.Column("subject_type", sa.String(length=60), nullable=False),
        sa.Column("subject_id", sa.String(length=100), nullable=False),
        sa.Column("subject_seq", sa.Integer(), nullable=False),
        sa.Column("occurred_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("data", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column("endpoint_id", sa.Uuid(), nullable=True),
        sa.Column(
            "recorded_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_sync_event")),
        sa.UniqueConstraint("position", name=op.f("uq_sync_event_position")),
        schema="workflow",
    )
    op.create_index(
        "ix_sync_event_feed_order",
        "sync_event",
        ["txid", "position"],
        unique=False,
        schema="workflow",
    )
    op.create_index(
        op.f("ix_workflow_sync_event_recorded_at"),
        "sync_event",
        ["recorded_at"],
        unique=False,
        schema="workflow",
    )
    op.create_table(
        "webhook_endpoint",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("url", sa.Text(), nullable=False),
        sa.Column("description", sa.String(length=500), server_default="", nullable=False),
        sa.Column(
            "event_types",
            postgresql.JSONB(astext_type=sa.Text()),
            server_default=sa.text("'[]'::jsonb"),
            nullable=False,
        ),
        sa.Column("owner_sub", sa.String(length=200), nullable=False),
        sa.Column("owner_role", sa.String(length=40), nullable=False),
        sa.Column("secret", sa.String(length=120), nullable=False),
        sa.Column("previous_secret", sa.String(length=120), nullable=True),
        sa.Column("previous_secret_expires_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("enabled", sa.Boolean(), server_default=sa.text("true"), nullable=False),
        sa.Column("disabled_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("disabled_reason", sa.String(length=40), nullable=True),
        sa.Column("failing_since", sa.DateTime(timezone=True), nullable=True),
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
        sa.Column("version", sa.Integer(), server_default=sa.text("1"), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_webhook_endpoint")),
        schema="workflow",
    )
    op.create_table(
        "inbound_event",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("source", sa.String(length=60), nullable=False),
        sa.Column("message_id", sa.String(length=200), nullable=False),
        sa.Column("type", sa.String(length=100), nullable=False),
        sa.Column("occurred_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("payload", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column(
            "status",
            sa.Enum(
                "received",
                "applied",
                "recorded",
                "stale",
                "unknown_type",
                "invalid",
                "failed",
                name="inbound_status",
                native_enum=False,
                create_constraint=True,
                length=32,
                schema="workflow",
            ),
            nullable=False,
        ),
        sa.Column("attempts", sa.Integer(), server_default=sa.text("0"), nullable=False),
        sa.Column("next_attempt_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("error", sa.String(length=200), nullable=True),
        sa.Column(
            "received_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column("processed_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["source"],
            ["workflow.inbound_source.name"],
            name=op.f("fk_inbound_event_source_inbound_source"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_inbound_event")),
        sa.UniqueConstraint(
            "source", "message_id", name=op.f("uq_inbound_event_source_message_id")
        ),
        schema="workflow",
    )
    op.create_index(
        "ix_inbound_event_due",
        "inbound_event",
        ["next_attempt_at"],
        unique=False,
        schema="workflow",
        postgresql_where=sa.text("status = 'received'"),
    )
    op.create_table(
        "webhook_delivery",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("endpoint_id", sa.Uuid(), nullable=False),
        sa.Column("event_id", sa.Uuid(), nullable=False),
        sa.Column("event_type", sa.String(length=100), nullable=False),
        sa.Column(
            "status",
            sa.Enum(
                "pending",
                "succeeded",
                "failed",
                name="delivery_status",
                native_enum=False,
                create_constraint=True,
                length=32,
                schema="workflow",
            ),
            nullable=False,
        ),
        sa.Column("attempt_count", sa.Integer(), server_default=sa.text("0"), nullable=False),
        sa.Column("schedule_step", sa.SmallInteger(), server_default=sa.text("0"), nullable=False),
        sa.Column("next_attempt_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("last_status_code", sa.SmallInteger(), nullable=True),
        sa.Column("last_error", sa.String(length=60), nullable=True),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column("delivered_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("failed_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["endpoint_id"],
            ["workflow.webhook_endpoint.id"],
            name=op.f("fk_webhook_delivery_endpoint_id_webhook_endpoint"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["event_id"],
            ["workflow.sync_event.id"],
            name=op.f("fk_webhook_delivery_event_id_sync_event"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_webhook_delivery")),
        sa.UniqueConstraint(
            "endpoint_id", "event_id", name=op.f("uq_webhook_delivery_endpoint_id_event_id")
        ),
        schema="workflow",
    )
    op.create_index(
        "ix_webhook_delivery_due",
        "webhook_delivery",
        ["next_attempt_at"],
        unique=False,
        schema="workflow",
        postgresql_where=sa.text("status = 'pending'"),
    )
    op.create_index(
        "ix_webhook_delivery_endpoint",
        "webhook_delivery",
        ["endpoint_id", "created_at"],
        unique=False,
        schema="workflow",
    )
    op.create_index(
        op.f("ix_workflow_webhook_delivery_event_id"),
        "webhook_delivery",
        ["event_id"],
        unique=False,
        schema="workflow",
    )
    op.create_table(
        "webhook_attempt",
        sa.Column("id", sa.BigInteger(), sa.Identity(always=True), nullable=False),
        sa.Column("delivery_id", sa.Uuid(), nullable=False),
        sa.Column("attempted_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("status_code", sa.SmallInteger(), nullable=True),
        sa.Column("latency_ms", sa.Integer(), nullable=False),
        sa.Column("response_excerpt", sa.Text(), nullable=True),
        sa.Column("error", sa.String(length=60), nullable=True),
        sa.ForeignKeyConstraint(
            ["delivery_id"],
            ["workflow.webhook_delivery.id"],
            name=op.f("fk_webhook_attempt_delivery_id_webhook_delivery"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_webhook_attempt")),
        schema="workflow",
    )
    op.create_index(
        op.f("ix_workflow_webhook_attempt_delivery_id"),
        "webhook_attempt",
        ["delivery_id"],
        unique=False,
        schema="workflow",
    )


def downgrade() -> None:
    op.drop_index(
        op.f("ix_workflow_webhook_attempt_delivery_id"),
        table_name="webhook_attempt",
        schema="workflow",
    )
    op.drop_table("webhook_attempt", schema="workflow")
    op.drop_index(
        op.f("ix_workflow_webhook_delivery_event_id"),
        table_name="webhook_delivery",
        schema="workflow",
    )
    op.drop_index("ix_webhook_delivery_endpoint", table_name="webhook_delivery", schema="workflow")
    op.drop_index(
        "ix_webhook_delivery_due",
        table_name="webhook_delivery",
        schema="workflow",
        postgresql_where=sa.text("status = 'pending'"),
    )
    op.drop_table("webhook_delivery", schema="workflow")
    op.drop_index(
        "ix_inbound_event_due",
        table_name="inbound_event",
        schema="workflow",
        postgresql_where=sa.text("status = 'received'"),
    )
    op.drop_table("inbound_event", schema="workflow")
    op.drop_table("webhook_endpoint", schema="workflow")
    op.drop_index(
        op.f("ix_workflow_sync_event_recorded_at"), table_name="sync_event", schema="workflow"
    )
    op.drop_index("ix_sync_event_feed_order", table_name="sync_event", schema="workflow")
    op.drop_table("sync_event", schema="workflow")
    op.drop_table("inbound_subject", schema="workflow")
    op.drop_table("inbound_source", schema="workflow")
