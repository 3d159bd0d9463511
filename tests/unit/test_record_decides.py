"""Issue 12: the bedside rules follow what the record holds, class by class.

Each test names the requirement IDs of its rule. A refusal changes nothing (``assert_refused``
replays the record before and after); accepted sequences are replayed to their state.
"""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import pytest
from day_builders import PLAN, PROTOCOL, add, at, ev, preparation, signed, started, state, told, vitals
from test_day_guards import assert_refused, without

from infusionist.domain.day_events import DayEvent, DischargeItemDone, parse_event
from infusionist.domain.errors import EventRefused
from infusionist.domain.infusion_day import Phase, append

GRAM_IV = {"dose": {"value": 1, "unit": "g"}, "route": "iv"}


def codes(events: list[DayEvent], clock: str, day: int = 1) -> set[str]:
    return {a.code for a in state(events, clock, day=day).alerts}


# -- 1. time belongs to the day (PROT-04, PROT-07, PROT-09, PROT-10, IAR-21, IAR-24) ----------------


def test_a_premedication_given_a_month_ago_does_not_count__PROT_09_PROT_10():
    month_ago = parse_event({"type": "premedication_given", "at": "2026-11-07T07:00:00+01:00",
                             "name": "paracetamol", **GRAM_IV})
    error = assert_refused([], month_ago, "DAY-EVENT-WRONG-DATE")
    assert "07 Dec 2026" in error.message and "reschedule" in error.message


def test_an_entry_on_the_next_date_before_the_start_is_refused__PROT_04():
    assert_refused(preparation(), ev("infusion_started", "08:00", day=2, rate_ml_per_h=28),
                   "DAY-EVENT-WRONG-DATE")


def test_a_late_observation_may_run_past_midnight():
    events = [*started(), ev("flush_started", "12:00"), ev("flush_completed", "12:30")]
    assert state([*events, vitals("00:10", day=2)], at("00:10", 2)).phase is Phase.OBSERVING


def test_a_signed_reschedule_moves_the_day_and_never_onto_another_infusion_day__PROT_04_PROT_05():
    day4 = 4  # planned on 10 Dec; the 12th is a Saturday without another infusion day
    moved = signed("physician_decision", "07:00", day=day4, decision="reschedule", reason="fever",
                   date="2026-12-12")
    assert state([moved], at("07:00", day4), day=day4).day_date.isoformat() == "2026-12-12"
    later = ev("premedication_given", "07:00", day=6, name="paracetamol", **GRAM_IV)
    s = append(PLAN, day4, [moved], later, PROTOCOL)
    assert s.phase is Phase.PLANNED
    taken = signed("physician_decision", "07:00", day=day4, decision="reschedule", reason="x",
                   date="2026-12-11")
    with pytest.raises(EventRefused) as refused:
        append(PLAN, day4, [], taken, PROTOCOL)
    assert refused.value.code == "DAY-RESCHEDULE-DATE-TAKEN"
    unsigned = ev("physician_decision", "07:00", day=day4, decision="reschedule", reason="x", date="2026-12-12")
    with pytest.raises(EventRefused) as refused:
        append(PLAN, day4, [], unsigned, PROTOCOL)
    assert refused.value.code == "DAY-DECISION-NOT-SIGNED"


def test_an_entry_later_than_now_is_refused_and_never_blocks_the_day__PROT_06():
    now = at("09:00")
    future = ev("vital_signs", "11:00", temperature_c="36.8")
    with pytest.raises(EventRefused) as refused:
        append(PLAN, 1, started(), future, PROTOCOL, now=now)
    assert refused.value.code == "DAY-EVENT-IN-FUTURE"
    assert "11:00" in refused.value.message and "09:00" in refused.value.message
    within_tolerance = ev("vital_signs", "09:01", temperature_c="36.8")
    assert append(PLAN, 1, started(), within_tolerance, PROTOCOL, now=now).phase is Phase.RUNNING


def test_times_in_a_refusal_are_the_units_clock_even_for_an_entry_sent_in_utc():
    utc_entry = ev("infusion_started", "07:59", rate_ml_per_h=28).model_copy(
        update={"at": at("07:59").astimezone(UTC)})
    error = assert_refused(preparation(), utc_entry, "DAY-START-PREMED-TOO-SOON")
    assert "Earliest start: 08:00." in error.message  # Berlin, not 07:00 UTC


