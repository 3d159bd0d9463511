"""What the replay has learnt so far: the phase and the facts of the day, event by event.

``DayFacts`` is the private accumulator of the fold in :mod:`infusion_day`; it is only ever
changed by :func:`apply_event`, after the guards of :mod:`day_guards` have accepted the event.
``DayContext`` is what the fold reads and never changes: the day's plan and the protocol.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import date, datetime, timedelta, tzinfo
from decimal import Decimal
from enum import StrEnum
from zoneinfo import ZoneInfo

from infusionist.domain import pump
from infusionist.domain.day_events import (
    ClinicalEvent,
    FlushCompleted,
    FlushStarted,
    InfusionEndedEarly,
    InfusionStarted,
    InfusionStopped,
    MedicationGiven,
    Paused,
    PhysicianDecision,
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
from infusionist.domain.drug_library import Administration, check_administration
from infusionist.domain.errors import ProtocolError
from infusionist.domain.planning import Patient, PlannedDay
from infusionist.domain.protocol import (
    BedsideRecordRules,
    DayActivity,
    Infusion,
    Premedication,
    Protocol,
    ReactionRules,
    VitalSignRules,
)
from infusionist.domain.pump_steps import TimedStep
from infusionist.domain.reactions import PumpAtOnset, Reaction, RecordedFact, grade_reaction
from infusionist.domain.vitals import evaluate_alerts


class Phase(StrEnum):
    """The one lifecycle of an infusion day."""

    PLANNED = "planned"
    READY = "ready"
    RUNNING = "running"
    PAUSED = "paused"
    STOPPED_FOR_DAY = "stopped_for_day"
    INFUSION_ENDED = "infusion_ended"  # ended early: the drug has stopped, the line is not flushed
    FLUSHING = "flushing"
    OBSERVING = "observing"
    DISCHARGED = "discharged"
    TRANSFERRED = "transferred"  # to a higher level of care (IAR-29): the day ends here


# Phases in which the day is over; nothing but late reactions (after discharge) is recorded.
ENDED_PHASES = frozenset({Phase.DISCHARGED, Phase.TRANSFERRED})


@dataclass(frozen=True)
class DayContext:
    """The day's plan and the rules: read by the fold, never changed."""

    day: int
    planned: PlannedDay
    patient: Patient
    protocol: Protocol
    reactions: ReactionRules
    vital_rules: VitalSignRules
    record: BedsideRecordRules
    zone: tzinfo
    other_dates: frozenset[date]  # the planned dates of the course's other infusion days
    # The day's time-stepped rate table (from the plan's infusion); empty: one constant rate.
    rate_steps: tuple[TimedStep, ...] = ()
    # The day's infusion as given at its dose number (dose, bag, time); None: the protocol's own.
    day_infusion: Infusion | None = None

    @property
    def infusion(self) -> Infusion:
        return self.protocol.infusion if self.day_infusion is None else self.day_infusion

    @classmethod
    def build(cls, planned: PlannedDay, patient: Patient, protocol: Protocol, timezone: str,
              other_dates: frozenset[date] = frozenset(),
              rate_steps: tuple[TimedStep, ...] = (), dose_number: int = 1) -> DayContext:
        if protocol.reactions is None or protocol.vital_sign_rules is None or protocol.bedside_record is None:
            raise ProtocolError(
                "PROTOCOL-NO-BEDSIDE-RULES",
                f"Protocol {protocol.id} lacks a reactions, vital_sign_rules or bedside_record "
                "section; the bedside record needs all three.",
            )
        return cls(planned.day, planned, patient, protocol, protocol.reactions,
                   protocol.vital_sign_rules, protocol.bedside_record, zone_named(timezone),
                   other_dates, rate_steps, protocol.infusion.for_dose(dose_number))

    def local(self, moment: datetime) -> datetime:
        return moment.astimezone(self.zone)

    def clock(self, moment: datetime, on: date | None = None) -> str:
        """``moment`` as the unit's clocks show it; with the date when it is not ``on``."""
        local = self.local(moment)
        if on is not None and local.date() != on:
            return local.strftime("%d %b %H:%M").lstrip("0")
        return local.strftime("%H:%M")

    def premedications_today(self) -> list[Premedication]:
        return [p for p in self.protocol.premedications if p.applies_on(self.day)]

    def blocking_tests_today(self) -> list[DayActivity]:
        return [
            a for a in self.protocol.day_activities
            if a.kind == "test" and a.blocks_start_unless is not None and a.applies_on(self.day)
            and self.patient.meets(a.condition)
        ]

    def storage_limit_hours(self) -> Decimal:
        return self.infusion.storage_limit.value

    def observation(self) -> timedelta:
        return timedelta(minutes=self.protocol.observation.duration_minutes())

    def flush(self) -> timedelta | None:
        flush = self.protocol.flush
        return None if flush is None else timedelta(minutes=flush.duration_minutes())

    def reaction_window(self) -> timedelta:
        return timedelta(hours=self.reactions.window_after_infusion_hours)


