"""Every reader reads what the bedside reads (issue 13 item 1): days stored through the services,
then the day state, the IAR report, SDTM and FHIR must agree on every number.

The two bugs measured on the product are regression tests here: a reaction withdrawn by a
signed correction is not counted by the report nor exported (SDTM AE, FHIR AdverseEvent); a rate
corrected from 21 to 17 mL/h reaches SDTM EX and FHIR as 17. The Hypothesis differential test
draws days with rate changes, pauses, reactions, corrections and withdrawals.
"""

from __future__ import annotations

import itertools
import shutil
from dataclasses import dataclass, replace
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from hypothesis import HealthCheck, Phase, event, given, settings
from hypothesis import strategies as st

from infusionist.adapters.cdisc import sdtm
from infusionist.adapters.fhir.resources import CTCAE_GRADES, PatientResources
from infusionist.adapters.snapshot_days import snapshot_patients
from infusionist.analytics.iar import compute
from infusionist.analytics.snapshot import export_snapshot
from infusionist.bootstrap import build
from infusionist.config import Settings
from infusionist.domain.access import Role
from infusionist.domain.errors import InfusionistError
from infusionist.domain.protocol import Protocol
from infusionist.domain.records import Actor, Context
from infusionist.services.auth import create_user
from infusionist.services.courses import CreateCourse, create_course
from infusionist.services.events import AppendEvent, Signature, append_event, day_state
from infusionist.services.patients import RegisterPatient, register_patient

BERLIN = ZoneInfo("Europe/Berlin")
FIRST_DAY = date(2026, 3, 2)  # a Monday
PASSWORD = "correct horse battery staple 42"
STUDY = "ONE-READING"
GRADE_CODES = {code: grade for grade, (code, _display) in CTCAE_GRADES.items()}


class Clock:
    def __init__(self) -> None:
        self.current = datetime(2026, 2, 1, 9, tzinfo=BERLIN)

    def now(self) -> datetime:
        return self.current


