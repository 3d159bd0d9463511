"""Bulk mode of the synthetic trial: the same rows as the service mode, inserted in batches.

For benchmark sizes the use cases (one transaction, one guard replay and one audit row per
event) are too slow, so this writer plans with the same domain planner, draws the same events
from the same per-patient random streams and inserts patients, courses, follow-up tasks and
day events straight through the database layer's tables, each with the audit row the services
write for it (``patient.create``, ``course.create``, ``event.append``, actor ``synth``), chained
after the last stored row (``domain/audit_chain.py``). Differences from the service mode, by
design: the pseudonym is ``S-`` + the patient's index (the service draws a random one), and the
guards are not re-run (the service mode and the tests run them).

It refuses a database that holds real patients (``SYNTH-REAL-PATIENTS``): a patient is synthetic
when the generator registered it (its ``patient.create`` audit row is by ``synth``), so the
synthetic trial is never mixed into a unit's record.
Every row is recorded in the row ledger like any other write (``adapters/db/ledger.py``), in the
batch's transaction, which holds the writer's lock.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import Engine, String, cast, exists, func, insert, select

from infusionist.adapters.db import tables as t
from infusionist.adapters.db.engine import begin
from infusionist.adapters.db.ledger import Ledger
from infusionist.adapters.db.repositories import task_row
from infusionist.analytics.snapshot_rows import course_row, day_rows, read_stored_day
from infusionist.analytics.synth import (
    SYNTH_USER,
    TIMEZONE,
    SynthPatient,
    course_events,
    draw_trial,
    next_course_start,
    patient_rng,
    trial_calibration,
)
from infusionist.domain.audit_chain import GENESIS_HASH, AuditEntry, row_hash
from infusionist.domain.centre import CentreConfig
from infusionist.domain.errors import Conflict
from infusionist.domain.followup import tasks_from_plan
from infusionist.domain.plan_json import plan_to_json
from infusionist.domain.planning import CoursePlan, Patient
from infusionist.domain.protocol import Protocol
from infusionist.services.planning import PlanCourseCommand, plan_course_for

BATCH = 500
_PlanKey = tuple[Any, ...]


def _next_id(engine: Engine | None, table: Any) -> int:
    if engine is None:
        return 1
    with engine.connect() as connection:
        return int(connection.execute(select(func.coalesce(func.max(table.c.id), 0))).scalar_one()) + 1


def real_patients(engine: Engine) -> int:
    """How many stored patients the synthetic trial generator did not register."""
    a = t.audit_log
    by_generator = exists().where(
        a.c.action == "patient.create", a.c.entity == "patient", a.c.actor == SYNTH_USER,
        a.c.entity_id == cast(t.patients.c.id, String),
    )
    with engine.connect() as connection:
        return int(connection.execute(select(func.count()).where(~by_generator)
                                      .select_from(t.patients)).scalar_one())


class _Audit:
    """The audit rows of the bulk writer, chained after the last stored row."""

    def __init__(self, engine: Engine) -> None:
        with engine.connect() as connection:
            last = connection.execute(
                select(t.audit_log.c.seq, t.audit_log.c.hash).order_by(t.audit_log.c.seq.desc()).limit(1)
            ).first()
        self.seq, self.hash = (0, GENESIS_HASH) if last is None else (int(last[0]), str(last[1]))

    def row(self, table: str, row: dict[str, Any]) -> dict[str, Any]:
        """The audit row the services write for ``row`` of ``table`` (patients, courses, events)."""
        if table == "patients":
            fields: tuple[Any, ...] = ("patient.create", "patient", row["id"], row["created_at"], {
                "id": row["id"], "pseudonym": row["pseudonym"], "centre_id": row["centre_id"],
                "sex": row["sex"], "childbearing_potential": row["childbearing_potential"],
                "weight_kg": row["weight_kg"], "name": row["name"],
                "birth_date": row["birth_date"].isoformat() if row["birth_date"] else None,
                "identifier": row.get("identifier"), "contact": row.get("contact"),
            }, None)
        elif table == "courses":
            fields = ("course.create", "course", row["id"], row["created_at"], {
                "patient_id": row["patient_id"], "course": row["number"],
                "protocol": f"{row['protocol_id']} {row['protocol_version']}",
                "protocol_digest": row["plan"]["protocol"]["digest"],
                "first_day": row["plan"]["days"][0]["date"],
                "centre_version": row.get("centre_version"),
            }, None)
        else:
            payload = row["payload"]
            reason = payload.get("reason")
            fields = ("event.append", "day_event", f"{row['course_id']}/{row['day']}/{row['seq']}",
                      row["recorded_at"], {"payload": payload, "signature": None},
                      None if reason is None else str(reason))
        action, entity, entity_id, at, new, reason = fields
        self.seq += 1
        draft = AuditEntry(seq=self.seq, at=at, actor=SYNTH_USER, action=action, entity=entity,
                           entity_id=str(entity_id), old_value=None, new_value=new, reason=reason,
                           request_id=None, prev_hash=self.hash, hash="")
        self.hash = row_hash(self.hash, draft)
        return {"seq": draft.seq, "at": at, "actor": SYNTH_USER, "action": action, "entity": entity,
                "entity_id": draft.entity_id, "old_value": None, "new_value": new, "reason": reason,
                "request_id": None, "prev_hash": draft.prev_hash, "hash": self.hash}


class _Batch:
    def __init__(self, engine: Engine | None) -> None:
        self.engine = engine
        self.calibration: Any = None
        self.days_only = False
        self.patients: list[dict[str, Any]] = []
        self.courses: list[dict[str, Any]] = []
        self.tasks: list[dict[str, Any]] = []
        self.events: list[dict[str, Any]] = []
        self.audit: list[dict[str, Any]] = []
        self.patient_id = _next_id(engine, t.patients)
        self.course_id = _next_id(engine, t.courses)
        # The planner is a pure function: patients with the same planning inputs share one plan,
        # with their own patient block (id and weight, both of which only label the plan here).
        self.plans: dict[_PlanKey, tuple[CoursePlan, dict[str, Any]]] = {}
        self._task_rows: dict[int, list[dict[str, Any]]] = {}
        self.course_plans: dict[int, CoursePlan] = {}  # days_only: the plans the reading needs

    def plan(
        self, protocol: Protocol, config: CentreConfig, command: PlanCourseCommand
    ) -> tuple[CoursePlan, dict[str, Any]]:
        p = command.patient
        key = (
            command.course,
            command.first_day,
            command.infusion_start,
            command.previous_course_end,
            p.sex,
            p.childbearing_potential,
            p.weight_kg is not None and p.weight_kg < 50,
        )
        if key not in self.plans:
            if self.days_only:
                # Snapshot only: the infusion days are the same without the long-term follow-up series.
                light = protocol.model_copy(update={"monitoring": None, "follow_up": ()})
                plan = plan_course_for(light, config, command)
                self.plans[key] = (plan, {"days": [{"date": plan.days[0].date.isoformat()}]})
            else:
                plan = plan_course_for(protocol, config, command)
                self.plans[key] = (plan, plan_to_json(plan))
        plan, document = self.plans[key]
        plan = plan.model_copy(update={"patient": p})
        if self.days_only:
            return plan, document
        return plan, {
            **document,
            "patient": plan_to_json(plan.model_copy(update={"activities": (), "days": ()}))["patient"],
        }

    def task_rows(self, plan: CoursePlan, protocol: Protocol) -> list[dict[str, Any]]:
        """The follow-up task rows of a plan (``tasks_from_plan``), built once per shared plan."""
        key = id(plan.activities)  # patients sharing a plan share its activities tuple
        if key not in self._task_rows:
            self._task_rows[key] = [task_row(task) for task in
                                    tasks_from_plan(plan.activities, plan.course, protocol)]
        return self._task_rows[key]

    def flush(self) -> None:
        assert self.engine is not None
        connection = begin(self.engine, write=True)
        try:
            ledger = Ledger(connection)
            for table, rows in (
                (t.patients, self.patients),
                (t.courses, self.courses),
                (t.follow_up_tasks, self.tasks),
                (t.day_events, self.events),
                (t.audit_log, self.audit),
            ):
                if table is t.audit_log:  # the audit trail is its own chain, not under the ledger
                    if rows:
                        connection.execute(insert(table), rows)
                else:
                    ledger.insert_many(table, rows)
            connection.commit()
        finally:
            connection.close()
        self.patients, self.courses, self.tasks, self.events, self.audit = [], [], [], [], []


def write_bulk(
    engine: Engine,
    protocol: Protocol,
    seed: int,
    patients: int,
    advance: Callable[[], None] = lambda: None,
    config: CentreConfig | None = None,
) -> int:
    """Insert a synthetic trial of ``patients`` patients with their audit rows; returns the number
    of events. Refused (nothing written) when the database holds patients the generator did not
    register."""
    real = real_patients(engine)
    if real:
        raise Conflict(
            "SYNTH-REAL-PATIENTS",
            f"This database holds {real} real patient{'s' if real != 1 else ''}: a synthetic trial is "
            "only written into a database of synthetic patients. Nothing was written; use an empty "
            "database.",
        )
    batch = _Batch(engine)
    audit = _Audit(engine)
    count = 0
    for n, patient in enumerate(draw_trial(seed, patients, trial_calibration(protocol)), start=1):
        for table, row in _patient_rows(
            batch, protocol, config or CentreConfig(centre_id="default"), seed, patient
        ):
            getattr(batch, table).append(row)
            if table != "tasks":
                batch.audit.append(audit.row(table, row))
            count += table == "events"
        advance()
        if n % BATCH == 0:
            batch.flush()
    batch.flush()
    return count


def synthetic_rows(
    protocol: Protocol, seed: int, patients: int, advance: Callable[[], None] = lambda: None
) -> Iterator[tuple[str, dict[str, Any]]]:
    """The rows ``write_bulk`` would insert, as snapshot rows (``snapshot.py``), without a
    database: each day through the domain's reading, as ``export_snapshot`` reads a stored day."""
    batch = _Batch(None)
    batch.days_only = True
    config = CentreConfig(centre_id="default")
    numbers: dict[int, tuple[int, int]] = {}
    for patient in draw_trial(seed, patients, trial_calibration(protocol)):
        day_key: tuple[int, int] | None = None
        stored: list[tuple[int, dict[str, Any], None]] = []
        for table, row in _patient_rows(batch, protocol, config, seed, patient, tasks=False):
            if table == "events" and day_key != (row["course_id"], row["day"]):
                yield from _read_synthetic_day(batch, protocol, numbers, day_key, stored)
                day_key, stored = (row["course_id"], row["day"]), []
            if table == "patients":
                yield (
                    table,
                    {
                        "patient_id": row["id"],
                        "pseudonym": row["pseudonym"],
                        "sex": row["sex"],
                        "birth_date": row["birth_date"],
                        "weight_kg": float(row["weight_kg"]),
                        "centre_id": row["centre_id"],
                    },
                )
            elif table == "courses":
                numbers[row["id"]] = (row["patient_id"], row["number"])
                plan = batch.course_plans[row["id"]]
                yield table, course_row(row["id"], row["patient_id"], row["number"], plan)
            else:
                stored.append((row["seq"], row["payload"], None))
        yield from _read_synthetic_day(batch, protocol, numbers, day_key, stored)
        batch.course_plans.clear()
        advance()


