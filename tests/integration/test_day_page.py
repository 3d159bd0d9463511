"""The day page's forms over HTTP (issue 15 items 2-5): notices from the server only, an older
page's entry refused with what was recorded since, numbers as the centre writes them, dangerous
entries confirmed once more. Every refusal is a 422 page in the nurse's words and writes nothing."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import httpx
import pytest
from api_support import ClientFactory, Role, snapshot

from infusionist.services.deps import Deps

VITALS = {"type": "vital_signs", "at": "2026-03-02T07:00", "temperature_c": "36.8",
          "heart_rate_bpm": "76", "systolic_mmhg": "124", "diastolic_mmhg": "78",
          "respiratory_rate_per_min": "14", "spo2_percent": "98", "form": "vitals", "anchor": "vitals"}


@pytest.fixture
def page(base_url: str, client_as: ClientFactory) -> Iterator[httpx.Client]:
    """A nurse's browser: the session cookie, the site's own Origin on every form."""
    nurse = client_as(Role.NURSE)
    with httpx.Client(base_url=base_url, cookies=nurse.cookies, headers={"Origin": base_url}) as client:
        yield client


def _refusal(html: str) -> str:
    found = re.search(r'<p class="refusal"[^>]*>(.*?)</p>', html, re.S)
    assert found is not None, "no refusal on the page"
    return found.group(1)


def _record_vitals(client: httpx.Client, course_id: int) -> None:
    """The day's first entry, and the page after it (which shows and so deletes its notice)."""
    assert client.post(f"/days/{course_id}/1/record", data={**VITALS, "expected_seq": "1"}).status_code == 303
    assert client.get(f"/days/{course_id}/1").status_code == 200


def _entries(client: httpx.Client, course_id: int) -> int:
    answer = client.get(f"/days/{course_id}/1/version")
    assert answer.status_code == 200 and answer.headers["cache-control"] == "no-store"
    return int(answer.json()["entries"])


def test_no_day_page_shows_text_from_its_url_and_a_notice_shows_once(page: httpx.Client, course_id: int) -> None:
    shown = page.get(f"/days/{course_id}/1?notice=Dose%20approved&error=Call%20555")
    assert shown.status_code == 200
    assert "Dose approved" not in shown.text and "Call 555" not in shown.text
    done = page.post(f"/days/{course_id}/1/record", data={**VITALS, "expected_seq": "1"})
    assert done.status_code == 303
    assert "notice" not in done.headers["location"] and done.headers["location"].endswith("#checklist")
    first = page.get(done.headers["location"].split("#")[0])
    assert "Recorded: vital signs." in first.text
    again = page.get(done.headers["location"].split("#")[0])  # a reload does not repeat it
    assert "Recorded: vital signs." not in again.text


def test_an_entry_from_an_older_page_is_refused_with_what_was_recorded_since(
    page: httpx.Client, course_id: int, deps: Deps
) -> None:
    """Issue 15 item 5: the back button or a second tab; no sequence number in the sentence."""
    _record_vitals(page, course_id)
    assert _entries(page, course_id) == 1
    before = snapshot(deps)
    stale = page.post(f"/days/{course_id}/1/record", data={**VITALS, "heart_rate_bpm": "81",
                                                          "expected_seq": "1"})
    assert stale.status_code == 422
    sentence = _refusal(stale.text)
    assert "Someone recorded something on this day since you opened it: vital signs at 07:00" in sentence
    assert "expected_seq" not in sentence and "event" not in sentence
    assert 'value="81"' in stale.text  # what she typed stays
    assert snapshot(deps) == before


def test_stop_for_the_day_asks_once_more_and_writes_nothing_without_it__PROT_17(
    page: httpx.Client, course_id: int, deps: Deps
) -> None:
    before = snapshot(deps)
    form = {"type": "infusion_stopped", "reason": "patient unwell", "expected_seq": "1", "form": "stop",
            "at": "2026-03-02T07:00",
            "anchor": "pump"}
    refused = page.post(f"/days/{course_id}/1/record", data=form)
    assert refused.status_code == 422 and "Tick the box to confirm" in refused.text
    assert 'name="confirm" value="yes" required' in refused.text  # without script the browser asks
    assert snapshot(deps) == before
    stopped = page.post(f"/days/{course_id}/1/record", data={**form, "confirm": "yes"})
    assert stopped.status_code == 303, _refusal(stopped.text)
    assert stopped.headers["location"].endswith("#discharge")
    shown = page.get(f"/days/{course_id}/1")
    assert "Stopped before the infusion" in shown.text
    assert "Observation ends" in shown.text and "no infusion today" in shown.text


def test_a_correction_asks_once_more(page: httpx.Client, course_id: int, deps: Deps) -> None:
    _record_vitals(page, course_id)
    before = snapshot(deps)
    form = {"corrects": "0", "expected_seq": "2", "mode": "replace", "heart_rate_bpm": "86",
            "temperature_c": "36.8", "systolic_mmhg": "124", "diastolic_mmhg": "78",
            "respiratory_rate_per_min": "14", "spo2_percent": "98", "reason": "typo"}
    refused = page.post(f"/days/{course_id}/1/correct", data=form)
    assert refused.status_code == 422 and "Tick the box to confirm" in refused.text
    assert snapshot(deps) == before
    assert page.post(f"/days/{course_id}/1/correct", data={**form, "confirm": "yes"}).status_code == 303


