"""Laboratory results and the delayed-reaction call, end to end through the services (fakes)."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest
from test_followup_services import setup_unit

from infusionist.domain.access import Role
from infusionist.domain.errors import AccessDenied, Conflict, EventRefused, ValidationFailed
from infusionist.services import events, followup, lab_results

ONSET = datetime(2026, 3, 4, 20, 30, tzinfo=UTC)  # the evening of infusion day 3 (2026-03-04)


def platelets(patient_id: int, value: str | None, **extra: Any) -> lab_results.RecordLabResult:
    return lab_results.RecordLabResult(
        patient_id=patient_id, analyte="platelets",
        value=Decimal(value) if value is not None else None, unit="10*9/L",
        taken_on=date(2026, 4, 6), reference_low=Decimal(150), reference_high=Decimal(400), **extra)


def counts(uow: Any) -> dict[str, int]:
    return {name: len(rows) for name, rows in uow.store.tables.items()}


def test_a_platelet_count_below_the_lower_limit_becomes_a_physician_review__PROT_36() -> None:
    deps, clock, uow, ctx, (course_id, _) = setup_unit()
    recorded = lab_results.record_lab_result(deps, ctx[Role.NURSE], platelets(1, "92"))
    assert [a["code"] for a in recorded["alerts"]] == ["PLATELETS-LOW"]
    assert recorded["result"]["value"] == "92" and recorded["result"]["course_id"] == course_id
    (review,) = recorded["review_tasks"]
    assert (review["kind"], review["task"], review["due"]) == (
        "physician_review", "thrombocytopenia work-up", "2026-04-08")  # within 2 days
    stored = uow.store.tables["tasks"][review["task_id"]]
    assert (stored.course_id, stored.status, stored.opens) == (course_id, "due", date(2026, 4, 6))
    actions = [e.action for e in uow.store.tables["audit"].values()]
    assert actions[-1] == "lab_result.record"
    # On the worklist; a nurse cannot close it, a physician needs a reason.
    clock.current = datetime(2026, 4, 7, 9, 0, tzinfo=UTC)
    listed = followup.due_worklist(deps, ctx[Role.NURSE], date(2026, 4, 7))
    assert review["task_id"] in {r["task_id"] for r in listed}
    with pytest.raises(AccessDenied):
        followup.close_task(deps, ctx[Role.NURSE], review["task_id"], "done", "seen")
    with pytest.raises(ValidationFailed) as missing:
        followup.close_task(deps, ctx[Role.PHYSICIAN], review["task_id"], "done", "  ")
    assert missing.value.code == "FOLLOWUP-REASON-REQUIRED"
    closed = followup.close_task(deps, ctx[Role.PHYSICIAN], review["task_id"], "done",
                                 "repeat count in 1 week; haematology referral")
    assert (closed["status"], closed["reason"]) == ("done", "repeat count in 1 week; haematology referral")
    # A normal count raises nothing; investigators read the results, admins do not.
    normal = lab_results.record_lab_result(deps, ctx[Role.PHYSICIAN], platelets(1, "250"))
    assert normal["alerts"] == [] and normal["review_tasks"] == []
    assert [r["value"] for r in lab_results.list_lab_results(deps, ctx[Role.INVESTIGATOR], 1)] == [
        "92", "250"]
    with pytest.raises(AccessDenied):
        lab_results.list_lab_results(deps, ctx[Role.ADMIN], 1)
    with pytest.raises(AccessDenied):
        lab_results.record_lab_result(deps, ctx[Role.INVESTIGATOR], platelets(1, "92"))


@pytest.mark.parametrize(("value", "unit", "code"), [
    ("5000", "10*9/L", "LAB-IMPLAUSIBLE"), (None, "10*9/L", "LAB-VALUE-MISSING"),
    ("92", "mg/dL", "LAB-UNIT"),
])
def test_an_impossible_result_is_refused_and_nothing_is_written__PROT_34(
    value: str | None, unit: str, code: str
) -> None:
    deps, _clock, uow, ctx, _ = setup_unit()
    before = counts(uow)
    command = platelets(1, value)
    with pytest.raises(ValidationFailed) as refused:
        lab_results.record_lab_result(deps, ctx[Role.NURSE], lab_results.RecordLabResult(
            **{**vars(command), "unit": unit}))
    assert refused.value.code == code
    assert counts(uow) == before


def call_task(uow: Any, course_id: int, day: int) -> int:
    return next(t.id for t in uow.store.tables["tasks"].values()
                if t.course_id == course_id and t.kind == "call"
                and t.activity_id.endswith(f"-d{day}"))


def test_a_call_answered_with_symptoms_records_the_reaction_on_that_day__IAR_15_IAR_17() -> None:
    deps, clock, uow, ctx, (course_id, _) = setup_unit()
    clock.current = datetime(2026, 3, 5, 9, 0, tzinfo=UTC)
    task_id = call_task(uow, course_id, 3)
    answered = followup.answer_call(deps, ctx[Role.NURSE], task_id, followup.CallAnswerCommand(
        symptoms=("rash", "pruritus"), onset=ONSET, note="itchy rash on the arms since last night"))
    assert (answered["status"], answered["infusion_day"], answered["closed_on"]) == (
        "done", 3, "2026-03-05")
    assert answered["reason"] == ("delayed reaction: rash, pruritus; "
                                  "itchy rash on the arms since last night")
    reaction = answered["reaction"]
    assert (reaction.course_id, reaction.day, reaction.type) == (course_id, 3, "reaction_onset")
    stored = events.list_events(deps, ctx[Role.NURSE], course_id, 3)
    assert [(e.type, e.payload["symptoms"], e.payload["at"]) for e in stored] == [
        ("reaction_onset", ["rash", "pruritus"], ONSET.isoformat())]
    assert events.list_events(deps, ctx[Role.NURSE], course_id, 2) == []
    assert uow.store.tables["tasks"][task_id].status == "done"
    assert [e.action for e in uow.store.tables["audit"].values()][-2:] == [
        "event.append", "task.answer_call"]
    with pytest.raises(Conflict):  # answered once only
        followup.answer_call(deps, ctx[Role.NURSE], task_id, followup.CallAnswerCommand())


def test_a_call_answered_without_symptoms_only_closes_it__IAR_17() -> None:
    deps, clock, uow, ctx, (course_id, _) = setup_unit()
    clock.current = datetime(2026, 3, 3, 9, 0, tzinfo=UTC)
    task_id = call_task(uow, course_id, 1)
    before = len(uow.store.tables["events"])
    answered = followup.answer_call(deps, ctx[Role.NURSE], task_id, followup.CallAnswerCommand())
    assert (answered["status"], answered["reason"], answered["reaction"]) == (
        "done", "no delayed reaction", None)
    assert len(uow.store.tables["events"]) == before
    assert uow.store.tables["tasks"][task_id].status == "done"


def test_a_refused_answer_writes_nothing__IAR_15() -> None:
    deps, clock, uow, ctx, (course_id, _) = setup_unit()
    clock.current = datetime(2026, 3, 3, 9, 0, tzinfo=UTC)
    task_id = call_task(uow, course_id, 1)
    # Day 1 was closed without an infusion: no late reaction can be recorded against it.
    events.append_event(deps, ctx[Role.NURSE], events.AppendEvent(course_id, 1, 1, {
        "type": "discharged", "at": "2026-03-02T12:00:00+01:00"}))
    before = counts(uow)
    answers = [
        (followup.CallAnswerCommand(symptoms=("rash",), onset=ONSET - timedelta(days=2)), EventRefused),
        (followup.CallAnswerCommand(symptoms=("rash",)), ValidationFailed),  # no onset
        (followup.CallAnswerCommand(symptoms=("no-such-symptom",), onset=ONSET), ValidationFailed),
    ]
    for answer, error in answers:
        with pytest.raises(error):
            followup.answer_call(deps, ctx[Role.NURSE], task_id, answer)
    review = next(t.id for t in uow.store.tables["tasks"].values() if t.kind != "call")
    with pytest.raises(Conflict) as not_a_call:
        followup.answer_call(deps, ctx[Role.NURSE], review, followup.CallAnswerCommand())
    assert not_a_call.value.code == "FOLLOWUP-NOT-A-CALL"
    with pytest.raises(AccessDenied):
        followup.answer_call(deps, ctx[Role.INVESTIGATOR], task_id, followup.CallAnswerCommand())
    assert counts(uow) == before
