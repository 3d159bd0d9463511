"""Guards: each refused event gives a stable code, names the event and changes nothing."""

from __future__ import annotations

from typing import Any

import pytest
from day_builders import (
    PLAN,
    PROTOCOL,
    add,
    at,
    ev,
    make_plan,
    preparation,
    signed,
    started,
    state,
    told,
    vitals,
)

from infusionist.domain.day_events import DayEvent
from infusionist.domain.errors import EventRefused, InfusionistError, ValidationFailed
from infusionist.domain.infusion_day import replay
from infusionist.domain.planning import CoursePlan

MG = "mg"


def assert_refused(events: list[DayEvent], new: DayEvent, code: str, *, plan: CoursePlan = PLAN,
                   error: type[InfusionistError] = EventRefused) -> InfusionistError:
    """``new`` is refused with ``code`` and the state is exactly the one before it."""
    before = state(events, new.at, plan=plan)
    record = list(events)
    with pytest.raises(error) as refused:
        add(record, new, plan=plan)
    assert refused.value.code == code
    assert refused.value.details["event"].startswith(f"Event {len(events)} ({new.type}")
    assert "Event " not in refused.value.message  # the nurse reads the rule, not indices
    assert refused.value.details["event_index"] == str(len(events))
    assert record == events
    assert state(record, new.at, plan=plan) == before
    return refused.value


def without(events: list[DayEvent], **match: Any) -> list[DayEvent]:
    return [e for e in events if not all(getattr(e, k, None) == v for k, v in match.items())]


def test_methylprednisolone_required_before_start_on_days_1_to_3__PROT_09():
    events = without(preparation(), name="methylprednisolone")
    error = assert_refused(events, ev("infusion_started", "08:00", rate_ml_per_h=28), "DAY-START-NO-PREMED")
    assert "Methylprednisolone 1 g iv has not been given" in error.message
    assert "PROT-09" in error.requirements


def test_paracetamol_required_before_start_every_day__PROT_10():
    events = without(preparation(day=4), name="paracetamol")
    new = ev("infusion_started", "08:00", 4, rate_ml_per_h=28)
    before = state(events, new.at, day=4)
    with pytest.raises(EventRefused) as refused:
        replay(PLAN, 4, [*events, new], new.at, PROTOCOL)
    assert refused.value.code == "DAY-START-NO-PREMED"
    assert "Paracetamol" in refused.value.message
    assert state(events, new.at, day=4) == before


def test_premedication_must_be_given_the_configured_offset_before__PROT_09_C_2():
    events = preparation()
    error = assert_refused(events, ev("infusion_started", "07:59", rate_ml_per_h=28),
                           "DAY-START-PREMED-TOO-SOON")
    assert "Earliest start: 08:00." in error.message


def test_methylprednisolone_is_refused_after_day_3__PROT_09():
    new = ev("premedication_given", "07:00", 4, name="methylprednisolone", dose={"value": 1, "unit": "g"},
             route="iv")
    with pytest.raises(EventRefused) as refused:
        replay(PLAN, 4, [new], new.at, PROTOCOL)
    assert refused.value.code == "DAY-PREMED-NOT-TODAY"


def test_day_1_start_needs_a_negative_pregnancy_test__PROT_07():
    events = without(preparation(), type="test_result")
    assert_refused(events, ev("infusion_started", "08:00", rate_ml_per_h=28), "DAY-START-NO-PREGNANCY-TEST")


def test_no_pregnancy_test_needed_without_childbearing_potential__PROT_07():
    plan = make_plan(childbearing_potential=False)
    events = without(preparation(), type="test_result")
    assert state([*events, ev("infusion_started", "08:00", rate_ml_per_h=28)], "08:00",
                 plan=plan).phase.value == "running"


def test_a_positive_pregnancy_test_blocks_the_course__PROT_07():
    events = [ev("test_result", "06:50", name="pregnancy test", result="positive"), *preparation()[1:]]
    assert "PREGNANCY-POSITIVE" in [a.code for a in state(events, "07:45").alerts]
    assert_refused(events, ev("infusion_started", "08:00", rate_ml_per_h=28), "DAY-PREGNANCY-POSITIVE")


