"""The unit administered from the browser (issue 15 items 5, 7 and 8): users, patients, the
centre's versioned settings, monitors, one-time messages and the readable audit trail, through
the same services as the API, against in-memory fakes. Every refusal writes nothing."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal
from typing import Any

import pytest
from fakes import fake_deps

from infusionist.domain.access import USER_ROLES, Role
from infusionist.domain.device_readings import DeviceRecord
from infusionist.domain.errors import (
    AccessDenied,
    ConfigError,
    Conflict,
    NotAuthenticated,
    NotFound,
    ValidationFailed,
)
from infusionist.domain.records import Context
from infusionist.services import (
    audit,
    auth,
    centres,
    courses,
    device_vitals,
    events,
    notices,
    patients,
    users,
)


def unit() -> tuple[Any, Any, Any, dict[Role, Context]]:
    deps, clock, uow = fake_deps()
    ctx = {}
    for role in USER_ROLES:
        auth.create_user(deps, None, role.value, f"{role.value.title()} Example", role,
                         f"password-{role.value}")
        ctx[role] = Context(auth.login(deps, role.value, f"password-{role.value}", None)[1])
    return deps, clock, uow, ctx


def snapshot(uow: Any) -> dict[str, dict[Any, Any]]:
    return {name: dict(rows) for name, rows in uow.store.tables.items()}


def user_id(deps: Any, ctx: dict[Role, Context], username: str) -> int:
    return next(u.id for u in auth.list_users(deps, ctx[Role.ADMIN]) if u.username == username)


# -- users ---------------------------------------------------------------------------------------


def test_an_admin_deactivates_and_reactivates_a_user_whose_session_ends_at_once() -> None:
    deps, _clock, _uow, ctx = unit()
    token, _ = auth.login(deps, "nurse", "password-nurse", None)
    nurse = user_id(deps, ctx, "nurse")
    assert not users.deactivate_user(deps, ctx[Role.ADMIN], nurse, "left the unit").active
    with pytest.raises(NotAuthenticated):
        auth.session_actor(deps, token)
    with pytest.raises(NotAuthenticated):
        auth.login(deps, "nurse", "password-nurse", None)
    assert users.reactivate_user(deps, ctx[Role.ADMIN], nurse).active
    assert auth.login(deps, "nurse", "password-nurse", None)[1].username == "nurse"
    last = users.last_changes(deps, ctx[Role.ADMIN])[str(nurse)]
    assert (last.action, last.actor) == ("user.reactivate", "admin")
    rows = [e for e in audit.list_audit(deps, ctx[Role.ADMIN], 0, 1000) if e.entity_id == str(nurse)
            and e.action == "user.deactivate"]
    assert rows[0].reason == "left the unit" and rows[0].actor == "admin"


def test_the_last_active_admin_can_neither_deactivate_nor_demote_themselves_and_nothing_is_written() -> None:
    deps, _clock, uow, ctx = unit()
    admin = user_id(deps, ctx, "admin")
    before = snapshot(uow)
    with pytest.raises(Conflict, match="USER-LAST-ADMIN") as refused:
        users.deactivate_user(deps, ctx[Role.ADMIN], admin)
    assert "only active admin" in refused.value.message
    with pytest.raises(Conflict, match="USER-LAST-ADMIN"):
        users.change_role(deps, ctx[Role.ADMIN], admin, Role.NURSE)
    assert snapshot(uow) == before
    # with a second admin, the first may step down
    users.change_role(deps, ctx[Role.ADMIN], user_id(deps, ctx, "physician"), Role.ADMIN)
    assert users.change_role(deps, ctx[Role.ADMIN], admin, Role.NURSE).role is Role.NURSE


def test_a_new_password_follows_the_password_rule_and_works_the_next_login() -> None:
    deps, _clock, uow, ctx = unit()
    nurse = user_id(deps, ctx, "nurse")
    before = snapshot(uow)
    with pytest.raises(ValidationFailed, match="INPUT-PASSWORD-SHORT"):
        users.set_password(deps, ctx[Role.ADMIN], nurse, "short")
    assert snapshot(uow) == before
    users.set_password(deps, ctx[Role.ADMIN], nurse, "a-new-long-password")
    assert auth.login(deps, "nurse", "a-new-long-password", None)[1].username == "nurse"
    entry = audit.list_audit(deps, ctx[Role.ADMIN], 0, 1000)[-2]
    assert entry.action == "user.password" and "a-new-long-password" not in str(entry.new_value)


def test_only_an_admin_manages_users() -> None:
    deps, _clock, _uow, ctx = unit()
    with pytest.raises(AccessDenied):
        users.deactivate_user(deps, ctx[Role.PHYSICIAN], user_id(deps, ctx, "nurse"))
    with pytest.raises(NotFound):
        users.deactivate_user(deps, ctx[Role.ADMIN], 999)


# -- patients ------------------------------------------------------------------------------------


def register(deps: Any, ctx: Context, name: str = "Jane Roe", **fields: Any) -> dict[str, Any]:
    return patients.register_patient(deps, ctx, patients.RegisterPatient(
        name=name, birth_date=fields.pop("birth_date", date(1980, 1, 2)),
        sex=fields.pop("sex", "female"), **fields))


def test_a_nurse_registers_edits_and_finds_a_patient() -> None:
    deps, _clock, _uow, ctx = unit()
    nurse = ctx[Role.NURSE]
    jane = register(deps, nurse, identifier="H-1001", contact="+49 30 555 0101",
                    weight_kg=Decimal("64.5"), childbearing_potential=True)
    register(deps, nurse, "Max Muster", sex="male", identifier="H-1002")
    assert [p["name"] for p in patients.find_patients(deps, nurse, "roe")] == ["Jane Roe"]
    assert [p["name"] for p in patients.find_patients(deps, nurse, "h-1002")] == ["Max Muster"]
    edited = patients.edit_patient(deps, nurse, jane["id"], patients.RegisterPatient(
        name="Jane Roe-Smith", birth_date=date(1980, 1, 2), sex="female", childbearing_potential=True,
        weight_kg=Decimal("66"), identifier="H-1001", contact="+49 30 555 0101"), "married")
    assert edited["name"] == "Jane Roe-Smith" and edited["pseudonym"] == jane["pseudonym"]
    row = audit.list_audit(deps, ctx[Role.PHYSICIAN], 0, 1000)[-1]  # an admin reads no values
    assert row.action == "patient.edit" and row.reason == "married"
    assert row.old_value == {"name": "Jane Roe", "weight_kg": "64.5"}
    assert row.new_value == {"name": "Jane Roe-Smith", "weight_kg": "66"}


def test_an_investigator_finds_by_pseudonym_only() -> None:
    deps, _clock, _uow, ctx = unit()
    jane = register(deps, ctx[Role.NURSE], identifier="H-1001")
    assert patients.find_patients(deps, ctx[Role.INVESTIGATOR], "Jane") == []
    [found] = patients.find_patients(deps, ctx[Role.INVESTIGATOR], jane["pseudonym"].lower())
    assert "name" not in found and "identifier" not in found


@pytest.mark.parametrize(("fields", "code"), [
    ({"sex": "male", "childbearing_potential": True}, "INPUT-CHILDBEARING"),
    ({"birth_date": date(2099, 1, 1)}, "INPUT-BIRTH-DATE"),
    ({"weight_kg": Decimal("0")}, "INPUT-WEIGHT"),
    ({"weight_kg": Decimal("501")}, "INPUT-WEIGHT"),
    ({"sex": "other"}, "INPUT-SEX"),
    ({"identifier": "H-1001"}, "PATIENT-IDENTIFIER-EXISTS"),
])
def test_a_refused_registration_or_edit_writes_nothing(fields: dict[str, Any], code: str) -> None:
    deps, _clock, uow, ctx = unit()
    register(deps, ctx[Role.NURSE], "First Patient", identifier="H-1001")
    other = register(deps, ctx[Role.NURSE], "Second Patient", identifier="H-2002")
    before = snapshot(uow)
    with pytest.raises((ValidationFailed, Conflict), match=code):
        register(deps, ctx[Role.NURSE], "New Patient", **dict(fields))
    with pytest.raises((ValidationFailed, Conflict), match=code):
        patients.edit_patient(deps, ctx[Role.NURSE], other["id"], patients.RegisterPatient(
            name="Second Patient", birth_date=fields.get("birth_date", date(1980, 1, 2)),
            sex=fields.get("sex", "female"),
            childbearing_potential=fields.get("childbearing_potential", False),
            weight_kg=fields.get("weight_kg"), identifier=fields.get("identifier", "H-2002")))
    assert snapshot(uow) == before


def test_an_empty_name_is_refused() -> None:
    deps, _clock, _uow, ctx = unit()
    with pytest.raises(ValidationFailed, match="INPUT-PATIENT-NAME"):
        register(deps, ctx[Role.NURSE], "   ")


# -- the centre's settings -------------------------------------------------------------------------


def physician_signs() -> centres.PhysicianSignature:
    return centres.PhysicianSignature("physician", "password-physician")


def test_each_save_is_a_new_version_and_a_plan_records_the_version_it_used() -> None:
    deps, _clock, _uow, ctx = unit()
    admin = ctx[Role.ADMIN]
    first = centres.configure_centre(deps, admin, "default", {"contact_phone": "+49 30 1"}, "phone")
    assert first.version == 1  # organisational: no signature needed
    jane = register(deps, ctx[Role.PHYSICIAN])
    course1 = courses.create_course(deps, ctx[Role.PHYSICIAN], courses.CreateCourse(
        jane["id"], 1, date(2026, 3, 2), timezone="Europe/Berlin"))
    second = centres.configure_centre(deps, admin, "default",
                                      {"contact_phone": "+49 30 1", "vital_signs_interval_minutes": 15},
                                      "closer watch", physician_signs())
    assert second.version == 2
    history = centres.centre_history(deps, admin, "default")
    assert [(v.version, v.signed_by) for v in history] == [(2, "physician"), (1, None)]
    assert history[1].config["vital_signs_interval_minutes"] is None  # never updated in place
    max_ = register(deps, ctx[Role.PHYSICIAN], "Max Muster", sex="male")
    course2 = courses.create_course(deps, ctx[Role.PHYSICIAN], courses.CreateCourse(
        max_["id"], 1, date(2026, 3, 9), timezone="Europe/Berlin"))
    assert (course1["centre_version"], course2["centre_version"]) == (1, 2)

    def day_1_checks(course: dict[str, Any]) -> int:
        return sum(1 for a in course["plan"]["activities"] if a["kind"] == "vital_signs" and a["day"] == 1)

    # the plan made after the change uses it: vital signs every 15 min instead of every 30
    assert day_1_checks(course2) > day_1_checks(course1)
    assert courses.get_course(deps, ctx[Role.PHYSICIAN], course1["id"])["plan"] == course1["plan"]
    assert centres.get_centre(deps, ctx[Role.NURSE], "default").version == 2


@pytest.mark.parametrize(("signature", "error", "code"), [
    (None, ValidationFailed, "INPUT-SIGNATURE-REQUIRED"),
    (centres.PhysicianSignature("physician", "wrong-password"), NotAuthenticated, "AUTH-INVALID"),
    (centres.PhysicianSignature("nurse", "password-nurse"), AccessDenied, "ACCESS-SIGNER-NOT-PHYSICIAN"),
])
def test_a_clinical_setting_needs_a_physicians_signature_or_nothing_is_written(
    signature: centres.PhysicianSignature | None, error: type[Exception], code: str
) -> None:
    deps, _clock, uow, ctx = unit()
    before = snapshot(uow)
    with pytest.raises(error, match=code):
        centres.configure_centre(deps, ctx[Role.ADMIN], "default",
                                 {"options": {"h2-antagonist": "none"}}, "clinician's decision", signature)
    after = snapshot(uow)
    if code == "AUTH-INVALID":  # a wrong signature password is a failed log-in, audited (as at the bedside)
        assert [e.action for e in after.pop("audit").values()][-1] == "signature.password_failed"
        assert [f.username for f in after.pop("login_failures").values()] == ["physician"]
        before.pop("audit"), before.pop("login_failures")
    assert after == before


@pytest.mark.parametrize(("config", "code"), [
    ({"vital_signs_interval_minutes": 90}, "CONFIG-VITALS-INTERVAL"),
    ({"alert_thresholds": {"FEVER": "39.1"}}, "CONFIG-ALERT-SILENCES"),  # CTCAE grade 2 above 39.0
    ({"alert_thresholds": {"HYPOTENSION": "85"}}, "CONFIG-ALERT-SILENCES"),  # NEWS2 3 at <= 90
    ({"alert_thresholds": {"BP-DROP": "150"}}, "CONFIG-ALERT-RANGE"),  # a percentage
    ({"options": {"h2-antagonist": "ranitidine"}}, "CONFIG-CHOICE-REFUSED"),
])
def test_settings_outside_the_protocols_bounds_are_refused_even_when_signed__IAR_11(
    config: dict[str, Any], code: str
) -> None:
    deps, _clock, uow, ctx = unit()
    before = snapshot(uow)
    with pytest.raises(ConfigError, match=code):
        centres.configure_centre(deps, ctx[Role.ADMIN], "default", config, "test", physician_signs())
    assert snapshot(uow) == before


def test_alerts_may_be_made_stricter_and_product_defaults_moved_within_plausibility() -> None:
    deps, _clock, _uow, ctx = unit()
    saved = centres.configure_centre(deps, ctx[Role.ADMIN], "default", {"alert_thresholds": {
        "FEVER": "37.8", "HYPOTENSION": "95", "TACHYCARDIA": "130"}}, "unit policy", physician_signs())
    assert saved.as_json()["alert_thresholds"] == {"FEVER": "37.8", "HYPOTENSION": "95", "TACHYCARDIA": "130"}


def test_only_an_admin_saves_the_settings() -> None:
    deps, _clock, _uow, ctx = unit()
    with pytest.raises(AccessDenied):
        centres.configure_centre(deps, ctx[Role.PHYSICIAN], "default", {"contact_phone": "1"}, None)


# -- monitors, one-time messages -------------------------------------------------------------------


def test_a_monitor_is_placed_moved_and_retired_with_the_old_place_in_the_audit_trail() -> None:
    deps, _clock, uow, ctx = unit()
    admin = ctx[Role.ADMIN]
    device_vitals.configure_device(deps, admin, DeviceRecord(device_id="MON-01^UNIT", place="CHAIR-1",
                                                             interval_seconds=60, sources=("10.1.2.11",)))
    device_vitals.configure_device(deps, admin, DeviceRecord(device_id="MON-01^UNIT", place="CHAIR-2",
                                                             interval_seconds=30, sources=("10.1.2.11",)))
    device_vitals.retire_device(deps, admin, "MON-01^UNIT", "broken screen")
    [view] = device_vitals.list_devices(deps, admin)
    assert view.retired and view.place == "CHAIR-2"  # kept, no longer heard
    row = audit.list_audit(deps, admin, 0, 1000)[-1]
    assert row.action == "device.retire" and row.old_value["place"] == "CHAIR-2"
    assert row.reason == "broken screen"
    before = snapshot(uow)
    with pytest.raises(NotFound):
        device_vitals.retire_device(deps, admin, "MON-99^UNIT")
    with pytest.raises(AccessDenied):
        device_vitals.retire_device(deps, ctx[Role.NURSE], "MON-01^UNIT")
    assert snapshot(uow) == before


def test_a_message_is_shown_once_to_its_session_only() -> None:
    deps, _clock, _uow, _ctx = unit()
    mine, _ = auth.login(deps, "nurse", "password-nurse", None)
    other, _ = auth.login(deps, "physician", "password-physician", None)
    notices.put(deps, mine, "notice", "Course 2 planned.")
    assert notices.take(deps, other) is None
    shown = notices.take(deps, mine)
    assert shown is not None and (shown.kind, shown.message) == ("notice", "Course 2 planned.")
    assert notices.take(deps, mine) is None  # a reload does not repeat it


# -- the readable audit trail ----------------------------------------------------------------------


def day_with_a_correction(deps: Any, ctx: dict[Role, Context]) -> tuple[int, int]:
    jane = register(deps, ctx[Role.PHYSICIAN])
    course = courses.create_course(deps, ctx[Role.PHYSICIAN], courses.CreateCourse(
        jane["id"], 1, date(2026, 3, 2), timezone="Europe/Berlin"))
    deps.clock.current += timedelta(hours=2)  # the entries below lie in the past (DAY-EVENT-IN-FUTURE)
    vitals = {"type": "vital_signs", "at": "2026-03-02T08:32:00+00:00", "temperature_c": "36.8",
              "heart_rate_bpm": 76, "systolic_mmhg": 124, "diastolic_mmhg": 78}
    events.append_event(deps, ctx[Role.NURSE], events.AppendEvent(course["id"], 1, 1, vitals))
    events.append_event(deps, ctx[Role.NURSE], events.AppendEvent(course["id"], 1, 2, {
        "type": "correction", "at": "2026-03-02T08:40:00+00:00", "corrects": 0,
        "replacement": {**vitals, "heart_rate_bpm": 82}, "reason": "typed 76 for 82"}))
    return jane["id"], course["id"]


def test_the_audit_trail_reads_as_sentences_with_corrections_as_old_to_new() -> None:
    deps, clock, _uow, ctx = unit()
    patient_id, _course = day_with_a_correction(deps, ctx)
    lines = audit.readable_audit(deps, ctx[Role.PHYSICIAN], audit.AuditFilter(patient_id=patient_id),
                                 "Europe/Berlin")
    vitals = next(line for line in lines if line.summary.startswith("Vital signs recorded"))
    assert vitals.summary == "Vital signs recorded: 36.8 °C, 76/min, 124/78 mmHg"
    assert vitals.actor_name == "Nurse Example" and vitals.happened_at is not None
    assert vitals.happened_at.isoformat() == "2026-03-02T08:32:00+00:00"
    assert vitals.entered_at == clock.current
    correction = next(line for line in lines if line.summary == "Correction")
    assert correction.change == "Vital signs recorded: 36.8 °C, 76/min, 124/78 mmHg → 36.8 °C, 82/min, 124/78 mmHg"
    assert correction.reason == "typed 76 for 82"
    assert {line.patient_id for line in lines} == {patient_id}


def test_the_admin_reads_what_was_done_without_clinical_values_and_filters_by_user_and_action() -> None:
    deps, _clock, _uow, ctx = unit()
    day_with_a_correction(deps, ctx)
    lines = audit.readable_audit(deps, ctx[Role.ADMIN], audit.AuditFilter(actor="nurse",
                                 action="event.append"), "Europe/Berlin")
    assert [line.summary for line in lines] == ["Vital signs recorded", "Correction"]
    assert all(line.change == "" and line.reason is None for line in lines)
    assert "Jane" not in str(audit.readable_audit(deps, ctx[Role.ADMIN], audit.AuditFilter(), "UTC"))
    with pytest.raises(AccessDenied):
        audit.readable_audit(deps, ctx[Role.ADMIN], audit.AuditFilter(patient_id=1), "UTC")
    with pytest.raises(AccessDenied):
        audit.readable_audit(deps, ctx[Role.NURSE], audit.AuditFilter(), "UTC")


def test_the_audit_filter_by_date_uses_the_centres_day() -> None:
    deps, clock, _uow, ctx = unit()
    day_with_a_correction(deps, ctx)
    today = clock.current.date()
    everything = audit.readable_audit(deps, ctx[Role.ADMIN], audit.AuditFilter(since=today, until=today),
                                      "UTC")
    assert len(everything) == len(audit.list_audit(deps, ctx[Role.ADMIN], 0, 10_000))
    assert audit.readable_audit(deps, ctx[Role.ADMIN], audit.AuditFilter(
        since=date(2030, 1, 1)), "UTC") == []