def test_a_premedication_given_long_before_the_start_needs_a_go_ahead__IAR_21():
    events = preparation()  # premedication at 07:00; the window is 180 min (product default)
    late = [*events, vitals("10:30")]
    error = assert_refused(late, ev("infusion_started", "10:31", rate_ml_per_h=28), "DAY-START-PREMED-TOO-OLD")
    assert "180 min" in error.message
    go = [*late, signed("physician_decision", "10:30", decision="start_go_ahead", reason="delayed bed")]
    assert add(go, ev("infusion_started", "10:31", rate_ml_per_h=28)).phase is Phase.RUNNING


def test_a_premedication_is_not_given_twice_a_day__PROT_10():
    again = ev("premedication_given", "07:40", name="paracetamol", **GRAM_IV)
    assert_refused(preparation(), again, "DAY-PREMED-ALREADY-GIVEN")


def test_the_start_needs_a_baseline_before_it__IAR_24():
    events = without(preparation(), type="vital_signs")
    assert state(events, "07:45").phase is Phase.PLANNED
    error = assert_refused(events, ev("infusion_started", "08:00", rate_ml_per_h=28), "DAY-START-NO-BASELINE")
    assert "respiratory rate" in error.message
    partial = [*events, ev("vital_signs", "07:50", systolic_mmhg=120, diastolic_mmhg=80)]
    assert_refused(partial, ev("infusion_started", "08:00", rate_ml_per_h=28), "DAY-START-NO-BASELINE")


def test_a_baseline_from_hours_before_does_not_count__IAR_24():
    stale = [vitals("05:00"), *without(preparation(), type="vital_signs")]
    assert_refused(stale, ev("infusion_started", "08:00", rate_ml_per_h=28), "DAY-START-BASELINE-OLD")


# -- 8. the start gate (IAR-24, PROT-07) -----------------------------------------------------------


def test_a_critical_baseline_refuses_the_start_without_a_physicians_go_ahead__IAR_24():
    low = [*preparation(), vitals("07:50", systolic_mmhg=85, diastolic_mmhg=50)]
    error = assert_refused(low, ev("infusion_started", "08:00", rate_ml_per_h=28), "DAY-START-BASELINE-CRITICAL")
    assert "90 mmHg" in error.message
    go = [*low, signed("physician_decision", "07:55", decision="start_go_ahead", reason="usual BP")]
    assert add(go, ev("infusion_started", "08:00", rate_ml_per_h=28)).phase is Phase.RUNNING


def test_a_positive_pregnancy_test_is_not_cleared_by_a_retest__PROT_07():
    positive = ev("test_result", "06:40", name="pregnancy test", result="positive")
    events = [positive, *preparation()]  # the day-1 negative result follows at 06:50
    assert state(events, "07:45").phase is Phase.PLANNED
    assert_refused(events, ev("infusion_started", "08:00", rate_ml_per_h=28), "DAY-PREGNANCY-POSITIVE")
    cleared = [*events, signed("physician_decision", "07:50", decision="clear_positive_test",
                               reason="serum hCG negative, first strip misread")]
    assert state(cleared, "07:55").phase is Phase.READY
    with pytest.raises(EventRefused) as refused:  # a decision without a later negative result
        append(PLAN, 1, [positive], signed("physician_decision", "06:45", decision="clear_positive_test",
                                           reason="x"), PROTOCOL)
    assert refused.value.code == "DAY-CLEAR-TEST-NEEDS-NEGATIVE"


# -- 2. the grade follows the record (IAR-27, CTCAE v5.0) --------------------------------------------


def reaction(symptoms: list[str], *after: DayEvent, **answers: Any) -> list[DayEvent]:
    return [*started(), ev("reaction_onset", "09:00", symptoms=symptoms), *after,
            ev("reaction_assessed", "09:20", **answers)]


def grading(events: list[DayEvent]) -> tuple[str, int]:
    graded = state(events, "09:30").reactions[-1].grading
    assert graded is not None
    return graded.term, graded.grade


