"""One typed reading of an infusion day: what every reader of the record reads (issue 13 item 1).

``read_day(plan, day, events, at, protocol)`` is the bedside fold (``infusion_day.fold_record``:
the same corrections, the same guards, the same pump arithmetic) seen from outside: the events
in force (each corrected one with the entry it replaced and why; the withdrawn ones apart, with
why), the rate segments with their exact volume and dose (from the volume and dose actually
prepared, C-11), pauses, reactions as graded by the bedside (withdrawn ones absent, corrected
ones as corrected), medications, vital signs, flush, observation and how the day ended, and the
``DayState`` from the same fold. The snapshot, the IAR report, SDTM, FHIR, the chart and the
synthetic trial read this; none of them walks the raw events or computes pump arithmetic.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from enum import StrEnum
from fractions import Fraction
from typing import Literal

from infusionist.domain import pump
from infusionist.domain.day_events import (
    ClinicalEvent,
    DayEvent,
    MedicationGiven,
    Paused,
    PremedicationGiven,
    ReactionOnset,
    VitalSigns,
)
from infusionist.domain.day_facts import DayFacts
from infusionist.domain.infusion_day import DayState, FoldedDay, fold_record
from infusionist.domain.planning import CoursePlan
from infusionist.domain.protocol import Protocol
from infusionist.domain.reactions import Reaction

__all__ = [
    "DayEnding", "DayReading", "EffectiveEvent", "MedicationReading", "PauseReading",
    "PumpAfterReaction", "RateSegmentReading", "ReactionReading", "VitalSignsReading",
    "WithdrawnEvent", "read_day", "reading_moment",
]

PLACES = Decimal("0.000001")  # the Decimal views of exact volumes and doses (mL, mg)
# What the pump did after a reaction's onset (SDTM AEACN, the FHIR AdverseEvent's outcome).
PumpAfterReaction = Literal["stopped", "rate_reduced", "interrupted", "not_applicable", "unchanged"]


class DayEnding(StrEnum):
    """How the day's infusion ended (or that it has not)."""

    NOT_STARTED = "not_started"
    IN_PROGRESS = "in_progress"
    COMPLETED = "completed"  # ran until the flush
    ENDED_EARLY = "ended_early"  # stopped before the bag was empty, the line flushed (PROT-16)
    STOPPED = "stopped"  # stopped for the day (IAR-13)
    TRANSFERRED = "transferred"  # to a higher level of care (IAR-29)


@dataclass(frozen=True, slots=True)
class EffectiveEvent:
    """An entry in force. ``index`` is the original's place in the day's record; when it was
    corrected, ``corrected_by`` is the correction's place, ``replaced`` the entry as first
    recorded and ``reason`` the correction's reason."""

    index: int
    event: ClinicalEvent
    corrected_by: int | None = None
    replaced: ClinicalEvent | None = None
    reason: str | None = None


@dataclass(frozen=True, slots=True)
class WithdrawnEvent:
    """An entry a correction withdrew: kept in the record, in force nowhere."""

    index: int
    event: ClinicalEvent
    withdrawn_by: int
    reason: str


@dataclass(frozen=True, slots=True)
class RateSegmentReading:
    """The pump at a constant rate from ``start`` to ``end`` (``ended_by`` None: still running at
    the reading's moment). Volume and dose are exact fractions; ``volume_ml``/``dose_mg`` their
    Decimal views (rounded down to ``PLACES``)."""

    number: int  # 1, 2, ... within the day
    start: datetime
    end: datetime
    rate_ml_per_h: Decimal
    volume_exact: Fraction
    dose_exact: Fraction
    started_by: str  # infusion_started | rate_changed | resumed
    ended_by: str | None

    @property
    def volume_ml(self) -> Decimal:
        return pump.to_decimal(self.volume_exact, PLACES)

    @property
    def dose_mg(self) -> Decimal:
        return pump.to_decimal(self.dose_exact, PLACES)


@dataclass(frozen=True, slots=True)
class PauseReading:
    start: datetime
    end: datetime | None  # None: still paused, or the day ended while paused
    reason: str | None
    ended_by: str | None


