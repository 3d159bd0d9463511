"""Reactions: CTCAE v5.0 grading from structured facts, and the protocol's management checklist."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from day_builders import PROTOCOL

from infusionist.domain.day_events import ReactionAssessed, parse_event
from infusionist.domain.reactions import Reaction, grade_reaction, recommended_actions

RULES = PROTOCOL.reactions
assert RULES is not None
ONSET = datetime(2026, 12, 7, 9, 0, tzinfo=UTC)


def facts(**fields: Any) -> ReactionAssessed:
    return ReactionAssessed(at=ONSET, **fields)


@pytest.mark.parametrize(
    ("fields", "term", "grade", "severity"),
    [
        ({}, "Infusion related reaction", 1, "mild_moderate"),
        ({"interruption_needed": True, "responded_promptly": True}, "Infusion related reaction", 2,
         "mild_moderate"),
        ({"interruption_needed": True}, "Infusion related reaction", 2, "mild_moderate"),
        ({"interruption_needed": True, "responded_promptly": False}, "Infusion related reaction", 3,
         "severe"),
        ({"interruption_needed": True, "responded_promptly": True, "recurred": True},
         "Infusion related reaction", 3, "severe"),
        ({"hospitalisation_indicated": True}, "Infusion related reaction", 3, "severe"),
        ({"life_threatening": True}, "Infusion related reaction", 4, "severe"),
        ({"anaphylaxis": True}, "Anaphylaxis", 3, "severe"),
        ({"anaphylaxis": True, "life_threatening": True}, "Anaphylaxis", 4, "severe"),
    ],
)
def test_ctcae_grade_from_structured_facts__IAR_27(fields, term, grade, severity):
    grading = grade_reaction(facts(**fields), RULES)
    assert (grading.term, grading.grade, grading.severity) == (term, grade, severity)
    assert grading.ctcae_version == "5.0"


def test_the_reason_quotes_the_protocols_ctcae_wording__IAR_27():
    grading = grade_reaction(facts(interruption_needed=True, responded_promptly=True), RULES)
    wording = RULES.term("Infusion related reaction").wording(2)
    assert wording is not None
    assert grading.reason.endswith(wording)
    assert "CTCAE v5.0 Infusion related reaction, grade 2" in grading.reason


def test_severe_starts_at_the_protocols_grade__IAR_13():
    stricter = RULES.model_copy(update={"severe_from_grade": 2})
    grading = grade_reaction(facts(interruption_needed=True, responded_promptly=True), stricter)
    assert grading.severity == "severe"


def reaction(symptoms: tuple[str, ...], pump: str = "running", **assessed: Any) -> Reaction:
    assessment = facts(**assessed) if assessed else None
    grading = grade_reaction(assessment, RULES) if assessment else None
    return Reaction(onset=ONSET, symptoms=symptoms, assessment=assessment, grading=grading,
                    pump_at_onset=pump)  # type: ignore[arg-type]


def codes(r: Reaction, events: list[Any] = (), alerts: tuple[str, ...] = ()) -> list[str]:  # type: ignore[assignment]
    return [a.code for a in recommended_actions(r, RULES, list(events), alerts)]


def test_before_grading_stop_inform_and_assess__PROT_23_IAR_11():
    assert codes(reaction(("rash",))) == ["STOP-INFUSION", "INFORM-PHYSICIAN", "ASSESS-VITALS"]


def test_mild_moderate_ladder_from_the_protocol_table__PROT_23_PROT_24_PROT_26_IAR_28():
    mild = reaction(("rash",), interruption_needed=True, responded_promptly=True)
    assert codes(mild) == ["STOP-INFUSION", "INFORM-PHYSICIAN", "ASSESS-VITALS", "GIVE-DIMETINDENE",
                           "RESTART-SLOWER"]


def test_paracetamol_for_fever_or_headache__PROT_29_IAR_12():
    by_symptom = reaction(("headache",), interruption_needed=True, responded_promptly=True)
    assert "GIVE-PARACETAMOL" in codes(by_symptom)
    by_alert = reaction(("rash",), interruption_needed=True, responded_promptly=True)
    assert "GIVE-PARACETAMOL" in codes(by_alert, alerts=("FEVER",))


def test_prednisolone_is_the_next_step_once_dimetindene_is_given__PROT_25():
    mild = reaction(("rash",), interruption_needed=True, responded_promptly=True)
    assert "GIVE-PREDNISOLONE" not in codes(mild)
    given = [event("medication_given", 3, name="dimetindene", dose={"value": 4, "unit": "mg"})]
    assert "GIVE-PREDNISOLONE" in codes(mild, given)


def test_no_prompt_response_is_grade_3_and_brings_the_iv_corticosteroid__PROT_25_IAR_13():
    slow = reaction(("rash",), interruption_needed=True, responded_promptly=False)
    assert "GIVE-IV-CORTICOSTEROID" in codes(slow)


def test_severe_ladder_emergency_and_stop_for_the_day__IAR_13_IAR_29():
    severe = reaction(("rash",), hospitalisation_indicated=True)
    assert codes(severe) == ["STOP-FOR-DAY", "STOP-INFUSION", "CALL-EMERGENCY-TEAM", "INFORM-PHYSICIAN",
                             "ASSESS-VITALS", "GIVE-IV-CORTICOSTEROID", "CONTINUOUS-MONITORING"]


def test_anaphylaxis_adds_epinephrine__PROT_20_IAR_29_C_9():
    assert "GIVE-EPINEPHRINE" in codes(reaction(("angioedema",), anaphylaxis=True))


def test_hypotension_adds_fluids_by_symptom_or_alert__IAR_29():
    assert "GIVE-IV-FLUIDS" in codes(reaction(("hypotension",), life_threatening=True))
    assert "GIVE-IV-FLUIDS" in codes(reaction(("rash",), life_threatening=True), alerts=("HYPOTENSION",))
    assert "GIVE-IV-FLUIDS" not in codes(reaction(("rash",), life_threatening=True))


def test_respiratory_distress_adds_oxygen_and_bronchodilator__IAR_13_IAR_29():
    assert "GIVE-OXYGEN-BRONCHODILATOR" in codes(reaction(("dyspnoea",), life_threatening=True))
    assert "GIVE-OXYGEN-BRONCHODILATOR" in codes(reaction(("rash",), life_threatening=True),
                                                 alerts=("LOW-SPO2",))


def test_worsening_neurological_symptoms_have_their_own_guidance__PROT_22():
    assert "NEURO-ASSESS" in codes(reaction(("neurological-worsening",)))
    assert "NEURO-ASSESS" not in codes(reaction(("rash",)))


def test_pump_actions_do_not_apply_when_the_infusion_is_not_running__IAR_15():
    late = reaction(("rash",), pump="not_running", interruption_needed=True, responded_promptly=True)
    assert codes(late) == ["INFORM-PHYSICIAN", "ASSESS-VITALS", "GIVE-DIMETINDENE"]


def event(kind: str, minutes: int, **fields: Any) -> Any:
    return parse_event({"type": kind, "at": (ONSET + timedelta(minutes=minutes)).isoformat(), **fields})


def test_each_action_is_ticked_by_the_event_that_does_it__PROT_23_PROT_24():
    mild = reaction(("rash",), interruption_needed=True, responded_promptly=True)
    events = [
        event("paused", 0),
        event("physician_informed", 1),
        event("medication_given", 3, name="Dimetindene", dose={"value": 4, "unit": "mg"}, route="iv"),
    ]
    done = {a.code: a.done for a in recommended_actions(mild, RULES, events, ())}
    assert done == {"STOP-INFUSION": True, "INFORM-PHYSICIAN": True, "ASSESS-VITALS": False,
                    "GIVE-DIMETINDENE": True, "GIVE-PREDNISOLONE": False, "RESTART-SLOWER": False}


def test_another_medicine_does_not_tick_dimetindene__PROT_24():
    mild = reaction(("rash",), interruption_needed=True, responded_promptly=True)
    events = [event("medication_given", 3, name="cetirizine")]
    done = {a.code: a.done for a in recommended_actions(mild, RULES, events, ())}
    assert done["GIVE-DIMETINDENE"] is False


def test_a_paused_pump_at_onset_counts_as_stopped__PROT_23():
    actions = recommended_actions(reaction(("rash",), pump="paused"), RULES, [], ())
    assert actions[0].code == "STOP-INFUSION"
    assert actions[0].done is True


def test_conditional_actions_read_their_findings_from_the_protocol__IAR_29_PROT_29():
    """Which symptoms and alerts make a conditional action apply is protocol data: a centre's
    protocol that adds a symptom to the hypotension findings changes the checklist, no code."""
    fluids = next(a for a in RULES.actions if a.code == "GIVE-IV-FLUIDS")
    assert fluids.findings is not None
    assert set(fluids.findings.symptoms) == {"hypotension"}
    assert set(fluids.findings.alerts) == {"HYPOTENSION", "BP-DROP"}
    assert "IAR-29" in fluids.findings.requirements
    severe_rash = reaction(("rash",), life_threatening=True)
    assert "GIVE-IV-FLUIDS" not in codes(severe_rash)
    wider = fluids.model_copy(update={"findings": fluids.findings.model_copy(
        update={"symptoms": ("hypotension", "rash")})})
    rules = RULES.model_copy(update={"actions": tuple(wider if a is fluids else a for a in RULES.actions)})
    assert "GIVE-IV-FLUIDS" in [a.code for a in recommended_actions(severe_rash, rules, [], ())]
