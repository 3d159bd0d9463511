"""The bedside domain behind the ``DayRules`` port: parse events, run the guards, replay a day.

Checking a new event needs the day's fold up to it. Replaying the whole day for every entry
costs time proportional to the day's length inside the database's write lock, so the fold of
each day is kept between appends (:class:`~infusionist.domain.infusion_day.DayFold`). A kept
fold is used only when it matches the record exactly: the same number of events and the same
latest event (compared by content). Anything else (another writer, a failed commit, a
correction) rebuilds it from the stored record, so the cache can make a check faster but never
different.
"""

from __future__ import annotations

import json
import threading
from collections import OrderedDict
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from infusionist.domain.dates import check_supported_instant
from infusionist.domain.day_events import parse_event
from infusionist.domain.day_state_json import state_to_json
from infusionist.domain.infusion_day import DayFold, append, check_course, replay
from infusionist.domain.planning import CoursePlan
from infusionist.domain.protocol import Protocol

_KEPT_FOLDS = 512  # days kept in memory (a unit has a few dozen open days)


@dataclass
class _Kept:
    fold: DayFold
    last: str | None  # fingerprint of the latest event the fold has taken


class BedsideRules:
    def __init__(self, protocol: Protocol, others: Mapping[str, Protocol] | None = None) -> None:
        self.protocol = protocol
        self.others = dict(others or {})  # the other therapies' protocols, by id (issue 16)
        self._folds: OrderedDict[tuple[object, ...], _Kept] = OrderedDict()
        self._lock = threading.Lock()

    def parse(self, payload: dict[str, Any]) -> dict[str, Any]:
        event = parse_event(payload)
        check_supported_instant(event.at, "the time of the entry", "at")
        replacement = getattr(event, "replacement", None)
        if replacement is not None:
            check_supported_instant(replacement.at, "the time of the corrected entry", "replacement.at")
        return payload

    def check_append(
        self, plan: CoursePlan, day: int, new: dict[str, Any], *, prior_count: int,
        prior_last: dict[str, Any] | None, load_prior: Callable[[], list[dict[str, Any]]],
        now: datetime,
    ) -> None:
        event = parse_event(new)
        key = _day_key(plan, day)
        with self._lock:
            kept = self._folds.pop(key, None)
            if kept is None or kept.fold.count != prior_count or kept.last != _fingerprint(prior_last):
                kept = _Kept(DayFold.of(plan, day, [parse_event(e) for e in load_prior()], self._for(plan)),
                             _fingerprint(prior_last))
            if not kept.fold.extend(event, now):  # a correction, or one the fold cannot take in order
                append(plan, day, [parse_event(e) for e in load_prior()], event, self._for(plan), now)
                return
            # Kept as if the new event were stored; if its commit fails, the count or the latest
            # event will not match next time and the fold is rebuilt.
            kept.last = _fingerprint(new)
            self._folds[key] = kept
            while len(self._folds) > _KEPT_FOLDS:
                self._folds.popitem(last=False)

    def check_course(self, plan: CoursePlan, day: int, new: dict[str, Any],
                     other_days: dict[int, list[dict[str, Any]]]) -> None:
        check_course(plan, day, parse_event(new),
                     {d: [parse_event(e) for e in events] for d, events in other_days.items()},
                     self._for(plan))

    def state(
        self, plan: CoursePlan, day: int, events: list[dict[str, Any]], at: datetime
    ) -> dict[str, Any]:
        state = replay(plan, day, [parse_event(e) for e in events], at, self._for(plan))
        return state_to_json(state)

    def _for(self, plan: CoursePlan) -> Protocol:
        """The protocol the plan was made with (the default one for a plan of the default)."""
        return self.others.get(plan.protocol_id, self.protocol)


def _day_key(plan: CoursePlan, day: int) -> tuple[object, ...]:
    planned = plan.day(day)
    return (plan.protocol_id, plan.protocol_version, plan.patient.id, plan.course, day,
            planned.infusion_start)


def _fingerprint(payload: dict[str, Any] | None) -> str | None:
    return None if payload is None else json.dumps(payload, sort_keys=True, separators=(",", ":"))
