"""Laboratory results of safety monitoring (issue 6 item 2): one append-only row per result.

The value and the reference limits are the exact decimal text that was entered; the unit is
UCUM. Like the day's events, a stored result is never changed or removed: the database refuses
UPDATE and DELETE (a wrong result is corrected by recording the right one). Self-contained on
purpose (no import of ``tables.py`` or the domain).

Revision ID: 0005_lab_results
Revises: 0004_course_days
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005_lab_results"
down_revision = "0004_course_days"
branch_labels = None
depends_on = None

TABLE = "lab_results"


def upgrade() -> None:
    op.create_table(
        TABLE,
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("patient_id", sa.Integer, sa.ForeignKey("patients.id"), nullable=False),
        sa.Column("course_id", sa.Integer, sa.ForeignKey("courses.id"), nullable=False),
        sa.Column("analyte", sa.String(60), nullable=False),
        sa.Column("value", sa.String(40), nullable=False),
        sa.Column("unit", sa.String(30), nullable=False),
        sa.Column("reference_low", sa.String(40), nullable=True),
        sa.Column("reference_high", sa.String(40), nullable=True),
        sa.Column("taken_on", sa.Date, nullable=False),
        sa.Column("recorded_by", sa.String(64), nullable=False),
        sa.Column("recorded_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_index("ix_lab_results_patient_analyte", TABLE, ["patient_id", "analyte", "taken_on"])
    for statement in append_only_triggers(op.get_bind().dialect.name):
        op.execute(sa.text(statement))


def append_only_triggers(dialect: str) -> list[str]:
    """The triggers of 0001 for this table (PostgreSQL: its function infusionist_append_only)."""
    if dialect == "sqlite":
        return [
            f"CREATE TRIGGER {TABLE}_no_{verb.lower()} BEFORE {verb} ON {TABLE} "
            f"BEGIN SELECT RAISE(ABORT, '{TABLE} is append-only: {verb} refused'); END"
            for verb in ("UPDATE", "DELETE")
        ]
    return [
        f"CREATE TRIGGER {TABLE}_append_only BEFORE UPDATE OR DELETE ON {TABLE} "
        "FOR EACH ROW EXECUTE FUNCTION infusionist_append_only()",
        f"CREATE TRIGGER {TABLE}_no_truncate BEFORE TRUNCATE ON {TABLE} "
        "FOR EACH STATEMENT EXECUTE FUNCTION infusionist_append_only()",
    ]


def downgrade() -> None:
    raise NotImplementedError("The clinical record is never downgraded; restore a backup instead.")
