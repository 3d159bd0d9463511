"""Follow-up tasks keep their protocol element, a call's infusion day and the requirement IDs.

Until now the readers parsed them out of the activity id (``c1-after-delayed-reaction-call-d3``:
infusion day 3). Adds ``element`` (not null), ``infusion_day`` (a delayed-reaction call's, else
null) and ``requirements`` (a JSON list, not null), on SQLite and PostgreSQL alike.

Backfill of the rows written before this revision, from what the record already holds:

- a planned task (``c<course>-after-...``): its activity in the course's stored plan (the plan
  JSON lists every activity with its element and requirement IDs); a call's infusion day from
  the id format (``-d<n>`` after ``delayed-reaction-call``);
- a physician's review of a result (``review-<result id>-<alert code>``): the element is the
  result's analyte (``lab_results``); its requirement IDs were never stored and stay an empty list;
- anything else: the element is the activity id's part after ``-after-`` without a series'
  month (``-m07``) or a call's day (``-d3``), and the list is empty.

Self-contained on purpose (no import of ``tables.py`` or the domain). The table is protected:
the seal after the migration re-takes its rows into the row ledger.

Revision ID: 0011_followup_columns
Revises: 0010_unit_admin
"""

from __future__ import annotations

import json
import re
from typing import Any

import sqlalchemy as sa
from alembic import op

revision = "0011_followup_columns"
down_revision = "0010_unit_admin"
branch_labels = None
depends_on = None

CALL_ELEMENT = "delayed-reaction-call"
_CALL_DAY = re.compile(r"-after-delayed-reaction-call-d(\d+)$")
_REVIEW = re.compile(r"^review-(\d+)-")
_SUFFIX = re.compile(r"-(m\d{2}|d\d+)$")  # a series' month or a call's day
BATCH = 5000

tasks = sa.table(
    "follow_up_tasks",
    sa.column("id", sa.Integer),
    sa.column("course_id", sa.Integer),
    sa.column("activity_id", sa.String),
    sa.column("element", sa.String),
    sa.column("infusion_day", sa.Integer),
    sa.column("requirements", sa.JSON),
)
courses = sa.table("courses", sa.column("id", sa.Integer), sa.column("plan", sa.JSON))
lab_results = sa.table("lab_results", sa.column("id", sa.Integer), sa.column("analyte", sa.String))


def upgrade() -> None:
    with op.batch_alter_table("follow_up_tasks") as batch:
        batch.add_column(sa.Column("element", sa.String(100), nullable=True))
        batch.add_column(sa.Column("infusion_day", sa.Integer, nullable=True))
        batch.add_column(sa.Column("requirements", sa.JSON, nullable=True))
    backfill(op.get_bind())
    with op.batch_alter_table("follow_up_tasks") as batch:
        batch.alter_column("element", existing_type=sa.String(100), nullable=False)
        batch.alter_column("requirements", existing_type=sa.JSON, nullable=False)


def backfill(connection: sa.Connection) -> None:
    analytes = {row.id: row.analyte for row in connection.execute(
        sa.select(lab_results.c.id, lab_results.c.analyte))}
    activities: dict[int, dict[str, tuple[str, list[str]]]] = {}
    rows = connection.execute(sa.select(tasks.c.id, tasks.c.course_id, tasks.c.activity_id)
                              .order_by(tasks.c.id)).all()
    updates: list[dict[str, Any]] = []
    for row in rows:
        if row.course_id not in activities:
            activities[row.course_id] = _plan_activities(connection, row.course_id)
        element, requirements, day = columns_of(row.activity_id, activities[row.course_id], analytes)
        updates.append({"task_id": row.id, "element": element, "infusion_day": day,
                        "requirements": requirements})
        if len(updates) >= BATCH:
            _write(connection, updates)
    _write(connection, updates)


def columns_of(activity_id: str, planned: dict[str, tuple[str, list[str]]],
               analytes: dict[int, str]) -> tuple[str, list[str], int | None]:
    """(element, requirement IDs, infusion day) of a task written before this revision."""
    call = _CALL_DAY.search(activity_id)
    day = int(call.group(1)) if call else None
    if activity_id in planned:
        element, requirements = planned[activity_id]
        return element, requirements, day
    review = _REVIEW.match(activity_id)
    if review is not None and int(review.group(1)) in analytes:
        return analytes[int(review.group(1))], [], None
    if call is not None:
        return CALL_ELEMENT, [], day
    return _SUFFIX.sub("", activity_id.split("-after-", 1)[-1]), [], None


def _plan_activities(connection: sa.Connection, course_id: int) -> dict[str, tuple[str, list[str]]]:
    plan = connection.execute(sa.select(courses.c.plan).where(courses.c.id == course_id)).scalar()
    if isinstance(plan, str):
        plan = json.loads(plan)
    found = {}
    for activity in (plan or {}).get("activities", []):
        if isinstance(activity, dict) and "id" in activity and "element" in activity:
            found[str(activity["id"])] = (str(activity["element"]),
                                          [str(r) for r in activity.get("requirements", [])])
    return found


def _write(connection: sa.Connection, updates: list[dict[str, Any]]) -> None:
    if updates:
        connection.execute(
            tasks.update().where(tasks.c.id == sa.bindparam("task_id"))
            .values(element=sa.bindparam("element"), infusion_day=sa.bindparam("infusion_day"),
                    requirements=sa.bindparam("requirements")),
            updates)
        updates.clear()


def downgrade() -> None:
    raise NotImplementedError("The clinical record is never downgraded; restore a backup instead.")
