"""Issue 14 item 3: every clinical row, patient, user and device is under the row ledger, so that
``audit verify`` names any row changed, removed or added outside the application (21 CFR Part 11
§11.10(e)); an anchor outside the database catches a ledger rewritten consistently.

The attacks use raw SQL with the append-only triggers out of the way: dropped and restored on
SQLite, ``session_replication_role = replica`` on PostgreSQL.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import pytest
from alembic import command
from api_support import PASSWORDS, ClientFactory, Role, engine_of
from hl7_support import NURSE_CTX, Unit, listening, oru, send, unit_with_day_today
from sqlalchemy import create_engine, delete, insert, text, update

from infusionist.adapters.anchor_file import read_anchor, write_anchor
from infusionist.adapters.db import tables as t
from infusionist.adapters.db.ledger import Ledger
from infusionist.adapters.db.migrate import _config
from infusionist.adapters.db.protected import PROTECTED, LedgerBypassed
from infusionist.bootstrap import build
from infusionist.config import Settings
from infusionist.domain.access import USER_ROLES
from infusionist.domain.device_readings import DeviceRecord
from infusionist.domain.records import Actor, Context, PatientRecord
from infusionist.services import audit
from infusionist.services.auth import create_device_token, create_user
from infusionist.services.demo import build_demo_unit
from infusionist.services.deps import Deps
from infusionist.services.device_vitals import configure_device
from infusionist.services.events import AppendEvent, append_event
from infusionist.services.followup import close_task
from infusionist.services.lab_results import RecordLabResult, record_lab_result
from infusionist.services.ports import UnitOfWork

ADMIN = Context(Actor(0, "admin-test", "Admin Test", Role.ADMIN), "test")
TRIGGERS = {  # the append-only triggers the attacks step around (SQLite), as migration 0001 made them
    f"{table}_no_{verb.lower()}": (
        f"CREATE TRIGGER {table}_no_{verb.lower()} BEFORE {verb} ON {table} "
        f"BEGIN SELECT RAISE(ABORT, '{table} is append-only: {verb} refused'); END")
    for table in ("day_events", "lab_results", "row_ledger", "audit_log") for verb in ("UPDATE", "DELETE")
}


@pytest.fixture
def deps(settings: Settings) -> Iterator[Deps]:
    built = build(settings)
    for role in USER_ROLES:
        create_user(built, None, role.value, f"{role.value.title()} Example", role, PASSWORDS[role])
    yield built
    engine_of(built).dispose()


# A reading on today's infusion day, a minute ago (entries belong to the day and never the future).
READING = {"type": "vital_signs", "at": (datetime.now(UTC) - timedelta(minutes=1)).isoformat(),
           "heart_rate_bpm": 72}


@pytest.fixture
def unit(deps: Deps) -> Unit:
    """Every kind of protected row, written by the application's own paths: users (fixture),
    a centre, a device, a device token, a patient with a course and its follow-up tasks, events
    (typed and from a monitor over MLLP), a lab result, a closed task."""
    unit = unit_with_day_today(deps)
    configure_device(deps, ADMIN, DeviceRecord(
        device_id="MON-01^INFUSION", place="CHAIR-1", interval_seconds=60, sources=("127.0.0.0/8",)))
    create_device_token(deps, ADMIN, "ward-tablet")
    append_event(deps, NURSE_CTX, AppendEvent(unit.course_id, 1, 1, READING))
    with listening(deps) as port:
        acks = send(port, oru("MSG-1", unit.pseudonym), oru("MSG-2", "P-UNKNOWN"))
    assert [a["code"] for a in acks] == ["AA", "AE"], acks
    record_lab_result(deps, NURSE_CTX, RecordLabResult(
        patient_id=unit.patient_id, analyte="platelets", value=Decimal("210"), unit="10*9/L",
        taken_on=date.today() - timedelta(days=1), reference_low=Decimal("150"),
        reference_high=Decimal("400")))
    with deps.uow() as uow:
        task = uow.tasks.for_course(unit.course_id)[0]
    close_task(deps, NURSE_CTX, task.id, "done")
    return unit


def row_id(deps: Deps, query: str) -> int:
    with engine_of(deps).connect() as connection:
        return int(connection.execute(text(query)).scalar_one())


def tamper(deps: Deps, *statements: str) -> None:
    """Raw SQL behind the application's back, with the append-only triggers out of the way."""
    with engine_of(deps).begin() as connection:
        sqlite = connection.dialect.name == "sqlite"
        if sqlite:
            for name in TRIGGERS:
                connection.execute(text(f"DROP TRIGGER {name}"))
        else:
            connection.execute(text("SET LOCAL session_replication_role = replica"))
        for statement in statements:
            connection.execute(text(statement))
        if sqlite:
            for create in TRIGGERS.values():
                connection.execute(text(create))


