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

from dataclasses import dataclass, field
from datetime import date, timedelta
from enum import StrEnum
from functools import lru_cache

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
    status: str = field(init=False)  # the state's word, as the pages and the API write it
    on_worklist: bool = field(init=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "status", self.state.value)
        object.__setattr__(self, "on_worklist", self.state in (DueState.DUE, DueState.OVERDUE))


@dataclass(frozen=True, slots=True)
class DueRule:
    """The rule with the protocol's longest lead (how long before its due date any task opens)."""

    lead: timedelta

    def horizon(self, today: date) -> date:
        """The last due date a task on today's worklist can have."""
        return today + self.lead if today <= date.max - self.lead else date.max

    def on(self, status: str, due: date, opens: date, overdue_from: date, today: date) -> Due:
        """The task's state on ``today`` (``status``: the stored one: due, done or cancelled).
        Answers with shared values (a worklist of thousands of rows asks once per row)."""
        if status not in _OPEN:
            return _CLOSED[status]
        if is_overdue(overdue_from, today):
            return _overdue((today - due).days)
        if today >= opens and due <= self.horizon(today):
            return _DUE
        return _UPCOMING


_DUE, _UPCOMING = Due(DueState.DUE), Due(DueState.UPCOMING)
_CLOSED = {state.value: Due(state) for state in (DueState.DONE, DueState.CANCELLED)}


@lru_cache(maxsize=4096)
def _overdue(days: int) -> Due:
    return Due(DueState.OVERDUE, days)


def lead_of(window: TaskWindow) -> timedelta:
    return timedelta(days=_days_at_most(window.opens_before))


def due_rule(protocol: Protocol) -> DueRule:
    """The rule under ``protocol``: its lead is the widest of its task windows (months counted
    as 31 days), and at least a day."""
    windows = protocol.monitoring.windows() if protocol.monitoring is not None else ()
    return DueRule(max([MIN_LEAD, *(lead_of(w) for w in windows)]))


def _days_at_most(period: Period) -> int:
    return period.months * DAYS_PER_MONTH_AT_MOST + period.weeks * 7 + period.days