@dataclass(frozen=True, slots=True)
class ReactionReading:
    """A reaction in force, graded as the bedside grades it (the record only raises a grade)."""

    index: int  # the onset entry's place in the record
    onset: datetime
    symptoms: tuple[str, ...]
    grade: int | None  # None until assessed
    term: str | None
    severe: bool  # grade at or above the protocol's ``severe_from_grade``
    reason: str | None  # why that grade, in words
    after_infusion: bool
    pump_at_onset: str
    pump_after: PumpAfterReaction
    reaction: Reaction


@dataclass(frozen=True, slots=True)
class MedicationReading:
    index: int
    at: datetime
    name: str
    dose_value: Decimal | None
    dose_unit: str | None
    route: str | None
    premedication: bool


@dataclass(frozen=True, slots=True)
class VitalSignsReading:
    index: int
    at: datetime
    values: tuple[tuple[str, Decimal], ...]  # (field, value) for the signs measured

    def value(self, field: str) -> Decimal | None:
        return next((v for f, v in self.values if f == field), None)


@dataclass(frozen=True)
class DayReading:
    """One infusion day as the bedside folds it, for every reader."""

    day: int
    at: datetime
    folded: FoldedDay = field(repr=False, compare=False)
    events: tuple[EffectiveEvent, ...]
    withdrawn: tuple[WithdrawnEvent, ...]
    prepared_volume_ml: Decimal | None
    prepared_dose_mg: Decimal | None
    segments: tuple[RateSegmentReading, ...]
    pauses: tuple[PauseReading, ...]
    reactions: tuple[ReactionReading, ...]
    medications: tuple[MedicationReading, ...]
    vital_signs: tuple[VitalSignsReading, ...]
    infusion_started_at: datetime | None
    infusion_ended_at: datetime | None
    flush_started_at: datetime | None
    flush_completed_at: datetime | None
    observation_completed_at: datetime | None
    discharged_at: datetime | None
    ending: DayEnding

    @property
    def state(self) -> DayState:
        """The bedside's day state at ``at``, from the same fold (computed when first asked for)."""
        return self.folded.state

    @property
    def volume_exact(self) -> Fraction:
        return sum((s.volume_exact for s in self.segments), Fraction(0))

    @property
    def dose_exact(self) -> Fraction:
        return sum((s.dose_exact for s in self.segments), Fraction(0))


def reading_moment(events: Sequence[DayEvent]) -> datetime:
    """The moment that includes every entry of a record: its latest time, corrections'
    replacements included (a replacement may carry a later time than any entry)."""
    moments = [e.at for e in events]
    moments += [e.replacement.at for e in events if e.type == "correction" and e.replacement is not None]
    return max(moments)


def read_day(
    plan: CoursePlan, day: int, events: Sequence[DayEvent], at: datetime, protocol: Protocol,
    *, checked: bool = True,
) -> DayReading:
    """The reading of ``day`` at ``at`` from its record (refused like ``replay``). ``checked=False``
    reads a stored record without running the guards again (each entry passed them when it was
    appended); the fold, and so the reading, is the same."""
    folded = fold_record(plan, day, events, at, protocol, checked=checked)
    facts = folded.facts
    effective = tuple(EffectiveEvent(e.index, e.event, e.corrected_by, e.replaced, e.reason)
                      for e in folded.entries)
    withdrawn = tuple(WithdrawnEvent(w.index, w.event, w.withdrawn_by, w.reason) for w in folded.withdrawals)
    volume = None if facts.solution is None else facts.solution.volume_ml
    dose = None if facts.solution is None else facts.solution.dose_mg
    return DayReading(
        day=day, at=at, folded=folded, events=effective, withdrawn=withdrawn,
        prepared_volume_ml=volume, prepared_dose_mg=dose,
        segments=_segments(folded, at),
        pauses=_pauses(effective, facts),
        reactions=_reactions(effective, facts),
        medications=tuple(
            MedicationReading(e.index, e.event.at, e.event.name,
                              None if e.event.dose is None else e.event.dose.value,
                              None if e.event.dose is None else str(e.event.dose.unit),
                              e.event.route, isinstance(e.event, PremedicationGiven))
            for e in effective if isinstance(e.event, PremedicationGiven | MedicationGiven)),
        vital_signs=tuple(VitalSignsReading(e.index, e.event.at, tuple(e.event.values().items()))
                          for e in effective if isinstance(e.event, VitalSigns)),
        infusion_started_at=facts.started_at, infusion_ended_at=facts.infusion_end(),
        flush_started_at=facts.flush_started_at, flush_completed_at=facts.flush_completed_at,
        observation_completed_at=facts.observation_completed_at, discharged_at=facts.discharged_at,
        ending=_ending(facts),
    )


