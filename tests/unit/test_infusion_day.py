"""The infusion day as a replay of its events: phases, pump arithmetic, projections, checklist."""

from __future__ import annotations

from decimal import Decimal

import pytest
from day_builders import (
    PLAN,
    add,
    at,
    configured,
    ev,
    make_plan,
    preparation,
    signed,
    started,
    state,
    told,
    vitals,
)

from infusionist.domain.day_state_json import state_to_json
from infusionist.domain.errors import EventRefused
from infusionist.domain.infusion_day import Phase

# docs/bedside.md, example 1: 112 mL prepared 07:30, started 08:00 at 28 mL/h, a mild reaction
# at 09:00, a 20-minute pause and a restart at 14 mL/h.
WORKED = [
    *started(),
    ev("reaction_onset", "09:00", symptoms=["rash", "pruritus"]),
    ev("paused", "09:00", reason="reaction"),
    ev("physician_informed", "09:01"),
    ev("vital_signs", "09:02", temperature_c="37.4", heart_rate_bpm=88, systolic_mmhg=124,
       diastolic_mmhg=78),
    ev("reaction_assessed", "09:05", interruption_needed=True, responded_promptly=True),
    ev("medication_given", "09:05", name="dimetindene", dose={"value": 4, "unit": "mg"}, route="iv"),
    ev("resumed", "09:20", rate_ml_per_h=14),
]


def test_worked_example_ends_at_15_20_within_the_8_hours__PROT_13_PROT_14_IAR_28():
    s = state(WORKED, "09:20")
    assert s.phase is Phase.RUNNING
    assert s.volume_infused_ml == 28
    assert s.remaining_ml == 84
    assert s.dose_delivered_mg == 3
    assert s.projected_infusion_end == at("15:20")
    assert s.solution_expires_at == at("15:30")
    assert s.expiry_margin_min == 10
    assert "SOLUTION-EXPIRY" not in [a.code for a in s.alerts]


def test_worked_example_flush_and_observation_follow_the_actual_end__PROT_16_PROT_17_C_6():
    s = state(WORKED, "09:20")
    assert s.projected_flush_end == at("15:50")
    assert s.projected_observation_end == at("17:50")


def test_while_paused_the_suggested_restart_is_half_the_previous_rate__IAR_28_C_10():
    s = state(WORKED, "09:10")
    assert s.phase is Phase.PAUSED
    assert s.rate_ml_per_h == 0
    assert s.suggested_resume_rate_ml_per_h == 14
    assert s.projected_infusion_end == at("15:10")  # if restarted now at 14 mL/h


def test_a_centre_may_configure_the_restart_factor__C_10():
    s = state(WORKED[:-1], "09:10", protocol=configured(reduced_rate_factor="0.25"))
    assert s.suggested_resume_rate_ml_per_h == 7


def test_a_pause_without_a_reaction_suggests_the_same_rate__PROT_15():
    s = state([*started(), ev("paused", "09:00", reason="toilet")], "09:05")
    assert s.suggested_resume_rate_ml_per_h == 28


def test_worked_example_checklist_is_ticked_by_the_recorded_events__PROT_23_PROT_24_IAR_28():
    done = {a.code: a.done for a in state(WORKED, "09:20").recommended_actions}
    assert done == {"STOP-INFUSION": True, "INFORM-PHYSICIAN": True, "ASSESS-VITALS": True,
                    "GIVE-DIMETINDENE": True, "GIVE-PREDNISOLONE": False, "RESTART-SLOWER": True}


def test_the_reaction_is_graded_and_stored_with_its_ctcae_version__IAR_27():
    (reaction,) = state(WORKED, "09:20").reactions
    assert reaction.grading is not None
    assert (reaction.grading.grade, reaction.grading.severity) == (2, "mild_moderate")
    assert reaction.grading.ctcae_version == "5.0"


def test_a_day_without_trouble_runs_through_every_phase__PROT_14_PROT_16_PROT_17():
    events = preparation()
    assert state(events, "07:45").phase is Phase.READY
    events = [*events, ev("infusion_started", "08:00", rate_ml_per_h=28)]
    assert state(events, "10:00").phase is Phase.RUNNING
    assert state(events, "10:00").volume_infused_ml == 56
    assert state(events, "12:00").volume_infused_ml == 112
    assert state(events, "12:00").dose_delivered_mg == 12
    events.append(ev("flush_started", "12:00"))
    assert state(events, "12:10").phase is Phase.FLUSHING
    assert state(events, "12:10").projected_observation_end == at("14:30")
    events.append(ev("flush_completed", "12:35"))
    s = state(events, "12:40")
    assert s.phase is Phase.OBSERVING
    assert s.projected_observation_end == at("14:35")  # 2 h after the actual flush end (C-6)
    events += [ev("observation_completed", "14:35"), vitals("14:36"), *told("14:38"),
               ev("discharged", "14:40")]
    assert state(events, "14:40").phase is Phase.DISCHARGED