def test_start_refused_with_an_expired_solution__PROT_13():
    events = preparation()
    error = assert_refused(events, ev("infusion_started", "15:31", rate_ml_per_h=28),
                           "DAY-SOLUTION-EXPIRED")
    assert "expired at 15:30" in error.message


def late_preparation() -> list[DayEvent]:
    """Bag prepared at 07:30 (usable until 15:30); test, baseline and premedication in the afternoon."""
    return [ev("test_result", "06:50", name="pregnancy test", result="negative"),
            ev("solution_prepared", "07:30", volume_ml=112, dose_mg=12), vitals("14:20"),
            ev("premedication_given", "14:25", name="methylprednisolone", dose={"value": 1, "unit": "g"},
               route="iv"),
            ev("premedication_given", "14:25", name="paracetamol", dose={"value": 1, "unit": "g"}, route="iv")]


def test_a_start_whose_end_passes_the_expiry_needs_a_physician__PROT_13():
    error = assert_refused(late_preparation(), ev("infusion_started", "15:30", rate_ml_per_h=28),
                           "DAY-SOLUTION-EXPIRES-DURING-INFUSION")
    assert "would run until 19:30" in error.message and "expires at 15:30" in error.message
    accepted = [*late_preparation(), signed("physician_decision", "15:29", decision="accept_solution_expiry",
                                            reason="no new vial until tomorrow")]
    running = state([*accepted, ev("infusion_started", "15:30", rate_ml_per_h=28)], "15:40")
    assert running.phase.value == "running"
    assert "SOLUTION-EXPIRY" in [a.code for a in running.alerts]


def test_resume_refused_with_an_expired_solution__PROT_13():
    events = [*started(), ev("paused", "09:00", reason="pump")]
    assert_refused(events, ev("resumed", "15:31", rate_ml_per_h=28), "DAY-SOLUTION-EXPIRED")


@pytest.mark.parametrize("kind", ["infusion_started", "rate_changed", "resumed"])
def test_a_rate_above_the_protocol_maximum_is_refused__PROT_14(kind):
    events = {"infusion_started": preparation(), "rate_changed": started(),
              "resumed": [*started(), ev("paused", "09:00")]}[kind]
    clock = "08:00" if kind == "infusion_started" else "09:10"
    error = assert_refused(events, ev(kind, clock, rate_ml_per_h="28.1"), "DAY-RATE-TOO-HIGH")
    assert "28.1 mL/h is above the maximum 28 mL/h" in error.message


def severe(events: list[DayEvent]) -> list[DayEvent]:
    return [*events, ev("reaction_onset", "09:00", symptoms=["dyspnoea"]), ev("paused", "09:00"),
            ev("reaction_assessed", "09:05", interruption_needed=True, responded_promptly=False)]


def test_resume_after_a_severe_reaction_needs_a_physician_override__IAR_14_IAR_29():
    error = assert_refused(severe(started()), ev("resumed", "10:00", rate_ml_per_h=14),
                           "DAY-RESUME-NEEDS-OVERRIDE")
    assert "severe reaction was graded at 09:05" in error.message


def test_resume_after_a_severe_reaction_with_an_override__IAR_14():
    events = [*severe(started()), ev("physician_informed", "09:06"),
              signed("physician_override", "09:50", reason="benefit outweighs risk")]
    assert add(events, ev("resumed", "10:00", rate_ml_per_h=28)).phase.value == "running"


def test_an_override_needs_a_reason__IAR_14():
    with pytest.raises(ValidationFailed) as refused:
        ev("physician_override", "09:50", reason="  ")
    assert refused.value.code == "INPUT-EVENT-FIELD"
    assert "reason" in refused.value.details


def test_an_override_before_the_severe_assessment_does_not_count__IAR_14():
    events = severe([*started(), signed("physician_override", "08:30", reason="earlier decision")])
    assert_refused(events, ev("resumed", "10:00", rate_ml_per_h=14), "DAY-RESUME-NEEDS-OVERRIDE")


def test_an_event_earlier_than_the_previous_one_is_refused():
    events = started()
    assert_refused(events, ev("paused", "07:59"), "DAY-EVENT-OUT-OF-ORDER")


@pytest.mark.parametrize("dose_mg", [24, "11.9"])
def test_any_dose_other_than_12_mg_is_refused__PROT_11_C_7(dose_mg):
    events = preparation()[:-1]
    error = assert_refused(events, ev("solution_prepared", "07:30", volume_ml=112, dose_mg=dose_mg),
                           "DAY-WRONG-DOSE")
    assert "12 mg" in error.message


