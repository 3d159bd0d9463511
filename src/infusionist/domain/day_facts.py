"""What the replay has learnt so far: the phase and the facts of the day, event by event.

``DayFacts`` is the private accumulator of the fold in :mod:`infusion_day`; it is only ever
changed by :func:`apply_event`, after the guards of :mod:`day_guards` have accepted the event.
``DayContext`` is what the fold reads and never changes: the day's plan and the protocol.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from decimal import Decimal
from enum import StrEnum

from infusionist.domain import pump
from infusionist.domain.day_events import (
    ClinicalEvent,
    FlushCompleted,
    FlushStarted,
    InfusionStarted,
    InfusionStopped,
    Paused,
    PhysicianOverride,
    PremedicationGiven,
    RateChanged,
    ReactionAssessed,
    ReactionOnset,
    Resumed,
    SolutionPrepared,
    TestResult,
    VitalSigns,
)
from infusionist.domain.errors import ProtocolError
from infusionist.domain.planning import Patient, PlannedDay
from infusionist.domain.protocol import (
    DayActivity,
    Premedication,
    Protocol,
    ReactionRules,
    VitalSignRules,
)
from infusionist.domain.reactions import PumpAtOnset, Reaction, grade_reaction


class Phase(StrEnum):
    """The one lifecycle of an infusion day."""

    PLANNED = "planned"
    READY = "ready"
    RUNNING = "running"
    PAUSED = "paused"
    STOPPED_FOR_DAY = "stopped_for_day"
    FLUSHING = "flushing"
    OBSERVING = "observing"
    DISCHARGED = "discharged"


@dataclass(frozen=True)
class DayContext:
    """The day's plan and the rules: read by the fold, never changed."""

    day: int
    planned: PlannedDay
    patient: Patient
    protocol: Protocol
    reactions: ReactionRules
    vital_rules: VitalSignRules

    @classmethod
    def build(cls, planned: PlannedDay, patient: Patient, protocol: Protocol) -> DayContext:
        if protocol.reactions is None or protocol.vital_sign_rules is None:
            raise ProtocolError(
                "PROTOCOL-NO-BEDSIDE-RULES",
                f"Protocol {protocol.id} has no reactions or vital_sign_rules section; the bedside "
                "record needs both.",
            )
        return cls(planned.day, planned, patient, protocol, protocol.reactions,
                   protocol.vital_sign_rules)

    def premedications_today(self) -> list[Premedication]:
        return [p for p in self.protocol.premedications if p.applies_on(self.day)]

    def blocking_tests_today(self) -> list[DayActivity]:
        return [
            a for a in self.protocol.day_activities
            if a.kind == "test" and a.blocks_start_unless is not None and a.applies_on(self.day)
            and self.patient.meets(a.condition)
        ]

    def storage_limit_hours(self) -> Decimal:
        return self.protocol.infusion.storage_limit.value

    def observation(self) -> timedelta:
        return timedelta(minutes=self.protocol.observation.duration_minutes())

    def flush(self) -> timedelta | None:
        flush = self.protocol.flush
        return None if flush is None else timedelta(minutes=flush.duration_minutes())

    def reaction_window(self) -> timedelta:
        return timedelta(hours=self.reactions.window_after_infusion_hours)


def matches(name: str, element_id: str, element_name: str) -> bool:
    """A recorded name refers to a protocol element by its name or id, ignoring case."""
    wanted = name.strip().casefold()
    return wanted in {element_id.casefold(), element_name.casefold()}


