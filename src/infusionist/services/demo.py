"""The demo unit: a centre, one user per role and patients in every state of a day, built now.

Everything goes through the ordinary use cases (patients, courses, events) with events timed
relative to the clock, so the demo's board is live the moment it opens. The users' password is
``demo``: shorter than the real minimum on purpose, so it can never be a real account's password.

The demo obeys the product's rules at any date and hour (issue 15 item 9):

- Course 1 runs Monday to Friday, so every course of today's patients started on this week's
  Monday and today is its day 1 on a Monday, day 2 on a Tuesday ... day 5 on a Friday. On a
  Saturday or Sunday the demo centre infuses at weekends (a setting a centre may choose) and the
  courses start on the Saturday, so the board is not empty.
- A day's events lie between the local midnight and now, never in the future. A scenario that
  needs more of the day than has passed (at 01:00 no patient can be four hours into an
  infusion) falls back to an earlier phase of the same day (``_FALLBACK``).
- The finished course's days are recorded from 09:00 local on their own dates.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from infusionist.domain.access import Role
from infusionist.domain.device_readings import DeviceRecord
from infusionist.domain.records import Actor, Context, User
from infusionist.domain.units import json_number
from infusionist.services import audit
from infusionist.services.auth import actor_of
from infusionist.services.centres import configure_centre
from infusionist.services.courses import CreateCourse, create_course
from infusionist.services.deps import Deps
from infusionist.services.device_vitals import configure_device
from infusionist.services.events import AppendEvent, append_event
from infusionist.services.patients import RegisterPatient, register_patient

DEMO_PASSWORD = "demo"
SATURDAY = 5
DEMO_USERS: tuple[tuple[str, str, Role], ...] = (
    ("nurse", "Nora Nurse", Role.NURSE),
    ("physician", "Dr Paul Physician", Role.PHYSICIAN),
    ("investigator", "Ivy Investigator", Role.INVESTIGATOR),
    ("admin", "Adam Admin", Role.ADMIN),
)

Payload = dict[str, Any]


@dataclass
class DemoUnit:
    """What the demo created: the patients with the state each one shows, their courses and the
    infusion day each is on today (absent for the patients not infusing today)."""

    timezone: str
    patients: dict[str, int] = field(default_factory=dict)
    courses: dict[str, int] = field(default_factory=dict)
    days: dict[str, int] = field(default_factory=dict)
    shown: dict[str, str] = field(default_factory=dict)  # the scenario each patient shows



def add_demo_users(deps: Deps) -> dict[Role, Actor]:
    actors: dict[Role, Actor] = {}
    with deps.uow(write=True) as uow:
        for username, full_name, role in DEMO_USERS:
            user = uow.users.add(User(username=username, full_name=full_name, role=role,
                                      password_hash=deps.hasher.hash(DEMO_PASSWORD),
                                      created_at=deps.clock.now()))
            audit.record(uow, deps, "system", None, "user.create", "user", user.id,
                         new={"username": username, "role": role.value}, reason="demo unit")
            actors[role] = actor_of(user)
        uow.commit()
    return actors


class _Day:
    """Appends one day's events in order, each at ``now + offset`` minutes."""

    def __init__(self, deps: Deps, ctx: Context, course_id: int, day: int, now: datetime) -> None:
        self.deps, self.ctx, self.course_id, self.day, self.now = deps, ctx, course_id, day, now
        self.seq = 0

    def at(self, minutes: float, event_type: str, **fields: Any) -> None:
        moment = self.now + timedelta(minutes=minutes)
        self.seq += 1
        append_event(self.deps, self.ctx, AppendEvent(
            course_id=self.course_id, day=self.day, expected_seq=self.seq,
            payload={"type": event_type, "at": moment.isoformat(), **fields}))

    def vitals(self, minutes: float, temp: str = "36.8", hr: int = 76, sys: int = 124,
               dia: int = 78) -> None:
        self.at(minutes, "vital_signs", temperature_c=temp, heart_rate_bpm=hr, systolic_mmhg=sys,
                diastolic_mmhg=dia, respiratory_rate_per_min=14, spo2_percent=98)


