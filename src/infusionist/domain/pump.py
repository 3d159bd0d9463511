"""Pump arithmetic: rate, volume and time, exactly.

A pump history is a list of :class:`RateSegment`: from ``start`` the pump runs at
``rate_ml_per_h`` until the next segment starts (a pause or a stop is a segment at rate 0).
Rates and volumes are Decimal; elapsed time is exact, counted in whole microseconds as a
:class:`fractions.Fraction` of an hour, so a volume is never rounded on the way. A projected
moment is rounded up to the next microsecond (never earlier than the exact moment).

Everything here is protocol-free: the caller passes the prepared volume, the dose and the
storage limit read from the protocol and the events.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import ROUND_FLOOR, Decimal
from fractions import Fraction

_MICROSECONDS_PER_HOUR = 3_600_000_000
_MICROSECONDS_PER_MINUTE = 60_000_000
_ONE_MICROSECOND = timedelta(microseconds=1)


@dataclass(frozen=True, slots=True)
class RateSegment:
    """From ``start`` the pump runs at ``rate_ml_per_h`` (0 while paused or stopped); ``cause``
    is the type of the entry that set it (``infusion_started``, ``paused``, ...), for the readers."""

    start: datetime
    rate_ml_per_h: Decimal
    cause: str = ""


def hours_between(earlier: datetime, later: datetime) -> Fraction:
    """Exact elapsed hours (negative when ``later`` is earlier)."""
    return Fraction((later - earlier) // _ONE_MICROSECOND, _MICROSECONDS_PER_HOUR)


def plus_hours(moment: datetime, hours: Fraction) -> datetime:
    """``moment`` + ``hours``, rounded up to the next whole microsecond."""
    micro = hours * _MICROSECONDS_PER_HOUR
    whole = -((-micro.numerator) // micro.denominator)  # ceiling
    return moment + timedelta(microseconds=whole)


def volume_infused(segments: Sequence[RateSegment], until: datetime, prepared_ml: Decimal) -> Fraction:
    """The volume delivered from the history up to ``until``, never more than the bag held."""
    prepared = Fraction(prepared_ml)
    total = Fraction(0)
    for index, segment in enumerate(segments):
        if segment.start >= until:
            break
        end = segments[index + 1].start if index + 1 < len(segments) else until
        end = min(end, until)
        total += Fraction(segment.rate_ml_per_h) * hours_between(segment.start, end)
        if total >= prepared:
            return prepared
    return total


def current_rate(segments: Sequence[RateSegment], at: datetime) -> Decimal:
    """The rate the pump runs at ``at`` (0 before the start, while paused or after a stop)."""
    rate = Decimal(0)
    for segment in segments:
        if segment.start > at:
            break
        rate = segment.rate_ml_per_h
    return rate


def emptied_at(segments: Sequence[RateSegment], prepared_ml: Decimal) -> datetime | None:
    """The moment the bag ran empty, assuming the last segment runs on; None if it never does."""
    prepared = Fraction(prepared_ml)
    total = Fraction(0)
    for index, segment in enumerate(segments):
        rate = Fraction(segment.rate_ml_per_h)
        nxt = segments[index + 1].start if index + 1 < len(segments) else None
        if rate > 0:
            needed = (prepared - total) / rate
            if nxt is None or plus_hours(segment.start, needed) <= nxt:
                return plus_hours(segment.start, needed)
        if nxt is not None:
            total += rate * hours_between(segment.start, nxt)
    return None


def projected_end(
    segments: Sequence[RateSegment], prepared_ml: Decimal, at: datetime, resume_rate_ml_per_h: Decimal
) -> datetime:
    """When the bag will be empty, seen at ``at``.

    While the pump runs, the end follows from the history. While it is paused (or not yet
    started) the remaining volume is assumed to run from ``at`` at ``resume_rate_ml_per_h``,
    so a pause pushes the end later minute by minute.
    """
    done = volume_infused(segments, at, prepared_ml)
    remaining = Fraction(prepared_ml) - done
    if remaining == 0:
        empty = emptied_at(segments, prepared_ml)
        return at if empty is None else empty
    rate = current_rate(segments, at)
    if rate == 0:
        rate = resume_rate_ml_per_h
    return plus_hours(at, remaining / Fraction(rate))


def dose_delivered(dose_mg: Decimal, infused_ml: Fraction, prepared_ml: Decimal) -> Fraction:
    """Dose x volume infused / prepared volume: the drug is evenly mixed in the bag."""
    return Fraction(dose_mg) * infused_ml / Fraction(prepared_ml)


def rate_for(volume_ml: Decimal, minutes: Decimal) -> Decimal:
    """The rate that delivers ``volume_ml`` in ``minutes``: 112 mL in 240 min is 28 mL/h."""
    return volume_ml * 60 / minutes


def solution_expiry(prepared_at: datetime, storage_limit_hours: Decimal) -> datetime:
    """The moment the prepared solution may no longer be used (preparation + storage limit)."""
    return plus_hours(prepared_at, Fraction(storage_limit_hours))


def margin_minutes(expires_at: datetime, end: datetime) -> int:
    """Whole minutes from ``end`` to ``expires_at``, rounded down (negative: too late)."""
    micro = (expires_at - end) // _ONE_MICROSECOND
    return micro // _MICROSECONDS_PER_MINUTE


def to_decimal(value: Fraction, places: Decimal) -> Decimal:
    """An exact fraction as a Decimal rounded down to ``places`` (e.g. Decimal('0.01'))."""
    exact = Decimal(value.numerator) / Decimal(value.denominator)
    return exact.quantize(places, rounding=ROUND_FLOOR)
