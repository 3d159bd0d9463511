"""A Hypothesis state machine drives an infusion day: starts, pauses, reactions, rate changes, time.

Whatever the sequence: the volume never exceeds the prepared volume and the dose never 12 mg;
the projected end never moves earlier through a pause or a slower rate; and the expiry alert is
raised exactly when the projected end passes the solution's expiry (PROT-13).
"""

from __future__ import annotations

from datetime import datetime, timedelta
from decimal import Decimal

from day_builders import PROTOCOL, add, at, ev, preparation, state
from hypothesis import settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, precondition, rule

from infusionist.domain.day_events import DayEvent
from infusionist.domain.errors import EventRefused
from infusionist.domain.infusion_day import DayState, Phase

PREPARED = PROTOCOL.infusion.prepared_volume.value
DOSE = PROTOCOL.infusion.dose.in_mg()
RATES = st.integers(min_value=1, max_value=280).map(lambda tenths: Decimal(tenths) / 10)


class InfusionDay(RuleBasedStateMachine):
    def __init__(self) -> None:
        super().__init__()
        self.events: list[DayEvent] = preparation()
        self.now: datetime = at("08:00")
        self.current: DayState = self._record(ev("infusion_started", "08:00", rate_ml_per_h=28))

    def _event(self, kind: str, **fields: object) -> DayEvent:
        from infusionist.domain.day_events import parse_event

        return parse_event({"type": kind, "at": self.now.isoformat(), **fields})

    def _record(self, event: DayEvent) -> DayState:
        new_state = add(self.events, event)
        self.events.append(event)
        return new_state

    def _phase(self) -> Phase:
        return self.current.phase

    @rule(minutes=st.integers(min_value=1, max_value=90))
    def time_passes(self, minutes: int) -> None:
        before = self.current
        self.now += timedelta(minutes=minutes)
        self.current = state(self.events, self.now)
        if before.phase is Phase.PAUSED:
            self._assert_not_earlier(before, self.current)
        elif before.phase is Phase.RUNNING:
            assert self.current.projected_infusion_end == before.projected_infusion_end

    @precondition(lambda self: self._phase() is Phase.RUNNING)
    @rule()
    def pause(self) -> None:
        before = state(self.events, self.now)
        self.current = self._record(self._event("paused", reason="pump alarm"))
        self._assert_not_earlier(before, self.current)

    @precondition(lambda self: self._phase() in (Phase.RUNNING, Phase.PAUSED))
    @rule()
    def reaction_starts(self) -> None:
        self.current = self._record(self._event("reaction_onset", symptoms=["rash"]))

    @precondition(lambda self: bool(self.current.reactions) and self.current.reactions[-1].grading is None)
    @rule(interrupted=st.booleans())
    def reaction_graded(self, interrupted: bool) -> None:
        try:
            self.current = self._record(self._event("reaction_assessed", interruption_needed=interrupted,
                                                    responded_promptly=True))
        except EventRefused as refused:  # "not interrupted" against a pause in the record (IAR-27)
            assert refused.code == "DAY-ASSESSMENT-CONTRADICTS-INTERRUPTION" and not interrupted

    @precondition(lambda self: bool(self.current.reactions))
    @rule()
    def physician_informed(self) -> None:
        self.current = self._record(self._event("physician_informed"))

    @precondition(lambda self: self._phase() is Phase.RUNNING)
    @rule(rate=RATES)
    def rate_changes(self, rate: Decimal) -> None:
        before = state(self.events, self.now)
        try:
            self.current = self._record(self._event("rate_changed", rate_ml_per_h=str(rate)))
        except EventRefused as refused:
            # Raising the rate through an open reaction, or a rate that runs past the expiry (PROT-13).
            assert refused.code in ("DAY-RATE-UP-DURING-REACTION", "DAY-RATE-AFTER-SEVERE")
            if refused.code == "DAY-RATE-AFTER-SEVERE":  # a severe grade locks the pump (IAR-29)
                assert any(r.severity == "severe" for r in before.reactions)
            else:
                assert rate > before.rate_ml_per_h and before.reactions
            return
        if rate <= before.rate_ml_per_h:
            self._assert_not_earlier(before, self.current)

    @precondition(lambda self: self._phase() is Phase.PAUSED)
    @rule(rate=RATES)
    def resume(self, rate: Decimal) -> None:
        before = state(self.events, self.now)
        try:
            self.current = self._record(self._event("resumed", rate_ml_per_h=str(rate)))
        except EventRefused as refused:
            if refused.code == "DAY-SOLUTION-EXPIRED":
                assert before.solution_expires_at is not None and self.now > before.solution_expires_at
            elif refused.code == "DAY-RESUME-UNGRADED":  # no restart through a reaction (IAR-11, IAR-27)
                assert any(r.grading is None for r in before.reactions)
            elif refused.code == "DAY-RESUME-NEEDS-OVERRIDE":  # a severe grade locks the pump (IAR-29)
                assert any(r.severity == "severe" for r in before.reactions)
            else:
                assert refused.code in ("DAY-RESUME-PHYSICIAN-NOT-INFORMED",
                                        "DAY-SOLUTION-EXPIRES-DURING-INFUSION")
            return
        suggested = before.suggested_resume_rate_ml_per_h
        if suggested is not None and rate <= suggested:
            self._assert_not_earlier(before, self.current)

    @staticmethod
    def _assert_not_earlier(before: DayState, after: DayState) -> None:
        assert before.projected_infusion_end is not None and after.projected_infusion_end is not None
        assert after.projected_infusion_end >= before.projected_infusion_end

    @invariant()
    def volume_never_exceeds_the_prepared_volume(self) -> None:
        assert Decimal(0) <= self.current.volume_infused_ml <= PREPARED
        assert self.current.remaining_ml is not None and self.current.remaining_ml >= 0

    @invariant()
    def a_pump_running_through_an_open_reaction_is_a_critical_alert(self) -> None:
        s = self.current
        codes = {a.code for a in s.alerts if a.severity == "critical"}
        kinds = [e.type for e in self.events]
        last_run = max(i for i, kind in enumerate(kinds) if kind in ("infusion_started", "resumed"))
        reacting = any(kind == "reaction_onset" for kind in kinds[last_run:])
        if s.phase is Phase.RUNNING and reacting:
            assert "REACTION-PUMP-RUNNING" in codes or "SEVERE-REACTION-PUMP-RUNNING" in codes

    @invariant()
    def dose_never_exceeds_12_mg(self) -> None:
        assert Decimal(0) <= self.current.dose_delivered_mg <= DOSE

    @invariant()
    def expiry_alert_exactly_when_the_projected_end_passes_the_expiry(self) -> None:
        s = self.current
        assert s.projected_infusion_end is not None and s.solution_expires_at is not None
        alerted = "SOLUTION-EXPIRY" in [a.code for a in s.alerts]
        assert alerted == (s.projected_infusion_end > s.solution_expires_at)
        assert (s.expiry_margin_min is not None and s.expiry_margin_min < 0) == (
            s.projected_infusion_end > s.solution_expires_at
        )


InfusionDay.TestCase.settings = settings(max_examples=60, stateful_step_count=25, deadline=None)
test_infusion_day_state_machine__PROT_12_PROT_13_PROT_11_IAR_28 = InfusionDay.TestCase
