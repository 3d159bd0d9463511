"""One synthetic infusion day as the bedside events a nurse would record (``docs/day-events.md``).

The day follows the protocol: baseline vital signs, premedication at its offset, the bag, the
start at prepared volume / target time, vital signs at the protocol's interval until the end of
observation, flush, observation, discharge. A reaction is recorded with its onset, assessment
and management: grade 1 is watched; grade 2 pauses the pump, gives the antihistamine and restarts at
the reduced rate, stepping back up an hour later; a serious reaction stops the infusion for the
day (and, for anaphylaxis, for the course). Every event goes through the bedside guards in the
service mode, so the generator cannot write a day the bedside would refuse.
"""

from __future__ import annotations

import math
import random
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from fractions import Fraction
from typing import Any

from infusionist.domain import pump
from infusionist.domain.discharge_items import discharge_items, is_last_day
from infusionist.domain.drug_library import RouteEntry
from infusionist.domain.planning import CoursePlan
from infusionist.domain.protocol import Protocol
from infusionist.domain.units import Quantity

Event = dict[str, Any]


@dataclass(frozen=True)
class ReactionDraw:
    """What happens on a day with a reaction; drawn by the course model."""

    place: str  # infusion | observation | after_discharge
    grade: int  # 1, 2 or 3 (serious)
    anaphylaxis: bool
    symptoms: tuple[str, ...]


