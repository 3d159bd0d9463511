"""Replaying an infusion day of 2,000 events, beside merely parsing those events (same run).

Usage: .venv/bin/python bench/replay.py [--events N] [--runs N]
Prints the median and p90 of each step over N runs, and the ratio to the parse baseline.
The day: preparation, start at 28 mL/h, then vital signs, pauses and restarts, rate changes and a
reaction, every few seconds, so that every guard and the state computation run on a long record.
"""

from __future__ import annotations

import argparse
import statistics
import time
from datetime import date, datetime, timedelta
from datetime import time as clock
from typing import Any
from zoneinfo import ZoneInfo

from infusionist.adapters.protocol_files import load_protocol
from infusionist.domain.centre import CentreConfig
from infusionist.domain.day_events import parse_events
from infusionist.domain.infusion_day import append, replay
from infusionist.domain.planning import Patient, PlanRequest, plan_course

BERLIN = ZoneInfo("Europe/Berlin")
START = datetime(2026, 12, 7, 8, 0, tzinfo=BERLIN)


def record(count: int) -> list[dict[str, Any]]:
    def at(seconds: float) -> str:
        return (START + timedelta(seconds=seconds)).isoformat()

    events: list[dict[str, Any]] = [
        {"type": "test_result", "at": at(-4000), "name": "pregnancy test", "result": "negative"},
        {"type": "vital_signs", "at": at(-3900), "systolic_mmhg": 130, "diastolic_mmhg": 80,
         "heart_rate_bpm": 72, "temperature_c": 36.8, "respiratory_rate_per_min": 14},
        {"type": "premedication_given", "at": at(-3600), "name": "methylprednisolone",
         "dose": {"value": 1, "unit": "g"}, "route": "iv"},
        {"type": "premedication_given", "at": at(-3600), "name": "paracetamol",
         "dose": {"value": 1, "unit": "g"}, "route": "iv"},
        {"type": "solution_prepared", "at": at(-1800), "volume_ml": 112, "dose_mg": 12},
        {"type": "physician_decision", "at": at(-60), "decision": "accept_solution_expiry",
         "reason": "slow restarts planned", "signed_by": "dr"},
        {"type": "infusion_started", "at": at(0), "rate_ml_per_h": 28},
        {"type": "reaction_onset", "at": at(1), "symptoms": ["rash"]},
        {"type": "paused", "at": at(1)},
        {"type": "physician_informed", "at": at(1)},
        {"type": "reaction_assessed", "at": at(1), "interruption_needed": True, "responded_promptly": True},
    ]
    paused = True
    step = 14_400 / count  # spread the events over the 4 hours of the infusion
    for n in range(count - len(events)):
        moment = at(2 + n * step)
        if n % 50 == 49:
            kind = "resumed" if paused else "paused"
            events.append({"type": kind, "at": moment, **({"rate_ml_per_h": 14} if paused else {})})
            paused = not paused
        elif n % 50 == 25 and not paused:
            events.append({"type": "rate_changed", "at": moment, "rate_ml_per_h": 20 + n % 8})
        else:
            events.append({"type": "vital_signs", "at": moment, "temperature_c": 36.9,
                           "heart_rate_bpm": 70 + n % 30, "systolic_mmhg": 125, "diastolic_mmhg": 75})
    return events


def timed(step: Any, runs: int) -> list[float]:
    samples = []
    for _ in range(runs):
        began = time.perf_counter()
        step()
        samples.append((time.perf_counter() - began) * 1000)
    return samples


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--events", type=int, default=2000)
    parser.add_argument("--runs", type=int, default=15)
    options = parser.parse_args()
    protocol = load_protocol()
    patient = Patient(id="bench", sex="female", childbearing_potential=True)
    plan = plan_course(protocol, PlanRequest(patient, 1, date(2026, 12, 7), clock(8, 0), BERLIN,
                                             "Europe/Berlin"), CentreConfig())
    raw = record(options.events)
    events = parse_events(raw)
    end = events[-1].at
    steps = {
        f"parse {len(raw)} events (baseline)": lambda: parse_events(raw),
        f"replay {len(events)} events": lambda: replay(plan, 1, events, end, protocol),
        "append 1 event to them": lambda: append(plan, 1, events[:-1], events[-1], protocol),
    }
    baseline = None
    print(f"{'step':34} {'median ms':>10} {'p90 ms':>8} {'x baseline':>10}")
    for label, step in steps.items():
        samples = sorted(timed(step, options.runs))
        median = statistics.median(samples)
        p90 = samples[min(len(samples) - 1, round(0.9 * (len(samples) - 1)))]
        baseline = baseline or median
        print(f"{label:34} {median:10.1f} {p90:8.1f} {median / baseline:10.1f}")


if __name__ == "__main__":
    main()
