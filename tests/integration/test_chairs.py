"""Chairs and capacity through the API on SQLite and PostgreSQL (issue 17): the unit, finding a
course's first start, booking a course's days, refusals with the next time that fits, moving and
cancelling, the week calendar and the chair feed, and two coordinators racing for the last chair.

The chair time is the plan's: PROT-09 (premedication 60 min before), PROT-14 (4 h infusion),
PROT-16 (30 min flush), PROT-17 (2 h observation): 08:00-15:30 for a 09:00 infusion.
"""

from __future__ import annotations

import threading
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import httpx
import pytest
from api_support import ClientFactory, Role, engine_of, snapshot
from sqlalchemy import text
from sqlalchemy.exc import IntegrityError

from infusionist.services.deps import Deps

# Courses booked a month or more ahead of the real date (the server's clock is the system's).
_START = date.today() + timedelta(days=28)
MONDAY_DATE = _START + timedelta(days=(7 - _START.weekday()) % 7)
MONDAY = MONDAY_DATE.isoformat()
NEXT_MONDAY = (MONDAY_DATE + timedelta(days=7)).isoformat()
AFTER = (MONDAY_DATE - timedelta(days=5)).isoformat()
ZONE = ZoneInfo("Europe/Berlin")
RULES: dict[str, Any] = {
    "hours": {day: {"opens": "08:00", "closes": "17:00"}
              for day in ("monday", "tuesday", "wednesday", "thursday", "friday")},
    "turnover_minutes": 15, "max_starts_per_half_hour": 2, "max_running_per_nurse": 4,
    "nurses": dict.fromkeys(("monday", "tuesday", "wednesday", "thursday", "friday"), 2),
}


def berlin(day: date, clock: str) -> str:
    return datetime.combine(day, datetime.strptime(clock, "%H:%M").time(), tzinfo=ZONE).isoformat()


def local(moment: str) -> tuple[date, str]:
    at = datetime.fromisoformat(moment).astimezone(ZONE)
    return at.date(), at.strftime("%H:%M")


def set_up_unit(client_as: ClientFactory, chairs: int = 2) -> httpx.Client:
    admin = client_as(Role.ADMIN)
    assert admin.put("/centres/default", json={"config": {"timezone": "Europe/Berlin"},
                                               "reason": "test"}).status_code == 200
    response = admin.put("/centres/default/unit", json={"rules": RULES, "reason": "opening"})
    assert response.status_code == 200, response.text
    for n in range(1, chairs + 1):
        added = admin.post("/centres/default/unit/chairs", json={"name": f"Chair {n}", "kind": "recliner"})
        assert added.status_code == 201, added.text
    return admin


def new_patient(physician: httpx.Client, name: str) -> int:
    response = physician.post("/patients", json={"name": name, "sex": "male"})
    assert response.status_code == 201, response.text
    return int(response.json()["id"])


def book(physician: httpx.Client, patient_id: int, first_day: str = MONDAY, start: str = "09:00",
         chair_ids: list[int] | None = None) -> httpx.Response:
    body: dict[str, Any] = {"course": 1, "first_day": first_day, "infusion_start": start}
    if chair_ids is not None:
        body["chair_ids"] = chair_ids
    return physician.post(f"/patients/{patient_id}/courses", json=body)