def test_signs_of_anaphylaxis_mean_anaphylaxis_whatever_the_defaults__IAR_27_PROT_20():
    events = reaction(["urticaria", "angioedema"], ev("paused", "09:01"))
    assert grading(events) == ("Anaphylaxis", 3)
    reason = state(events, "09:30").reactions[-1].grading.reason  # type: ignore[union-attr]
    assert "Swelling of lips" in reason


def test_a_physician_may_sign_that_it_is_not_anaphylaxis__IAR_27():
    events = reaction(["dyspnoea"], ev("paused", "09:01"),
                      signed("physician_decision", "09:10", decision="not_anaphylaxis",
                             reason="known asthma, no other sign"))
    assert grading(events) == ("Infusion related reaction", 2)


def test_an_interruption_in_the_record_means_at_least_grade_2__IAR_27():
    assert grading(reaction(["rash"], ev("paused", "09:01"))) == ("Infusion related reaction", 2)
    given = ev("medication_given", "09:05", name="dimetindene", dose={"value": 4, "unit": "mg"}, route="iv")
    assert grading(reaction(["rash"], given)) == ("Infusion related reaction", 2)
    assert grading(reaction(["rash"])) == ("Infusion related reaction", 1)


def test_symptoms_coming_back_after_improvement_mean_grade_3__IAR_27():
    first = [*started(), ev("reaction_onset", "08:30", symptoms=["rash"]), ev("paused", "08:31"),
             ev("physician_informed", "08:32"),
             ev("reaction_assessed", "08:40", interruption_needed=True, responded_promptly=True),
             ev("resumed", "08:50", rate_ml_per_h=20)]
    again = [*first, ev("reaction_onset", "09:30", symptoms=["rash"]), ev("paused", "09:31"),
             ev("reaction_assessed", "09:40", interruption_needed=True, responded_promptly=True)]
    graded = state(again, "09:45").reactions[-1].grading
    assert graded is not None and (graded.term, graded.grade, graded.severity) == (
        "Infusion related reaction", 3, "severe")
    assert "came back" in graded.reason


def test_a_critical_vital_sign_during_the_reaction_raises_the_grade__IAR_27_IAR_29():
    low = vitals("09:05", systolic_mmhg=80, diastolic_mmhg=50)
    assert grading(reaction(["flushing"], ev("paused", "09:01"), low)) == ("Anaphylaxis", 3)
    hypoxic = vitals("09:05", spo2_percent=89)
    _term, grade = grading(reaction(["flushing"], ev("paused", "09:01"), hypoxic))
    assert grade >= PROTOCOL.reactions.severe_from_grade  # type: ignore[union-attr]


def test_facts_after_the_grading_raise_it_and_nothing_lowers_it__IAR_27():
    graded = reaction(["rash"], ev("paused", "09:01"), interruption_needed=True, responded_promptly=True)
    assert grading(graded) == ("Infusion related reaction", 2)
    worse = [*graded, vitals("09:25", systolic_mmhg=80, diastolic_mmhg=50)]
    assert grading(worse) == ("Anaphylaxis", 3)


@pytest.mark.parametrize(("symptoms", "after", "answers", "code"), [
    (["rash"], [ev("paused", "09:01")], {"interruption_needed": False},
     "DAY-ASSESSMENT-CONTRADICTS-INTERRUPTION"),
    (["bronchospasm"], [ev("paused", "09:01")], {"anaphylaxis": False}, "DAY-ASSESSMENT-CONTRADICTS-ANAPHYLAXIS"),
])
def test_an_answer_that_contradicts_the_record_is_refused__IAR_27(symptoms, after, answers, code):
    events = [*started(), ev("reaction_onset", "09:00", symptoms=symptoms), *after]
    assert_refused(events, ev("reaction_assessed", "09:20", **answers), code)


# -- 3. no running or restarting through a reaction (PROT-23, IAR-11, IAR-13, IAR-29) ------------


def test_a_reaction_while_the_pump_runs_is_critical_until_paused__PROT_23():
    events = [*started(), ev("reaction_onset", "09:00", symptoms=["rash"])]
    assert "REACTION-PUMP-RUNNING" in codes(events, "09:02")
    assert "REACTION-PUMP-RUNNING" not in codes([*events, ev("paused", "09:03")], "09:04")