def zone_named(name: str) -> tzinfo:
    """The course's IANA zone; the plan was made in it, so the name is known to exist."""
    return ZoneInfo(name)


def matches(name: str, element_id: str, element_name: str) -> bool:
    """A recorded name refers to a protocol element by its name or id, ignoring case."""
    wanted = name.strip().casefold()
    return wanted in {element_id.casefold(), element_name.casefold()}


@dataclass
class DayFacts:
    """The accumulated facts of the day (private to the replay)."""

    day_date: date  # the planned date, or the date a physician rescheduled the day to
    phase: Phase = Phase.PLANNED
    solution: SolutionPrepared | None = None
    premedications: dict[str, PremedicationGiven] = field(default_factory=dict)
    tests: dict[str, TestResult] = field(default_factory=dict)
    positive_tests: dict[str, TestResult] = field(default_factory=dict)  # stay until cleared
    decisions: list[PhysicianDecision] = field(default_factory=list)
    physician_informed: list[datetime] = field(default_factory=list)
    ended_early: InfusionEndedEarly | None = None
    transferred_at: datetime | None = None
    administrations: list[Administration] = field(default_factory=list)  # doses, for the drug library
    flagged_doses: list[tuple[datetime, str]] = field(default_factory=list)  # for the physician
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
    reduced_restart_at: datetime | None = None  # a restart at (or below) the reduced rate (IAR-28)
    raised_during_hold: tuple[datetime, Decimal] | None = None
    events: list[ClinicalEvent] = field(default_factory=list)
    # The latest reaction is open (its facts are still being recorded) until the pump resumes.
    reaction_open: bool = False

    @classmethod
    def of(cls, ctx: DayContext) -> DayFacts:
        return cls(day_date=ctx.planned.date)

    def decision(self, kind: str, since: datetime | None = None) -> PhysicianDecision | None:
        """The latest signed decision of ``kind`` recorded at or after ``since``."""
        for decision in reversed(self.decisions):
            if decision.decision == kind and (since is None or decision.at >= since):
                return decision
        return None

    def planned_start(self, ctx: DayContext) -> datetime:
        """The planned start, moved to the day's date when the day was rescheduled."""
        shift = self.day_date - ctx.planned.date
        if not shift:
            return ctx.planned.infusion_start
        local = ctx.local(ctx.planned.infusion_start)
        return datetime.combine(self.day_date, local.time(), tzinfo=ctx.zone)

    def severe_lock(self) -> datetime | None:
        """When a severe reaction locked the pump, while no physician has overridden it since."""
        severe_at = self.severe_assessed_at
        if severe_at is None or (self.last_override is not None and self.last_override.at >= severe_at):
            return None
        return severe_at

    def ungraded_reactions(self) -> list[Reaction]:
        return [r for r in self.reactions if r.grading is None]

    def solution_expires_at(self, ctx: DayContext) -> datetime | None:
        if self.solution is None:
            return None
        return pump.solution_expiry(self.solution.at, ctx.storage_limit_hours())

    def max_rate(self, ctx: DayContext) -> Decimal:
        """The protocol's maximum: the day's rate table's highest step, or the rate that delivers
        the prepared volume in the target time."""
        if ctx.rate_steps:
            return max(step.rate_ml_per_h for step in ctx.rate_steps)
        infusion = ctx.infusion
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
        """Counted from the actual end of the flush (C-6), or of an infusion stopped for the day,
        and lasting at least the protocol's time after the last reaction's onset (IAR-16)."""
        end = self.infusion_end()
        if self.flush_completed_at is not None:
            observed = self.flush_completed_at + ctx.observation()
        elif self.flush_started_at is None and self.started_at is not None and end is not None:
            observed = end + ctx.observation()
        else:
            return None
        last = self.latest_reaction()
        if last is None:
            return observed
        return max(observed, last.onset + timedelta(minutes=ctx.record.observation_after_reaction_minutes))

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