def test_find_book_and_see_a_course_in_the_unit(client_as: ClientFactory) -> None:
    admin = set_up_unit(client_as)
    unit = admin.get("/centres/default/unit").json()
    assert [c["name"] for c in unit["chairs"]] == ["Chair 1", "Chair 2"]
    assert unit["rules"]["turnover_minutes"] == 15
    physician = client_as(Role.PHYSICIAN)
    patient = new_patient(physician, "Ada Lovelace")

    found = physician.get("/schedule/first-starts", params={"patient_id": patient, "course": 1,
                                                            "after": AFTER})
    assert found.status_code == 200, found.text
    body = found.json()
    assert body["chair_minutes"] == [450] * 5  # PROT-09 + PROT-14 + PROT-16 + PROT-17
    first = body["choices"][0]
    # The unit opens at 08:00: the chair from 08:00 means an infusion at 09:00 (PROT-09).
    assert (first["first_day"], first["infusion_start"], first["chair_ids"]) == (MONDAY, "09:00", [1] * 5)
    assert [c["first_day"] for c in body["choices"]] == [
        MONDAY, NEXT_MONDAY, (MONDAY_DATE + timedelta(days=14)).isoformat()]

    created = book(physician, patient, first["first_day"], first["infusion_start"], first["chair_ids"])
    assert created.status_code == 201, created.text
    course_id = created.json()["id"]
    booked = physician.get(f"/courses/{course_id}/bookings").json()
    assert [(b["day"], b["chair"]) for b in booked] == [(d, "Chair 1") for d in range(1, 6)]
    assert local(booked[0]["chair_start"]) == (MONDAY_DATE, "08:00")
    assert local(booked[0]["chair_end"]) == (MONDAY_DATE, "15:30")  # end of observation
    assert local(booked[0]["held_until"]) == (MONDAY_DATE, "15:45")  # plus 15 min turnover

    # The next patient's earliest start moves to chair 2 (same Monday, same time).
    other = new_patient(physician, "Grace Hopper")
    second = physician.get("/schedule/first-starts", params={"patient_id": other, "course": 1,
                                                             "after": AFTER}).json()["choices"][0]
    assert (second["first_day"], second["infusion_start"], second["chair_ids"]) == (MONDAY, "09:00", [2] * 5)

    week = physician.get("/schedule/week", params={"monday": MONDAY}).json()
    assert [b["patient"] for b in week["bookings"]] == ["Ada Lovelace"] * 5
    assert {(b["day"], b["of_days"]) for b in week["bookings"]} == {(d, 5) for d in range(1, 6)}
    monday = week["days"][0]
    # 450 of 2 chairs x 540 open minutes; one patient at once of 2 nurses x 4.
    assert (monday["occupancy_percent"], monday["most_at_once"], monday["staff_limit"]) == (42, 1, 8)
    assert week["days"][5]["open"] is False  # Saturday
    seen = client_as(Role.INVESTIGATOR).get("/schedule/week", params={"monday": MONDAY}).json()
    assert {b["patient"] for b in seen["bookings"]} == {b["pseudonym"] for b in week["bookings"]}
    assert "Ada" not in str(seen)

    feed = physician.get("/chairs/1/calendar.ics")
    assert feed.status_code == 200 and feed.headers["content-type"].startswith("text/calendar")
    assert feed.text.count("BEGIN:VEVENT") == 5
    assert "Ada Lovelace: course 1\\, day 1 of 5" in feed.text
    actions = [row["action"] for row in physician.get("/audit", params={"limit": 1000}).json()]
    assert {"unit.configure", "chair.add", "course.book"} <= set(actions)


def test_a_taken_chair_is_refused_with_the_next_choice_and_nothing_is_written(
        client_as: ClientFactory, deps: Deps) -> None:
    set_up_unit(client_as, chairs=1)
    physician = client_as(Role.PHYSICIAN)
    assert book(physician, new_patient(physician, "First Patient"), chair_ids=[1] * 5).status_code == 201
    late = new_patient(physician, "Second Patient")
    before = snapshot(deps)
    refused = book(physician, late, chair_ids=[1] * 5)
    assert refused.status_code == 409, refused.text
    error = refused.json()["error"]
    assert error["code"] == "CHAIR-TAKEN"
    assert error["details"]["next_first_day"] == NEXT_MONDAY
    assert error["details"]["next_infusion_start"] == "09:00"
    assert "Nothing was saved" in error["message"]
    assert snapshot(deps) == before

    outside = book(physician, late, first_day=NEXT_MONDAY, start="16:00")
    assert outside.status_code == 422
    assert outside.json()["error"]["code"] == "CHAIR-OUTSIDE-HOURS"
    assert "08:00 to 17:00" in outside.json()["error"]["message"]
    assert snapshot(deps) == before