def test_no_restart_before_grading_and_informing_the_physician__PROT_23_IAR_27():
    paused = [*started(), ev("reaction_onset", "09:00", symptoms=["rash"]), ev("paused", "09:01")]
    assert_refused(paused, ev("resumed", "09:30", rate_ml_per_h=14), "DAY-RESUME-UNGRADED")
    graded = [*paused, ev("reaction_assessed", "09:10", interruption_needed=True, responded_promptly=True)]
    assert_refused(graded, ev("resumed", "09:30", rate_ml_per_h=14), "DAY-RESUME-PHYSICIAN-NOT-INFORMED")
    informed = [*graded, ev("physician_informed", "09:11")]
    assert add(informed, ev("resumed", "09:30", rate_ml_per_h=14)).phase is Phase.RUNNING


def test_the_rate_is_not_raised_through_an_open_reaction__IAR_12():
    events = [*started(rate=20), ev("reaction_onset", "09:00", symptoms=["rash"])]
    assert_refused(events, ev("rate_changed", "09:01", rate_ml_per_h=28), "DAY-RATE-UP-DURING-REACTION")
    assert add(events, ev("rate_changed", "09:01", rate_ml_per_h=10)).rate_ml_per_h == 10


def test_after_a_severe_grade_the_pump_is_locked__IAR_13_IAR_29():
    events = reaction(["rash"], life_threatening=True)  # still running: graded grade 4
    assert "SEVERE-REACTION-PUMP-RUNNING" in codes(events, "09:30")
    assert_refused(events, ev("rate_changed", "09:31", rate_ml_per_h=10), "DAY-RATE-AFTER-SEVERE")
    stopped = [*events, ev("infusion_stopped", "09:31", reason="anaphylaxis")]
    assert state(stopped, "09:40").phase is Phase.STOPPED_FOR_DAY
    assert_refused(events, ev("flush_started", "09:31"), "DAY-FLUSH-AFTER-SEVERE")


# -- 4. corrections cannot unlock (IAR-27, IAR-29, PROT-07) ----------------------------------------


def test_a_correction_that_lowers_a_grade_needs_a_physicians_signature__IAR_27():
    events = [*reaction(["rash"], ev("paused", "09:01"), recurred=True), ev("physician_informed", "09:21")]
    assessed = len(events) - 2
    lowered = {"type": "reaction_assessed", "at": at("09:20").isoformat(), "interruption_needed": True,
               "responded_promptly": True}
    error = assert_refused(events, ev("correction", "09:25", corrects=assessed, reason="typo",
                                      replacement=lowered), "DAY-CORRECTION-NEEDS-SIGNATURE")
    assert "lowers the reaction of 09:00" in error.message
    signed_fix = signed("correction", "09:25", corrects=assessed, reason="did not recur", replacement=lowered)
    assert grading([*events, signed_fix]) == ("Infusion related reaction", 2)


def test_a_correction_cannot_remove_a_reaction_or_clear_a_positive_test_unsigned__PROT_07():
    events = [*started(), ev("reaction_onset", "09:00", symptoms=["rash"])]
    assert_refused(events, ev("correction", "09:10", corrects=len(events) - 1, reason="x"),
                   "DAY-CORRECTION-NEEDS-SIGNATURE")
    positive = [ev("test_result", "06:40", name="pregnancy test", result="positive")]
    fixed = {"type": "test_result", "at": at("06:40").isoformat(), "name": "pregnancy test", "result": "negative"}
    assert_refused(positive, ev("correction", "06:45", corrects=0, reason="misread", replacement=fixed),
                   "DAY-CORRECTION-NEEDS-SIGNATURE")


def test_a_correction_that_restricts_more_needs_no_signature__IAR_27():
    events = reaction(["rash"], ev("paused", "09:01"), interruption_needed=True, responded_promptly=True)
    worse = {"type": "reaction_assessed", "at": at("09:20").isoformat(), "interruption_needed": True,
             "responded_promptly": False}
    fixed = [*events, ev("correction", "09:25", corrects=len(events) - 1, reason="did not respond",
                         replacement=worse)]
    assert grading(fixed) == ("Infusion related reaction", 3)


# -- 7. the solution and the flush (PROT-12, PROT-13, PROT-16, C-11) ------------------------------


@pytest.mark.parametrize("volume", ["100", "113", "50"])
def test_a_bag_outside_the_protocols_range_is_refused__PROT_12_C_11(volume):
    assert_refused([], ev("solution_prepared", "07:30", volume_ml=volume, dose_mg=12), "DAY-VOLUME-OUT-OF-RANGE")