def _end_after(history: list[pump.RateSegment], volume: Decimal, since: datetime) -> datetime:
    """The whole minute (counted from ``since``) after the bag runs empty: when the nurse ends it."""
    empty = pump.emptied_at(history, volume)
    assert empty is not None, "the last rate is never zero here"
    return since + timedelta(minutes=(empty - since) // timedelta(minutes=1) + 1)


def _minutes(at: datetime, start: datetime) -> float:
    return (at - start).total_seconds() / 60


def _amount(value: Decimal) -> int | str:
    """A protocol amount as the JSON a client sends: an integer, or exact text."""
    return int(value) if value == value.to_integral_value() else str(value)


def _dose(protocol_dose: Any) -> dict[str, Any]:
    return {"value": _amount(protocol_dose.value), "unit": protocol_dose.unit}


class DayBuilder:
    def __init__(self, protocol: Protocol, plan: CoursePlan, day: int, rng: random.Random) -> None:
        self.protocol, self.plan, self.day, self.rng = protocol, plan, day, rng
        self.planned = plan.day(day)
        if protocol.reactions is None:
            raise ValueError("the synthetic trial needs a protocol with reaction rules")
        self.reactions = protocol.reactions
        self.flush_minutes = protocol.flush.duration_minutes() if protocol.flush is not None else 0
        self.start = self.planned.infusion_start + timedelta(minutes=rng.choice((0, 0, 5, 10, 15, 20)))
        self.events: list[tuple[datetime, int, Event]] = []
        self.first_day_of_course = day == 1
        self.prepared_at = self.start - timedelta(minutes=30)

    def add(self, at: datetime, event: Event, order: int = 5) -> None:
        self.events.append((at, order, {"type": event.pop("type"), "at": at.isoformat(), **event}))

    def build(self, reaction: ReactionDraw | None, *, pregnancy_test: bool) -> tuple[list[Event], bool]:
        """The day's events in time order, and whether the course is withdrawn after it."""
        self._preparation(pregnancy_test)
        rate = self.protocol.infusion.rate_ml_per_h()
        self.add(self.start, {"type": "infusion_started", "rate_ml_per_h": _amount(rate)}, order=1)
        onset = self._onset(reaction) if reaction is not None else None
        stop_at, end = self._pump(rate, reaction, onset)
        if stop_at is not None:
            observation_end = stop_at + timedelta(minutes=self.protocol.observation.duration_minutes())
        else:
            flush_end = end + timedelta(minutes=self.flush_minutes)
            self.add(end, {"type": "flush_started"}, order=1)
            self.add(flush_end, {"type": "flush_completed"}, order=1)
            observation_end = flush_end + timedelta(minutes=self.protocol.observation.duration_minutes())
        if reaction is not None and reaction.place == "observation":
            # During observation: a grade 1-2 reaction, treated in the chair, the pump already off.
            onset = observation_end - timedelta(minutes=int(self.rng.uniform(15, 110)))
            self._reaction_events(reaction, onset, paused=False)
        if onset is not None and self.protocol.bedside_record is not None:
            # Observation lasts the protocol's time after the last reaction (IAR-16).
            after = timedelta(minutes=self.protocol.bedside_record.observation_after_reaction_minutes)
            observation_end = max(observation_end, onset + after)
        self._vitals(observation_end, reaction, onset)
        # The discharge gate wants vital signs within the last interval (PROT-06).
        self.add(observation_end, {"type": "vital_signs", **self._reading(0, None)}, order=7)
        self.add(observation_end, {"type": "observation_completed"}, order=8)
        others = [d.date for d in self.plan.days if d.day != self.day]
        for item in discharge_items(self.protocol, is_last_day(self.planned.date, others)):
            self.add(observation_end, {"type": "discharge_item_done", "item": item.id}, order=8)
        self.add(observation_end + timedelta(minutes=5), {"type": "discharged"}, order=9)
        if reaction is not None and reaction.place == "after_discharge":
            infusion_end = stop_at or end
            latest = infusion_end + timedelta(hours=self.reactions.window_after_infusion_hours)
            spare = max(10.0, _minutes(latest, observation_end) - 60)
            onset = observation_end + timedelta(minutes=10 + int(self.rng.uniform(0, spare)))
            self._reaction_events(reaction, onset, paused=False)
        ordered = sorted(self.events, key=lambda item: (item[0], item[1]))
        return [event for _, _, event in ordered], bool(reaction and reaction.anaphylaxis)

    def _preparation(self, pregnancy_test: bool) -> None:
        if pregnancy_test:
            self.add(
                self.start - timedelta(minutes=75),
                {"type": "test_result", "name": "pregnancy test", "result": "negative"},
                order=0,
            )
        self.add(
            self.start - timedelta(minutes=70), {"type": "vital_signs", **self._reading(0, None)}, order=0
        )
        for premed in self.protocol.premedications:
            if premed.applies_on(self.day):
                self.add(
                    self.start + timedelta(minutes=premed.offset_minutes),
                    {
                        "type": "premedication_given",
                        "name": premed.name,
                        "dose": _dose(premed.dose),
                        "route": premed.route,
                    },
                    order=1,
                )
        self.add(
            self.prepared_at,
            {
                "type": "solution_prepared",
                "volume_ml": _amount(self.protocol.infusion.prepared_volume.value),
                "dose_mg": _amount(self.protocol.infusion.dose.in_mg()),
            },
            order=2,
        )

    def _onset(self, reaction: ReactionDraw) -> datetime | None:
        if reaction.place != "infusion":
            return None
        return self.start + timedelta(minutes=int(self.rng.triangular(5, 200, 45)))

    def _pump(
        self, rate: Decimal, reaction: ReactionDraw | None, onset: datetime | None
    ) -> tuple[datetime | None, datetime]:
        """Pump events; returns (stop time for a serious reaction, infusion end). When the bag runs
        empty comes from the domain's pump arithmetic (``domain/pump.py``) over the rates recorded."""
        volume = self.protocol.infusion.prepared_volume.value
        history = [pump.RateSegment(self.start, rate)]
        if reaction is None or onset is None or reaction.grade == 1:
            if reaction is not None and onset is not None:
                self._reaction_events(reaction, onset, paused=False)
            return None, _end_after(history, volume, self.start)
        if reaction.grade >= 3:
            stop = onset + timedelta(minutes=2)
            self._reaction_events(reaction, onset, paused=True, stop=stop)
            return stop, stop
        pause = onset + timedelta(minutes=2)
        restart = pause + timedelta(minutes=self.rng.choice((20, 25, 30, 40)))
        history.append(pump.RateSegment(pause, Decimal(0)))
        reduced = Decimal(int(rate * self.reactions.restart_rate_factor))
        reduced = self._resume_rate(history, volume, restart, reduced)
        self._reaction_events(reaction, onset, paused=True, pause=pause, restart=restart)
        self.add(restart, {"type": "resumed", "rate_ml_per_h": int(reduced)}, order=4)
        history.append(pump.RateSegment(restart, reduced))
        step_up = restart + timedelta(minutes=60)
        empty = pump.emptied_at(history, volume)
        if empty is not None and empty <= step_up:
            return None, _end_after(history, volume, restart)
        self.add(step_up, {"type": "rate_changed", "rate_ml_per_h": int(rate)}, order=4)
        return None, _end_after([*history, pump.RateSegment(step_up, rate)], volume, step_up)

    def _resume_rate(
        self, history: list[pump.RateSegment], volume: Decimal, restart: datetime, reduced: Decimal
    ) -> Decimal:
        """The reduced rate, or the lowest whole rate above it that empties the bag before the
        solution expires (the bedside refuses a restart that would run past the expiry, PROT-13)."""
        expires = pump.solution_expiry(self.prepared_at, self.protocol.infusion.storage_limit.value)
        remaining = Fraction(volume) - pump.volume_infused(history, restart, volume)
        if pump.plus_hours(restart, remaining / Fraction(reduced)) <= expires:
            return reduced
        hours = pump.hours_between(restart, expires) - Fraction(1, 60)  # a minute to spare
        return max(reduced, Decimal(math.ceil(remaining / hours)))

    def _reaction_events(
        self,
        reaction: ReactionDraw,
        onset: datetime,
        *,
        paused: bool,
        pause: datetime | None = None,
        restart: datetime | None = None,
        stop: datetime | None = None,
    ) -> None:
        self.add(onset, {"type": "reaction_onset", "symptoms": list(reaction.symptoms)}, order=3)
        if pause is not None:
            self.add(pause, {"type": "paused", "reason": "infusion reaction"}, order=3)
        if stop is not None:
            self.add(stop, {"type": "infusion_stopped", "reason": "serious infusion reaction"}, order=3)
            self.add(stop + timedelta(minutes=1), {"type": "emergency_called"}, order=3)
        self.add(onset + timedelta(minutes=3), {"type": "physician_informed"}, order=3)
        assessed = onset + timedelta(minutes=10)
        facts: Event = {"interruption_needed": reaction.grade >= 2, "responded_promptly": reaction.grade < 3}
        if reaction.anaphylaxis:
            facts = {"interruption_needed": True, "responded_promptly": False, "anaphylaxis": True}
        elif reaction.grade >= 3:
            facts = {**facts, "hospitalisation_indicated": self.rng.random() < 0.5}
        self.add(assessed, {"type": "reaction_assessed", **facts}, order=3)
        if reaction.grade >= 2:
            self._treatments(reaction, assessed)

    def _treatments(self, reaction: ReactionDraw, assessed: datetime) -> None:
        """The protocol's drugs for the reaction's severity (its ladder, IAR-12, IAR-13, IAR-29):
        the unconditional ones, and for anaphylaxis the adrenergic drug, fluids and oxygen too; each at
        the protocol's dose, or the drug library's usual dose where the protocol gives none."""
        rules, library = self.reactions, self.protocol.drug_library
        severity = "severe" if reaction.grade >= rules.severe_from_grade else "mild_moderate"
        conditional = ("anaphylaxis", "hypotension", "respiratory_distress") if reaction.anaphylaxis else ()
        chosen = [a for a in sorted(rules.actions, key=lambda a: a.order)
                  if a.severity == severity and a.done_by == "medication_given" and a.medicine is not None
                  and (a.when == "always" or a.when in conditional)]
        for minutes, action in enumerate(chosen, start=1):
            medicine = action.medicine
            assert medicine is not None
            drug = None if library is None else library.find(medicine.name)
            entry = None if drug is None else (
                drug.by_route(medicine.route) if medicine.route else drug.routes[0])
            route = medicine.route or (entry.route if entry is not None else None)
            dose = medicine.dose or (entry.unit_dose if entry is not None else None)
            if dose is None and entry is not None:
                dose = self._largest_single_dose(entry)
            event: Event = {"type": "medication_given", "name": medicine.name}
            if route is not None:
                event["route"] = route
            if dose is not None:
                event["dose"] = _dose(dose)
            self.add(assessed + timedelta(minutes=minutes), event, order=3)

    def _largest_single_dose(self, entry: RouteEntry) -> Quantity | None:
        """A drug without a usual dose (e.g. a weight-based emergency drug) gets the largest
        single dose its limits allow for the patient's weight, as the bedside asks for a dose."""
        single, _per_day, _band = entry.limits_for(self.plan.patient.weight_kg)
        bases = [a.base(self.plan.patient.weight_kg) for a in (single.hard, single.soft) if a is not None]
        known = [b for b in bases if b is not None]
        return None if not known else Quantity(value=min(known), unit="mg")

    def _vitals(self, until: datetime, reaction: ReactionDraw | None, onset: datetime | None) -> None:
        interval = timedelta(minutes=self.protocol.vital_signs.interval_minutes)
        at = self.start
        while at <= until:
            affected = (
                reaction if onset is not None and timedelta(0) <= at - onset <= timedelta(hours=1) else None
            )
            self.add(
                at, {"type": "vital_signs", **self._reading(_minutes(at, self.start), affected)}, order=6
            )
            at += interval

    def _reading(self, minutes: float, reaction: ReactionDraw | None) -> Event:
        rng = self.rng
        # Day 1 of a course: heart rate about 20 bpm higher during the infusion (vital-sign study, n=304).
        hr_rise = 20 if self.first_day_of_course and 0 < minutes <= 300 else 0
        temperature = 36.6 + rng.gauss(0, 0.25)
        systolic = 124 + rng.gauss(0, 9)
        heart_rate = 72 + hr_rise + rng.gauss(0, 7)
        if reaction is not None:
            temperature += 1.6 if "pyrexia" in reaction.symptoms else 0.3
            heart_rate += 15
            systolic -= 30 if "hypotension" in reaction.symptoms else 0
            if not reaction.anaphylaxis:  # a drawn grade 1-3 reaction stays what was drawn: no
                heart_rate = min(heart_rate, 125)  # critical NEWS2 heart rate (131) raising it
        return {
            "temperature_c": f"{min(temperature, 40.5):.1f}",
            "heart_rate_bpm": round(heart_rate),
            "systolic_mmhg": round(systolic),
            "diastolic_mmhg": round(min(systolic - 25, 78 + rng.gauss(0, 6))),
            "respiratory_rate_per_min": round(15 + rng.gauss(0, 1.5)),
            "spo2_percent": min(100, round(97.5 + rng.gauss(0, 1))),
        }