def test_a_decimal_comma_is_read_where_the_centre_writes_it_never_as_thousands(
    page: httpx.Client, course_id: int, deps: Deps, client_as: ClientFactory
) -> None:
    """Issue 15 item 3: "37,5" in a German unit; "1,234" is never 1234 (nor 1.234 in an "en" unit)."""
    before = snapshot(deps)
    english = page.post(f"/days/{course_id}/1/record", data={**VITALS, "temperature_c": "37,5",
                                                            "expected_seq": "1"})
    assert english.status_code == 422 and "Write it like 37.5" in english.text
    assert snapshot(deps) == before
    admin = client_as(Role.ADMIN)
    config = {k: v for k, v in admin.get("/centres/default").json().items() if k != "version"}
    changed = admin.put("/centres/default", json={"config": {**config, "number_locale": "de"}})
    assert changed.status_code == 200, changed.text
    for typed in ("1.234,5", "1,2,3"):
        both = page.post(f"/days/{course_id}/1/record", data={**VITALS, "heart_rate_bpm": typed,
                                                             "expected_seq": "1"})
        assert both.status_code == 422 and "Write it like 37,5" in both.text
    german = page.post(f"/days/{course_id}/1/record", data={**VITALS, "temperature_c": "37,5",
                                                           "expected_seq": "1"})
    assert german.status_code == 303
    events = client_as(Role.NURSE).get(f"/courses/{course_id}/days/1/events").json()
    assert events[0]["payload"]["temperature_c"] == "37.5"
    assert "37,5 °C" in page.get(f"/days/{course_id}/1").text  # and shown as the unit writes it


def _through_the_flush(client: httpx.Client, course_id: int) -> tuple[datetime, int]:
    """Day 1 through the API from the cannula to the end of observation: its time and the next
    sequence number."""
    plan = client.get(f"/courses/{course_id}").json()["plan"]
    start = datetime.fromisoformat(next(a for a in plan["activities"] if a["day"] == 1
                                        and a["kind"] == "infusion")["start"])
    gram = {"dose": {"value": 1, "unit": "g"}, "route": "iv"}
    vitals = {"temperature_c": "36.8", "heart_rate_bpm": 74, "systolic_mmhg": 124, "diastolic_mmhg": 78,
              "respiratory_rate_per_min": 14, "spo2_percent": 98}
    steps: list[tuple[int, dict[str, Any]]] = [
        (-70, {"type": "procedure_done", "name": "peripheral cannula"}),
        (-68, {"type": "test_result", "name": "pregnancy test", "result": "negative"}),
        (-65, {"type": "premedication_given", "name": "methylprednisolone", **gram}),
        (-64, {"type": "premedication_given", "name": "paracetamol", **gram}),
        (-30, {"type": "solution_prepared", "volume_ml": 112, "dose_mg": 12}),
        (-5, {"type": "vital_signs", **vitals}),
        (0, {"type": "infusion_started", "rate_ml_per_h": 28}),
        *[(m, {"type": "vital_signs", **vitals}) for m in range(30, 240, 30)],
        (240, {"type": "flush_started"}), (270, {"type": "flush_completed"}),
        (385, {"type": "vital_signs", **vitals}), (390, {"type": "observation_completed"}),
    ]
    for seq, (minutes, event) in enumerate(steps, start=1):
        at = (start + timedelta(minutes=minutes)).isoformat()
        answer = client.post(f"/courses/{course_id}/days/1/events",
                             json={"expected_seq": seq, "event": {**event, "at": at}})
        assert answer.status_code == 201, answer.text
    return start + timedelta(minutes=390), len(steps) + 1


def test_the_discharge_checklist_is_told_point_by_point_then_discharge_is_confirmed__PROT_18_PROT_17(
    page: httpx.Client, course_id: int, client_as: ClientFactory, deps: Deps
) -> None:
    """Issue 15 item 4: "Observation complete" before "Discharge"; each point recorded (who told the
    patient what, when); the patient's instructions apart from the staff's tasks; the discharge
    asks once more; the gate wants every point."""
    ended, seq = _through_the_flush(client_as(Role.NURSE), course_id)
    shown = page.get(f"/days/{course_id}/1")
    assert "Observation complete: finish the discharge checklist" in shown.text
    assert 'id="discharge-patient"' in shown.text and "Told the patient" in shown.text
    assert shown.text.index("Tell the patient") < shown.text.index(">Discharge</button>")
    local = ended.astimezone(ZoneInfo("Europe/Berlin")).strftime("%Y-%m-%dT%H:%M")
    discharge = {"type": "discharged", "expected_seq": str(seq), "form": "discharged", "anchor": "discharge",
                 "at": local, "confirm": "yes"}
    before = snapshot(deps)
    gate = page.post(f"/days/{course_id}/1/record", data=discharge)
    assert gate.status_code == 422 and "discharge checklist is not complete: hydration" in _refusal(gate.text)
    assert snapshot(deps) == before
    told = page.post(f"/days/{course_id}/1/record", data={
        "type": "discharge_item_done", "item": "hydration", "expected_seq": str(seq), "at": local,
        "form": "item-hydration", "anchor": "discharge"})
    assert told.status_code == 303 and told.headers["location"].endswith("#discharge")
    item = page.get(f"/days/{course_id}/1").text
    assert re.search(r'id="item-hydration".*?told \d\d:\d\d by nurse', item, re.S)
    unconfirmed = page.post(f"/days/{course_id}/1/record", data={**discharge, "expected_seq": str(seq + 1),
                                                                "confirm": ""})
    assert unconfirmed.status_code == 422 and "Tick the box to confirm" in _refusal(unconfirmed.text)
    done = page.post(f"/days/{course_id}/1/record", data={**discharge, "expected_seq": str(seq + 1)})
    assert done.status_code == 303
    assert 'id="phase">Discharged<' in page.get(f"/days/{course_id}/1").text
