"""The synthetic trial: calibration against the reference figures, determinism, the report contract."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from infusionist.adapters.db import tables as t
from infusionist.analytics.iar import compute
from infusionist.analytics.snapshot import TABLES, export_snapshot, rows, synthetic_snapshot
from infusionist.analytics.synth import write_with_services
from infusionist.analytics.synth_bulk import write_bulk
from infusionist.bootstrap import build
from infusionist.config import Settings
from infusionist.domain.protocol import Protocol
from infusionist.services import audit

TRIAL_PATIENTS = 2000  # about 50 s to generate here


@pytest.fixture(scope="module")
def trial_report(protocol: Protocol, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    snapshot = synthetic_snapshot(protocol, 2026, TRIAL_PATIENTS, tmp_path_factory.mktemp("trial"))
    return compute(snapshot, protocol)


def test_incidence_per_course_is_within_its_interval_of_the_calibration_reference__IAR_19(
    trial_report: dict[str, Any],
) -> None:
    for row in trial_report["by_course"][:4]:  # courses 5-6 have too few patients for a useful check
        assert row["reference"]["source"] == "pooled-2021"
        assert row["ci_low"] <= row["reference"]["value"] <= row["ci_high"], row


def test_day_1_has_more_reactions_than_days_2_and_3__IAR_06(trial_report: dict[str, Any]) -> None:
    days = {(r["course"], r["day"]): r["incidence"] for r in trial_report["by_infusion_day"]}
    for course in (1, 2):
        assert days[(course, 1)] > days[(course, 2)] and days[(course, 1)] > days[(course, 3)]


def test_report_json_contract(trial_report: dict[str, Any]) -> None:
    assert {"by_course", "by_infusion_day", "serious", "symptoms"} <= trial_report.keys()
    for row in trial_report["by_course"]:
        assert set(row) >= {
            "course",
            "patients_exposed",
            "patients_with_iar",
            "incidence",
            "ci_low",
            "ci_high",
            "reference",
        }
        assert set(row["reference"]) == {"value", "source"}
    assert trial_report["symptoms"][0]["symptom"] in {"rash", "headache"}
    json.dumps(trial_report)


def _database(path: Path) -> Any:
    return build(Settings(database_url=f"sqlite:///{path}", argon2_time_cost=1, argon2_memory_kib=8192))


def _clinical_rows(deps: Any) -> list[Any]:
    with deps.uow.engine.connect() as c:
        courses = {r.id: (r.patient_id, r.number, r.plan["days"]) for r in c.execute(select(t.courses))}
        events = [
            (courses[r.course_id], r.day, r.seq, r.type, r.recorded_at, r.payload)
            for r in c.execute(select(t.day_events).order_by(t.day_events.c.id))
        ]
        patients = [(r.name, r.birth_date, r.sex, r.weight_kg) for r in c.execute(select(t.patients))]
    return [patients, events]


def test_bulk_mode_writes_what_the_services_write_for_the_same_seed(
    protocol: Protocol, tmp_path: Path
) -> None:
    services, bulk = _database(tmp_path / "services.db"), _database(tmp_path / "bulk.db")
    write_with_services(services, protocol, 11, 3)  # every event through the bedside guards
    write_bulk(bulk.uow.engine, protocol, 11, 3)
    assert _clinical_rows(services) == _clinical_rows(bulk)
    again = _database(tmp_path / "again.db")
    write_bulk(again.uow.engine, protocol, 11, 3)
    assert _clinical_rows(again) == _clinical_rows(bulk)
    # Both ways are under the row ledger (issue 14 item 3): every row written has its entry.
    for deps in (services, bulk):
        checked = audit.verify(deps)
        assert checked.intact, checked.problems()[:5]
        assert checked.rows["day_events"] > 0 and checked.ledger_entries >= sum(checked.rows.values())


def test_snapshot_from_the_database_equals_the_synthetic_snapshot(protocol: Protocol, tmp_path: Path) -> None:
    deps = _database(tmp_path / "bulk.db")
    write_bulk(deps.uow.engine, protocol, 5, 20)
    exported = export_snapshot(deps.uow.engine, protocol, tmp_path / "exported")
    direct = synthetic_snapshot(protocol, 5, 20, tmp_path / "direct")
    for table in TABLES:
        assert list(rows(exported / f"{table}.parquet")) == list(rows(direct / f"{table}.parquet"))


def test_symptom_table_lists_the_very_common_symptoms_with_their_label_figures__IAR_04_IAR_20(
    trial_report: dict[str, Any],
) -> None:
    rows = {row["symptom"]: row for row in trial_report["symptoms"]}
    very_common = {"headache", "rash", "pyrexia", "nausea", "flushing"}  # IAR-20
    assert very_common <= rows.keys()
    top_five = {row["symptom"] for row in trial_report["symptoms"][:5]}
    assert len(top_five & very_common) >= 4
    for symptom in very_common:
        reference = rows[symptom]["reference"]
        assert reference is not None and reference["source"] == "us-label"
        assert 0 < reference["value"] < 1


def _audit(deps: Any) -> list[tuple[Any, ...]]:
    """The audit rows of patients, courses and events, without what the writers draw differently
    (the time of registration, the pseudonym)."""
    with deps.uow.engine.connect() as c:
        found = []
        for r in c.execute(select(t.audit_log).order_by(t.audit_log.c.seq)):
            if r.action in {"patient.create", "course.create", "event.append"}:
                new = {k: v for k, v in r.new_value.items() if k != "pseudonym"}
                found.append((r.action, r.entity, r.entity_id, r.actor, new, r.reason, r.old_value))
        return found


def test_bulk_mode_writes_the_audit_rows_the_services_write_in_one_chain(
    protocol: Protocol, tmp_path: Path
) -> None:
    from infusionist.services.audit import verify

    services, bulk = _database(tmp_path / "services.db"), _database(tmp_path / "bulk.db")
    write_with_services(services, protocol, 11, 2)
    events = write_bulk(bulk.uow.engine, protocol, 11, 2)
    assert _audit(bulk) == _audit(services)
    assert len([a for a in _audit(bulk) if a[0] == "event.append"]) == events
    checked = verify(bulk)  # the audit chain and the row ledger (every row written by the bulk mode)
    # one intact chain: the new database's seal (ledger.seal, bootstrap) and the trial's rows
    assert checked.intact and checked.audit_rows == 1 + len(_audit(bulk)), "one intact chain, nothing else"
    # a bulk trial after one written through the services continues the same chain
    more = write_bulk(services.uow.engine, protocol, 12, 1)
    checked = verify(services)
    assert checked.intact and checked.audit_rows == 1 + len(_audit(services)) and more > 0


def test_bulk_mode_refuses_a_database_with_real_patients_and_writes_nothing(
    protocol: Protocol, tmp_path: Path
) -> None:
    from datetime import date

    from infusionist.domain.access import Role
    from infusionist.domain.errors import Conflict
    from infusionist.domain.records import Actor, Context
    from infusionist.services.patients import RegisterPatient, register_patient

    deps = _database(tmp_path / "unit.db")
    physician = Context(Actor(7, "dr.weber", "Dr Weber", Role.PHYSICIAN))
    register_patient(deps, physician, RegisterPatient(name="Real Person", birth_date=date(1980, 1, 2), sex="female",
                                                  childbearing_potential=False, weight_kg=None))

    def counts() -> list[int]:
        with deps.uow.engine.connect() as c:
            return [len(c.execute(select(table)).all())
                    for table in (t.patients, t.courses, t.day_events, t.follow_up_tasks, t.audit_log)]

    before = counts()
    with pytest.raises(Conflict) as refused:
        write_bulk(deps.uow.engine, protocol, 11, 2)
    assert refused.value.code == "SYNTH-REAL-PATIENTS"
    assert "1 real patient:" in refused.value.message
    assert counts() == before


def test_cli_synth_bulk_refuses_real_patients_with_the_code(
    protocol: Protocol, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from datetime import date

    from typer.testing import CliRunner

    from infusionist.domain.access import Role
    from infusionist.domain.records import Actor, Context
    from infusionist.entrypoints.cli.app import app
    from infusionist.services.patients import RegisterPatient, register_patient

    deps = _database(tmp_path / "unit.db")
    register_patient(deps, Context(Actor(7, "dr.weber", "Dr Weber", Role.PHYSICIAN)),
                     RegisterPatient(name="Real Person", birth_date=date(1980, 1, 2), sex="male"))
    monkeypatch.setenv("INFUSIONIST_DATABASE_URL", f"sqlite:///{tmp_path / 'unit.db'}")
    result = CliRunner().invoke(app, ["synth", "--patients", "2", "--seed", "3", "--bulk"])
    assert result.exit_code == 2
    assert "error SYNTH-REAL-PATIENTS: This database holds 1 real patient" in result.output
    with deps.uow.engine.connect() as c:
        assert len(c.execute(select(t.patients)).all()) == 1


def test_every_synthetic_day_passes_the_bedside_guards__PROT_13_PROT_24(
    protocol: Protocol, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The bulk generator does not run the guards, so its days are read here with them: a restart
    that would outlast the solution (PROT-13) or a rescue drug without a dose (PROT-24) would be
    refused. The snapshot reads stored days unchecked; this proves the generator needs no leniency."""
    from infusionist.analytics import synth_bulk
    from infusionist.analytics.snapshot_rows import read_stored_day

    checked = []

    def read_checked(*args: Any, **kwargs: Any) -> Any:
        checked.append(args[1])
        return read_stored_day(*args, **{**kwargs, "checked": True})

    monkeypatch.setattr(synth_bulk, "read_stored_day", read_checked)
    days = sum(1 for table, _ in synth_bulk.synthetic_rows(protocol, 7, 40) if table == "days")
    assert days == len(checked) > 100
