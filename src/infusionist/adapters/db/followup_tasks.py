"""The follow-up task repository: a course's tasks, the worklist query, closing one task.

The worklist walks the index on (status, due): ``status = 'due' AND due <= horizon`` (the caller
passes the last due date whose window can have opened today), keeps the rows whose window has
opened (``opens <= today``) and sorts overdue first (oldest due first), then by due date and id.
A page (``limit``/``offset``) is chosen on the task table alone and only its rows are joined to
course and patient; the total and overdue counts are one aggregate over the same range.
"""

from __future__ import annotations

from datetime import date

from sqlalchemy import ColumnElement, and_, case, func, select, update

from infusionist.adapters.db import tables as t
from infusionist.adapters.db.repositories import TaskRepository
from infusionist.domain.due import OPEN_STORED as OPEN  # overdue is derived at read time
from infusionist.domain.records import WorklistCounts, WorklistRow


class FollowUpTaskRepository(TaskRepository):
    def open_worklist(self, today: date, horizon: date, limit: int | None = None,
                      offset: int = 0) -> list[WorklistRow]:
        """One page of the worklist, most urgent first: the page is chosen on the task table alone
        (the index range, then a sort of the few columns it needs), and only its rows are joined
        to their course and patient. Rows come back as plain tuples of the shown columns."""
        ft, c, p = t.follow_up_tasks, t.courses, t.patients
        overdue_last = case((ft.c.overdue_from <= today, 0), else_=1)
        page = (
            select(ft.c.id, ft.c.course_id, ft.c.activity_id, ft.c.name, ft.c.kind, ft.c.due,
                   ft.c.opens, ft.c.overdue_from, overdue_last.label("urgency"))
            .where(_open_on(today, horizon))
            .order_by(overdue_last, ft.c.due, ft.c.id)
            .limit(limit).offset(offset)
            .subquery("page")
        )
        query = (
            select(page.c.id, p.c.id, p.c.name, p.c.pseudonym, page.c.course_id, c.c.number,
                   page.c.activity_id, page.c.name, page.c.kind, page.c.due, page.c.opens,
                   page.c.overdue_from)
            .select_from(page.join(c, c.c.id == page.c.course_id).join(p, p.c.id == c.c.patient_id))
            .order_by(page.c.urgency, page.c.due, page.c.id)
        )
        make = WorklistRow._make
        return [make(row) for row in self.c.execute(query)]

    def worklist_counts(self, today: date, horizon: date) -> WorklistCounts:
        """The whole worklist's size and its overdue tasks: one aggregate over the index range."""
        ft = t.follow_up_tasks
        overdue = func.coalesce(func.sum(case((ft.c.overdue_from <= today, 1), else_=0)), 0)
        total, late = self.c.execute(
            select(func.count(), overdue).select_from(ft).where(_open_on(today, horizon))).one()
        return WorklistCounts(total=int(total), overdue=int(late))

    def close(self, task_id: int, status: str, closed_on: date, reason: str | None) -> bool:
        """Close an open task; False when it was no longer open (someone closed it first)."""
        changed = self.ledger.update(
            update(t.follow_up_tasks)
            .where(t.follow_up_tasks.c.id == task_id, t.follow_up_tasks.c.status == OPEN)
            .values(status=status, closed_on=closed_on, reason=reason)
        )
        return len(changed) == 1


def _open_on(today: date, horizon: date) -> ColumnElement[bool]:
    """Open tasks whose window has opened by ``today`` (``horizon``: the last due date that can)."""
    ft = t.follow_up_tasks
    return and_(ft.c.status == OPEN, ft.c.due <= horizon, ft.c.opens <= today)