def test_planned_until_everything_needed_for_the_start_is_recorded__PROT_07_PROT_09_PROT_10():
    events = preparation()
    for cut in range(len(events)):
        assert state(events[:cut], "07:45").phase is Phase.PLANNED
    assert "infusion_started" in state(events, "07:45").allowed_actions


def test_day_4_needs_no_methylprednisolone_and_no_pregnancy_test__PROT_09_PROT_07():
    s = state(preparation(day=4), at("07:45", day=4), day=4)
    assert s.phase is Phase.READY


def test_the_projection_before_the_start_uses_the_planned_start_and_target_rate__PROT_14():
    s = state(preparation(), "07:45")
    assert s.projected_infusion_end == at("12:00")
    assert s.expiry_margin_min == 210


def test_a_late_start_raises_the_expiry_alert_before_the_start__PROT_13():
    s = state(preparation(), "11:31")
    assert s.projected_infusion_end == at("15:31")
    assert "SOLUTION-EXPIRY" in [a.code for a in s.alerts]


def test_a_long_pause_raises_the_expiry_alert__PROT_13():
    events = [*started(), ev("paused", "09:00", reason="reaction")]
    assert "SOLUTION-EXPIRY" not in [a.code for a in state(events, "10:00").alerts]
    s = state(events, "12:31")  # 84 mL left at 28 mL/h: 3 h from 12:31 is 15:31
    assert s.projected_infusion_end == at("15:31")
    assert "SOLUTION-EXPIRY" in [a.code for a in s.alerts]


def test_vital_signs_are_due_every_interval_and_overdue_after__PROT_06_C_1():
    events = [*started(), ev("vital_signs", "08:00", heart_rate_bpm=70)]
    s = state(events, "08:20")
    assert s.next_vital_signs_due == at("08:30")
    assert not s.vital_signs_overdue
    s = state(events, "08:31")
    assert s.vital_signs_overdue
    assert "VITALS-OVERDUE" in [a.code for a in s.alerts]


def test_a_day_not_started_has_no_vital_signs_overdue__PROT_06_IAR_24():
    """Issue 15 item 4: a planned day seen in the evening (nobody arrived) is not 11 h overdue."""
    for events in ([], preparation()[:1]):
        s = state(events, "21:00")
        assert not s.vital_signs_overdue
        assert "VITALS-OVERDUE" not in [a.code for a in s.alerts]


def test_the_baseline_is_due_before_the_start__IAR_24():
    assert state([], "06:30").next_vital_signs_due == at("07:00")


def test_a_drop_from_the_pre_infusion_baseline_alerts__IAR_11():
    events = [*started(), ev("vital_signs", "09:00", systolic_mmhg=100, diastolic_mmhg=70)]
    assert "BP-DROP" in [a.code for a in state(events, "09:00").alerts]


def test_a_reaction_within_24_h_after_the_infusion_is_recorded_against_the_day__IAR_01_IAR_15():
    events = [*started(), ev("flush_started", "12:00"), ev("flush_completed", "12:30"), vitals("14:25"),
              *told("14:28"), ev("discharged", "14:30")]
    assert "reaction_onset" in state(events, "20:00").allowed_actions
    late = ev("reaction_onset", "11:59", day=2, symptoms=["pyrexia"])
    s = add(events, late)
    assert s.reactions[-1].after_infusion is True
    assert [a.code for a in s.recommended_actions] == ["INFORM-PHYSICIAN", "ASSESS-VITALS"]


def test_a_correction_replaces_an_event_and_keeps_the_original__PROT_14():
    events = [*started(), ev("rate_changed", "09:00", rate_ml_per_h=20)]
    fixed = [*events, ev("correction", "09:30", corrects=len(events) - 1, reason="typed 20, was 14",
                         replacement={"type": "rate_changed", "at": at("09:00").isoformat(),
                                      "rate_ml_per_h": 14})]
    assert state(events, "10:00").volume_infused_ml == 48
    assert state(fixed, "10:00").volume_infused_ml == 42
    assert len(fixed) == len(events) + 1