def _note(facts: DayFacts, ctx: DayContext, fact: RecordedFact) -> None:
    """Attach a fact of the record to the open reaction and grade it again (never lower)."""
    if not facts.reaction_open or not facts.reactions:
        return
    reaction = facts.reactions[-1]
    reaction = replace(reaction, facts=(*reaction.facts, fact))
    facts.reactions[-1] = _graded(facts, reaction, ctx, fact.at)


def _graded(facts: DayFacts, reaction: Reaction, ctx: DayContext, at: datetime) -> Reaction:
    if reaction.assessment is None:
        return reaction
    grading = grade_reaction(reaction.assessment, ctx.reactions, reaction.facts)
    if reaction.grading is not None and grading.grade < reaction.grading.grade:
        grading = reaction.grading  # the record only raises a grade
    if grading.severity == "severe" and facts.severe_assessed_at is None:
        facts.severe_assessed_at = at
    return replace(reaction, grading=grading)


def _administered(facts: DayFacts, event: PremedicationGiven | MedicationGiven, ctx: DayContext) -> None:
    """A dose given: counted for the drug library's limits, flagged when it needed a reason."""
    library = ctx.protocol.drug_library
    if event.dose is None or event.route is None:
        return
    if library is not None:
        verdict = check_administration(
            library, event.name, event.route, event.dose, event.at, ctx.patient.weight_kg,
            facts.administrations, reason=getattr(event, "reason", None),
            indication=getattr(event, "indication", None), zone=ctx.zone)
        if verdict.flagged:
            why = " ".join(n for n in verdict.notes if n not in verdict.message)
            facts.flagged_doses.append((event.at, f"{verdict.message} {why}".strip()))
    facts.administrations.append(Administration(event.name, event.dose, event.route, event.at))


def _premedication(facts: DayFacts, event: ClinicalEvent, ctx: DayContext) -> None:
    assert isinstance(event, PremedicationGiven)
    _administered(facts, event, ctx)
    for premed in ctx.premedications_today():
        if matches(event.name, premed.id, premed.name):
            facts.premedications[premed.id] = event


def _test(facts: DayFacts, event: ClinicalEvent, ctx: DayContext) -> None:
    assert isinstance(event, TestResult)
    name = event.name.strip().casefold()
    facts.tests[name] = event
    if event.result.strip().casefold() == "positive":
        facts.positive_tests[name] = event


def _vitals(facts: DayFacts, event: ClinicalEvent, ctx: DayContext) -> None:
    assert isinstance(event, VitalSigns)
    facts.readings.append(event)
    if facts.started_at is None:
        facts.baseline.update(event.values())
    if facts.reaction_open:
        _vitals_during_reaction(facts, event, ctx)