def test_moving_or_cancelling_a_day_frees_its_chair(client_as: ClientFactory) -> None:
    set_up_unit(client_as, chairs=1)
    physician = client_as(Role.PHYSICIAN)
    course = book(physician, new_patient(physician, "First Patient")).json()["id"]
    day1, day2 = physician.get(f"/courses/{course}/bookings").json()[:2]
    # Day 2 (Tuesday) moves to a later time: its old time is then free.
    tuesday = MONDAY_DATE + timedelta(days=1)
    moved = physician.post(f"/bookings/{day2['id']}/move", json={
        "infusion_start": berlin(tuesday, "10:30"), "reason": "patient arrives late"})
    assert moved.status_code == 200, moved.text
    assert local(moved.json()["chair_start"]) == (tuesday, "09:30")
    too_late = physician.post(f"/bookings/{moved.json()['id']}/move", json={
        "infusion_start": berlin(tuesday, "12:00"), "reason": "later still"})
    assert too_late.status_code == 422
    assert too_late.json()["error"]["code"] == "CHAIR-OUTSIDE-HOURS"
    # Days 3-5 hold the only chair Wednesday to Friday and the unit is closed at weekends: the
    # next time that fits is the following Monday at 09:00.
    assert local(too_late.json()["error"]["details"]["next_start"]) == (MONDAY_DATE + timedelta(days=7), "09:00")
    # Day 1 missed: cancelling frees Monday's chair for someone else.
    other = new_patient(physician, "Second Patient")
    assert book(physician, other, chair_ids=[1] * 5).status_code == 409
    cancelled = physician.post(f"/bookings/{day1['id']}/cancel", json={"reason": "missed day"})
    assert cancelled.status_code == 200
    found = physician.get("/schedule/first-starts", params={"patient_id": other, "course": 1,
                                                            "after": AFTER}).json()
    assert found["choices"][0]["first_day"] == NEXT_MONDAY  # Wednesday to Friday are still taken
    assert physician.post(f"/bookings/{day1['id']}/cancel", json={"reason": "again"}).status_code == 404
    nurse = client_as(Role.NURSE)
    assert nurse.post(f"/bookings/{day2['id']}/cancel", json={"reason": "x"}).status_code == 403


def test_the_unit_refuses_impossible_settings_and_a_booked_chair_out_of_use(
        client_as: ClientFactory, deps: Deps) -> None:
    admin = set_up_unit(client_as, chairs=1)
    before = snapshot(deps)
    bad = admin.put("/centres/default/unit", json={"rules": {**RULES, "hours": {
        "monday": {"opens": "18:00", "closes": "08:00"}}}})
    assert bad.status_code == 422
    assert bad.json()["error"]["message"] == "The unit must open before it closes."
    assert admin.post("/centres/default/unit/chairs", json={"name": "Chair 1"}).status_code == 409
    assert snapshot(deps) == before
    physician = client_as(Role.PHYSICIAN)
    assert book(physician, new_patient(physician, "Booked")).status_code == 201
    out = admin.put("/centres/default/unit/chairs/1", json={"name": "Chair 1", "active": False})
    assert out.status_code == 409 and out.json()["error"]["code"] == "CHAIR-IN-USE"
    renamed = admin.put("/centres/default/unit/chairs/1", json={"name": "Window chair", "kind": "bed"})
    assert renamed.status_code == 200 and renamed.json()["kind"] == "bed"


