"""Courses carry their first and last infusion day, so the board finds today's courses by index.

Backfilled from each stored plan's ``days``. Rows written by tools that insert courses directly
may leave them empty; readers treat an empty pair as "look at the plan". Self-contained on
purpose (no import of ``tables.py`` or the domain).

Revision ID: 0004_course_days
Revises: 0003_followup
"""

from __future__ import annotations

from datetime import date
from typing import Any

import sqlalchemy as sa
from alembic import op

revision = "0004_course_days"
down_revision = "0003_followup"
branch_labels = None
depends_on = None

BATCH = 500

courses = sa.table(
    "courses",
    sa.column("id", sa.Integer),
    sa.column("plan", sa.JSON),
    sa.column("first_day", sa.Date),
    sa.column("last_day", sa.Date),
)


def upgrade() -> None:
    with op.batch_alter_table("courses") as batch:
        batch.add_column(sa.Column("first_day", sa.Date, nullable=True))
        batch.add_column(sa.Column("last_day", sa.Date, nullable=True))
    _backfill(op.get_bind())
    op.create_index("ix_courses_days", "courses", ["last_day", "first_day"])


def _backfill(connection: Any) -> None:
    last = 0
    while True:
        rows = connection.execute(
            sa.select(courses.c.id, courses.c.plan).where(courses.c.id > last)
            .order_by(courses.c.id).limit(BATCH)
        ).all()
        if not rows:
            return
        values = []
        for row in rows:
            days = [date.fromisoformat(d["date"]) for d in (row.plan or {}).get("days", [])]
            if days:
                values.append({"row_id": row.id, "first": min(days), "last": max(days)})
        if values:
            connection.execute(
                sa.update(courses).where(courses.c.id == sa.bindparam("row_id"))
                .values(first_day=sa.bindparam("first"), last_day=sa.bindparam("last")),
                values,
            )
        last = rows[-1].id


def downgrade() -> None:
    raise NotImplementedError("The clinical record is never downgraded; restore a backup instead.")
