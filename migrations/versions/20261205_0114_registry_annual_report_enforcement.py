"""registry: the report year of a list entry; status `abnormal` and the abnormal list agree

Revision ID: 0114
Revises: 0113
Create Date: 2026-12-05 11:00:00+00:00

`list_entry.report_year`: the year whose annual report was missing, on the entries the
annual-report deadline sweep makes (`inspections/deadlines.py`), so that a late report
of that year can take the entry off the list.

Backfill of the invariant "an open organization is `abnormal` exactly when it has an
open entry on the abnormal-activity list" (`standing/service.py`). Bulk loads (the demo
register, imports) could set the status without the entry: the demo register had 46
`abnormal` organizations and no entry at all. The status is what every screen, export
and eligibility check has been showing, so it is taken as true and the missing entry
is written: reason `annual_report_not_filed` (with its year) when the organization's
latest concluded inspection is 未参检, else `other`, listed on the day the organization
was last changed (Asia/Shanghai), by `migration:0114`, with a history row each. The
opposite case, an open entry on an organization still `active`, is a listing whose
status change was lost: the organization becomes `abnormal`, with a history row.
No outbox events: this repairs the record, it is not news for the provincial platform.
"""

# The SQL here is assembled from this module's constants only, never from input.
# ruff: noqa: S608

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0114"
down_revision: str | None = "0113"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

ACTOR = "migration:0114"

LIST_MISSING_ENTRIES = f"""
WITH missing AS (
    SELECT o.id,
           least((o.updated_at AT TIME ZONE 'Asia/Shanghai')::date,
                 (now() AT TIME ZONE 'Asia/Shanghai')::date) AS listed_on,
           (SELECT i.year FROM registry.annual_inspection i
             WHERE i.organization_id = o.id AND i.state = 'concluded'
             ORDER BY i.year DESC LIMIT 1) AS last_year,
           (SELECT i.result FROM registry.annual_inspection i
             WHERE i.organization_id = o.id AND i.state = 'concluded'
             ORDER BY i.year DESC LIMIT 1) AS last_result
    FROM registry.organization o
    WHERE o.status = 'abnormal'
      AND NOT EXISTS (
          SELECT 1 FROM registry.list_entry e
          WHERE e.organization_id = o.id AND e.list_type = 'abnormal' AND e.removed_on IS NULL)
), inserted AS (
    INSERT INTO registry.list_entry
        (id, organization_id, list_type, reason_code, reason, listed_on, listed_by, report_year)
    SELECT gen_random_uuid(), id, 'abnormal',
           CASE WHEN last_result = 'absent' THEN 'annual_report_not_filed' ELSE 'other' END,
           CASE WHEN last_result = 'absent'
                THEN '补录：' || last_year || '年度未参检，登记状态为活动异常'
                ELSE '补录：登记状态为活动异常，名录记录缺失' END,
           listed_on, '{ACTOR}',
           CASE WHEN last_result = 'absent' THEN last_year END
    FROM missing
    RETURNING organization_id, reason_code, reason
)
INSERT INTO registry.change_record
    (organization_id, actor_sub, actor_role, action, field, before, after, reason, source)
SELECT organization_id, '{ACTOR}', 'service', 'listed', 'abnormal', NULL,
       to_jsonb(reason_code::text), reason, 'migration'
FROM inserted
"""

MARK_LISTED_ACTIVE = f"""
WITH listed AS (
    UPDATE registry.organization o
    SET status = 'abnormal', version = o.version + 1, updated_at = now()
    WHERE o.status = 'active'
      AND EXISTS (
          SELECT 1 FROM registry.list_entry e
          WHERE e.organization_id = o.id AND e.list_type = 'abnormal' AND e.removed_on IS NULL)
    RETURNING o.id
)
INSERT INTO registry.change_record
    (organization_id, actor_sub, actor_role, action, field, before, after, reason, source)
SELECT id, '{ACTOR}', 'service', 'status_changed', 'status', to_jsonb('active'::text),
       to_jsonb('abnormal'::text), '列入活动异常名录，登记状态随之改为活动异常', 'migration'
FROM listed
"""


def upgrade() -> None:
    op.add_column(
        "list_entry", sa.Column("report_year", sa.SmallInteger(), nullable=True), schema="registry"
    )
    op.execute(LIST_MISSING_ENTRIES)
    op.execute(MARK_LISTED_ACTIVE)


def downgrade() -> None:
    # The backfilled entries and statuses stay: they are the record, not the schema.
    op.drop_column("list_entry", "report_year", schema="registry")
