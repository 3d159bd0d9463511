"""The demo unit: a centre, one user per role and patients in every state of a day, built now.

Everything goes through the ordinary use cases (patients, courses, events) with events timed
relative to the clock, so the demo's board is live the moment it opens. The users' password is
``demo``: shorter than the real minimum on purpose, so it can never be a real account's password.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from infusionist.domain.access import Role
from infusionist.domain.device_readings import DeviceRecord
from infusionist.domain.records import Actor, Context, User
from infusionist.services import audit
from infusionist.services.auth import actor_of
from infusionist.services.centres import configure_centre
from infusionist.services.courses import CreateCourse, create_course
from infusionist.services.deps import Deps
from infusionist.services.device_vitals import configure_device
from infusionist.services.events import AppendEvent, append_event
from infusionist.services.patients import RegisterPatient, register_patient

DEMO_PASSWORD = "demo"
DEMO_USERS: tuple[tuple[str, str, Role], ...] = (
    ("nurse", "Nora Nurse", Role.NURSE),
    ("physician", "Dr Paul Physician", Role.PHYSICIAN),
    ("investigator", "Ivy Investigator", Role.INVESTIGATOR),
    ("admin", "Adam Admin", Role.ADMIN),
)

Payload = dict[str, Any]


@dataclass
class DemoUnit:
    """What the demo created: user names and the patients with the state each one shows."""

    timezone: str
    patients: dict[str, int] = field(default_factory=dict)
    courses: dict[str, int] = field(default_factory=dict)


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


GRAM_IV: Payload = {"dose": {"value": 1, "unit": "g"}, "route": "iv"}


def prepare(d: _Day, start: float, *, methylprednisolone: bool, pregnancy_test: bool = False) -> None:
    """Premedication 60 min before ``start``, the cannula, the bag and a baseline reading."""
    d.at(start - 70, "procedure_done", name="peripheral cannula")
    if pregnancy_test:
        d.at(start - 68, "test_result", name="pregnancy test", result="negative")
    if methylprednisolone:
        d.at(start - 65, "premedication_given", name="methylprednisolone", **GRAM_IV)
    d.at(start - 64, "premedication_given", name="paracetamol", **GRAM_IV)
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


def full_day(d: _Day, start: float, *, methylprednisolone: bool, pregnancy_test: bool = False) -> None:
    prepare(d, start, methylprednisolone=methylprednisolone, pregnancy_test=pregnancy_test)
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
    first_day_offset: int
    record: Callable[[Deps, Context, int, datetime], None] | None


def _running(deps: Deps, ctx: Context, course_id: int, now: datetime) -> None:
    d = _Day(deps, ctx, course_id, 1, now)
    prepare(d, -90, methylprednisolone=True)
    d.at(-90, "infusion_started", rate_ml_per_h=28)
    for minutes in (-60, -30, -8):
        d.vitals(minutes, hr=74)


def _reaction(deps: Deps, ctx: Context, course_id: int, now: datetime) -> None:
    d = _Day(deps, ctx, course_id, 3, now)
    prepare(d, -60, methylprednisolone=True)
    d.at(-60, "infusion_started", rate_ml_per_h=28)
    d.vitals(-30)
    d.at(-7, "reaction_onset", symptoms=["rash", "pruritus"])
    d.at(-6, "paused", reason="rash and itching")
    d.at(-5, "physician_informed")
    d.vitals(-4, temp="37.4", hr=98, sys=118, dia=74)
    d.at(-2, "reaction_assessed", interruption_needed=True, responded_promptly=True)


def _observation(deps: Deps, ctx: Context, course_id: int, now: datetime) -> None:
    d = _Day(deps, ctx, course_id, 5, now)
    prepare(d, -300, methylprednisolone=False)
    run_to_end(d, -300)
    d.vitals(-15)


def _ready(deps: Deps, ctx: Context, course_id: int, now: datetime) -> None:
    d = _Day(deps, ctx, course_id, 2, now)
    d.at(-20, "procedure_done", name="peripheral cannula")
    d.at(-15, "premedication_given", name="methylprednisolone", **GRAM_IV)


def _finished(deps: Deps, ctx: Context, course_id: int, now: datetime) -> None:
    for day in range(1, 6):
        d = _Day(deps, ctx, course_id, day, now - timedelta(days=40 - day + 1))
        full_day(d, 0, methylprednisolone=day <= 3)


SCENARIOS: tuple[_Scenario, ...] = (
    _Scenario("planned", "Anna Becker", "female", date(1988, 3, 14), 7, None),
    _Scenario("today", "Jonas Weber", "male", date(1979, 5, 2), 0, None),
    _Scenario("ready", "Lea Hoffmann", "female", date(1991, 10, 21), -1, _ready),
    _Scenario("running", "Tom Schulz", "male", date(1984, 7, 9), 0, _running),
    _Scenario("reaction", "Mia Fischer", "female", date(1995, 1, 30), -2, _reaction),
    _Scenario("observation", "Paul Wagner", "male", date(1972, 12, 5), -4, _observation),
    _Scenario("finished", "Clara Meyer", "female", date(1986, 8, 17), -40, _finished),
)


DEMO_MONITOR = "DEMO-MONITOR^DEMO-UNIT"
DEMO_MONITOR_SOURCES = ("127.0.0.0/8", "::1/128")


def build_demo_unit(deps: Deps, timezone: str = "Europe/Berlin") -> DemoUnit:
    """A fresh demo unit in an empty database (raises ``Conflict`` when the users exist)."""
    actors = add_demo_users(deps)
    admin = Context(actors[Role.ADMIN], "demo")
    configure_centre(deps, admin, "default", {"name": "Demo MS infusion unit", "timezone": timezone,
                                              "allow_weekend_infusions": True,
                                              "contact_phone": "+49 30 1234 5678"}, "demo unit")
    # The monitor of examples/oru-demo.hl7, heard from this machine only (docs/hl7.md).
    configure_device(deps, admin, DeviceRecord(
        device_id=DEMO_MONITOR, place="CHAIR-4", interval_seconds=60, sources=DEMO_MONITOR_SOURCES,
        description="The demo's monitor (examples/oru-demo.hl7)"))
    physician = Context(actors[Role.PHYSICIAN], "demo")
    nurse = Context(actors[Role.NURSE], "demo")
    now = deps.clock.now()
    today = now.astimezone(ZoneInfo(timezone)).date()
    unit = DemoUnit(timezone=timezone)
    for scenario in SCENARIOS:
        patient = register_patient(deps, physician, RegisterPatient(
            name=scenario.name, birth_date=scenario.birth, sex=scenario.sex,
            childbearing_potential=False, weight_kg=None))
        course = create_course(deps, physician, CreateCourse(
            patient_id=patient["id"], course=1,
            first_day=today + timedelta(days=scenario.first_day_offset)))
        unit.patients[scenario.key] = patient["id"]
        unit.courses[scenario.key] = course["id"]
        if scenario.record is not None:
            scenario.record(deps, nurse, course["id"], now)
    return unit
