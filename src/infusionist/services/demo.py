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
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from infusionist.domain.access import Role
from infusionist.domain.device_readings import DeviceRecord
from infusionist.domain.discharge_items import discharge_items, is_last_day
from infusionist.domain.protocol import Premedication, Protocol
from infusionist.domain.records import Actor, Context, User
from infusionist.services import audit
from infusionist.services.auth import actor_of
from infusionist.services.centres import configure_centre
from infusionist.services.courses import CourseView, CreateCourse, create_course, get_course
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


class DemoDay:
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


@dataclass(frozen=True)
class DemoNumbers:
    """Every number of the demo's days, read from the protocol: the bag (prepared volume and
    dose), the rate that runs it in the target duration, the vital-sign interval, the flush and
    the observation, and each day's premedications at their dose, route and offset."""

    protocol: Protocol

    @property
    def volume(self) -> Decimal:
        return self.protocol.infusion.prepared_volume.value

    @property
    def dose(self) -> Decimal:
        return self.protocol.infusion.dose.value

    @property
    def duration(self) -> int:
        return int(self.protocol.infusion.target_duration.value)

    @property
    def rate(self) -> Decimal:
        """The first rate step, or the rate that runs the prepared volume in the target duration."""
        steps = self.protocol.infusion.rate_steps
        return steps[0].rate.value if steps else self.volume * 60 / self.duration

    @property
    def interval(self) -> int:
        return self.protocol.vital_signs.interval_minutes

    @property
    def flush(self) -> int:
        flush = self.protocol.flush
        return flush.duration_minutes() if flush is not None else 0

    @property
    def observation(self) -> int:
        return self.protocol.observation.duration_minutes()

    def premedications(self, day: int) -> list[Premedication]:
        return [p for p in self.protocol.premedications if p.applies_on(day)]

    @property
    def preparation(self) -> int:
        """How long before the start the day's first entry (the cannula) is made."""
        offsets = [p.offset_minutes for p in self.protocol.premedications] or [0]
        return -min(offsets) + _PREPARATION_MARGIN

    def needs(self, scenario: str) -> int:
        """Minutes of today a scenario's events need before now (its earliest event)."""
        started = {"running": _RUNNING_FOR, "reaction": _REACTION_AFTER,
                   "observation": self.duration + self.flush + _OBSERVED_FOR}
        if scenario == "ready":
            return _READY_BEFORE + _FIT_MARGIN
        return started[scenario] + self.preparation + _FIT_MARGIN


# The demo's story (minutes, not clinical numbers): how far into its day each scenario is.
_PREPARATION_MARGIN = 10  # the cannula goes in 10 min before the premedication slot
_PREMEDICATION_EARLY = 5  # premedications given 5 min before their slot, so they count
_RUNNING_FOR = 90  # "running": started 90 min ago
_REACTION_AFTER = 60  # "reaction": started 60 min ago, the reaction 7 min ago
_OBSERVED_FOR = 30  # "observation": the flush ended 30 min ago
_READY_BEFORE = 20  # "ready": cannula 20 min ago, premedication 15 min ago
_FIT_MARGIN = 5


def _number(value: Decimal) -> int | str:
    """A decimal as the event's JSON writes it (an integer when whole, else its exact text)."""
    return int(value) if value == value.to_integral_value() else str(value)


def _premedicate(d: DemoDay, minutes: float, day: int, numbers: DemoNumbers) -> None:
    for index, premedication in enumerate(numbers.premedications(day)):
        d.at(minutes + index, "premedication_given", name=premedication.name,
             dose={"value": _number(premedication.dose.value), "unit": premedication.dose.unit},
             route=premedication.route)


def prepare(d: DemoDay, start: float, numbers: DemoNumbers, *, pregnancy_test: bool = False) -> None:
    """The cannula, the day's premedications at the protocol's offset, the bag and a baseline."""
    d.at(start - numbers.preparation, "procedure_done", name="peripheral cannula")
    if pregnancy_test:
        d.at(start - numbers.preparation + 2, "test_result", name="pregnancy test", result="negative")
    slot = min((p.offset_minutes for p in numbers.premedications(d.day)), default=0)
    _premedicate(d, start + slot - _PREMEDICATION_EARLY, d.day, numbers)
    d.at(start - 30, "solution_prepared", volume_ml=_number(numbers.volume),
         dose_mg=_number(numbers.dose))
    d.vitals(start - 5)


def run_to_end(d: DemoDay, start: float, numbers: DemoNumbers) -> float:
    """Start at the protocol's rate, readings every interval, flush; returns the flush end."""
    d.at(start, "infusion_started", rate_ml_per_h=_number(numbers.rate))
    for minutes in range(numbers.interval, numbers.duration, numbers.interval):
        d.vitals(start + minutes, hr=72 + minutes % 7)
    end = start + numbers.duration
    d.at(end, "flush_started")
    d.at(end + numbers.flush, "flush_completed")
    return end + numbers.flush