def premedications(d: _Day) -> list[Payload]:
    """The protocol's premedications of the day, as events name, dose and route."""
    return [{"name": p.name, "dose": {"value": json_number(p.dose.value), "unit": p.dose.unit},
             "route": p.route}
            for p in d.deps.protocol.premedications if p.applies_on(d.day)]


def prepare(d: _Day, start: float, *, pregnancy_test: bool = False) -> None:
    """Premedication 60 min before ``start``, the cannula, the bag and a baseline reading."""
    d.at(start - 70, "procedure_done", name="peripheral cannula")
    if pregnancy_test:
        d.at(start - 68, "test_result", name="pregnancy test", result="negative")
    for index, premed in enumerate(premedications(d)):
        d.at(start - 65 + index, "premedication_given", **premed)
    d.at(start - 30, "solution_prepared", volume_ml=112, dose_mg=12)
    d.vitals(start - 5)


def run_to_end(d: _Day, start: float) -> float:
    """Start at 28 mL/h, readings every 30 min, flush and observation; returns the flush end."""
    d.at(start, "infusion_started", rate_ml_per_h=28)
    for minutes in range(30, 240, 30):
        d.vitals(start + minutes, hr=72 + minutes % 7)
    d.at(start + 240, "flush_started")
    d.at(start + 270, "flush_completed")
    return start + 270


def full_day(d: _Day, start: float, *, pregnancy_test: bool = False) -> None:
    prepare(d, start, pregnancy_test=pregnancy_test)
    flush_end = run_to_end(d, start)
    d.vitals(flush_end + 60)
    d.vitals(flush_end + 115)  # the discharge gate wants vital signs within the last interval
    d.at(flush_end + 120, "observation_completed")
    d.at(flush_end + 121, "discharged")


@dataclass(frozen=True)
class _Scenario:
    key: str
    name: str
    sex: str
    birth: date
    weeks_from_now: int  # 0: infusing this week; 1: starts next week; -5: finished


def _running(d: _Day) -> None:
    prepare(d, -90)
    d.at(-90, "infusion_started", rate_ml_per_h=28)
    for minutes in (-60, -30, -8):
        d.vitals(minutes, hr=74)


def _reaction(d: _Day) -> None:
    prepare(d, -60)
    d.at(-60, "infusion_started", rate_ml_per_h=28)
    d.vitals(-30)
    d.at(-7, "reaction_onset", symptoms=["rash", "pruritus"])
    d.at(-6, "paused", reason="rash and itching")
    d.at(-5, "physician_informed")
    d.vitals(-4, temp="37.4", hr=98, sys=118, dia=74)
    d.at(-2, "reaction_assessed", interruption_needed=True, responded_promptly=True)


def _observation(d: _Day) -> None:
    prepare(d, -300)
    run_to_end(d, -300)
    d.vitals(-15)


def _ready(d: _Day) -> None:
    d.at(-20, "procedure_done", name="peripheral cannula")
    d.at(-15, "premedication_given", **premedications(d)[0])


Record = Callable[[_Day], None]
# Minutes of today each scenario's events need before now (its earliest event), plus a margin.
_NEEDS: dict[str, int] = {"running": 160 + 5, "reaction": 130 + 5, "observation": 370 + 5,
                          "ready": 20 + 5}
_RECORDS: dict[str, Record] = {"running": _running, "reaction": _reaction,
                               "observation": _observation, "ready": _ready}
# What a patient shows when today has too few minutes so far for the scenario.
_FALLBACK: dict[str, str] = {"observation": "running", "running": "ready", "reaction": "ready",
                             "ready": "today"}


def fitting(scenario: str, minutes_today: float) -> str:
    """The scenario itself, or the first of its fallbacks whose events fit in today so far."""
    while scenario in _NEEDS and _NEEDS[scenario] > minutes_today:
        scenario = _FALLBACK[scenario]
    return scenario


def first_day_of_this_week(today: date) -> date:
    """Monday on a weekday; Saturday at a weekend (the demo centre then infuses at weekends)."""
    weekday = today.weekday()
    return today - timedelta(days=weekday if weekday < SATURDAY else weekday - SATURDAY)