def _read_synthetic_day(
    batch: _Batch, protocol: Protocol, numbers: dict[int, tuple[int, int]], key: tuple[int, int] | None,
    stored: list[tuple[int, dict[str, Any], None]],
) -> Iterator[tuple[str, dict[str, Any]]]:
    if key is None or not stored:
        return
    course_id, day = key
    patient_id, number = numbers[course_id]
    reading, seqs = read_stored_day(batch.course_plans[course_id], day, list(stored), protocol)
    yield from day_rows(reading, course_id, patient_id, number, seqs)


def _patient_rows(
    batch: _Batch,
    protocol: Protocol,
    config: CentreConfig,
    seed: int,
    patient: SynthPatient,
    *,
    tasks: bool = True,
) -> Iterator[tuple[str, dict[str, Any]]]:
    zone = ZoneInfo(TIMEZONE)
    patient_id = batch.patient_id
    batch.patient_id += 1
    created = datetime.combine(patient.first_day - timedelta(days=14), time(9), zone)
    yield (
        "patients",
        {
            "id": patient_id,
            "centre_id": config.centre_id,
            "name": patient.name,
            "birth_date": patient.birth_date,
            "sex": patient.sex,
            "childbearing_potential": patient.childbearing_potential,
            "weight_kg": str(patient.weight_kg),
            "pseudonym": patient.pseudonym,
            "created_at": created,
        },
    )
    planned_patient = Patient(
        id=patient.pseudonym,
        sex="female" if patient.sex == "female" else "male",
        childbearing_potential=patient.childbearing_potential,
        weight_kg=patient.weight_kg,
    )
    calibration = trial_calibration(protocol) if batch.calibration is None else batch.calibration
    batch.calibration = calibration
    first_day, previous_end = patient.first_day, None
    for number in range(1, patient.courses + 1):
        plan, document = batch.plan(
            protocol,
            config,
            PlanCourseCommand(
                patient=planned_patient,
                course=number,
                first_day=first_day,
                infusion_start=patient.infusion_start,
                timezone=TIMEZONE,
                previous_course_end=previous_end,
            ),
        )
        course_id = batch.course_id
        batch.course_id += 1
        if batch.days_only:
            batch.course_plans[course_id] = plan
        yield (
            "courses",
            {
                "id": course_id,
                "patient_id": patient_id,
                "number": number,
                "protocol_id": plan.protocol_id,
                "protocol_version": plan.protocol_version,
                "plan": document,
                "created_at": datetime.combine(first_day - timedelta(days=7), time(9), zone),
                "created_by": SYNTH_USER,
            },
        )
        if tasks:
            for row in batch.task_rows(plan, protocol):
                yield "tasks", {**row, "course_id": course_id}
        for day, events in course_events(protocol, plan, patient, seed, calibration).items():
            for seq, event in enumerate(events, start=1):
                yield (
                    "events",
                    {
                        "course_id": course_id,
                        "day": day,
                        "seq": seq,
                        "type": event["type"],
                        "recorded_at": datetime.fromisoformat(event["at"]),
                        "recorded_by": SYNTH_USER,
                        "payload": {**event, "by": SYNTH_USER},
                        "signature": None,
                    },
                )
        previous_end = plan.last_day
        first_day = next_course_start(plan.last_day, patient_rng(seed, patient.index, 100 + number))
