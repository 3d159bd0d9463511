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
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime

from infusionist.domain.dates import check_supported_instant
from infusionist.domain.day_events import DayEvent, parse_event
from infusionist.domain.day_reading import DayReading, read_day
from infusionist.domain.errors import NotFound
from infusionist.domain.infusion_day import DayFold, DayState, append, check_course, replay
from infusionist.domain.planning import CoursePlan
from infusionist.domain.protocol import Protocol
from infusionist.domain.records import StoredEvent

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

    def parse(self, payload: Mapping[str, object]) -> DayEvent:
        event = parse_event(payload)
        check_supported_instant(event.at, "the time of the entry", "at")
        replacement = getattr(event, "replacement", None)
        if replacement is not None:
            check_supported_instant(replacement.at, "the time of the corrected entry", "replacement.at")
        return event

    def check_append(
        self, plan: CoursePlan, day: int, new: StoredEvent, *, prior_count: int,
        prior_last: StoredEvent | None, load_prior: Callable[[], Sequence[StoredEvent]],
        now: datetime,
    ) -> None:
        event = _event(new)
        key = _day_key(plan, day)
        with self._lock:
            kept = self._folds.pop(key, None)
            if kept is None or kept.fold.count != prior_count or kept.last != _fingerprint(prior_last):
                kept = _Kept(DayFold.of(plan, day, _events(load_prior()), self._for(plan)),
                             _fingerprint(prior_last))
            if not kept.fold.extend(event, now):  # a correction, or one the fold cannot take in order
                append(plan, day, _events(load_prior()), event, self._for(plan), now)
                return
            # Kept as if the new event were stored; if its commit fails, the count or the latest
            # event will not match next time and the fold is rebuilt.
            kept.last = _fingerprint(new)
            self._folds[key] = kept
            while len(self._folds) > _KEPT_FOLDS:
                self._folds.popitem(last=False)

    def check_course(self, plan: CoursePlan, day: int, new: StoredEvent,
                     other_days: Mapping[int, Sequence[StoredEvent]]) -> None:
        check_course(plan, day, _event(new), {d: _events(events) for d, events in other_days.items()},
                     self._for(plan))

    def state(self, plan: CoursePlan, day: int, events: Sequence[StoredEvent], at: datetime) -> DayState:
        return replay(plan, day, _events(events), at, self._for(plan))

    def read(self, plan: CoursePlan, day: int, events: Sequence[StoredEvent], at: datetime) -> DayReading:
        return read_day(plan, day, _events(events), at, self._for(plan))

    def _for(self, plan: CoursePlan) -> Protocol:
        """The protocol the plan was made with; a plan of a therapy this server does not have is
        refused (never read with another therapy's rules)."""
        if plan.protocol_id == self.protocol.id:
            return self.protocol
        if plan.protocol_id not in self.others:
            raise NotFound("PROTOCOL-UNKNOWN", f"This course was planned with a therapy this unit "
                           f"does not offer ({plan.protocol_id}).")
        return self.others[plan.protocol_id]


def _event(stored: StoredEvent) -> DayEvent:
    return parse_event(stored.as_recorded())


def _events(stored: Sequence[StoredEvent]) -> list[DayEvent]:
    return [_event(e) for e in stored]


def _day_key(plan: CoursePlan, day: int) -> tuple[object, ...]:
    planned = plan.day(day)
    return (plan.protocol_id, plan.protocol_version, plan.patient.id, plan.course, day,
            planned.infusion_start)


def _fingerprint(stored: StoredEvent | None) -> str | None:
    """The entry as recorded, by content (its sequence number and time of recording aside)."""
    return None if stored is None else json.dumps(stored.as_recorded(), sort_keys=True,
                                                   separators=(",", ":"))