def test_the_label_volume_is_accepted__C_11():
    bag = state([ev("solution_prepared", "07:30", volume_ml="101.2", dose_mg=12)], "07:31")
    assert bag.prepared_volume_ml == Decimal("101.2")


def test_the_flush_starts_only_from_an_empty_bag_or_after_an_early_end__PROT_16():
    half = [*started(), ev("rate_changed", "09:00", rate_ml_per_h=28)]
    error = assert_refused(half, ev("flush_started", "10:00"), "DAY-FLUSH-BAG-NOT-EMPTY")
    assert "56 mL" in error.message and "12:00" in error.message
    ended = [*half, ev("infusion_ended_early", "10:00", reason="cannula dislodged")]
    s = add(ended, ev("flush_started", "10:01"))
    assert s.phase is Phase.FLUSHING
    after = state([*ended, ev("flush_started", "10:01")], "10:05")
    assert after.dose_complete is False and "DOSE-INCOMPLETE" in {a.code for a in after.alerts}
    assert after.dose_delivered_mg == 6


def test_a_flush_is_not_complete_faster_than_the_protocols_flush__PROT_16():
    events = [*started(), ev("flush_started", "12:00")]
    error = assert_refused(events, ev("flush_completed", "12:01"), "DAY-FLUSH-TOO-FAST")
    assert "12:30" in error.message
    done = state([*events, ev("flush_completed", "12:30")], "12:31")
    assert done.phase is Phase.OBSERVING and done.dose_complete is True


def test_a_bag_that_should_be_empty_alerts__PROT_14_PROT_16():
    assert "INFUSION-END-PASSED" not in codes(started(), "11:59")
    assert "INFUSION-END-PASSED" in codes(started(), "12:01")


def test_an_expired_bag_stays_visible_after_the_flush__PROT_13():
    events = [*started(), ev("paused", "08:30", reason="pump alarm"),
              signed("physician_decision", "12:59", decision="accept_solution_expiry", reason="last vial"),
              ev("resumed", "13:00", rate_ml_per_h=28)]  # 98 mL at 28 mL/h: until 16:30, bag expires 15:30
    assert "SOLUTION-EXPIRY" in codes(events, "15:31")
    done = [*events, ev("flush_started", "16:30"), ev("flush_completed", "17:00")]
    assert "SOLUTION-EXPIRED-IN-USE" in codes(done, "17:05")


# -- 10. the discharge gate and the transfer (IAR-13, IAR-16, IAR-29, PROT-06, PROT-17) ------------


def flushed(*extra: DayEvent) -> list[DayEvent]:
    return [*started(), *extra, ev("flush_started", "12:00"), ev("flush_completed", "12:30")]


def test_discharge_needs_recent_vital_signs__PROT_06_PROT_17():
    events = [*flushed(), *told("14:15")]
    assert_refused(events, ev("discharged", "14:30"), "DAY-DISCHARGE-NO-RECENT-VITALS")
    assert add([*events, vitals("14:20")], ev("discharged", "14:30")).phase is Phase.DISCHARGED


def test_discharge_needs_every_point_of_the_discharge_checklist__PROT_18_IAR_10():
    """Issue 15 item 5: the checklist is recorded item by item (who, when); the gate wants each."""
    events = [*flushed(), vitals("14:20")]
    error = assert_refused(events, ev("discharged", "14:30"), "DAY-DISCHARGE-CHECKLIST-OPEN")
    assert "hydration" in error.message and "PROT-18" in error.requirements
    assert "discharge_item_done" in state(events, "14:25").allowed_actions
    assert add([*events, *told("14:25")], ev("discharged", "14:30")).phase is Phase.DISCHARGED


def test_the_last_days_checklist_adds_the_after_course_instructions_and_staff_tasks__IAR_15_IAR_18_PROT_36():
    items = {e.item for e in told("14:25", day=5) if isinstance(e, DischargeItemDone)}
    assert {"hydration", "delayed-reaction-education", "side-effect-symptoms",
            "delayed-symptom-prescriptions"} <= items
    assert "physician-available" not in items  # a staff rule during the infusion, not at discharge
    assert [e.item for e in told("14:25") if isinstance(e, DischargeItemDone)] == ["hydration"]


