"""A therapy none of the bundled three is, written from docs/protocol-format.md (issue 16 item 4):
a three-day methylprednisolone pulse, loaded, planned, its plan read back, a day replayed and the
plan exported; and a whole bedside day of natalizumab under its own protocol."""

from __future__ import annotations

from datetime import UTC, date, datetime, time
from pathlib import Path
from zoneinfo import ZoneInfo

from icalendar import Calendar

from infusionist.adapters.calendar import plan_to_ics
from infusionist.adapters.protocol_files import load_bundled_protocol, load_protocol
from infusionist.domain.activities import ActivityKind
from infusionist.domain.centre import CentreConfig
from infusionist.domain.day_events import parse_events
from infusionist.domain.day_state_json import state_to_json
from infusionist.domain.infusion_day import replay
from infusionist.domain.plan_json import plan_from_json, plan_to_json
from infusionist.domain.planning import CoursePlan, Patient, PlanRequest, plan_course
from infusionist.domain.protocol import Protocol

PULSE = Path(__file__).parents[1] / "fixtures" / "methylprednisolone-pulse.yaml"
ZONE = ZoneInfo("Europe/Berlin")
VITALS = {"temperature_c": 36.8, "heart_rate_bpm": 72, "systolic_mmhg": 124, "diastolic_mmhg": 78,
          "respiratory_rate_per_min": 14}


def _plan(protocol: Protocol) -> CoursePlan:
    plan = plan_course(protocol, PlanRequest(Patient(id="R1", sex="male"), 1, date(2027, 3, 1),
                                             time(9, 0), ZONE, "Europe/Berlin"), CentreConfig())
    return plan_from_json(plan_to_json(plan))  # as stored and read back


def at(clock: str) -> datetime:
    return datetime.fromisoformat(f"2027-03-01T{clock}:00+01:00")


def _event(kind: str, clock: str, **fields: object) -> dict[str, object]:
    return {"type": kind, "at": at(clock).isoformat(), **fields}


def test_a_pulse_written_from_the_format_document_is_planned_and_exported__MPP_01_02():
    protocol = load_protocol(PULSE)
    plan = _plan(protocol)
    assert [d.date for d in plan.days] == [date(2027, 3, d) for d in (1, 2, 3)]
    infusions = [a for a in plan.activities if a.kind is ActivityKind.INFUSION]
    assert [a.rate_ml_per_h for a in infusions] == [250] * 3
    calendar = Calendar.from_ical(plan_to_ics(plan, stamp=datetime(2027, 2, 1, tzinfo=UTC)))
    summaries = [str(e.get("summary")) for e in calendar.walk("VEVENT")]
    assert sum("methylprednisolone" in s for s in summaries) >= 3


def test_a_day_of_the_pulse_replays_to_discharge__MPP_03_05_06_07():
    protocol = load_protocol(PULSE)
    events = parse_events([
        _event("vital_signs", "08:45", **VITALS),
        _event("solution_prepared", "08:50", volume_ml=250, dose_mg=1000),
        _event("infusion_started", "09:00", rate_ml_per_h=250),
        _event("vital_signs", "09:30", **VITALS),
        _event("flush_started", "10:00"),
        _event("flush_completed", "10:15"),
        _event("vital_signs", "10:30", **VITALS),
        _event("vital_signs", "10:44", **VITALS),
        _event("observation_completed", "10:45"),
        _event("discharged", "10:46"),
    ])
    state = state_to_json(replay(_plan(protocol), 1, events, at("10:46"), protocol))
    assert state["phase"] == "discharged"
    assert state["volume_infused_ml"] == 250 and state["remaining_ml"] == 0


def test_a_natalizumab_day_runs_at_100_ml_h_with_flush_and_observation__NAT_02_04_06_08_09_10():
    protocol = load_bundled_protocol("natalizumab-ms")
    events = parse_events([
        _event("vital_signs", "08:45", **VITALS),
        _event("solution_prepared", "08:50", volume_ml=100, dose_mg=300),
        _event("infusion_started", "09:00", rate_ml_per_h=100),
        _event("vital_signs", "09:30", **{**VITALS, "temperature_c": 38.2}),
        _event("flush_started", "10:00"),
        _event("flush_completed", "10:30"),
        _event("vital_signs", "11:00", **VITALS),
        _event("vital_signs", "11:29", **VITALS),
        _event("observation_completed", "11:30"),
        _event("discharged", "11:31"),
    ])
    plan = _plan(protocol)
    during = state_to_json(replay(plan, 1, events[:4], at("09:31"), protocol))
    assert during["phase"] == "running" and during["rate_ml_per_h"] == 100
    assert during["projected_infusion_end"] == at("10:00").isoformat()
    assert any(alert["code"] == "FEVER" for alert in during["alerts"])
    end = state_to_json(replay(plan, 1, events, at("11:31"), protocol))
    assert end["phase"] == "discharged" and end["volume_infused_ml"] == 100


def test_each_further_therapy_has_the_units_bedside_sections__OCR_19_20_21_NAT_08_09_10():
    for protocol_id, ids in (("ocrelizumab-ms", ("OCR-19", "OCR-20", "OCR-21")),
                             ("natalizumab-ms", ("NAT-08", "NAT-09", "NAT-10"))):
        protocol = load_bundled_protocol(protocol_id)
        assert protocol.reactions is not None and protocol.vital_sign_rules is not None
        assert protocol.bedside_record is not None
        assert (protocol.reactions.requirements, protocol.vital_sign_rules.requirements,
                protocol.bedside_record.requirements) == tuple((i,) for i in ids)
        assert protocol.reactions.symptom("stroke-signs") is None  # the alemtuzumab label's own
        library = protocol.drug_library
        assert library is not None
        for action in protocol.reactions.actions:
            if action.medicine is not None:
                assert library.find(action.medicine.name) is not None
