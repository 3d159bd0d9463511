"""Laboratory results and delayed-reaction calls through the API on SQLite and PostgreSQL."""

from __future__ import annotations

from typing import Any

from api_support import ClientFactory, Role, snapshot

from infusionist.services.deps import Deps

LOW_PLATELETS = {"analyte": "platelets", "value": "92", "unit": "10*9/L", "reference_low": "150",
                 "reference_high": "400", "taken_on": "2026-04-06"}
ONSET = "2026-03-04T21:30:00+01:00"


def tasks_of(client_as: ClientFactory, course_id: int) -> list[dict[str, Any]]:
    response = client_as(Role.NURSE).get(f"/courses/{course_id}/tasks")
    assert response.status_code == 200, response.text
    tasks: list[dict[str, Any]] = response.json()
    return tasks


def test_a_low_platelet_count_becomes_a_review_only_a_physician_closes__PROT_36(
    client_as: ClientFactory, course_id: int
) -> None:
    nurse, physician = client_as(Role.NURSE), client_as(Role.PHYSICIAN)
    recorded = nurse.post("/patients/1/lab-results", json=LOW_PLATELETS)
    assert recorded.status_code == 201, recorded.text
    body = recorded.json()
    assert [a["code"] for a in body["alerts"]] == ["PLATELETS-LOW"]
    (review,) = body["review_tasks"]
    assert (review["kind"], review["due"]) == ("physician_review", "2026-04-08")
    assert review["task_id"] in {t["id"] for t in tasks_of(client_as, course_id)}
    listed = client_as(Role.INVESTIGATOR).get("/patients/1/lab-results")
    assert listed.status_code == 200 and [r["value"] for r in listed.json()] == ["92"]
    assert listed.json()[0]["reference_low"] == "150" and listed.json()[0]["unit"] == "10*9/L"
    refused = nurse.post(f"/tasks/{review['task_id']}/close",
                         json={"status": "done", "reason": "seen"})
    assert refused.status_code == 403
    no_reason = physician.post(f"/tasks/{review['task_id']}/close", json={"status": "done"})
    assert no_reason.status_code == 422
    assert no_reason.json()["error"]["code"] == "FOLLOWUP-REASON-REQUIRED"
    closed = physician.post(f"/tasks/{review['task_id']}/close",
                            json={"status": "done", "reason": "repeat in 1 week"})
    assert closed.status_code == 200, closed.text
    assert (closed.json()["status"], closed.json()["reason"]) == ("done", "repeat in 1 week")
    audit = physician.get("/audit", params={"after_seq": 0, "limit": 1000}).json()
    assert {"lab_result.record", "task.close"} <= {a["action"] for a in audit}


def test_an_impossible_value_is_refused_and_nothing_is_written__PROT_34(
    client_as: ClientFactory, course_id: int, deps: Deps
) -> None:
    nurse = client_as(Role.NURSE)
    before = snapshot(deps)
    response = nurse.post("/patients/1/lab-results", json={**LOW_PLATELETS, "value": "5000"})
    assert response.status_code == 422
    assert response.json()["error"]["code"] == "LAB-IMPLAUSIBLE"
    assert snapshot(deps) == before


def call_task(client_as: ClientFactory, course_id: int, day: int) -> int:
    return next(t["id"] for t in tasks_of(client_as, course_id)
                if t["activity_id"].endswith(f"delayed-reaction-call-d{day}"))


def test_a_call_with_symptoms_records_the_reaction_on_its_day_and_closes__IAR_15_IAR_17(
    client_as: ClientFactory, course_id: int
) -> None:
    nurse = client_as(Role.NURSE)
    task_id = call_task(client_as, course_id, 3)
    response = nurse.post(f"/tasks/{task_id}/answer",
                          json={"symptoms": ["rash"], "onset": ONSET, "note": "since last night"})
    assert response.status_code == 200, response.text
    body = response.json()
    assert (body["status"], body["infusion_day"]) == ("done", 3)
    assert (body["reaction"]["day"], body["reaction"]["type"]) == (3, "reaction_onset")
    day = nurse.get(f"/courses/{course_id}/days/3/events").json()
    assert [(e["type"], e["payload"]["symptoms"]) for e in day] == [("reaction_onset", ["rash"])]
    assert nurse.get(f"/courses/{course_id}/days/2/events").json() == []
    status = {t["id"]: t["status"] for t in tasks_of(client_as, course_id)}
    assert status[task_id] == "done"
    again = nurse.post(f"/tasks/{task_id}/answer", json={"symptoms": []})
    assert again.status_code == 409


def test_a_call_without_symptoms_only_closes_it__IAR_17(
    client_as: ClientFactory, course_id: int, deps: Deps
) -> None:
    nurse = client_as(Role.NURSE)
    task_id = call_task(client_as, course_id, 1)
    before = snapshot(deps)
    refused = nurse.post(f"/tasks/{task_id}/answer", json={"symptoms": ["rash"]})  # no onset
    assert refused.status_code == 422 and snapshot(deps) == before
    response = nurse.post(f"/tasks/{task_id}/answer", json={"symptoms": []})
    assert response.status_code == 200, response.text
    assert (response.json()["status"], response.json()["reaction"]) == ("done", None)
    assert nurse.get(f"/courses/{course_id}/days/1/events").json() == []
    after = snapshot(deps)
    assert after["day_events"] == before["day_events"]
    assert after["lab_results"] == before["lab_results"]
