"""Follow-up tasks in the domain's terms: one lifecycle (due, done, cancelled; overdue derived).

Adds ``kind``, the window (``opens``, ``overdue_from``), ``closed_on`` and ``reason``; renames the
stored status ``open`` to ``due``; indexes (status, due) for the worklist.

Rows written before this revision carry no window. They get the protocol's window as it was
when they were written (``monitoring.task_window``: opens 7 days before the due date, overdue 7
days after it; a delayed-reaction call: the day before to the day after), and a kind from their
activity id. Self-contained on purpose (no import of ``tables.py`` or the domain): what a
migration does must not change when the code does.

Revision ID: 0003_followup
Revises: 0002_hl7
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

import sqlalchemy as sa
from alembic import op

revision = "0003_followup"
down_revision = "0002_hl7"
branch_labels = None
depends_on = None

OPENS_BEFORE = timedelta(days=7)
OVERDUE_FROM = timedelta(days=8)  # overdue 7 days after the due date: from the 8th day on
LAB_SERIES = ("full-blood-count", "serum-creatinine", "urinalysis", "liver-function",
              "thyroid-function")
BATCH = 5000

tasks = sa.table(
    "follow_up_tasks",
    sa.column("id", sa.Integer),
    sa.column("activity_id", sa.String),
    sa.column("due", sa.Date),
    sa.column("status", sa.String),
    sa.column("kind", sa.String),
    sa.column("opens", sa.Date),
    sa.column("overdue_from", sa.Date),
)


def kind_of(activity_id: str) -> str:
    """``c1-after-urinalysis-m07`` -> lab; the element id sits after ``-after-``."""
    element = activity_id.split("-after-", 1)[-1]
    if element.startswith("delayed-reaction-call"):
        return "call"
    if element.startswith(LAB_SERIES):
        return "lab"
    if element.startswith("skin-examination"):
        return "examination"
    return "care"


def window_of(kind: str, due: date) -> tuple[date, date]:
    if kind == "call":
        return due - timedelta(days=1), due + timedelta(days=1)
    return due - OPENS_BEFORE, due + OVERDUE_FROM


def upgrade() -> None:
    with op.batch_alter_table("follow_up_tasks") as batch:
        batch.add_column(sa.Column("kind", sa.String(30), nullable=True))
        batch.add_column(sa.Column("opens", sa.Date, nullable=True))
        batch.add_column(sa.Column("overdue_from", sa.Date, nullable=True))
        batch.add_column(sa.Column("closed_on", sa.Date, nullable=True))
        batch.add_column(sa.Column("reason", sa.Text, nullable=True))
    connection = op.get_bind()
    connection.execute(sa.update(tasks).where(tasks.c.status == "open").values(status="due"))
    _backfill(connection)
    with op.batch_alter_table("follow_up_tasks") as batch:
        batch.alter_column("kind", existing_type=sa.String(30), nullable=False)
        batch.alter_column("opens", existing_type=sa.Date, nullable=False)
        batch.alter_column("overdue_from", existing_type=sa.Date, nullable=False)
    op.create_index("ix_follow_up_tasks_status_due", "follow_up_tasks", ["status", "due"])


def _backfill(connection: Any) -> None:
    last = 0
    while True:
        rows = connection.execute(
            sa.select(tasks.c.id, tasks.c.activity_id, tasks.c.due)
            .where(tasks.c.id > last).order_by(tasks.c.id).limit(BATCH)
        ).all()
        if not rows:
            return
        values = []
        for row in rows:
            kind = kind_of(row.activity_id)
            opens, overdue_from = window_of(kind, row.due)
            values.append({"row_id": row.id, "kind": kind, "opens": opens,
                           "overdue_from": overdue_from})
        connection.execute(
            sa.update(tasks).where(tasks.c.id == sa.bindparam("row_id"))
            .values(kind=sa.bindparam("kind"), opens=sa.bindparam("opens"),
                    overdue_from=sa.bindparam("overdue_from")),
            values,
        )
        last = rows[-1].id


def downgrade() -> None:
    raise NotImplementedError("The clinical record is never downgraded; restore a backup instead.")