def _vitals_during_reaction(facts: DayFacts, event: VitalSigns, ctx: DayContext) -> None:
    """Critical alerts during a reaction are facts of it (IAR-27); some count as its symptoms."""
    for alert in evaluate_alerts(event.values(), facts.baseline, ctx.vital_rules):
        evidence = next((e for e in ctx.reactions.alert_evidence if e.alert == alert.code), None)
        symptom = None if evidence is None else ctx.reactions.symptom(evidence.symptom)
        if symptom is not None and symptom.anaphylaxis_sign:
            _note(facts, ctx, RecordedFact("anaphylaxis_sign", event.at,
                                           f"{symptom.label.lower()} measured at {ctx.clock(event.at)}"))
        if alert.severity == "critical":
            _note(facts, ctx, RecordedFact("critical_alert", event.at,
                                           f"{alert.message} (at {ctx.clock(event.at)})"))


def _medication(facts: DayFacts, event: ClinicalEvent, ctx: DayContext) -> None:
    assert isinstance(event, MedicationGiven)
    _administered(facts, event, ctx)
    _note(facts, ctx, RecordedFact("treatment", event.at, f"{event.name} given at {ctx.clock(event.at)}"))


def _informed(facts: DayFacts, event: ClinicalEvent, ctx: DayContext) -> None:
    facts.physician_informed.append(event.at)


def _decision(facts: DayFacts, event: ClinicalEvent, ctx: DayContext) -> None:
    assert isinstance(event, PhysicianDecision)
    facts.decisions.append(event)
    if event.decision == "reschedule" and event.date is not None:
        facts.day_date = event.date
    elif event.decision == "not_anaphylaxis":
        text = f"a physician recorded at {ctx.clock(event.at)} that it is not anaphylaxis"
        _note(facts, ctx, RecordedFact("not_anaphylaxis", event.at, text))
    elif event.decision == "clear_positive_test":
        facts.positive_tests.clear()


def _run(facts: DayFacts, at: datetime, rate: Decimal, cause: str) -> None:
    facts.segments.append(pump.RateSegment(at, rate, cause))
    facts.running_rate, facts.running_since = rate, at
    facts.resumed_above_suggestion = None
    facts.reduced_restart_at = facts.raised_during_hold = None


def _started(facts: DayFacts, event: ClinicalEvent, ctx: DayContext) -> None:
    assert isinstance(event, InfusionStarted)
    facts.started_at = event.at
    facts.phase = Phase.RUNNING
    _run(facts, event.at, event.rate_ml_per_h, event.type)
    facts.reaction_open = False  # a reaction before the start was graded and reported (guards)


def _rate_changed(facts: DayFacts, event: ClinicalEvent, ctx: DayContext) -> None:
    assert isinstance(event, RateChanged)
    restarted, before = facts.reduced_restart_at, facts.running_rate
    hold = timedelta(minutes=ctx.reactions.restart_hold_minutes)
    raised = before is not None and event.rate_ml_per_h > before
    _run(facts, event.at, event.rate_ml_per_h, event.type)
    if restarted is not None and raised and event.at - restarted < hold:
        facts.raised_during_hold = (event.at, event.rate_ml_per_h)
    facts.reduced_restart_at = restarted


def _interrupted(facts: DayFacts, at: datetime, ctx: DayContext, what: str) -> None:
    _note(facts, ctx, RecordedFact("interruption", at, f"infusion {what} at {ctx.clock(at)}"))


def _paused(facts: DayFacts, event: ClinicalEvent, ctx: DayContext) -> None:
    assert isinstance(event, Paused)
    facts.segments.append(pump.RateSegment(event.at, Decimal(0), event.type))
    facts.phase = Phase.PAUSED
    _interrupted(facts, event.at, ctx, "paused")