def test_two_coordinators_booking_the_last_chair_at_once(client_as: ClientFactory, deps: Deps) -> None:
    """One gets it; the other is told (409 CHAIR-TAKEN) and offered the next choice."""
    set_up_unit(client_as, chairs=1)
    first, second = client_as(Role.PHYSICIAN), client_as(Role.PHYSICIAN)
    patients = [new_patient(first, "Racer One"), new_patient(first, "Racer Two")]
    barrier = threading.Barrier(2)
    results: dict[int, httpx.Response] = {}

    def race(client: httpx.Client, patient: int) -> None:
        barrier.wait()
        results[patient] = book(client, patient, chair_ids=[1] * 5)

    threads = [threading.Thread(target=race, args=(c, p)) for c, p in zip((first, second), patients, strict=True)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    statuses = sorted(r.status_code for r in results.values())
    assert statuses == [201, 409], [r.text for r in results.values()]
    loser = next(r for r in results.values() if r.status_code == 409).json()["error"]
    assert loser["code"] == "CHAIR-TAKEN" and loser["details"]["next_first_day"] == NEXT_MONDAY
    with engine_of(deps).connect() as connection:
        live = connection.execute(text("SELECT count(*) FROM chair_bookings WHERE cancelled_at IS NULL")).scalar()
    assert live == 5


@pytest.mark.parametrize("database_url", [pytest.param("postgresql", marks=pytest.mark.postgres)],
                         indirect=True)
def test_postgresql_itself_refuses_two_live_bookings_overlapping_on_a_chair(
        client_as: ClientFactory, deps: Deps) -> None:
    """The safeguard behind the writer lock: the exclusion constraint of migration 0009."""
    set_up_unit(client_as, chairs=1)
    physician = client_as(Role.PHYSICIAN)
    course = book(physician, new_patient(physician, "Booked")).json()["id"]
    insert = text("INSERT INTO chair_bookings (chair_id, course_id, day, starts_at, infusion_at, ends_at, "
                  "held_until, booked_at, booked_by) VALUES (1, :course, 9, :start, :start, :end, :end, "
                  "now(), 'sql')")
    with engine_of(deps).connect() as connection, pytest.raises(IntegrityError, match="ex_chair_bookings_overlap"):
        connection.execute(insert, {"course": course, "start": berlin(MONDAY_DATE, "10:00"),
                                    "end": berlin(MONDAY_DATE, "11:00")})
    with engine_of(deps).begin() as connection:  # after the turnover: allowed
        connection.execute(insert, {"course": course, "start": berlin(MONDAY_DATE, "15:45"),
                                    "end": berlin(MONDAY_DATE, "16:00")})


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_the_unit_page_is_changed_by_the_admin_only_and_refusals_write_nothing(
        client_as: ClientFactory, base_url: str, deps: Deps) -> None:
    set_up_unit(client_as, chairs=1)
    nurse_cookies, admin_cookies = client_as(Role.NURSE).cookies, client_as(Role.ADMIN).cookies
    with httpx.Client(base_url=base_url, cookies=nurse_cookies) as pages, \
            httpx.Client(base_url=base_url, cookies=admin_cookies) as admin:
        assert pages.get("/unit").status_code == 200  # every role reads the unit
        before = snapshot(deps)
        refused = pages.post("/unit/chairs", data={"name": "Sneaky chair"})
        assert refused.status_code == 403
        bad = admin.post("/unit/rules", data={"monday_opens": "18:00", "monday_closes": "08:00",
                                              "turnover_minutes": "15", "max_starts_per_half_hour": "2",
                                              "max_running_per_nurse": "4"})
        # The message is kept for the session on the server and shown once by the next page.
        assert bad.status_code == 303 and "open before it closes" in admin.get(bad.headers["location"]).text
        not_a_number = admin.post("/unit/rules", data={"turnover_minutes": "a quarter"})
        assert not_a_number.status_code == 303
        assert "whole number" in admin.get(not_a_number.headers["location"]).text
        assert snapshot(deps) == before
        added = admin.post("/unit/chairs", data={"name": "Bed 2", "kind": "bed"})
        assert added.status_code == 303 and "Bed 2 added." in admin.get(added.headers["location"]).text
        chairs = admin.get("/api/v1/centres/default/unit").json()["chairs"]
        assert [c["name"] for c in chairs] == ["Chair 1", "Bed 2"]


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_todays_board_shows_the_chair_each_patient_is_booked_on(client_as: ClientFactory, deps: Deps) -> None:
    from infusionist.domain.records import Context
    from infusionist.services import views
    from infusionist.services.auth import local_actor

    admin = client_as(Role.ADMIN)
    every_day = {d: {"opens": "00:00", "closes": "23:59"} for d in (
        "monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")}
    assert admin.put("/centres/default", json={"config": {"timezone": "UTC", "allow_weekend_infusions": True}}
                     ).status_code == 200
    assert admin.put("/centres/default/unit", json={"rules": {
        **RULES, "hours": every_day, "nurses": dict.fromkeys(every_day, 2)}}).status_code == 200
    for name in ("Window", "Door"):
        assert admin.post("/centres/default/unit/chairs", json={"name": name}).status_code == 201
    physician = client_as(Role.PHYSICIAN)
    today = datetime.now(ZoneInfo("UTC")).date()
    patient = new_patient(physician, "Board Patient")
    created = physician.post(f"/patients/{patient}/courses", json={
        "course": 1, "first_day": today.isoformat(), "infusion_start": "08:00", "chair_ids": [2] * 5})
    assert created.status_code == 201, created.text
    board = views.today_board(deps, Context(local_actor(deps, "nurse")))
    assert [(row["patient"]["name"], row["chair"]) for row in board] == [("Board Patient", "Door")]