def test_a_discharge_point_off_the_list_or_told_twice_is_refused__PROT_18():
    events = [*flushed(), vitals("14:20")]
    assert_refused(events, ev("discharge_item_done", "14:25", item="bland-diet"), "DAY-DISCHARGE-ITEM-UNKNOWN")
    once = [*events, *told("14:25")]
    error = assert_refused(once, ev("discharge_item_done", "14:26", item="hydration"), "DAY-DISCHARGE-ITEM-DONE")
    assert "14:25" in error.message
    assert_refused(started(), ev("discharge_item_done", "09:00", item="hydration"), "DAY-ACTION-NOT-ALLOWED")


def test_discharge_waits_for_the_observation_after_the_last_reaction__IAR_16():
    late = [*flushed(), ev("reaction_onset", "13:00", symptoms=["headache"]),
            ev("reaction_assessed", "13:05"), vitals("14:50")]
    error = assert_refused(late, ev("discharged", "14:55"), "DAY-OBSERVATION-NOT-OVER")
    assert "15:00" in error.message
    assert state(late, "14:55").projected_observation_end == at("15:00")


def test_no_discharge_with_an_ungraded_reaction__IAR_27():
    events = [*flushed(), ev("reaction_onset", "12:40", symptoms=["headache"]), vitals("14:50")]
    assert_refused(events, ev("discharged", "14:55"), "DAY-DISCHARGE-REACTION-UNGRADED")


def test_no_discharge_while_a_severe_reactions_action_is_open__IAR_13_IAR_29():
    events = [*started(), ev("reaction_onset", "09:00", symptoms=["rash"]),
              ev("infusion_stopped", "09:01", reason="severe"), ev("physician_informed", "09:02"),
              ev("reaction_assessed", "09:05", life_threatening=True), vitals("11:30")]
    error = assert_refused(events, ev("discharged", "11:35"), "DAY-DISCHARGE-SEVERE-ACTION-OPEN")
    assert "emergency team" in error.message
    anyway = [*events, signed("physician_decision", "11:33", decision="discharge_despite_gate",
                              reason="team attended, recovered fully")]
    assert add(anyway, ev("discharged", "11:35")).phase is Phase.DISCHARGED


def test_a_transfer_ends_the_day__IAR_29():
    events = [*started(), ev("reaction_onset", "09:00", symptoms=["bronchospasm"])]
    s = add(events, ev("transferred", "09:10", reason="intensive care"))
    assert s.phase is Phase.TRANSFERRED and s.rate_ml_per_h == 0
    assert s.allowed_actions == ("correction",)


def test_time_in_the_states_json_carries_the_zones_offset_at_that_instant():
    from infusionist.domain.day_state_json import state_to_json

    moment = at("09:00").astimezone(UTC)  # asked in UTC, shown in Berlin
    data = state_to_json(state(started(), moment))
    assert data["at"].endswith("+01:00") and data["infusion_started_at"] == "2026-12-07T08:00:00+01:00"
    assert datetime.fromisoformat(data["at"]) == moment


# -- 5. the drug library at the bedside (PROT-10, PROT-24, PROT-25, PROT-29, IAR-29) -------------


def given(clock: str, name: str, value: Any, unit: str, route: str, **extra: Any) -> DayEvent:
    return ev("medication_given", clock, name=name, dose={"value": value, "unit": unit}, route=route, **extra)


def test_ten_grams_of_paracetamol_are_refused__PROT_29():
    assert_refused(started(), given("09:00", "paracetamol", 10, "g", "iv"), "DRUG-HARD-LIMIT-SINGLE")


def test_paracetamol_within_4_hours_of_the_premedication_is_refused__PROT_10_PROT_29():
    error = assert_refused(started(), given("09:00", "paracetamol", 1, "g", "iv"), "DRUG-MIN-INTERVAL")
    assert "11:00" in error.message  # premedication 07:00 + 4 h


def test_dimetindene_ampoules_stop_at_the_daily_limit__PROT_24():
    events = [*started(), given("09:00", "dimetindene", 4, "mg", "iv"), given("09:01", "dimetindene", 4, "mg", "iv")]
    assert_refused(events, given("09:02", "dimetindene", 4, "mg", "iv"), "DRUG-HARD-LIMIT-24H")


