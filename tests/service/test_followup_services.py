"""The follow-up worklist and closing tasks, against the in-memory fakes."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest
from fakes import fake_deps

from infusionist.domain.access import USER_ROLES, Role
from infusionist.domain.due import due_rule
from infusionist.domain.errors import AccessDenied, Conflict, ValidationFailed
from infusionist.domain.followup import TaskKind, TaskStatus, most_urgent_first, tasks_from_plan
from infusionist.domain.plan_json import plan_from_json
from infusionist.domain.records import Context
from infusionist.services import auth, courses, followup, patients

CHECK_UP_WINDOW = date(2026, 4, 6)  # course from 2026-03-02: check-up due 2026-04-03, month-1 labs 2026-04-06


def setup_unit() -> tuple[Any, Any, Any, dict[Role, Context], list[int]]:
    """Two patients, each with course 1 (the second starting a week later)."""
    deps, clock, uow = fake_deps()
    ctx = {}
    for role in USER_ROLES:
        auth.create_user(deps, None, role.value, role.value.title(), role, f"password-{role.value}")
        ctx[role] = Context(auth.login(deps, role.value, f"password-{role.value}", None)[1])
    course_ids = []
    for name, first_day in (("Jane Roe", date(2026, 3, 2)), ("John Doe", date(2026, 3, 9))):
        patient = patients.register_patient(deps, ctx[Role.PHYSICIAN],
                                            patients.RegisterPatient(name, date(1980, 1, 2), "female"))
        course = courses.create_course(deps, ctx[Role.PHYSICIAN], courses.CreateCourse(
            patient["id"], 1, first_day, timezone="Europe/Berlin"))
        course_ids.append(course["id"])
    return deps, clock, uow, ctx, course_ids


def test_create_course_stores_the_domain_tasks_with_their_windows_and_status_due() -> None:
    deps, _clock, uow, _ctx, (course_id, _) = setup_unit()
    stored = {t.activity_id: t for t in uow.store.tables["tasks"].values() if t.course_id == course_id}
    plan = plan_from_json(uow.store.tables["courses"][course_id].plan)
    expected = tasks_from_plan(plan.activities, 1, deps.protocol)
    assert len(stored) == len(expected) > 200
    for task in expected:
        row = stored[task.activity_id]
        assert row == task.model_copy(update={"id": row.id, "course_id": course_id})


def test_the_worklist_is_the_domains_most_urgent_first_over_every_patient() -> None:
    deps, _clock, uow, ctx, course_ids = setup_unit()
    tasks = list(uow.store.tables["tasks"].values())
    # Some tasks were done; one early task of each course is still open (and long overdue).
    for row in tasks:
        if row.due < date(2026, 3, 20) and not row.activity_id.endswith("aciclovir-end"):
            uow.store.tables["tasks"][row.id] = row.model_copy(update={"status": TaskStatus.DONE,
                                                                        "closed_on": row.due})
    rows = followup.due_worklist(deps, ctx[Role.NURSE], CHECK_UP_WINDOW)

    domain = [row for row in uow.store.tables["tasks"].values() if row.status == "due"]
    expected = most_urgent_first(domain, CHECK_UP_WINDOW, due_rule(deps.protocol))
    assert [r["task_id"] for r in rows] == [t.id for t in expected]
    assert [r["status"] for r in rows] == [t.status.value for t in expected]
    assert {r["patient"]["name"] for r in rows} == {"Jane Roe", "John Doe"}
    overdue = [r for r in rows if r["status"] == "overdue"]
    assert overdue and rows[: len(overdue)] == overdue  # overdue first
    assert [r["due"] for r in overdue] == sorted(r["due"] for r in overdue)  # oldest first
    first = overdue[0]
    assert first["due"] == min(r["due"] for r in rows)
    assert first["days_overdue"] == (CHECK_UP_WINDOW - date.fromisoformat(first["due"])).days
    due = [r for r in rows if r["status"] == "due"]
    assert due and all(r["days_overdue"] == 0 for r in due)
    assert [r["due"] for r in due] == sorted(r["due"] for r in due)
    # Nothing whose window has not opened, nothing closed.
    assert all(date.fromisoformat(r["opens"]) <= CHECK_UP_WINDOW for r in rows)
    assert {r["course_id"] for r in rows} == set(course_ids)


def test_the_worklist_pages_in_the_same_order_with_the_counts_of_the_whole_list() -> None:
    deps, _clock, _uow, ctx, _ = setup_unit()
    on = date(2026, 4, 20)
    everything = followup.due_worklist(deps, ctx[Role.NURSE], on)
    assert len(everything) > 5
    pages = [followup.worklist_page(deps, ctx[Role.NURSE], on, limit=3, offset=offset)
             for offset in range(0, len(everything), 3)]
    assert [r for page in pages for r in page["tasks"]] == everything
    overdue = sum(r["status"] == "overdue" for r in everything)
    assert overdue and all((p["total"], p["overdue"], p["limit"], p["date"]) == (
        len(everything), overdue, 3, "2026-04-20") for p in pages)
    beyond = followup.worklist_page(deps, ctx[Role.NURSE], on, limit=3, offset=len(everything))
    assert beyond["tasks"] == [] and beyond["total"] == len(everything)
    for limit, offset in ((0, 0), (1001, 0), (10, -1)):
        with pytest.raises(ValidationFailed):
            followup.worklist_page(deps, ctx[Role.NURSE], on, limit=limit, offset=offset)
    with pytest.raises(AccessDenied):
        followup.worklist_page(deps, ctx[Role.ADMIN], on)


def test_investigators_see_pseudonyms_and_admins_no_worklist() -> None:
    deps, _clock, _uow, ctx, _ = setup_unit()
    rows = followup.due_worklist(deps, ctx[Role.INVESTIGATOR], CHECK_UP_WINDOW)
    assert rows and all("name" not in r["patient"] and r["patient"]["pseudonym"].startswith("P-")
                        for r in rows)
    with pytest.raises(AccessDenied):
        followup.due_worklist(deps, ctx[Role.ADMIN], CHECK_UP_WINDOW)


def test_closing_a_task_goes_through_the_domain_and_audits_old_and_new_status() -> None:
    deps, clock, uow, ctx, _ = setup_unit()
    clock.current = clock.current.replace(year=2026, month=4, day=20)  # the month-1 labs are overdue
    task_id = followup.due_worklist(deps, ctx[Role.NURSE], date(2026, 4, 20))[0]["task_id"]
    closed = followup.close_task(deps, ctx[Role.NURSE], task_id, "cancelled", "  patient moved away ")
    assert (closed["status"], closed["closed_on"], closed["reason"]) == (
        "cancelled", "2026-04-20", "patient moved away")
    row = uow.store.tables["tasks"][task_id]
    assert (row.status, row.closed_on, row.reason) == ("cancelled", date(2026, 4, 20), "patient moved away")
    entry = uow.store.tables["audit"][max(uow.store.tables["audit"])]
    assert (entry.action, entry.entity, entry.entity_id, entry.actor) == (
        "task.close", "follow_up_task", str(task_id), "nurse")
    assert entry.old_value == {"status": "overdue"}
    assert entry.new_value == {"status": "cancelled", "closed_on": "2026-04-20"}
    assert entry.reason == "patient moved away"
    assert task_id not in {r["task_id"] for r in followup.due_worklist(deps, ctx[Role.NURSE], date(2026, 4, 20))}

    done = followup.due_worklist(deps, ctx[Role.PHYSICIAN], date(2026, 4, 20))[0]["task_id"]
    assert followup.close_task(deps, ctx[Role.PHYSICIAN], done, "done")["reason"] is None


@pytest.mark.parametrize(("role", "status", "reason", "error"), [
    (Role.NURSE, "cancelled", None, ValidationFailed),
    (Role.NURSE, "cancelled", "   ", ValidationFailed),
    (Role.NURSE, "overdue", "why", ValidationFailed),
    (Role.INVESTIGATOR, "done", None, AccessDenied),
    (Role.ADMIN, "cancelled", "admin tidy-up", AccessDenied),
])
def test_a_refused_close_writes_nothing(role: Role, status: str, reason: str | None,
                                        error: type[Exception]) -> None:
    deps, _clock, uow, ctx, _ = setup_unit()
    task_id = followup.due_worklist(deps, ctx[Role.NURSE], CHECK_UP_WINDOW)[0]["task_id"]
    before = {name: dict(rows) for name, rows in uow.store.tables.items()}
    with pytest.raises(error):
        followup.close_task(deps, ctx[role], task_id, status, reason)
    assert uow.store.tables == before


def test_a_closed_task_cannot_be_closed_again() -> None:
    deps, _clock, uow, ctx, _ = setup_unit()
    task_id = followup.due_worklist(deps, ctx[Role.NURSE], CHECK_UP_WINDOW)[0]["task_id"]
    followup.close_task(deps, ctx[Role.NURSE], task_id, "done")
    before = {name: dict(rows) for name, rows in uow.store.tables.items()}
    with pytest.raises(Conflict, match="FOLLOWUP-TASK-CLOSED"):
        followup.close_task(deps, ctx[Role.PHYSICIAN], task_id, "cancelled", "duplicate")
    assert uow.store.tables == before


def test_a_physicians_review_is_closed_by_a_physician_with_what_was_decided() -> None:
    deps, _clock, uow, ctx, (course_id, _) = setup_unit()
    row = next(t for t in uow.store.tables["tasks"].values() if t.course_id == course_id)
    review = row.model_copy(update={"id": 999, "activity_id": "c1-review-platelets",
                                    "name": "platelet review", "kind": TaskKind.PHYSICIAN_REVIEW})
    uow.store.tables["tasks"][999] = review
    with pytest.raises(AccessDenied):
        followup.close_task(deps, ctx[Role.NURSE], 999, "done", "seen")
    with pytest.raises(ValidationFailed, match="FOLLOWUP-REASON-REQUIRED"):
        followup.close_task(deps, ctx[Role.PHYSICIAN], 999, "done")
    closed = followup.close_task(deps, ctx[Role.PHYSICIAN], 999, "done", "repeat count in 1 week")
    assert closed["reason"] == "repeat count in 1 week"


def test_the_lead_covers_the_protocols_window_and_the_day_before_a_call() -> None:
    deps, *_ = fake_deps()
    window = deps.protocol.monitoring.task_window.opens_before
    lead = window.days + 7 * window.weeks + 31 * window.months
    assert followup.worklist_lead(deps.protocol).days == max(lead, 1)


def test_a_stored_course_shows_and_audits_the_protocol_digest__PROT_11() -> None:
    from infusionist.domain.protocol_identity import protocol_digest

    deps, _clock, uow, ctx, (course_id, _) = setup_unit()
    digest = protocol_digest(deps.protocol)
    view = courses.get_course(deps, ctx[Role.PHYSICIAN], course_id)
    assert view["protocol"] == {"id": "alemtuzumab-ms", "version": "1.0.0", "digest": digest}
    assert view["plan"]["protocol"]["digest"] == digest
    created = [row for row in uow.store.tables["audit"].values()
               if getattr(row, "action", None) == "course.create"]
    assert created and all(row.new_value["protocol_digest"] == digest for row in created)


@pytest.mark.parametrize("today", [date(2026, 3, 1), CHECK_UP_WINDOW, date(2026, 6, 1), date(2030, 1, 1)])
def test_the_worklist_and_the_patient_page_count_the_same_tasks__PROT_34(today: date) -> None:
    """One rule for due and overdue (domain/due.py): on any day, a patient's page counts as
    overdue and on the worklist exactly the tasks the worklist lists for that patient, with the
    same status and days overdue; tasks not on the worklist are upcoming or closed."""
    from datetime import UTC, datetime, time

    from infusionist.services import views

    deps, clock, uow, ctx, course_ids = setup_unit()
    for row in list(uow.store.tables["tasks"].values())[::3]:  # a third of them closed
        uow.store.tables["tasks"][row.id] = row.model_copy(update={"status": TaskStatus.DONE, "closed_on": row.due})
    clock.current = datetime.combine(today, time(12, 0), UTC)
    assert followup.centre_today(deps) == today
    page = followup.worklist_page(deps, ctx[Role.NURSE], today, limit=1000)
    for course_id in course_ids:
        patient_id = uow.store.tables["courses"][course_id].patient_id
        listed = [r for r in page["tasks"] if r["course_id"] == course_id]
        (course,) = views.patient_overview(deps, ctx[Role.NURSE], patient_id)["courses"]
        assert course["on_worklist"] == len(listed)
        assert course["overdue"] == sum(r["status"] == "overdue" for r in listed)
        shown = sorted((t["due"], t["name"], t["status"], t["days_overdue"])
                       for t in course["tasks"] if t["on_worklist"])
        assert shown == sorted((r["due"], r["task"], r["status"], r["days_overdue"]) for r in listed)
        assert {t["status"] for t in course["tasks"] if not t["on_worklist"]} <= {
            "upcoming", "done", "cancelled"}
    assert page["total"] == len(page["tasks"])
    assert page["overdue"] == sum(r["status"] == "overdue" for r in page["tasks"])
