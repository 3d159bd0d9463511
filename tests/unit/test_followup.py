"""Follow-up tasks: one status lifecycle, windows, delayed-reaction calls (IAR-15, IAR-17)."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from infusionist.domain.errors import FollowUpRefused, ValidationFailed
from infusionist.domain.followup import (
    TRANSITIONS,
    FollowUpTask,
    TaskKind,
    TaskStatus,
    answer_call,
    cancel,
    complete,
    delayed_reaction_calls,
    monitoring_tasks,
    most_urgent_first,
    refresh,
    task_from_occurrence,
)
from infusionist.domain.protocol import Monitoring, Protocol

BERLIN = ZoneInfo("Europe/Berlin")
COURSE_1 = [date(2026, 12, 7) + timedelta(days=i) for i in range(5)]
OPTIONS = {"liver-monitoring": "eu-label"}


def _monitoring(protocol: Protocol) -> Monitoring:
    assert protocol.monitoring is not None
    return protocol.monitoring


def _blood_count(protocol: Protocol, month: int = 7) -> FollowUpTask:
    tasks = monitoring_tasks(protocol, [date(2026, 12, 11)], OPTIONS)
    return next(t for t in tasks if t.id == f"c1-after-full-blood-count-m{month:02d}")


def _calls(protocol: Protocol) -> list[FollowUpTask]:
    window = _monitoring(protocol).task_window
    return [task_from_occurrence(o, window) for o in delayed_reaction_calls(protocol, 1, COURSE_1)]


# -- the lifecycle --------------------------------------------------------------------------------


def test_closed_states_are_final_and_open_ones_can_close() -> None:
    assert TRANSITIONS[TaskStatus.DONE] == frozenset()
    assert TRANSITIONS[TaskStatus.CANCELLED] == frozenset()
    assert TaskStatus.DONE in TRANSITIONS[TaskStatus.OVERDUE]
    assert TaskStatus.DUE not in TRANSITIONS[TaskStatus.OVERDUE]


def test_a_task_becomes_overdue_after_its_window__PROT_34(protocol: Protocol) -> None:
    task = _blood_count(protocol)
    assert task.due == date(2027, 7, 11)
    assert refresh(task, date(2027, 7, 18)).status is TaskStatus.DUE
    assert refresh(task, task.overdue_from).status is TaskStatus.OVERDUE


def test_the_window_opens_before_the_due_date__PROT_34(protocol: Protocol) -> None:
    task = _blood_count(protocol)
    assert not task.is_visible_on(date(2027, 7, 3))
    assert task.is_visible_on(task.opens)
    assert task.opens < task.due < task.overdue_from


def test_an_overdue_task_can_still_be_done(protocol: Protocol) -> None:
    late = refresh(_blood_count(protocol), date(2027, 9, 1))
    done = complete(late, date(2027, 9, 2))
    assert done.status is TaskStatus.DONE and done.closed_on == date(2027, 9, 2)


def test_cancelling_needs_a_reason__PROT_34(protocol: Protocol) -> None:
    task = _blood_count(protocol)
    with pytest.raises(FollowUpRefused) as caught:
        cancel(task, date(2027, 7, 1), "  ")
    assert caught.value.code == "FOLLOWUP-REASON-REQUIRED"
    cancelled = cancel(task, date(2027, 7, 1), "Taken by the GP; result sent to the centre")
    assert cancelled.status is TaskStatus.CANCELLED
    assert cancelled.reason == "Taken by the GP; result sent to the centre"


def test_a_closed_task_cannot_change_again(protocol: Protocol) -> None:
    done = complete(_blood_count(protocol), date(2027, 7, 11))
    with pytest.raises(FollowUpRefused) as caught:
        cancel(done, date(2027, 7, 12), "duplicate")
    assert caught.value.code == "FOLLOWUP-TASK-CLOSED"
    assert refresh(done, date(2030, 1, 1)) is done


def test_worklist_puts_overdue_first_then_by_due_date(protocol: Protocol) -> None:
    tasks = monitoring_tasks(protocol, [date(2026, 12, 11)], OPTIONS)
    today = date(2027, 3, 9)
    ordered = most_urgent_first(tasks, today)
    assert ordered[0].status is TaskStatus.OVERDUE
    statuses = [t.status for t in ordered]
    assert statuses == sorted(statuses, key=lambda s: s is not TaskStatus.OVERDUE)
    assert all(t.opens <= today for t in ordered)
    assert {t.id for t in ordered} >= {"c1-after-thyroid-function-m03", "c1-after-full-blood-count-m03"}


# -- delayed-reaction calls -----------------------------------------------------------------------


def test_a_call_within_24_h_after_each_infusion_day__IAR_15_IAR_17(protocol: Protocol) -> None:
    calls = _calls(protocol)
    assert [c.id for c in calls] == [f"c1-after-delayed-reaction-call-d{n}" for n in range(1, 6)]
    assert [c.due for c in calls] == [d.replace(day=d.day + 1) for d in COURSE_1]
    assert all(c.kind is TaskKind.CALL and {"IAR-15", "IAR-17"} <= set(c.requirements) for c in calls)
    first = calls[0]
    assert refresh(first, date(2026, 12, 8)).status is TaskStatus.DUE
    assert refresh(first, date(2026, 12, 9)).status is TaskStatus.OVERDUE


def test_a_reported_symptom_records_a_delayed_reaction_against_that_day__IAR_17(protocol: Protocol) -> None:
    call = _calls(protocol)[2]
    answer = answer_call(protocol, call, datetime(2026, 12, 10, 10, 30, tzinfo=BERLIN), ["rash", "pyrexia"])
    assert answer.task.status is TaskStatus.DONE
    assert answer.reaction is not None
    assert (answer.reaction.course, answer.reaction.infusion_day) == (1, 3)
    assert answer.reaction.symptoms == ("rash", "pyrexia")
    assert "rash" in (answer.task.reason or "")


def test_a_call_without_symptoms_records_no_reaction__IAR_15(protocol: Protocol) -> None:
    answer = answer_call(protocol, _calls(protocol)[0], datetime(2026, 12, 8, 9, 0, tzinfo=BERLIN), [])
    assert answer.reaction is None
    assert answer.task.reason == "no delayed reaction"


def test_a_call_refuses_unknown_symptoms_and_naive_times__IAR_17(protocol: Protocol) -> None:
    call = _calls(protocol)[0]
    with pytest.raises(ValidationFailed) as unknown:
        answer_call(protocol, call, datetime(2026, 12, 8, 9, 0, tzinfo=BERLIN), ["sneezing-fit"])
    assert unknown.value.code == "INPUT-SYMPTOM"
    with pytest.raises(ValidationFailed) as naive:
        answer_call(protocol, call, datetime(2026, 12, 8, 9, 0), ["rash"])
    assert naive.value.code == "INPUT-TIME-ZONE"


def test_only_a_call_takes_an_answer(protocol: Protocol) -> None:
    with pytest.raises(FollowUpRefused) as caught:
        answer_call(protocol, _blood_count(protocol), datetime(2027, 7, 11, 9, tzinfo=BERLIN), [])
    assert caught.value.code == "FOLLOWUP-NOT-A-CALL"
