"""The kept fold (DayFold) decides every new event exactly as the full replay (append) does."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from day_builders import PLAN, PROTOCOL, at, dose, preparation, started
from hypothesis import given, settings
from hypothesis import strategies as st

from infusionist.domain.day_events import DayEvent, parse_event
from infusionist.domain.errors import InfusionistError
from infusionist.domain.infusion_day import DayFold, append

CANDIDATES: list[dict[str, Any]] = [
    {"type": "test_result", "name": "pregnancy test", "result": "negative"},
    {"type": "vital_signs", "temperature_c": "36.8", "heart_rate_bpm": 72, "systolic_mmhg": 128,
     "diastolic_mmhg": 80},
    {"type": "vital_signs", "temperature_c": "38.4", "heart_rate_bpm": 118},
    {"type": "premedication_given", "name": "methylprednisolone", "dose": dose(1, "g"), "route": "iv"},
    {"type": "premedication_given", "name": "paracetamol", "dose": dose(1, "g"), "route": "iv"},
    {"type": "procedure_done", "name": "peripheral cannula"},
    {"type": "solution_prepared", "volume_ml": 112, "dose_mg": 12},
    {"type": "infusion_started", "rate_ml_per_h": 28},
    {"type": "infusion_started", "rate_ml_per_h": 40},
    {"type": "rate_changed", "rate_ml_per_h": 20},
    {"type": "paused", "reason": "rash"},
    {"type": "resumed", "rate_ml_per_h": 14},
    {"type": "reaction_onset", "symptoms": ["rash", "pyrexia"]},
    {"type": "reaction_assessed", "interruption_needed": True, "responded_promptly": True,
     "recurred": False, "hospitalisation_indicated": False, "life_threatening": False,
     "anaphylaxis": False},
    {"type": "medication_given", "name": "dimetindene", "dose": dose(4, "mg"), "route": "iv"},
    {"type": "physician_informed"},
    {"type": "infusion_stopped", "reason": "bag empty"},
    {"type": "flush_started"},
    {"type": "flush_completed"},
    {"type": "observation_completed"},
    {"type": "discharged"},
]

steps = st.lists(
    st.tuples(st.integers(0, len(CANDIDATES) + 1), st.integers(-10, 120), st.integers(0, 40)),
    min_size=1, max_size=40,
)


def candidate(choice: int, moment: Any, accepted: list[DayEvent], pick: int) -> DayEvent:
    if choice < len(CANDIDATES):
        return parse_event({**CANDIDATES[choice], "at": moment.isoformat()})
    if choice == len(CANDIDATES) and accepted:  # void an earlier event
        target = pick % len(accepted)
        return parse_event({"type": "correction", "at": moment.isoformat(), "corrects": target,
                            "reason": "entered on the wrong patient"})
    return parse_event({**CANDIDATES[1], "at": (moment - timedelta(hours=3)).isoformat()})


def outcome(decide: Any) -> str:
    try:
        decide()
    except InfusionistError as refused:
        return refused.code
    return "accepted"


@settings(max_examples=300, deadline=None)
@given(steps=steps, start=st.sampled_from(["none", "prepared", "running"]))
def test_kept_fold_accepts_and_refuses_exactly_like_the_full_replay(steps, start):
    prefix = {"none": [], "prepared": preparation(), "running": started()}[start]
    accepted: list[DayEvent] = list(prefix)
    fold = DayFold.of(PLAN, 1, accepted, PROTOCOL)
    moment = accepted[-1].at if accepted else at("06:30")
    for choice, gap, pick in steps:
        moment = moment + timedelta(minutes=max(gap, 0))
        event = candidate(choice, moment, accepted, pick)
        expected = outcome(lambda event=event: append(PLAN, 1, accepted, event, PROTOCOL))

        def through_fold(event: DayEvent = event, fold: DayFold = fold) -> None:
            if not fold.extend(event):
                append(PLAN, 1, accepted, event, PROTOCOL)

        got = outcome(through_fold)
        assert got == expected, (event.type, got, expected)
        if expected == "accepted":
            accepted.append(event)
            if fold.count != len(accepted):  # the fold declined: rebuild it as the adapter does
                fold = DayFold.of(PLAN, 1, accepted, PROTOCOL)
    assert fold.count == len(accepted)