def cli(settings: Settings, *args: str) -> tuple[int, str]:
    """``infusionist ARGS`` in its own process (as an operator runs it); (exit status, output)."""
    env = {**os.environ, "INFUSIONIST_DATABASE_URL": settings.resolved_database_url,
           "INFUSIONIST_DATA_DIR": str(settings.data_dir)}
    done = subprocess.run([sys.executable, "-m", "infusionist", *args], env=env, capture_output=True,
                          text=True, timeout=120, check=False)
    return done.returncode, done.stdout + done.stderr


def test_every_protected_row_written_by_the_application_verifies_intact(
        deps: Deps, settings: Settings, unit: Unit) -> None:
    checked = audit.verify(deps)
    assert checked.intact, checked.problems()
    assert set(checked.rows) == {table.name for table in PROTECTED}
    assert all(checked.rows[name] >= 1 for name in checked.rows), checked.rows
    assert checked.rows["inbound_messages"] == 2 and checked.rows["day_events"] == 2
    # One entry per insert, one more per change (the settled messages, the closed task, the
    # configured centre): at least one per row.
    assert checked.ledger_entries > sum(checked.rows.values())
    code, output = cli(settings, "audit", "verify")
    assert code == 0, output
    assert "intact" in output and f"day_events {checked.rows['day_events']}" in output


def test_tampering_is_named_row_by_row(deps: Deps, settings: Settings, unit: Unit) -> None:
    """A day event changed, a lab result deleted, a patient inserted, a user's role changed; and
    a follow-up task reopened, a course's plan, a patient's name, a device's place, a token."""
    event = row_id(deps, "SELECT min(id) FROM day_events")
    lab = row_id(deps, "SELECT min(id) FROM lab_results")
    nurse = row_id(deps, "SELECT id FROM users WHERE username = 'nurse'")
    task = row_id(deps, "SELECT min(id) FROM follow_up_tasks WHERE status = 'done'")
    token = row_id(deps, "SELECT min(id) FROM device_tokens")
    new_patient = row_id(deps, "SELECT max(id) + 1 FROM patients")
    tamper(
        deps,
        f"UPDATE day_events SET payload = '{json.dumps({**READING, 'heart_rate_bpm': 180})}' "
        f"WHERE id = {event}",
        f"DELETE FROM lab_results WHERE id = {lab}",
        "INSERT INTO patients (id, centre_id, name, sex, childbearing_potential, pseudonym, created_at) "
        f"VALUES ({new_patient}, 'default', 'Eve Forged', 'female', false, 'P-FORGED', "
        "'2026-01-01 00:00:00+00:00')",
        f"UPDATE users SET role = 'admin' WHERE id = {nurse}",
        f"UPDATE follow_up_tasks SET status = 'due', closed_on = NULL WHERE id = {task}",
        f"UPDATE courses SET created_by = 'mallory' WHERE id = {unit.course_id}",
        f"UPDATE patients SET name = 'Renamed' WHERE id = {unit.patient_id}",
        "UPDATE devices SET place = 'Chair 9'",
        f"UPDATE device_tokens SET created_by = 'mallory' WHERE id = {token}",
    )
    expected = {
        f"day_events row {event}: changed outside the application",
        f"lab_results row {lab}: missing (removed outside the application)",
        f"patients row {new_patient}: unexpected (added outside the application)",
        f"users row {nurse}: changed outside the application",
        f"follow_up_tasks row {task}: changed outside the application",
        f"courses row {unit.course_id}: changed outside the application",
        f"patients row {unit.patient_id}: changed outside the application",
        "devices row MON-01^INFUSION: changed outside the application",
        f"device_tokens row {token}: changed outside the application",
    }
    checked = audit.verify(deps)
    assert not checked.intact
    assert (checked.audit_break, checked.ledger_break) == (None, None)
    assert {f.describe() for f in checked.findings} == expected

    code, output = cli(settings, "audit", "verify")
    assert code == 1
    assert "AUDIT BROKEN" in output
    for line in expected:
        assert line in output