def _segments(folded: FoldedDay, at: datetime) -> tuple[RateSegmentReading, ...]:
    """The running stretches of the pump history, with the volume each delivered (never more than
    the bag held) and its share of the dose prepared (C-11); the protocol's volume and dose only
    when no preparation was recorded."""
    facts, infusion = folded.facts, folded.ctx.infusion  # the day's, by its dose number
    history = facts.segments
    if facts.solution is not None:
        volume, dose = facts.solution.volume_ml, facts.solution.dose_mg
    else:
        volume, dose = infusion.prepared_volume.value, infusion.dose.in_mg()
    out: list[RateSegmentReading] = []
    for i, segment in enumerate(history):
        if segment.rate_ml_per_h == 0:
            continue
        following = history[i + 1] if i + 1 < len(history) else None
        end = at if following is None else following.start
        delivered = (pump.volume_infused(history, end, volume)
                     - pump.volume_infused(history, segment.start, volume))
        out.append(RateSegmentReading(
            number=len(out) + 1, start=segment.start, end=end, rate_ml_per_h=segment.rate_ml_per_h,
            volume_exact=delivered, dose_exact=pump.dose_delivered(dose, delivered, volume),
            started_by=segment.cause, ended_by=None if following is None else following.cause,
        ))
    return tuple(out)


def _pauses(effective: Sequence[EffectiveEvent], facts: DayFacts) -> tuple[PauseReading, ...]:
    out: list[PauseReading] = []
    for i, segment in enumerate(facts.segments):
        if segment.cause != "paused":
            continue
        following = facts.segments[i + 1] if i + 1 < len(facts.segments) else None
        reason = next((e.event.reason for e in effective
                       if isinstance(e.event, Paused) and e.event.at == segment.start), None)
        out.append(PauseReading(segment.start, None if following is None else following.start, reason,
                                None if following is None else following.cause))
    return tuple(out)


def _reactions(effective: Sequence[EffectiveEvent], facts: DayFacts) -> tuple[ReactionReading, ...]:
    """The fold's reactions, paired with their onset entries (the k-th onset applied made the
    k-th reaction), with what the pump did after them."""
    onsets = [(position, e) for position, e in enumerate(effective) if isinstance(e.event, ReactionOnset)]
    out: list[ReactionReading] = []
    for (position, entry), reaction in zip(onsets, facts.reactions, strict=True):
        grading = reaction.grading
        later: set[str] = {e.event.type for e in effective[position + 1:]}
        out.append(ReactionReading(
            index=entry.index, onset=reaction.onset, symptoms=tuple(reaction.symptoms),
            grade=None if grading is None else grading.grade,
            term=None if grading is None else grading.term,
            severe=grading is not None and grading.severity == "severe",
            reason=None if grading is None else grading.reason,
            after_infusion=reaction.after_infusion, pump_at_onset=reaction.pump_at_onset,
            pump_after=_pump_after(later, reaction, facts), reaction=reaction,
        ))
    return tuple(out)


def _pump_after(later: set[str], reaction: Reaction, facts: DayFacts) -> PumpAfterReaction:
    if "infusion_stopped" in later:
        return "stopped"
    if "paused" in later and "resumed" in later:
        return "rate_reduced"
    if "paused" in later or "infusion_ended_early" in later:
        return "interrupted"
    end = facts.infusion_end()
    if reaction.after_infusion or (end is not None and reaction.onset >= end):
        return "not_applicable"
    return "unchanged"


def _ending(facts: DayFacts) -> DayEnding:
    if facts.transferred_at is not None:
        return DayEnding.TRANSFERRED
    if facts.started_at is None:
        return DayEnding.NOT_STARTED
    if facts.ended_early is not None:
        return DayEnding.ENDED_EARLY
    if facts.flush_started_at is not None:
        return DayEnding.COMPLETED
    if facts.ended_at is not None:
        return DayEnding.STOPPED
    return DayEnding.IN_PROGRESS
