"""The US label's herpes-prophylaxis stop rule: aciclovir ends only with a CD4+ count >= 200/uL."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal

import pytest
from fakes import fake_deps

from infusionist.domain.access import USER_ROLES, Role
from infusionist.domain.errors import Conflict
from infusionist.domain.records import Context
from infusionist.services import auth, centres, courses, followup, lab_results, patients


def unit_with_rule(rule: str) -> tuple[object, object, dict[Role, Context], int]:
    deps, clock, uow = fake_deps()
    ctx = {}
    for role in USER_ROLES:
        auth.create_user(deps, None, role.value, role.value.title(), role, f"password-{role.value}")
        ctx[role] = Context(auth.login(deps, role.value, f"password-{role.value}", None)[1])
    centres.configure_centre(deps, ctx[Role.ADMIN], "default",
                             {"options": {"herpes-prophylaxis-rule": rule}}, "label rule chosen",
                             centres.PhysicianSignature("physician", "password-physician"))
    patient = patients.register_patient(deps, ctx[Role.PHYSICIAN],
                                        patients.RegisterPatient("Jane Roe", date(1980, 1, 2), "female"))
    courses.create_course(deps, ctx[Role.PHYSICIAN], courses.CreateCourse(
        patient["id"], 1, date(2026, 3, 2), timezone="Europe/Berlin"))
    (task,) = [t for t in uow.store.tables["tasks"].values() if t.activity_id.endswith("-aciclovir-end")]
    clock.current = datetime(2026, 5, 10, 9, 0, tzinfo=UTC)  # after the planned end (2026-05-06)
    return deps, uow, ctx, task.id


def cd4(value: str, taken_on: date) -> lab_results.RecordLabResult:
    return lab_results.RecordLabResult(patient_id=1, analyte="cd4", value=Decimal(value), unit="/uL",
                                       taken_on=taken_on)


def test_us_label_aciclovir_end_waits_for_a_cd4_count_of_200__PROT_27_C_5() -> None:
    deps, uow, ctx, task_id = unit_with_rule("us-label")
    with pytest.raises(Conflict) as pending:
        followup.close_task(deps, ctx[Role.NURSE], task_id, "done")
    assert pending.value.code == "FOLLOWUP-CD4-PENDING"
    assert "no count has been recorded" in pending.value.message
    lab_results.record_lab_result(deps, ctx[Role.NURSE], cd4("150", date(2026, 5, 5)))
    with pytest.raises(Conflict):
        followup.close_task(deps, ctx[Role.NURSE], task_id, "done")
    assert uow.store.tables["tasks"][task_id].status == "due"  # refusals changed nothing
    lab_results.record_lab_result(deps, ctx[Role.NURSE], cd4("240", date(2026, 5, 8)))
    closed = followup.close_task(deps, ctx[Role.NURSE], task_id, "done")
    assert closed["status"] == "done"


def test_protocol_table_rule_ends_aciclovir_by_date_alone__PROT_27() -> None:
    deps, _uow, ctx, task_id = unit_with_rule("protocol-table")
    assert followup.close_task(deps, ctx[Role.NURSE], task_id, "done")["status"] == "done"