def full_day(d: DemoDay, start: float, numbers: DemoNumbers, *, pregnancy_test: bool = False) -> None:
    prepare(d, start, numbers, pregnancy_test=pregnancy_test)
    flush_end = run_to_end(d, start, numbers)
    observation_end = flush_end + numbers.observation
    d.vitals(flush_end + numbers.observation / 2)
    d.vitals(observation_end - 5)  # the discharge gate wants vital signs within the last interval
    d.at(observation_end, "observation_completed")
    told_at_discharge(d, observation_end)
    d.at(observation_end + 1, "discharged")


def told_at_discharge(d: DemoDay, minutes: float) -> None:
    """The day's discharge checklist, item by item (the discharge gate wants every one)."""
    plan = get_course(d.deps, d.ctx, d.course_id)["plan"]
    dates = [date.fromisoformat(day["date"]) for day in plan["days"]]
    others = [when for i, when in enumerate(dates) if i != d.day - 1]
    for item in discharge_items(d.deps.protocol, is_last_day(dates[d.day - 1], others)):
        d.at(minutes, "discharge_item_done", item=item.id)


@dataclass(frozen=True)
class _Scenario:
    key: str
    name: str
    sex: str
    birth: date
    weeks_from_now: int  # 0: infusing this week; 1: starts next week; -5: finished


def _running(d: DemoDay, numbers: DemoNumbers) -> None:
    start = -_RUNNING_FOR
    prepare(d, start, numbers)
    d.at(start, "infusion_started", rate_ml_per_h=_number(numbers.rate))
    for minutes in range(numbers.interval, _RUNNING_FOR, numbers.interval):
        d.vitals(start + minutes, hr=74)
    d.vitals(-8, hr=74)


def _reaction(d: DemoDay, numbers: DemoNumbers) -> None:
    start = -_REACTION_AFTER
    prepare(d, start, numbers)
    d.at(start, "infusion_started", rate_ml_per_h=_number(numbers.rate))
    d.vitals(-30)
    d.at(-7, "reaction_onset", symptoms=["rash", "pruritus"])
    d.at(-6, "paused", reason="rash and itching")
    d.at(-5, "physician_informed")
    d.vitals(-4, temp="37.4", hr=98, sys=118, dia=74)
    d.at(-2, "reaction_assessed", interruption_needed=True, responded_promptly=True)


def _observation(d: DemoDay, numbers: DemoNumbers) -> None:
    start = -(numbers.duration + numbers.flush + _OBSERVED_FOR)
    prepare(d, start, numbers)
    run_to_end(d, start, numbers)
    d.vitals(-15)


def _ready(d: DemoDay, numbers: DemoNumbers) -> None:
    d.at(-_READY_BEFORE, "procedure_done", name="peripheral cannula")
    _premedicate(d, -_READY_BEFORE + 5, d.day, numbers)


Record = Callable[[DemoDay, DemoNumbers], None]
SCENARIO_RECORDS: dict[str, Record] = {"running": _running, "reaction": _reaction,
                               "observation": _observation, "ready": _ready}
# What a patient shows when today has too few minutes so far for the scenario.
_FALLBACK: dict[str, str] = {"observation": "running", "running": "ready", "reaction": "ready",
                             "ready": "today"}


def fitting(scenario: str, minutes_today: float, numbers: DemoNumbers) -> str:
    """The scenario itself, or the first of its fallbacks whose events fit in today so far."""
    while scenario in SCENARIO_RECORDS and numbers.needs(scenario) > minutes_today:
        scenario = _FALLBACK[scenario]
    return scenario


def first_day_of_this_week(today: date) -> date:
    """Monday on a weekday; Saturday at a weekend (the demo centre then infuses at weekends)."""
    weekday = today.weekday()
    return today - timedelta(days=weekday if weekday < SATURDAY else weekday - SATURDAY)


def _finished(deps: Deps, ctx: Context, course: CourseView, zone: ZoneInfo,
              numbers: DemoNumbers) -> None:
    """Course 1 recorded in full, each planned day from 09:00 local on its date (5 weeks ago)."""
    for planned in course.plan["days"]:
        day = int(planned["day"])
        start = datetime.combine(date.fromisoformat(planned["date"]), time(9, 0), zone)
        full_day(DemoDay(deps, ctx, course.id, day, start), 0, numbers)


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
    numbers = DemoNumbers(deps.protocol)
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
            shown = fitting(scenario.key, minutes_today, numbers)
            unit.shown[scenario.key] = shown
            if shown in SCENARIO_RECORDS:
                SCENARIO_RECORDS[shown](DemoDay(deps, nurse, course["id"], today_day, now), numbers)
        elif scenario.weeks_from_now < 0:
            _finished(deps, nurse, course, zone, numbers)
    return unit


def _monday_on_or_before(day: date) -> date:
    return day - timedelta(days=day.weekday())