def test_a_premedication_dose_other_than_the_protocols_is_refused__PROT_09():
    assert_refused([], ev("premedication_given", "07:00", name="methylprednisolone",
                          dose={"value": 500, "unit": MG}, route="iv"), "DAY-WRONG-DOSE")


def test_the_same_dose_in_another_unit_is_accepted__PROT_09():
    new = ev("premedication_given", "07:00", name="methylprednisolone", dose={"value": 1000, "unit": MG},
             route="iv")
    assert add([], new).events_applied == 1


def test_a_reaction_drug_dose_other_than_the_protocols_is_refused__PROT_24():
    events = [*started(), ev("reaction_onset", "09:00", symptoms=["rash"])]
    assert_refused(events, ev("medication_given", "09:05", name="dimetindene",
                              dose={"value": 8, "unit": MG}, route="iv"), "DAY-WRONG-DOSE")


def test_an_impossible_vital_sign_is_refused_per_field__IAR_24():
    error = assert_refused(started(), ev("vital_signs", "08:30", temperature_c="98.6", heart_rate_bpm=80),
                           "VITALS-IMPLAUSIBLE", error=ValidationFailed)
    assert "looks like Fahrenheit" in error.details["temperature_c"]


@pytest.mark.parametrize(
    ("events", "new"),
    [
        ([], ev("paused", "08:00")),
        (started(), ev("solution_prepared", "09:00", volume_ml=112, dose_mg=12)),
        (started(), ev("flush_completed", "09:00")),
        ([*started(), ev("paused", "09:00")], ev("flush_started", "09:10")),
    ],
)
def test_an_event_the_phase_does_not_allow_is_refused(events, new):
    error = assert_refused(events, new, "DAY-ACTION-NOT-ALLOWED")
    assert "Possible now:" in error.message


def test_discharge_before_the_end_of_observation_is_refused__PROT_17_IAR_16():
    events = [*started(), ev("flush_started", "12:00"), ev("flush_completed", "12:30")]
    error = assert_refused(events, ev("discharged", "14:29"), "DAY-OBSERVATION-NOT-OVER")
    assert "until 14:30" in error.message


def test_a_reaction_more_than_24_h_after_the_infusion_is_refused__IAR_01():
    events = [*started(), ev("flush_started", "12:00"), ev("flush_completed", "12:30"), vitals("14:20"),
              *told("14:25"), ev("discharged", "14:30")]
    assert_refused(events, ev("reaction_onset", "12:01", day=2, symptoms=["rash"]),
                   "DAY-AFTER-REACTION-WINDOW")


def test_an_unknown_symptom_is_refused__IAR_26():
    assert_refused(started(), ev("reaction_onset", "09:00", symptoms=["sneezing"]), "DAY-UNKNOWN-SYMPTOM")


def test_assessing_without_a_reaction_is_refused__IAR_27():
    assert_refused(started(), ev("reaction_assessed", "09:00"), "DAY-NO-REACTION")


def test_a_correction_must_name_an_earlier_event():
    assert_refused(started(), ev("correction", "09:00", corrects=99, reason="typo"),
                   "DAY-CORRECTION-TARGET")


def test_a_correction_is_checked_like_the_event_it_replaces__PROT_14():
    events = [*started(), ev("rate_changed", "09:00", rate_ml_per_h=20)]
    bad = ev("correction", "09:30", corrects=len(events) - 1, reason="typo",
             replacement={"type": "rate_changed", "at": at("09:00").isoformat(), "rate_ml_per_h": 40})
    before = state(events, "09:30")
    with pytest.raises(EventRefused) as refused:
        add(events, bad)
    assert refused.value.code == "DAY-RATE-TOO-HIGH"
    assert "as corrected by event" in refused.value.details["event"]
    assert state(events, "09:30") == before


def test_a_naive_time_is_refused():
    from infusionist.domain.day_events import parse_event

    with pytest.raises(ValidationFailed) as refused:
        parse_event({"type": "paused", "at": "2026-12-07T09:00:00"})
    assert refused.value.code == "INPUT-EVENT-TIME"
    assert "UTC offset" in refused.value.details["at"]