@pytest.fixture(scope="module")
def template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A migrated database with a physician, copied for each day (migrations run once)."""
    path = tmp_path_factory.mktemp("one-reading") / "template.db"
    deps = build(_settings(path))
    create_user(deps, None, "dr.one", "Dr One", Role.PHYSICIAN, PASSWORD)
    deps.uow.engine.dispose()  # type: ignore[attr-defined]
    return path


def _settings(path: Path) -> Settings:
    return Settings(data_dir=path.parent, database_url=f"sqlite:///{path}", argon2_time_cost=1,
                    argon2_memory_kib=8192)


@dataclass
class Day:
    """One course day recorded through the services, as the physician."""

    deps: Any
    clock: Clock
    ctx: Context
    course_id: int
    seq: int = 0
    statistics: bool = False

    def at(self, clock: str) -> datetime:
        hours, minutes = (int(p) for p in clock.split(":"))
        return datetime.combine(FIRST_DAY, time(hours, minutes), BERLIN)

    def record(self, kind: str, moment: datetime, *, signed: bool = False, **fields: Any) -> int | None:
        """Append one entry at ``moment``; its seq, or None when the bedside refused it (and then
        nothing was written)."""
        self.clock.current = max(self.clock.current, moment)
        payload = {"type": kind, "at": moment.isoformat(), **fields}
        signature = Signature(PASSWORD, "I confirm this correction") if signed else None
        try:
            append_event(self.deps, self.ctx, AppendEvent(self.course_id, 1, self.seq + 1, payload, signature))
        except InfusionistError:
            assert day_state(self.deps, self.ctx, self.course_id, 1).seq == self.seq, "a refusal wrote"
            return None
        self.seq += 1
        if self.statistics:  # what Hypothesis reports with --hypothesis-show-statistics
            event(f"recorded {kind}" + (" (withdrawal)" if kind == "correction" and "replacement" not in fields
                                        else ""))
        return self.seq

    def correct(self, seq: int, moment: datetime, reason: str, replacement: dict[str, Any] | None = None,
                *, signed: bool = False) -> int | None:
        fields: dict[str, Any] = {"corrects": seq - 1, "reason": reason}
        if replacement is not None:
            fields["replacement"] = replacement
        return self.record("correction", moment, signed=signed, **fields)

    def prepare_and_start(self, rate: int = 28) -> None:
        for kind, clock, fields in (
            ("test_result", "07:50", {"name": "pregnancy test", "result": "negative"}),
            ("vital_signs", "07:55", {"temperature_c": "36.8", "heart_rate_bpm": 72, "systolic_mmhg": 130,
                                      "diastolic_mmhg": 80, "respiratory_rate_per_min": 14,
                                      "spo2_percent": 98}),
            ("premedication_given", "08:00", {"name": "methylprednisolone", "dose": {"value": 1, "unit": "g"},
                                              "route": "iv"}),
            ("premedication_given", "08:00", {"name": "paracetamol", "dose": {"value": 1, "unit": "g"},
                                              "route": "iv"}),
            ("solution_prepared", "08:30", {"volume_ml": 112, "dose_mg": 12}),
            ("infusion_started", "09:00", {"rate_ml_per_h": rate}),
        ):
            assert self.record(kind, self.at(clock), **fields) is not None, kind

    def state(self) -> dict[str, Any]:
        return day_state(self.deps, self.ctx, self.course_id, 1).as_json()


def _new_day(template: Path, folder: Path) -> Day:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "day.db"
    shutil.copy(template, path)
    clock = Clock()
    deps = replace(build(_settings(path)), clock=clock)
    ctx = Context(Actor(1, "dr.one", "Dr One", Role.PHYSICIAN))
    patient = register_patient(deps, ctx, RegisterPatient(name="Jane Roe", birth_date=date(1980, 1, 2),
                                                           sex="female", childbearing_potential=True))
    course = create_course(deps, ctx, CreateCourse(patient_id=patient["id"], course=1, first_day=FIRST_DAY,
                                                   infusion_start=time(9), timezone="Europe/Berlin"))
    return Day(deps, clock, ctx, int(course["id"]))


@dataclass
class Readers:
    """What each reader says about the stored record."""

    state: dict[str, Any]
    report: dict[str, Any]
    domains: dict[str, list[dict[str, Any]]]
    fhir: list[dict[str, Any]]


def _read_all(day: Day, protocol: Protocol, folder: Path) -> Readers:
    snapshot = export_snapshot(day.deps.uow.engine, protocol, folder / "snapshot")
    records = list(snapshot_patients(snapshot))
    resources = [r for record in records for _url, r in PatientResources(record, protocol, STUDY).entries()]
    return Readers(day.state(), compute(snapshot, protocol), sdtm.build(snapshot, protocol, STUDY), resources)


def _of(resources: list[dict[str, Any]], kind: str) -> list[dict[str, Any]]:
    return [r for r in resources if r["resourceType"] == kind]


def _alemtuzumab(resources: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [r for r in _of(resources, "MedicationAdministration")
            if r["medicationCodeableConcept"].get("text") == "alemtuzumab"]


def _utc_minute(text: str) -> str:
    return datetime.fromisoformat(text).astimezone(ZoneInfo("UTC")).isoformat()[:16]


def test_a_withdrawn_reaction_is_not_in_the_report_sdtm_or_fhir__IAR_27(
    template: Path, protocol: Protocol, tmp_path: Path
) -> None:
    day = _new_day(template, tmp_path)
    day.prepare_and_start()
    onset = day.record("reaction_onset", day.at("09:30"), symptoms=["rash"])
    assessed = day.record("reaction_assessed", day.at("09:35"), interruption_needed=False)
    assert onset is not None and assessed is not None
    before = _read_all(day, protocol, tmp_path / "before")
    assert len(before.domains["AE"]) == 1 and before.report["by_course"][0]["patients_with_iar"] == 1
    # Recorded against the wrong patient: a physician withdraws it, signed (it lifts a restriction).
    assert day.correct(assessed, day.at("09:40"), "wrong patient", signed=True) is not None
    assert day.correct(onset, day.at("09:40"), "wrong patient", signed=True) is not None
    after = _read_all(day, protocol, tmp_path / "after")
    assert after.state["reactions"] == []
    assert after.domains["AE"] == []
    assert _of(after.fhir, "AdverseEvent") == []
    assert after.report["by_course"][0]["patients_with_iar"] == 0
    assert after.report["grades"] == [] and after.report["onset_minutes"]["reactions"] == 0


def test_a_rate_corrected_from_21_to_17_reaches_sdtm_ex_and_fhir__PROT_14(
    template: Path, protocol: Protocol, tmp_path: Path
) -> None:
    day = _new_day(template, tmp_path)
    day.prepare_and_start()
    changed = day.record("rate_changed", day.at("10:00"), rate_ml_per_h=21)
    assert changed is not None
    assert day.correct(changed, day.at("10:30"), "typed 21, the pump runs at 17",
                       {"type": "rate_changed", "at": day.at("10:00").isoformat(), "rate_ml_per_h": 17})
    assert day.record("infusion_ended_early", day.at("11:00"), reason="cannula lost") is not None
    readers = _read_all(day, protocol, tmp_path / "read")
    rates = [r["dosage"]["rateQuantity"]["value"] for r in _alemtuzumab(readers.fhir)]
    assert rates == [28, 17]
    assert [round(x["EXDOSE"], 3) for x in readers.domains["EX"]] == [3.0, round(17 * 12 / 112, 3)]
    assert readers.state["volume_infused_ml"] == 45  # 28 mL in the first hour, 17 in the second


# -- the differential test -------------------------------------------------------------------------

RATES = st.integers(20, 28)  # slower, the 112 mL would outlast the solution's 8 hours (PROT-13)
STEPS = st.lists(
    st.one_of(
        st.tuples(st.just("rate"), RATES),
        st.tuples(st.just("pause"), st.integers(5, 30), RATES),
        st.tuples(st.just("reaction"), st.sampled_from(["rash", "headache", "pyrexia"]), st.booleans()),
        st.tuples(st.just("vitals"), st.integers(60, 110)),
        st.tuples(st.just("correct_rate"), RATES),
        st.tuples(st.just("withdraw"), st.sampled_from(["reaction", "vitals", "rate"])),
    ),
    min_size=2,
    max_size=8,
)
ENDINGS = st.sampled_from(["flush", "ended_early", "stopped"])
EXAMPLES = itertools.count()


def _play(day: Day, steps: list[tuple[Any, ...]], ending: str) -> None:
    moment = day.at("09:00")
    seqs: dict[str, list[int]] = {"rate": [], "reaction": [], "vitals": []}
    for step in steps:
        moment += timedelta(minutes=15)
        kind = step[0]
        if kind == "rate":
            _keep(seqs["rate"], day.record("rate_changed", moment, rate_ml_per_h=step[1]))
        elif kind == "pause":
            if day.record("paused", moment, reason="pump alarm") is not None:
                moment += timedelta(minutes=step[1])
                day.record("resumed", moment, rate_ml_per_h=step[2])
        elif kind == "reaction":
            onset = day.record("reaction_onset", moment, symptoms=[step[1]])
            if onset is not None:
                _keep(seqs["reaction"], onset)
                day.record("physician_informed", moment + timedelta(minutes=1))
                day.record("reaction_assessed", moment + timedelta(minutes=2), interruption_needed=step[2],
                           responded_promptly=True)
                moment += timedelta(minutes=2)
        elif kind == "vitals":
            _keep(seqs["vitals"], day.record("vital_signs", moment, heart_rate_bpm=step[1], systolic_mmhg=120,
                                              diastolic_mmhg=75))
        elif kind == "correct_rate" and seqs["rate"]:
            target = seqs["rate"][-1]
            day.correct(target, moment, "typed the wrong rate",
                        {"type": "rate_changed", "at": _stored_at(day, target), "rate_ml_per_h": step[1]})
        elif kind == "withdraw" and seqs[step[1]]:
            target = seqs[step[1]].pop()
            if step[1] == "reaction":  # the assessment goes first, then the onset
                for later in range(day.seq, target, -1):
                    if _stored_type(day, later) == "reaction_assessed":
                        day.correct(later, moment, "wrong patient", signed=True)
                        break
            day.correct(target, moment, "wrong patient", signed=True)
    moment += timedelta(minutes=5)
    if ending == "flush":
        projected = day.state()["projected_infusion_end"]
        end = datetime.fromisoformat(projected) if projected else moment
        end = max(end, moment).replace(second=0, microsecond=0) + timedelta(minutes=1)
        if day.record("flush_started", end) is None:
            day.record("infusion_ended_early", moment, reason="ended early")
    elif ending == "ended_early":
        day.record("infusion_ended_early", moment, reason="cannula lost")
    else:
        day.record("infusion_stopped", moment, reason="serious reaction")


def _keep(seqs: list[int], seq: int | None) -> None:
    if seq is not None:
        seqs.append(seq)


def _stored(day: Day, seq: int) -> dict[str, Any]:
    from infusionist.services.events import list_events

    return next(e for e in list_events(day.deps, day.ctx, day.course_id, 1) if e.seq == seq)


def _stored_at(day: Day, seq: int) -> str | None:
    payload = _stored(day, seq).payload
    return str(payload["at"])


def _stored_type(day: Day, seq: int) -> str:
    return str(_stored(day, seq)["payload"]["type"])


def _check_agreement(readers: Readers, protocol: Protocol) -> None:
    state, domains, fhir, report = readers.state, readers.domains, readers.fhir, readers.report
    # Doses, volumes, rates, times: SDTM EX = FHIR alemtuzumab administrations = the day state.
    ex, mas = domains["EX"], _alemtuzumab(fhir)
    assert len(ex) == len(mas)
    for record, ma in zip(ex, mas, strict=True):
        assert record["EXDOSE"] == ma["dosage"]["dose"]["value"]
        assert record["EXSTDTC"] == ma["effectivePeriod"]["start"][:16]
        assert record["EXENDTC"] == ma["effectivePeriod"]["end"][:16]
    assert abs(sum(x["EXDOSE"] for x in ex) - float(state["dose_delivered_mg"])) <= 0.001 * (len(ex) + 1)
    if ex:
        assert ex[0]["EXSTDTC"] == _utc_minute(state["infusion_started_at"])
    rates = [ma["dosage"]["rateQuantity"]["value"] for ma in mas]
    assert all(rate > 0 for rate in rates)
    # Reactions, grades, counts: the day state = SDTM AE = FHIR AdverseEvent = the IAR report.
    reactions = state["reactions"]
    ae, events = domains["AE"], _of(fhir, "AdverseEvent")
    assert len(ae) == len(events) == len(reactions)
    severe = protocol.reactions.severe_from_grade  # type: ignore[union-attr]
    for r, record, adverse in zip(reactions, ae, events, strict=True):
        grade = r["grade"]
        assert record["AETOXGR"] == ("" if grade is None else str(grade))
        assert record["AESTDTC"] == _utc_minute(r["onset"]) == adverse["date"][:16]
        assert record["AESER"] == ("Y" if grade is not None and grade >= severe else "N")
        coded = [GRADE_CODES[c["code"]] for x in adverse.get("extension", [])
                 for c in x["valueCodeableConcept"]["coding"]]
        assert coded == ([] if grade is None else [grade])
    course = report["by_course"][0] if report["by_course"] else None
    exposed = state["infusion_started_at"] is not None
    assert (course is not None and course["patients_exposed"] == 1) is exposed
    if course is not None:
        assert course["patients_with_iar"] == (1 if reactions else 0)
    assert report["onset_minutes"]["reactions"] == len(reactions)
    assert {g["grade"]: g["reactions"] for g in report["grades"]} == _counts(
        r["grade"] for r in reactions if r["grade"] is not None)
    serious = report["serious"][0]["patients_with_iar"] if report["serious"] else 0
    assert serious == (1 if any((r["grade"] or 0) >= severe for r in reactions) else 0)
    # Medications and vital signs: SDTM CM = FHIR MedicationAdministration; VS = Observation values.
    assert len(domains["CM"]) == len(_of(fhir, "MedicationAdministration")) - len(mas)
    observed = sum(len(o.get("component", [])) or 1 for o in _of(fhir, "Observation"))
    assert len(domains["VS"]) == observed


def _counts(values: Any) -> dict[int, int]:
    out: dict[int, int] = {}
    for value in values:
        out[value] = out.get(value, 0) + 1
    return out


@settings(max_examples=20, deadline=None, derandomize=True, phases=[Phase.explicit, Phase.generate],
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(steps=STEPS, ending=ENDINGS)
def test_every_reader_agrees_with_the_day_state_on_every_number__PROT_14_IAR_27_C_11(
    template: Path, protocol: Protocol, tmp_path: Path, steps: list[tuple[Any, ...]], ending: str
) -> None:
    folder = tmp_path / f"example-{next(EXAMPLES)}"  # a fresh database for every run of an example
    day = _new_day(template, folder)
    day.statistics = True
    day.prepare_and_start()
    _play(day, steps, ending)
    readers = _read_all(day, protocol, folder)
    _check_agreement(readers, protocol)
    assert Decimal(str(readers.state["volume_infused_ml"])) <= 112