def test_epinephrine_ten_milligrams_are_refused__IAR_29():
    assert_refused(started(), given("09:00", "epinephrine", 10, "mg", "im"), "DRUG-HARD-LIMIT-SINGLE")
    assert add(started(), given("09:00", "epinephrine", "0.5", "mg", "im")).phase is Phase.RUNNING


def test_a_drug_outside_the_library_needs_an_indication_and_is_flagged__PROT_24():
    assert_refused(started(), given("09:00", "ondansetron", 4, "mg", "iv"), "DRUG-NOT-IN-LIBRARY")
    s = add(started(), given("09:00", "ondansetron", 4, "mg", "iv", indication="nausea"))
    assert "DOSE-FLAGGED" in {a.code for a in s.alerts}


def test_above_a_soft_limit_only_with_a_reason_and_flagged__PROT_25():
    events = [*started(), given("09:00", "prednisolone", 250, "mg", "iv")]
    assert_refused(events, given("09:30", "prednisolone", 250, "mg", "iv"), "DRUG-SOFT-LIMIT")
    s = add(events, given("09:30", "prednisolone", 250, "mg", "iv", reason="physician ordered a second dose"))
    assert "DOSE-FLAGGED" in {a.code for a in s.alerts}


# -- 9. alerts that grade themselves (CTCAE v5.0, NEWS2; reference sections 3 and 5) -------------


@pytest.mark.parametrize(("reading", "code", "grade", "severity"), [
    ({"temperature_c": "38.0"}, "FEVER", 1, "warning"),
    ({"temperature_c": "39.0"}, "FEVER", 1, "warning"),
    ({"temperature_c": "39.1"}, "FEVER", 2, "warning"),
    ({"temperature_c": "40.1"}, "FEVER", 3, "critical"),
    ({"temperature_c": "35.0"}, "LOW-TEMPERATURE", 3, "critical"),
    ({"respiratory_rate_per_min": 8}, "RESPIRATORY-RATE-LOW", 3, "critical"),
    ({"respiratory_rate_per_min": 25}, "RESPIRATORY-RATE", 3, "critical"),
    ({"heart_rate_bpm": 125}, "TACHYCARDIA", 2, "warning"),
    ({"heart_rate_bpm": 131}, "TACHYCARDIA", 3, "critical"),
    ({"heart_rate_bpm": 40}, "BRADYCARDIA", 3, "critical"),
    ({"systolic_mmhg": 150, "diastolic_mmhg": 85}, "HYPERTENSION", 2, "warning"),
    ({"systolic_mmhg": 220, "diastolic_mmhg": 130}, "HYPERTENSION", 3, "critical"),
])
def test_a_vital_sign_alert_takes_its_grade_and_severity_from_the_reference__IAR_11_IAR_24(
        reading, code, grade, severity):
    alert = next(a for a in add(started(), ev("vital_signs", "08:30", **reading)).alerts if a.code == code)
    assert (alert.grade, alert.severity) == (grade, severity)
    assert f"grade {grade}" in alert.message or f"score {grade}" in alert.message


def test_a_baseline_of_220_over_130_refuses_the_start__IAR_24():
    high = [*preparation(), vitals("07:50", systolic_mmhg=220, diastolic_mmhg=130)]
    assert_refused(high, ev("infusion_started", "08:00", rate_ml_per_h=28), "DAY-START-BASELINE-CRITICAL")


def test_raising_the_rate_within_the_hold_after_a_reduced_restart_alerts__IAR_28():
    restarted = [*started(), ev("reaction_onset", "09:00", symptoms=["rash"]), ev("paused", "09:00"),
                 ev("physician_informed", "09:01"),
                 ev("reaction_assessed", "09:05", interruption_needed=True, responded_promptly=True),
                 ev("resumed", "09:20", rate_ml_per_h=14)]
    early = [*restarted, ev("rate_changed", "09:40", rate_ml_per_h=20)]
    assert "RATE-RAISED-DURING-HOLD" in codes(early, "09:41")
    later = [*restarted, ev("rate_changed", "09:50", rate_ml_per_h=20)]
    assert "RATE-RAISED-DURING-HOLD" not in codes(later, "09:51")