@dataclass
class DayFacts:
    """The accumulated facts of the day (private to the replay)."""

    phase: Phase = Phase.PLANNED
    solution: SolutionPrepared | None = None
    premedications: dict[str, PremedicationGiven] = field(default_factory=dict)
    tests: dict[str, TestResult] = field(default_factory=dict)
    segments: list[pump.RateSegment] = field(default_factory=list)
    started_at: datetime | None = None
    ended_at: datetime | None = None  # the pump stopped for good: flush started or stopped
    flush_started_at: datetime | None = None
    flush_completed_at: datetime | None = None
    observation_completed_at: datetime | None = None
    discharged_at: datetime | None = None
    readings: list[VitalSigns] = field(default_factory=list)
    baseline: dict[str, Decimal] = field(default_factory=dict)
    reactions: list[Reaction] = field(default_factory=list)
    severe_assessed_at: datetime | None = None
    last_override: PhysicianOverride | None = None
    running_rate: Decimal | None = None  # the last rate the pump ran at
    running_since: datetime | None = None
    resumed_above_suggestion: tuple[Decimal, Decimal] | None = None
    events: list[ClinicalEvent] = field(default_factory=list)

    def solution_expires_at(self, ctx: DayContext) -> datetime | None:
        if self.solution is None:
            return None
        return pump.solution_expiry(self.solution.at, ctx.storage_limit_hours())

    def max_rate(self, ctx: DayContext) -> Decimal:
        """The protocol's maximum: the rate that delivers the prepared volume in the target time."""
        infusion = ctx.protocol.infusion
        if infusion.rate_steps or self.solution is None:
            return infusion.max_rate_ml_per_h()
        return pump.rate_for(self.solution.volume_ml, infusion.target_duration.value)

    def reaction_since_running(self) -> bool:
        since = self.running_since
        return since is not None and any(r.onset >= since for r in self.reactions)

    def suggested_resume_rate(self, ctx: DayContext) -> Decimal | None:
        if self.running_rate is None:
            return None
        if self.reaction_since_running():
            return self.running_rate * ctx.reactions.restart_rate_factor
        return self.running_rate

    def infusion_end(self) -> datetime | None:
        """When the drug stopped flowing: the bag ran empty, or the flush or a stop began."""
        if self.ended_at is None or self.solution is None:
            return self.ended_at
        empty = pump.emptied_at(self.segments, self.solution.volume_ml)
        return self.ended_at if empty is None else min(empty, self.ended_at)

    def observation_end(self, ctx: DayContext) -> datetime | None:
        """Counted from the actual end of the flush (C-6), or of an infusion stopped for the day."""
        if self.flush_completed_at is not None:
            return self.flush_completed_at + ctx.observation()
        end = self.infusion_end()
        if self.flush_started_at is None and self.started_at is not None and end is not None:
            return end + ctx.observation()
        return None

    def latest_reaction(self) -> Reaction | None:
        return self.reactions[-1] if self.reactions else None


def apply_event(facts: DayFacts, event: ClinicalEvent, ctx: DayContext) -> None:
    """Fold one accepted event into the facts."""
    handler = _HANDLERS.get(event.type)
    if handler is not None:
        handler(facts, event, ctx)
    facts.events.append(event)


def _solution(facts: DayFacts, event: ClinicalEvent, ctx: DayContext) -> None:
    assert isinstance(event, SolutionPrepared)
    facts.solution = event


def _premedication(facts: DayFacts, event: ClinicalEvent, ctx: DayContext) -> None:
    assert isinstance(event, PremedicationGiven)
    for premed in ctx.premedications_today():
        if matches(event.name, premed.id, premed.name):
            facts.premedications[premed.id] = event


def _test(facts: DayFacts, event: ClinicalEvent, ctx: DayContext) -> None:
    assert isinstance(event, TestResult)
    facts.tests[event.name.strip().casefold()] = event


def _vitals(facts: DayFacts, event: ClinicalEvent, ctx: DayContext) -> None:
    assert isinstance(event, VitalSigns)
    facts.readings.append(event)
    if facts.started_at is None:
        facts.baseline.update(event.values())


def _run(facts: DayFacts, at: datetime, rate: Decimal) -> None:
    facts.segments.append(pump.RateSegment(at, rate))
    facts.running_rate, facts.running_since = rate, at
    facts.resumed_above_suggestion = None