def test_a_row_inserted_in_any_protected_table_is_unexpected(deps: Deps, unit: Unit) -> None:
    """A forged admin, a forged event and a forged monitor message: each named."""
    tamper(
        deps,
        "INSERT INTO users (id, username, full_name, role, password_hash, active, created_at) "
        "VALUES (900, 'mallory', 'M', 'admin', 'x', true, '2026-01-01 00:00:00+00:00')",
        "INSERT INTO day_events (id, course_id, day, seq, type, recorded_at, recorded_by, payload) "
        f"VALUES (900, {unit.course_id}, 1, 99, 'vital_signs', '2026-01-01 00:00:00+00:00', 'x', '{{}}')",
        "INSERT INTO inbound_messages (id, sender, control_id, raw, received_at, status) "
        "VALUES (900, 'MON-01^INFUSION', 'FORGED', 'MSH', '2026-01-01 00:00:00+00:00', 'received')",
    )
    assert {f.describe() for f in audit.verify(deps).findings} == {
        f"{table} row 900: unexpected (added outside the application)"
        for table in ("users", "day_events", "inbound_messages")}


def test_a_ledger_entry_changed_or_removed_breaks_the_ledger_chain(deps: Deps, unit: Unit) -> None:
    tamper(deps, "DELETE FROM row_ledger WHERE seq = 3")
    checked = audit.verify(deps)
    assert checked.ledger_break is not None
    assert checked.ledger_break.describe().startswith("ledger entry 4: row(s) 3..3 removed")


def test_anchor_catches_a_ledger_rebuilt_consistently(deps: Deps, settings: Settings, unit: Unit,
                                                     tmp_path: Path) -> None:
    anchor_file = tmp_path / "anchor.json"
    code, output = cli(settings, "audit", "anchor", str(anchor_file))
    assert code == 0, output
    anchor = read_anchor(anchor_file)
    assert anchor.ledger.rows == audit.verify(deps).ledger_entries > 0
    code, output = cli(settings, "audit", "verify", "--anchor", str(anchor_file))
    assert code == 0 and "extend the anchor" in output

    # The attacker renames the patient, empties the ledger and rebuilds it consistently with the
    # application's own code (every row sealed as it now stands).
    tamper(deps, f"UPDATE patients SET name = 'Renamed' WHERE id = {unit.patient_id}",
           "DELETE FROM row_ledger")
    audit.seal(deps, "attacker")
    n = 0
    while audit.head(deps).ledger.rows <= anchor.ledger.rows:  # and writes on past the anchor
        n += 1
        create_user(deps, None, f"user{n}", "Someone", Role.NURSE, "a long enough password")
    assert audit.verify(deps).intact  # without the anchor, nothing to see
    checked = audit.verify(deps, anchor)
    assert not checked.intact
    assert checked.anchor_problems == [
        f"ledger entry {anchor.ledger.rows}: its hash differs from the anchor's; "
        "the chain was rewritten since the anchor was taken"]
    code, output = cli(settings, "audit", "verify", "--anchor", str(anchor_file))
    assert code == 1 and f"ledger entry {anchor.ledger.rows}: its hash differs" in output


def test_anchor_catches_a_truncated_chain(deps: Deps, unit: Unit, tmp_path: Path) -> None:
    anchor = audit.head(deps)
    write_anchor(tmp_path / "a.json", anchor)
    tamper(deps, f"DELETE FROM row_ledger WHERE seq > {anchor.ledger.rows - 2}",
           f"DELETE FROM audit_log WHERE seq > {anchor.audit.rows - 1}")
    problems = audit.verify(deps, read_anchor(tmp_path / "a.json")).anchor_problems
    assert problems == [
        f"audit row {anchor.audit.rows}: the chain has only {anchor.audit.rows - 1} now; "
        "entries written before the anchor were removed",
        f"ledger entry {anchor.ledger.rows}: the chain has only {anchor.ledger.rows - 2} now; "
        "entries written before the anchor were removed"]


def test_an_unreadable_anchor_is_refused_with_a_code(settings: Settings, deps: Deps, tmp_path: Path) -> None:
    bad = tmp_path / "bad.json"
    bad.write_text("{}")
    code, output = cli(settings, "audit", "verify", "--anchor", str(bad))
    assert code == 2 and "ANCHOR-UNREADABLE" in output
    code, output = cli(settings, "audit", "verify", "--anchor", str(tmp_path / "none.json"))
    assert code == 2 and "ANCHOR-NO-FILE" in output


