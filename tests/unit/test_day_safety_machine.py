"""Issue 12: a Hypothesis state machine records whatever a busy unit might, in any order.

Whatever it generates, and whatever the guards accept:
- no day reaches ``discharged`` with an ungraded reaction or an open action of a severe one
  (IAR-13, IAR-16, IAR-27, IAR-29);
- the pump never delivers more than the bag, nor more than the day's dose (PROT-11, C-7), and the
  day never holds more paracetamol than the drug library allows (PROT-10, PROT-29);
- no correction without a physician's signature lowers or removes a grade (IAR-27);
- a refused entry changes nothing.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from day_builders import PLAN, PROTOCOL, at, state
from hypothesis import event, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, rule

from infusionist.domain.day_events import DayEvent, parse_event
from infusionist.domain.errors import InfusionistError
from infusionist.domain.infusion_day import DayState, Phase, append

SYMPTOMS = [s.id for s in PROTOCOL.reactions.symptoms]  # type: ignore[union-attr]
GRAM_IV = {"dose": {"value": 1, "unit": "g"}, "route": "iv"}
ANSWERS = st.fixed_dictionaries({}, optional={
    "interruption_needed": st.booleans(), "responded_promptly": st.none() | st.booleans(),
    "recurred": st.booleans(), "hospitalisation_indicated": st.booleans(),
    "life_threatening": st.booleans(), "anaphylaxis": st.booleans(),
})
VITALS = st.fixed_dictionaries({
    "temperature_c": st.sampled_from(["36.8", "36.8", "38.4", "40.2"]),
    "heart_rate_bpm": st.sampled_from([72, 72, 118, 135]),
    "systolic_mmhg": st.sampled_from([124, 124, 85, 170]),
    "diastolic_mmhg": st.sampled_from([78, 78, 50]),
    "respiratory_rate_per_min": st.sampled_from([14, 14, 26]),
    "spo2_percent": st.sampled_from([98, 98, 89]),
})


def _grades(s: DayState) -> list[int | None]:
    return [None if r.grading is None else r.grading.grade for r in s.reactions]


class BusyUnit(RuleBasedStateMachine):
    def __init__(self) -> None:
        super().__init__()
        self.events: list[DayEvent] = []
        self.now: datetime = at("06:30")
        self.current: DayState = state([], self.now)
        self.discharged_state: DayState | None = None
        self.prepare()  # most days are prepared; the machine may still do it again (refused)
        self.now = at("07:25")
        self.record("vital_signs", temperature_c="36.8", heart_rate_bpm=72, systolic_mmhg=124,
                    diastolic_mmhg=78, respiratory_rate_per_min=14, spo2_percent=98)
        self.now = at("07:31")

    # -- recording ---------------------------------------------------------------------------

    def record(self, kind: str, **fields: Any) -> DayState | None:
        entry = parse_event({"type": kind, "at": self.now.isoformat(), **fields})
        before = state(self.events, self.now)
        try:
            after = append(PLAN, 1, self.events, entry, PROTOCOL, now=self.now)
        except InfusionistError:
            assert state(self.events, self.now) == before  # a refusal changes nothing
            return None
        self.events.append(entry)
        self.current = after
        event(f"accepted {kind}")  # --hypothesis-show-statistics shows how far the days get
        if kind == "discharged":
            self.discharged_state = after
        return after

    @rule(minutes=st.sampled_from([1, 5, 30, 60, 120]))
    def time_passes(self, minutes: int) -> None:
        self.now += timedelta(minutes=minutes)
        self.current = state(self.events, self.now)

    @rule()
    def prepare(self) -> None:
        self.record("test_result", name="pregnancy test", result="negative")
        self.record("premedication_given", name="methylprednisolone", **GRAM_IV)
        self.record("premedication_given", name="paracetamol", **GRAM_IV)
        self.record("solution_prepared", volume_ml=112, dose_mg=12)

    @rule(values=VITALS)
    def vital_signs(self, values: dict[str, Any]) -> None:
        self.record("vital_signs", **values)

    @rule(rate=st.sampled_from([28, 14, 20]))
    def start(self, rate: int) -> None:
        self.record("infusion_started", rate_ml_per_h=rate)

    @rule(kind=st.sampled_from(["paused", "flush_started", "flush_completed", "observation_completed",
                                "discharged", "physician_informed", "emergency_called"]))
    def step(self, kind: str) -> None:
        self.record(kind)

    @rule(rate=st.sampled_from([28, 14, 7]))
    def resume_or_change(self, rate: int) -> None:
        self.record("resumed", rate_ml_per_h=rate) or self.record("rate_changed", rate_ml_per_h=rate)

    @rule(kind=st.sampled_from(["infusion_stopped", "infusion_ended_early", "infusion_ended_early",
                                "infusion_stopped", "transferred"]), dice=st.integers(0, 3))
    def end(self, kind: str, dice: int) -> None:
        if dice == 0:  # ends are rarer than the rest of a day
            self.record(kind, reason="as the physician said")

    @rule(symptoms=st.lists(st.sampled_from(SYMPTOMS), min_size=1, max_size=3, unique=True))
    def reaction(self, symptoms: list[str]) -> None:
        self.record("reaction_onset", symptoms=symptoms)

    @rule(answers=ANSWERS)
    def grade(self, answers: dict[str, Any]) -> None:
        self.record("reaction_assessed", **answers)

    @rule(name=st.sampled_from(["dimetindene", "prednisolone", "epinephrine", "sodium chloride 0.9%",
                                "oxygen"]))
    def medication(self, name: str) -> None:
        doses = {"dimetindene": {"value": 4, "unit": "mg"}, "prednisolone": {"value": 250, "unit": "mg"}}
        self.record("medication_given", name=name, **({"dose": doses[name]} if name in doses else {}))

    @rule(grams=st.sampled_from(["0.5", "1", "2"]))
    def paracetamol(self, grams: str) -> None:
        self.record("medication_given", name="paracetamol", dose={"value": grams, "unit": "g"}, route="iv")

    @rule(signed=st.booleans())
    def override(self, signed: bool) -> None:
        self.record("physician_override", reason="risk-benefit", **({"signed_by": "dr"} if signed else {}))

    @rule(pick=st.integers(min_value=0, max_value=60), answers=ANSWERS, void=st.booleans(),
          signed=st.booleans())
    def correct(self, pick: int, answers: dict[str, Any], void: bool, signed: bool) -> None:
        clinical = [i for i, e in enumerate(self.events) if e.type != "correction"]
        if not clinical or pick % 3:  # corrections are rarer than entries
            return
        index = clinical[pick % len(clinical)]
        original = self.events[index]
        fields: dict[str, Any] = {"corrects": index, "reason": "typed on the wrong line"}
        if not void and original.type == "reaction_assessed":
            fields["replacement"] = {"type": "reaction_assessed", "at": original.at.isoformat(), **answers}
        if signed:
            fields["signed_by"] = "dr"
        before = self.current
        after = self.record("correction", **fields)
        if after is not None and not signed:
            old, new = _grades(before), _grades(after)
            assert len(new) >= len(old)
            for was, now in zip(old, new, strict=False):
                assert was is None or (now is not None and now >= was)

    # -- what must always hold ----------------------------------------------------------------

    @invariant()
    def never_more_than_the_bag_or_the_days_dose(self) -> None:
        s = self.current
        assert s.volume_infused_ml <= (s.prepared_volume_ml or Decimal(0))
        assert s.dose_delivered_mg <= PROTOCOL.infusion.dose.in_mg()

    @invariant()
    def never_more_paracetamol_than_the_library_allows(self) -> None:
        grams = sum(Decimal(str(e.dose.value)) * (1 if e.dose.unit == "g" else Decimal("0.001"))
                    for e in self.events if e.type in ("medication_given", "premedication_given")
                    and e.name == "paracetamol" and e.dose is not None)  # type: ignore[union-attr]
        assert grams <= 4  # 4 g in 24 h without a known weight (reference section 4)

    @invariant()
    def discharged_only_with_every_reaction_graded_and_severe_actions_done(self) -> None:
        s = self.discharged_state
        if s is None:
            return
        assert s.phase is Phase.DISCHARGED
        assert all(r.grading is not None for r in s.reactions)
        severe = [r for r in s.reactions if r.severity == "severe"]
        if severe and s.reactions[-1] is severe[-1]:
            assert all(a.done for a in s.recommended_actions)


BusyUnit.TestCase.settings = settings(max_examples=50, stateful_step_count=60, deadline=None)
test_no_sequence_discharges_unsafely_or_lowers_a_grade_unsigned__IAR_13_IAR_27_IAR_29 = BusyUnit.TestCase
