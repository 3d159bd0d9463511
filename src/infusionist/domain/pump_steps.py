"""Pump arithmetic for a time-stepped rate table: the step due now and the projected end.

A table is a list of :class:`TimedStep` (rate, how long it runs; the last runs until the bag is
empty). The bedside follows it from the moment the pump was set to its current rate (the
*anchor*): the current step is the highest step whose rate the pump reaches, it runs its length
from the anchor, and each later step follows the one before. A step already overdue at ``at`` is
assumed taken at ``at``. Everything here is protocol-free: the caller passes the day's table.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from fractions import Fraction

from infusionist.domain import pump


@dataclass(frozen=True, slots=True)
class TimedStep:
    """One step of the day's table: ``rate_ml_per_h`` for ``length`` (None: until empty)."""

    rate_ml_per_h: Decimal
    length: timedelta | None


@dataclass(frozen=True, slots=True)
class StepDue:
    """The step the pump should run at ``at`` and when the next step up is (was) due."""

    rate_ml_per_h: Decimal
    next_at: datetime | None


def step_index(steps: Sequence[TimedStep], rate: Decimal) -> int:
    """The highest step whose rate ``rate`` reaches (0 below the first step)."""
    index = 0
    for number, step in enumerate(steps):
        if step.rate_ml_per_h <= rate:
            index = number
    return index


def step_due(steps: Sequence[TimedStep], rate: Decimal, anchor: datetime, at: datetime) -> StepDue:
    """Running at ``rate`` since ``anchor``: the step due at ``at``, and when the next step up is
    due (in the past while it is overdue; None on the last step)."""
    index = step_index(steps, rate)
    length = steps[index].length
    if length is None or index + 1 >= len(steps):
        return StepDue(steps[index].rate_ml_per_h, None)
    next_at = anchor + length
    due = steps[index + 1] if at >= next_at else steps[index]
    return StepDue(due.rate_ml_per_h, next_at)


def planned_segments(steps: Sequence[TimedStep], rate: Decimal, anchor: datetime,
                     at: datetime) -> list[pump.RateSegment]:
    """The pump from ``anchor`` on when the remaining steps are kept."""
    index = step_index(steps, rate)
    segments = [pump.RateSegment(anchor, rate)]
    length = steps[index].length
    if length is None:
        return segments
    moment = anchor + length
    for step in steps[index + 1:]:
        moment = max(moment, at)
        segments.append(pump.RateSegment(moment, step.rate_ml_per_h))
        if step.length is None:
            break
        moment += step.length
    return segments


def projected_end(history: Sequence[pump.RateSegment], prepared_ml: Decimal, at: datetime,
                  rate: Decimal, anchor: datetime, steps: Sequence[TimedStep]) -> datetime:
    """When the bag will be empty, seen at ``at``, when the pump runs ``rate`` from ``anchor``
    (``anchor`` <= ``at``) and then keeps the remaining steps of ``steps``."""
    done = pump.volume_infused(history, at, prepared_ml)
    if done >= Fraction(prepared_ml):
        empty = pump.emptied_at(history, prepared_ml)
        return at if empty is None else empty
    segments = [s for s in history if s.start < anchor] + planned_segments(steps, rate, anchor, at)
    empty = pump.emptied_at(segments, prepared_ml)
    return at if empty is None else empty
