"""The follow-up task repository: a course's tasks, the worklist query, closing one task.

The worklist is one query over ``follow_up_tasks`` joined to its course and patient. It walks
the index on (status, due): ``status = 'due' AND due <= horizon`` (the caller passes the last due
date whose window can have opened today), then keeps the rows whose window has opened
(``opens <= today``) and sorts overdue first (oldest due first), then by due date.
"""

from __future__ import annotations

from datetime import date

from sqlalchemy import and_, case, select, update

from infusionist.adapters.db import tables as t
from infusionist.adapters.db.repositories import TaskRepository
from infusionist.domain.records import FollowUpTask, WorklistRow

OPEN = "due"  # the only open status that is stored; overdue is derived at read time


class FollowUpTaskRepository(TaskRepository):
    def get(self, task_id: int) -> FollowUpTask | None:
        row = self._first(t.follow_up_tasks, t.follow_up_tasks.c.id == task_id)
        return FollowUpTask(**row) if row is not None else None

    def open_worklist(self, today: date, horizon: date) -> list[WorklistRow]:
        ft, c, p = t.follow_up_tasks, t.courses, t.patients
        overdue_last = case((ft.c.overdue_from <= today, 0), else_=1)
        query = (
            select(ft, c.c.number.label("course_number"), p.c.id.label("patient_id"),
                   p.c.name.label("patient_name"), p.c.pseudonym)
            .select_from(ft.join(c, c.c.id == ft.c.course_id).join(p, p.c.id == c.c.patient_id))
            .where(and_(ft.c.status == OPEN, ft.c.due <= horizon, ft.c.opens <= today))
            .order_by(overdue_last, ft.c.due, ft.c.id)
        )
        columns = [col.name for col in ft.columns]
        out = []
        for row in self.c.execute(query).mappings():
            out.append(WorklistRow(
                task=FollowUpTask(**{name: row[name] for name in columns}),
                patient_id=row["patient_id"], patient_name=row["patient_name"],
                pseudonym=row["pseudonym"], course=row["course_number"],
            ))
        return out

    def close(self, task_id: int, status: str, closed_on: date, reason: str | None) -> bool:
        """Close an open task; False when it was no longer open (someone closed it first)."""
        changed = self.c.execute(
            update(t.follow_up_tasks)
            .where(t.follow_up_tasks.c.id == task_id, t.follow_up_tasks.c.status == OPEN)
            .values(status=status, closed_on=closed_on, reason=reason)
        )
        return changed.rowcount == 1
