"""The one rule for when a follow-up task is due and when it is overdue (PROT-34).

Every reader (the worklist, the patient page, the API, the CLI) asks this module; none has a rule
of its own. A task has a window, set when it is made from the protocol's task windows
(``monitoring.task_window`` for the series and care tasks, ``delayed_reaction_call.window`` for
the calls): it *opens* ``opens_before`` ahead of its due date and is *overdue* from the day after
``overdue_after`` past it. On a given day an open task (stored status ``due``) is

- ``upcoming`` before its window opens, or while its due date lies beyond the protocol's longest
  lead (``DueRule.lead``; this keeps a task written under an older, wider window from appearing
  earlier than today's protocol lets any task appear);
- ``due`` from then on;
- ``overdue`` from its ``overdue_from`` date on, counted in whole days past the due date.

A closed task stays ``done`` or ``cancelled``. The worklist lists exactly the ``due`` and
``overdue`` tasks; its query reads the same bounds (``DueRule.horizon``).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from enum import StrEnum

from infusionist.domain.protocol import Protocol
from infusionist.domain.protocol_elements import Period
from infusionist.domain.protocol_monitoring import TaskWindow

REQUIREMENTS = ("PROT-34", "IAR-15", "IAR-17")

DAYS_PER_MONTH_AT_MOST = 31
MIN_LEAD = timedelta(days=1)  # a task is never shown later than the day before it is due


class DueState(StrEnum):
    UPCOMING = "upcoming"
    DUE = "due"
    OVERDUE = "overdue"
    DONE = "done"
    CANCELLED = "cancelled"


OPEN_STORED = "due"  # the only open status a stored task holds: overdue is never stored
_OPEN = frozenset({OPEN_STORED, "overdue"})  # a domain task may hold overdue once refreshed


def is_overdue(overdue_from: date, today: date) -> bool:
    """An open task is overdue from its ``overdue_from`` day on."""
    return today >= overdue_from


@dataclass(frozen=True, slots=True)
class Due:
    """A task's state on a day and, when overdue, how many days past its due date."""

    state: DueState
    days_overdue: int = 0

    @property
    def on_worklist(self) -> bool:
        return self.state in (DueState.DUE, DueState.OVERDUE)


@dataclass(frozen=True, slots=True)
class DueRule:
    """The rule with the protocol's longest lead (how long before its due date any task opens)."""

    lead: timedelta

    def horizon(self, today: date) -> date:
        """The last due date a task on today's worklist can have."""
        return today + self.lead if today <= date.max - self.lead else date.max

    def on(self, status: str, due: date, opens: date, overdue_from: date, today: date) -> Due:
        """The task's state on ``today`` (``status``: the stored one: due, done or cancelled)."""
        if status not in _OPEN:
            return Due(DueState(status))
        if is_overdue(overdue_from, today):
            return Due(DueState.OVERDUE, (today - due).days)
        if today >= opens and due <= self.horizon(today):
            return Due(DueState.DUE)
        return Due(DueState.UPCOMING)


def lead_of(window: TaskWindow) -> timedelta:
    return timedelta(days=_days_at_most(window.opens_before))


def due_rule(protocol: Protocol) -> DueRule:
    """The rule under ``protocol``: its lead is the widest of its task windows (months counted
    as 31 days), and at least a day."""
    windows = protocol.monitoring.windows() if protocol.monitoring is not None else ()
    return DueRule(max([MIN_LEAD, *(lead_of(w) for w in windows)]))


def _days_at_most(period: Period) -> int:
    return period.months * DAYS_PER_MONTH_AT_MOST + period.weeks * 7 + period.days