def _finished(deps: Deps, ctx: Context, course_id: int, first_day: date, zone: ZoneInfo) -> None:
    """Course 1 recorded in full, each day from 09:00 local on its own date (5 weeks ago)."""
    for day in range(1, 6):
        start = datetime.combine(first_day + timedelta(days=day - 1), time(9, 0), zone)
        full_day(_Day(deps, ctx, course_id, day, start), 0)


SCENARIOS: tuple[_Scenario, ...] = (
    _Scenario("planned", "Anna Becker", "female", date(1988, 3, 14), 1),
    _Scenario("today", "Jonas Weber", "male", date(1979, 5, 2), 0),
    _Scenario("ready", "Lea Hoffmann", "female", date(1991, 10, 21), 0),
    _Scenario("running", "Tom Schulz", "male", date(1984, 7, 9), 0),
    _Scenario("reaction", "Mia Fischer", "female", date(1995, 1, 30), 0),
    _Scenario("observation", "Paul Wagner", "male", date(1972, 12, 5), 0),
    _Scenario("finished", "Clara Meyer", "female", date(1986, 8, 17), -5),
)


DEMO_MONITOR = "DEMO-MONITOR^DEMO-UNIT"
DEMO_MONITOR_SOURCES = ("127.0.0.0/8", "::1/128")


def build_demo_unit(deps: Deps, timezone: str = "Europe/Berlin") -> DemoUnit:
    """A fresh demo unit in an empty database (raises ``Conflict`` when the users exist)."""
    actors = add_demo_users(deps)
    admin = Context(actors[Role.ADMIN], "demo")
    zone = ZoneInfo(timezone)
    now = deps.clock.now()
    local_now = now.astimezone(zone)
    today = local_now.date()
    weekend = today.weekday() >= SATURDAY
    configure_centre(deps, admin, "default", {"name": "Demo MS infusion unit", "timezone": timezone,
                                              "allow_weekend_infusions": weekend,
                                              "contact_phone": "+49 30 1234 5678"}, "demo unit")
    # The monitor of examples/oru-demo.hl7, heard from this machine only (docs/hl7.md).
    configure_device(deps, admin, DeviceRecord(
        device_id=DEMO_MONITOR, place="CHAIR-4", interval_seconds=60, sources=DEMO_MONITOR_SOURCES,
        description="The demo's monitor (examples/oru-demo.hl7)"))
    physician = Context(actors[Role.PHYSICIAN], "demo")
    nurse = Context(actors[Role.NURSE], "demo")
    start = first_day_of_this_week(today)
    today_day = (today - start).days + 1
    minutes_today = (local_now - datetime.combine(today, time(0, 0), zone)).total_seconds() / 60
    unit = DemoUnit(timezone=timezone)
    for scenario in SCENARIOS:
        patient = register_patient(deps, physician, RegisterPatient(
            name=scenario.name, birth_date=scenario.birth, sex=scenario.sex,
            childbearing_potential=False, weight_kg=None))
        # This week's courses start on ``start``; another week's on its Monday (Monday to Friday).
        first_day = (start if scenario.weeks_from_now == 0
                     else _monday_on_or_before(today) + timedelta(weeks=scenario.weeks_from_now))
        course = create_course(deps, physician, CreateCourse(
            patient_id=patient["id"], course=1, first_day=first_day))
        unit.patients[scenario.key] = patient["id"]
        unit.courses[scenario.key] = course["id"]
        if scenario.weeks_from_now == 0:
            unit.days[scenario.key] = today_day
            shown = fitting(scenario.key, minutes_today)
            unit.shown[scenario.key] = shown
            if shown in _RECORDS:
                _RECORDS[shown](_Day(deps, nurse, course["id"], today_day, now))
        elif scenario.weeks_from_now < 0:
            _finished(deps, nurse, course["id"], first_day, zone)
    return unit


def _monday_on_or_before(day: date) -> date:
    return day - timedelta(days=day.weekday())