def test_a_correction_by_id_without_replacement_voids_the_event():
    events = [*started(), ev("paused", "09:00", id="p1", reason="pump alarm")]
    voided = [*events, ev("correction", "09:05", corrects="p1", reason="entered on the wrong patient")]
    assert state(voided, "10:00").phase is Phase.RUNNING
    assert state(voided, "10:00").volume_infused_ml == 56


def test_a_correction_is_not_seen_before_it_was_made():
    events = [*started(), ev("paused", "09:00", id="p1"), ev("correction", "09:30", corrects="p1",
                                                               reason="wrong patient")]
    assert state(events, "09:10").phase is Phase.PAUSED


def test_events_after_the_moment_asked_for_are_not_applied():
    assert state(started(), "07:45").phase is Phase.READY


def test_state_json_has_every_contract_field():
    data = state_to_json(state(WORKED, "09:10"))
    contract = {
        "phase", "rate_ml_per_h", "volume_infused_ml", "dose_delivered_mg", "remaining_ml",
        "projected_infusion_end", "projected_observation_end", "solution_expires_at",
        "expiry_margin_min", "next_vital_signs_due", "alerts", "reactions", "recommended_actions",
        "suggested_resume_rate_ml_per_h", "allowed_actions",
    }
    assert contract <= set(data)
    assert data["phase"] == "paused"
    assert data["suggested_resume_rate_ml_per_h"] == 14
    assert set(data["reactions"][0]) >= {"onset", "symptoms", "grade", "ctcae_version", "severity",
                                         "reason"}
    assert set(data["recommended_actions"][0]) >= {"code", "text", "done", "requirements"}


def test_a_light_patient_may_get_less_paracetamol__PROT_10():
    plan = make_plan(weight_kg="45")
    events = [ev("premedication_given", "07:00", name="paracetamol", dose={"value": 675, "unit": "mg"},
                 route="iv")]
    assert state(events, "07:10", plan=plan).events_applied == 1


def test_the_maximum_rate_follows_the_volume_actually_prepared__C_11():
    events = [*preparation()[:-1], ev("solution_prepared", "07:30", volume_ml="101.2", dose_mg=12)]
    s = add(events, ev("infusion_started", "08:00", rate_ml_per_h="25.3"))
    assert s.max_rate_ml_per_h == Decimal("25.3")
    assert s.projected_infusion_end == at("12:00")


def test_replay_is_pure_the_same_record_gives_the_same_state():
    assert state(WORKED, "10:00") == state(WORKED, "10:00")
    assert PLAN.days[0].day == 1


def test_bedside_example_part_way_at_11_00__PROT_11_IAR_28():
    s = state(WORKED, "11:00")  # 28 mL + 14 mL/h x 1 h 40 min = 51 1/3 mL
    assert s.volume_infused_ml == Decimal("51.33")
    assert s.dose_delivered_mg == Decimal("5.5")
    assert s.remaining_ml == Decimal("60.67")


def test_bedside_example_a_40_minute_pause_runs_past_the_expiry__PROT_13():
    resume = ev("resumed", "09:40", rate_ml_per_h=14)
    with pytest.raises(EventRefused) as refused:  # the restart would run past the expiry (PROT-13)
        add(WORKED[:-1], resume)
    assert refused.value.code == "DAY-SOLUTION-EXPIRES-DURING-INFUSION"
    assert "would run until 15:40" in refused.value.message
    pause_40 = [*WORKED[:-1], signed("physician_decision", "09:39", decision="accept_solution_expiry",
                                     reason="10 min past the expiry accepted"), resume]
    at_0930 = state(pause_40[:-2], "09:30")
    assert at_0930.projected_infusion_end == at("15:30")
    assert at_0930.expiry_margin_min == 0
    assert "SOLUTION-EXPIRY" not in [a.code for a in at_0930.alerts]
    at_0931 = state(pause_40[:-2], "09:31")
    assert "SOLUTION-EXPIRY" in [a.code for a in at_0931.alerts]
    s = state(pause_40, "09:40")
    assert s.projected_infusion_end == at("15:40")
    assert s.expiry_margin_min == -10
    assert "SOLUTION-EXPIRY" in [a.code for a in s.alerts]
