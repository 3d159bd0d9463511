"""Follow-up tasks: one status lifecycle, windows, delayed-reaction calls (IAR-15, IAR-17)."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from infusionist.domain.activities import ActivityKind
from infusionist.domain.centre import CentreConfig
from infusionist.domain.due import DueState, due_rule
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
    tasks_from_plan,
)
from infusionist.domain.planning import CoursePlan
from infusionist.domain.protocol import Protocol
from infusionist.domain.protocol_monitoring import Monitoring

BERLIN = ZoneInfo("Europe/Berlin")
PlanFactory = Callable[..., CoursePlan]
COURSE_1 = [date(2026, 12, 7) + timedelta(days=i) for i in range(5)]
OPTIONS = {"liver-monitoring": "eu-label"}


def _monitoring(protocol: Protocol) -> Monitoring:
    assert protocol.monitoring is not None
    return protocol.monitoring


def _blood_count(protocol: Protocol, month: int = 7) -> FollowUpTask:
    tasks = monitoring_tasks(protocol, [date(2026, 12, 11)], OPTIONS)
    return next(t for t in tasks if t.activity_id == f"c1-after-full-blood-count-m{month:02d}")


def _calls(protocol: Protocol) -> list[FollowUpTask]:
    monitoring = _monitoring(protocol)
    return [task_from_occurrence(o, monitoring) for o in delayed_reaction_calls(protocol, 1, COURSE_1)]


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
    rule = due_rule(protocol)
    assert task.due_on(rule, date(2027, 7, 3)).state is DueState.UPCOMING
    assert task.due_on(rule, task.opens).state is DueState.DUE
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
    ordered = most_urgent_first(tasks, today, due_rule(protocol))
    assert ordered[0].status is TaskStatus.OVERDUE
    statuses = [t.status for t in ordered]
    assert statuses == sorted(statuses, key=lambda s: s is not TaskStatus.OVERDUE)
    assert all(t.opens <= today for t in ordered)
    assert {t.activity_id for t in ordered} >= {"c1-after-thyroid-function-m03", "c1-after-full-blood-count-m03"}


# -- delayed-reaction calls -----------------------------------------------------------------------


def test_a_call_within_24_h_after_each_infusion_day__IAR_15_IAR_17(protocol: Protocol) -> None:
    calls = _calls(protocol)
    assert [c.activity_id for c in calls] == [f"c1-after-delayed-reaction-call-d{n}" for n in range(1, 6)]
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


# -- in the plan ----------------------------------------------------------------------------------


def test_the_plan_lists_every_monitoring_occurrence_as_a_follow_up__PROT_34(make_plan: PlanFactory) -> None:
    plan = make_plan()
    follow_ups = [a for a in plan.activities if a.kind is ActivityKind.FOLLOW_UP]
    by_name = Counter(a.name for a in follow_ups)
    assert by_name["full blood count"] == by_name["serum creatinine"] == by_name["urinalysis"] == 48
    assert by_name["thyroid function"] == 16
    assert by_name["skin examination"] == 4
    assert by_name["delayed reaction call"] == 5
    blood = next(a for a in plan.activities if a.id == "c1-after-full-blood-count-m07")
    assert blood.day is None and blood.all_day
    assert blood.start.date() == date(2027, 7, 11) and blood.start.tzinfo is not None
    assert {"PROT-34", "PROT-36"} <= set(blood.requirements)
    assert any("us-label" in text for text in blood.advisories)


def test_every_follow_up_occurrence_cites_its_requirements_and_source(make_plan: PlanFactory) -> None:
    for activity in make_plan().activities:
        if activity.kind is ActivityKind.FOLLOW_UP:
            assert activity.requirements, activity.id


def test_plan_activity_ids_are_stable_and_unique(make_plan: PlanFactory) -> None:
    first, again = make_plan(), make_plan()
    assert [a.id for a in first.activities] == [a.id for a in again.activities]
    assert len({a.id for a in first.activities}) == len(first.activities)


def test_course_2_counts_its_series_from_its_own_last_infusion__us_label(make_plan: PlanFactory) -> None:
    plan = make_plan(course=2, first_day=date(2027, 12, 13), previous_course_end=date(2026, 12, 11))
    blood = [a for a in plan.activities if a.element == "full-blood-count"]
    assert blood[0].id == "c2-after-full-blood-count-m01" and blood[0].start.date() == date(2028, 1, 15)
    assert blood[-1].start.date() == date(2031, 12, 15)
    assert sum(a.element == "delayed-reaction-call" for a in plan.activities) == 3


def test_the_plan_follows_the_liver_test_option__eu_label(make_plan: PlanFactory) -> None:
    us = make_plan(config=CentreConfig(options={"liver-monitoring": "us-label"}))
    assert not any(a.element == "liver-function" for a in us.activities)
    assert sum(a.element == "liver-function" for a in make_plan().activities) == 48


def test_a_plan_becomes_follow_up_tasks_with_one_status__PROT_27_PROT_28_PROT_29_PROT_30_PROT_33(
    make_plan: PlanFactory, protocol: Protocol
) -> None:
    plan = make_plan()
    tasks = {t.activity_id: t for t in tasks_from_plan(plan.activities, plan.course, protocol)}
    assert tasks["c1-after-aciclovir-end"].due == date(2027, 1, 4)
    assert tasks["c1-after-cetirizine-end"].due == date(2026, 12, 18)
    assert tasks["c1-after-paracetamol-standby"].due == date(2026, 12, 12)
    assert tasks["c1-after-check-up"].due == date(2027, 1, 8)
    assert tasks["c1-after-contraception"].element == "contraception"
    assert tasks["c1-after-next-course"].due == date(2027, 12, 11)
    assert tasks["c1-after-delayed-reaction-call-d1"].kind is TaskKind.CALL
    assert tasks["c1-after-full-blood-count-m07"].kind is TaskKind.LAB
    assert all(t.status is TaskStatus.DUE for t in tasks.values())


def test_the_calls_window_is_protocol_data__IAR_15_IAR_17(protocol: Protocol) -> None:
    """The call's window (on the worklist from the infusion day, overdue the day after it is due)
    comes from ``delayed_reaction_call.window``: a wider window in the data widens the task."""
    monitoring = _monitoring(protocol)
    call = monitoring.delayed_reaction_call
    assert call is not None
    first = _calls(protocol)[0]
    assert (first.opens, first.due, first.overdue_from) == (
        COURSE_1[0], COURSE_1[0] + timedelta(days=1), COURSE_1[0] + timedelta(days=2))
    wider = call.model_copy(update={"window": call.window.model_copy(update={
        "opens_before": call.window.opens_before.model_copy(update={"days": 2}),
        "overdue_after": call.window.overdue_after.model_copy(update={"days": 3})})})
    changed = monitoring.model_copy(update={"delayed_reaction_call": wider})
    occurrence = delayed_reaction_calls(protocol, 1, COURSE_1)[0]
    task = task_from_occurrence(occurrence, changed)
    assert (task.opens, task.overdue_from) == (COURSE_1[0] - timedelta(days=1),
                                               COURSE_1[0] + timedelta(days=5))


@pytest.mark.parametrize(("today", "state", "late"), [
    (date(2027, 7, 3), DueState.UPCOMING, 0), (date(2027, 7, 4), DueState.DUE, 0),
    (date(2027, 7, 18), DueState.DUE, 0), (date(2027, 7, 19), DueState.OVERDUE, 8),
])
def test_one_rule_for_due_and_overdue__PROT_34(protocol: Protocol, today: date, state: DueState,
                                               late: int) -> None:
    """Upcoming before the window opens, due inside it, overdue from the day after the window
    closes with the days past the due date; closed tasks keep their status."""
    task = _blood_count(protocol)  # due 2027-07-11, window 7 days either side
    due = task.due_on(due_rule(protocol), today)
    assert (due.state, due.days_overdue) == (state, late)
    assert due.on_worklist is (state in (DueState.DUE, DueState.OVERDUE))
    done = complete(task, date(2027, 7, 10))
    assert done.due_on(due_rule(protocol), today).state is DueState.DONE


def test_the_rules_lead_is_the_widest_task_window__PROT_34(protocol: Protocol) -> None:
    rule = due_rule(protocol)
    assert rule.lead == timedelta(days=7)
    assert rule.horizon(date(2027, 1, 1)) == date(2027, 1, 8)
    assert rule.horizon(date.max) == date.max


def test_a_planned_call_keeps_its_infusion_day_element_and_requirements__IAR_15_IAR_17(
    make_plan: PlanFactory, protocol: Protocol
) -> None:
    """The task carries them as data (stored as columns, 0011), never parsed out of its id."""
    plan = make_plan()
    tasks = {t.activity_id: t for t in tasks_from_plan(plan.activities, plan.course, protocol)}
    calls = [t for t in tasks.values() if t.kind is TaskKind.CALL]
    assert [t.infusion_day for t in calls] == list(range(1, len(plan.days) + 1))
    assert all(t.element == "delayed-reaction-call" and {"IAR-15", "IAR-17"} <= set(t.requirements)
               for t in calls)
    assert all(t.infusion_day is None for t in tasks.values() if t.kind is not TaskKind.CALL)
    assert tasks["c1-after-full-blood-count-m07"].element == "full-blood-count"