def test_a_database_made_before_the_ledger_is_sealed_once_then_guarded(settings: Settings) -> None:
    """Rows stored at revision 0005 are sealed when the ledger arrives (recorded in the audit
    trail); from then on a change is named."""
    engine = create_engine(settings.resolved_database_url)
    with engine.begin() as connection:
        config = _config()
        config.attributes["connection"] = connection
        command.upgrade(config, "0005_lab_results")
    with engine.begin() as connection:
        connection.execute(text(
            "INSERT INTO patients (id, centre_id, name, sex, childbearing_potential, pseudonym, "
            "created_at) VALUES (1, 'default', 'Jane Roe', 'female', false, 'P-1', "
            "'2026-01-01 00:00:00+00:00')"))
    engine.dispose()
    deps = build(settings)
    try:
        checked = audit.verify(deps)
        assert checked.intact, checked.problems()
        assert checked.sealed == 2 and checked.rows["patients"] == 1  # the centre and the patient
        with deps.uow() as uow:
            [seal] = [e for e in uow.audit.all() if e.action == "ledger.seal"]
        assert seal.actor == "system" and seal.new_value == {"sealed": {"centres": 1, "patients": 1}}
        assert seal.reason is not None and "0005_lab_results" in seal.reason
        engine_of(build(settings)).dispose()  # a second start seals nothing
        assert audit.verify(deps).sealed == 2
        tamper(deps, "UPDATE patients SET name = 'Renamed' WHERE id = 1")
        assert [f.describe() for f in audit.verify(deps).findings] == [
            "patients row 1: changed outside the application"]
    finally:
        engine_of(deps).dispose()


def test_no_code_path_can_write_a_protected_table_without_the_ledger(deps: Deps) -> None:
    with engine_of(deps).begin() as connection, pytest.raises(LedgerBypassed):
        connection.execute(update(t.users).values(role="admin"))
    with engine_of(deps).begin() as connection:
        Ledger(connection).update(update(t.users).where(t.users.c.username == "nurse")
                                  .values(full_name="Nurse Renamed"))
    assert audit.verify(deps).intact  # a change through the ledger is a legitimate change
    with engine_of(deps).begin() as connection, pytest.raises(LedgerBypassed):
        connection.execute(insert(t.patients).values(name="x"))


def test_a_removal_through_the_ledger_is_legitimate_and_a_later_reinsert_is_unexpected(deps: Deps) -> None:
    with engine_of(deps).begin() as connection:
        assert Ledger(connection).delete(delete(t.centres).where(t.centres.c.id == "default")) == 1
    assert audit.verify(deps).intact
    tamper(deps, "INSERT INTO centres (id, name, config) VALUES ('default', 'x', '{}')")
    assert [f.describe() for f in audit.verify(deps).findings] == [
        "centres row default: unexpected (added outside the application)"]


def test_the_api_reports_row_problems_by_table_and_row(deps: Deps, client_as: ClientFactory,
                                                        unit: Unit) -> None:
    admin = client_as(Role.ADMIN)
    assert admin.get("/audit/verify").json()["ok"] is True
    tamper(deps, f"UPDATE patients SET name = 'Renamed' WHERE id = {unit.patient_id}")
    body = admin.get("/audit/verify").json()
    assert body["ok"] is False and body["first_break"] is None and body["ledger_first_break"] is None
    assert body["row_problems"] == [{"table": "patients", "row": str(unit.patient_id), "what": "changed"}]
    assert body["row_problems_total"] == 1 and body["protected_rows"]["patients"] == 1


def test_the_demo_unit_is_written_under_the_ledger(settings: Settings) -> None:
    deps = build(settings)
    try:
        build_demo_unit(deps)
        checked = audit.verify(deps)
        assert checked.intact, checked.problems()[:5]
        assert checked.rows["day_events"] > 0 and checked.rows["users"] > 0
    finally:
        engine_of(deps).dispose()


def test_a_savepoint_rolled_back_takes_its_ledger_entries_with_it(deps: Deps) -> None:
    """A write undone by a savepoint (as the HL7 batch does for a refused message) leaves no
    ledger entry; what the transaction writes next links to the entry before it."""
    def patient(pseudonym: str) -> PatientRecord:
        return PatientRecord(centre_id="default", name="Jane Roe", birth_date=None, sex="female",
                             childbearing_potential=False, weight_kg=None, pseudonym=pseudonym,
                             created_at=datetime(2026, 1, 1, tzinfo=UTC))

    def refused_in_a_savepoint(uow: UnitOfWork) -> None:
        with uow.savepoint():
            uow.patients.add(patient("P-UNDONE"))
            raise RuntimeError("refused")

    before = audit.verify(deps).ledger_entries
    with deps.uow(write=True) as uow:
        uow.patients.add(patient("P-KEPT-1"))
        with pytest.raises(RuntimeError):
            refused_in_a_savepoint(uow)
        uow.patients.add(patient("P-KEPT-2"))
        uow.commit()
    checked = audit.verify(deps)
    assert checked.intact, checked.problems()
    assert (checked.ledger_entries, checked.rows["patients"]) == (before + 2, 2)