def _resumed(facts: DayFacts, event: ClinicalEvent, ctx: DayContext) -> None:
    assert isinstance(event, Resumed)
    suggested = facts.suggested_resume_rate(ctx)
    reduced = facts.reaction_since_running() and suggested is not None and event.rate_ml_per_h <= suggested
    _run(facts, event.at, event.rate_ml_per_h, event.type)
    if suggested is not None and event.rate_ml_per_h > suggested:
        facts.resumed_above_suggestion = (event.rate_ml_per_h, suggested)
    facts.reduced_restart_at = event.at if reduced else None
    facts.phase = Phase.RUNNING
    facts.reaction_open = False  # the symptoms resolved enough to restart (IAR-14, IAR-28)


def _stopped(facts: DayFacts, event: ClinicalEvent, ctx: DayContext) -> None:
    assert isinstance(event, InfusionStopped)
    was_running = facts.phase in (Phase.RUNNING, Phase.PAUSED)
    if facts.started_at is not None:
        facts.segments.append(pump.RateSegment(event.at, Decimal(0), event.type))
    facts.ended_at = event.at
    facts.phase = Phase.STOPPED_FOR_DAY
    if was_running:
        _interrupted(facts, event.at, ctx, "stopped")


def _ended_early(facts: DayFacts, event: ClinicalEvent, ctx: DayContext) -> None:
    assert isinstance(event, InfusionEndedEarly)
    facts.segments.append(pump.RateSegment(event.at, Decimal(0), event.type))
    facts.ended_early = event
    facts.ended_at = event.at
    facts.phase = Phase.INFUSION_ENDED
    _interrupted(facts, event.at, ctx, "ended early")


def _transferred(facts: DayFacts, event: ClinicalEvent, ctx: DayContext) -> None:
    if facts.phase in (Phase.RUNNING, Phase.PAUSED):
        facts.segments.append(pump.RateSegment(event.at, Decimal(0), event.type))
        facts.ended_at = event.at
    facts.transferred_at = event.at
    facts.phase = Phase.TRANSFERRED


def _flush_started(facts: DayFacts, event: ClinicalEvent, ctx: DayContext) -> None:
    assert isinstance(event, FlushStarted)
    if facts.ended_at is None:
        facts.segments.append(pump.RateSegment(event.at, Decimal(0), event.type))
        facts.ended_at = event.at
    facts.flush_started_at = event.at
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
    found: list[RecordedFact] = []
    earlier = [s for r in facts.reactions for s in r.symptoms]
    recurring = [s for s in event.symptoms if s in earlier]
    if recurring:
        found.append(RecordedFact("recurrence", event.at, _labels(ctx, recurring)
                                  + f" came back at {ctx.clock(event.at)} after an earlier reaction today"))
    signs = [s for s in event.symptoms if (symptom := ctx.reactions.symptom(s)) and symptom.anaphylaxis_sign]
    if signs:
        found.append(RecordedFact("anaphylaxis_sign", event.at,
                                  _labels(ctx, signs) + " (signs of anaphylaxis in the protocol)"))
    facts.reactions.append(Reaction(
        onset=event.at, symptoms=event.symptoms, after_infusion=end is not None and event.at > end,
        pump_at_onset=pump_at_onset, facts=tuple(found),
    ))
    facts.reaction_open = True


def _labels(ctx: DayContext, symptoms: list[str]) -> str:
    labels = [(s.label if (s := ctx.reactions.symptom(code)) else code) for code in symptoms]
    return ", ".join(labels).capitalize()


def _assessed(facts: DayFacts, event: ClinicalEvent, ctx: DayContext) -> None:
    assert isinstance(event, ReactionAssessed)
    reaction = replace(facts.reactions[-1], assessment=event)
    facts.reactions[-1] = _graded(facts, reaction, ctx, event.at)


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
    "medication_given": _medication, "physician_informed": _informed,
    "physician_decision": _decision, "infusion_ended_early": _ended_early, "transferred": _transferred,
}
