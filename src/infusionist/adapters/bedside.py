"""The bedside domain behind the ``DayRules`` port: parse events, run the guards, replay a day.

The guard (``domain/infusion_day``) and the state JSON (``domain/day_state_json``) are looked up
when first needed, so storage and the API work before the bedside replay is installed; without it
the state endpoint answers ``DAY-STATE-UNAVAILABLE`` (501).
"""

from __future__ import annotations

import importlib
from datetime import datetime
from types import ModuleType
from typing import Any

from infusionist.domain.day_events import parse_event
from infusionist.domain.errors import Unavailable
from infusionist.domain.planning import CoursePlan
from infusionist.domain.protocol import Protocol


def _optional(module: str) -> ModuleType | None:
    try:
        return importlib.import_module(module)
    except ModuleNotFoundError as exc:
        if exc.name != module:
            raise
        return None


class BedsideRules:
    def __init__(self, protocol: Protocol) -> None:
        self.protocol = protocol
        self._day = _optional("infusionist.domain.infusion_day")
        self._json = _optional("infusionist.domain.day_state_json")

    def parse(self, payload: dict[str, Any]) -> dict[str, Any]:
        parse_event(payload)
        return payload

    def check_append(
        self, plan: CoursePlan, day: int, events: list[dict[str, Any]], new: dict[str, Any]
    ) -> None:
        if self._day is None:
            return
        prior = [parse_event(e) for e in events]
        self._day.append(plan, day, prior, parse_event(new), self.protocol)

    def state(
        self, plan: CoursePlan, day: int, events: list[dict[str, Any]], at: datetime
    ) -> dict[str, Any]:
        if self._day is None or self._json is None:
            raise Unavailable("DAY-STATE-UNAVAILABLE",
                              "day state: the bedside replay is not installed in this build.")
        state = self._day.replay(plan, day, [parse_event(e) for e in events], at, self.protocol)
        result: dict[str, Any] = self._json.state_to_json(state)
        return result