def _started(facts: DayFacts, event: ClinicalEvent, ctx: DayContext) -> None:
    assert isinstance(event, InfusionStarted)
    facts.started_at = event.at
    facts.phase = Phase.RUNNING
    _run(facts, event.at, event.rate_ml_per_h)


def _rate_changed(facts: DayFacts, event: ClinicalEvent, ctx: DayContext) -> None:
    assert isinstance(event, RateChanged)
    _run(facts, event.at, event.rate_ml_per_h)


def _paused(facts: DayFacts, event: ClinicalEvent, ctx: DayContext) -> None:
    assert isinstance(event, Paused)
    facts.segments.append(pump.RateSegment(event.at, Decimal(0)))
    facts.phase = Phase.PAUSED


def _resumed(facts: DayFacts, event: ClinicalEvent, ctx: DayContext) -> None:
    assert isinstance(event, Resumed)
    suggested = facts.suggested_resume_rate(ctx)
    _run(facts, event.at, event.rate_ml_per_h)
    if suggested is not None and event.rate_ml_per_h > suggested:
        facts.resumed_above_suggestion = (event.rate_ml_per_h, suggested)
    facts.phase = Phase.RUNNING


def _stopped(facts: DayFacts, event: ClinicalEvent, ctx: DayContext) -> None:
    assert isinstance(event, InfusionStopped)
    if facts.started_at is not None:
        facts.segments.append(pump.RateSegment(event.at, Decimal(0)))
    facts.ended_at = event.at
    facts.phase = Phase.STOPPED_FOR_DAY


def _flush_started(facts: DayFacts, event: ClinicalEvent, ctx: DayContext) -> None:
    assert isinstance(event, FlushStarted)
    facts.segments.append(pump.RateSegment(event.at, Decimal(0)))
    facts.ended_at = facts.flush_started_at = event.at
    facts.phase = Phase.FLUSHING


def _flush_completed(facts: DayFacts, event: ClinicalEvent, ctx: DayContext) -> None:
    assert isinstance(event, FlushCompleted)
    facts.flush_completed_at = event.at
    facts.phase = Phase.OBSERVING


def _observation_completed(facts: DayFacts, event: ClinicalEvent, ctx: DayContext) -> None:
    facts.observation_completed_at = event.at


def _discharged(facts: DayFacts, event: ClinicalEvent, ctx: DayContext) -> None:
    facts.discharged_at = event.at
    facts.phase = Phase.DISCHARGED


def _onset(facts: DayFacts, event: ClinicalEvent, ctx: DayContext) -> None:
    assert isinstance(event, ReactionOnset)
    pump_at_onset: PumpAtOnset = "not_running"
    if facts.phase is Phase.RUNNING:
        pump_at_onset = "running"
    elif facts.phase is Phase.PAUSED:
        pump_at_onset = "paused"
    end = facts.infusion_end()
    facts.reactions.append(Reaction(
        onset=event.at, symptoms=event.symptoms, after_infusion=end is not None and event.at > end,
        pump_at_onset=pump_at_onset,
    ))


def _assessed(facts: DayFacts, event: ClinicalEvent, ctx: DayContext) -> None:
    assert isinstance(event, ReactionAssessed)
    grading = grade_reaction(event, ctx.reactions)
    facts.reactions[-1] = replace(facts.reactions[-1], assessment=event, grading=grading)
    if grading.severity == "severe":
        facts.severe_assessed_at = event.at


def _override(facts: DayFacts, event: ClinicalEvent, ctx: DayContext) -> None:
    assert isinstance(event, PhysicianOverride)
    facts.last_override = event


_HANDLERS = {
    "solution_prepared": _solution, "premedication_given": _premedication, "test_result": _test,
    "vital_signs": _vitals, "infusion_started": _started, "rate_changed": _rate_changed,
    "paused": _paused, "resumed": _resumed, "infusion_stopped": _stopped,
    "flush_started": _flush_started, "flush_completed": _flush_completed,
    "observation_completed": _observation_completed, "discharged": _discharged,
    "reaction_onset": _onset, "reaction_assessed": _assessed, "physician_override": _override,
}
