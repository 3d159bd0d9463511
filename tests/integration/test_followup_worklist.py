"""The follow-up worklist on SQLite and PostgreSQL: migration 0003, the API, the CLI, refusals."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from datetime import date
from pathlib import Path

import pytest
from alembic import command
from api_support import ClientFactory, Role, engine_of, snapshot
from sqlalchemy import create_engine, insert, inspect, select, text

from infusionist.adapters.db import tables as t
from infusionist.adapters.db.migrate import _config, current_revision, head_revision, upgrade
from infusionist.config import Settings
from infusionist.services.deps import Deps

ON = "2026-04-20"  # course 1 from 2026-03-02: the month-1 labs (due 04-06) are overdue from 04-14


def worklist(client_as: ClientFactory, role: Role, on: str = ON) -> list[dict]:
    response = client_as(role).get("/worklist", params={"date": on})
    assert response.status_code == 200, response.text
    assert response.json()["date"] == on
    tasks: list[dict] = response.json()["tasks"]
    return tasks


def test_the_worklist_lists_open_tasks_most_urgent_first(client_as: ClientFactory, course_id: int) -> None:
    rows = worklist(client_as, Role.NURSE)
    assert rows and {r["course_id"] for r in rows} == {course_id}
    assert all(r["patient"]["name"] == "Jane Roe" for r in rows)
    overdue = [r for r in rows if r["status"] == "overdue"]
    assert overdue and rows[: len(overdue)] == overdue
    keys = [(r["status"] != "overdue", r["due"], r["task_id"]) for r in rows]
    assert keys == sorted(keys)
    labs = [r for r in overdue if r["due"] == "2026-04-06"]
    assert {r["task"] for r in labs} >= {"full blood count", "serum creatinine", "urinalysis"}
    assert all(r["days_overdue"] == 14 for r in labs)
    assert all(r["opens"] <= ON for r in rows)
    # Investigators: the pseudonym and no name; admins: refused.
    seen = worklist(client_as, Role.INVESTIGATOR)
    assert [r["task_id"] for r in seen] == [r["task_id"] for r in rows]
    assert all("name" not in r["patient"] and r["patient"]["pseudonym"] for r in seen)
    assert client_as(Role.ADMIN).get("/worklist", params={"date": ON}).status_code == 403


def test_the_worklist_api_pages_with_limit_and_offset_and_counts_the_whole_list(
    client_as: ClientFactory, course_id: int
) -> None:
    rows = worklist(client_as, Role.NURSE)
    client = client_as(Role.NURSE)
    first = client.get("/worklist", params={"date": ON, "limit": 2}).json()
    second = client.get("/worklist", params={"date": ON, "limit": 2, "offset": 2}).json()
    assert [r["task_id"] for r in first["tasks"] + second["tasks"]] == [r["task_id"] for r in rows[:4]]
    overdue = sum(r["status"] == "overdue" for r in rows)
    assert (first["total"], first["overdue"], first["limit"], first["offset"]) == (len(rows), overdue, 2, 0)
    assert (second["total"], second["overdue"], second["offset"]) == (len(rows), overdue, 2)
    for params in ({"limit": 0}, {"limit": 1001}, {"offset": -1}):
        assert client.get("/worklist", params={"date": ON, **params}).status_code == 422


def test_closing_a_task_over_the_api_audits_it_and_removes_it_from_the_list(
    client_as: ClientFactory, course_id: int
) -> None:
    first = worklist(client_as, Role.NURSE)[0]
    response = client_as(Role.NURSE).post(f"/tasks/{first['task_id']}/close",
                                          json={"status": "cancelled", "reason": "done at the GP"})
    assert response.status_code == 200, response.text
    assert response.json()["status"] == "cancelled" and response.json()["reason"] == "done at the GP"
    assert first["task_id"] not in {r["task_id"] for r in worklist(client_as, Role.NURSE)}
    audit = client_as(Role.PHYSICIAN).get("/audit", params={"limit": 1000}).json()
    row = next(a for a in audit if a["action"] == "task.close")
    assert row["entity_id"] == str(first["task_id"]) and row["actor"] == "nurse"
    assert row["old_value"] == {"status": first["status"]}
    assert row["new_value"]["status"] == "cancelled" and row["reason"] == "done at the GP"
    again = client_as(Role.PHYSICIAN).post(f"/tasks/{first['task_id']}/close", json={"status": "done"})
    assert again.status_code == 409 and again.json()["error"]["code"] == "FOLLOWUP-TASK-CLOSED"


@pytest.mark.parametrize(("role", "body", "status", "code"), [
    (Role.NURSE, {"status": "cancelled"}, 422, "FOLLOWUP-REASON-REQUIRED"),
    (Role.NURSE, {"status": "cancelled", "reason": "  "}, 422, "FOLLOWUP-REASON-REQUIRED"),
    (Role.INVESTIGATOR, {"status": "done"}, 403, "ACCESS-DENIED"),
    (Role.ADMIN, {"status": "cancelled", "reason": "tidy"}, 403, "ACCESS-DENIED"),
])
def test_a_refused_close_writes_nothing(client_as: ClientFactory, course_id: int, deps: Deps,
                                        role: Role, body: dict, status: int, code: str) -> None:
    task_id = worklist(client_as, Role.NURSE)[0]["task_id"]
    client = client_as(role)  # logged in before the snapshot: the log-in itself is audited
    before = snapshot(deps)
    response = client.post(f"/tasks/{task_id}/close", json=body)
    assert (response.status_code, response.json()["error"]["code"]) == (status, code)
    assert snapshot(deps) == before


def test_the_worklist_query_reads_the_status_due_index(deps: Deps, course_id: int) -> None:
    engine = engine_of(deps)
    indexes = {ix["name"]: ix["column_names"] for ix in inspect(engine).get_indexes("follow_up_tasks")}
    assert indexes["ix_follow_up_tasks_status_due"] == ["status", "due"]
    if engine.dialect.name == "sqlite":
        with engine.connect() as connection:
            plan = connection.execute(text(
                "EXPLAIN QUERY PLAN SELECT * FROM follow_up_tasks JOIN courses ON courses.id = "
                "follow_up_tasks.course_id WHERE status = 'due' AND due <= '2026-04-27' "
                "AND opens <= '2026-04-20'")).all()
        assert "ix_follow_up_tasks_status_due" in " ".join(str(row) for row in plan)


def test_migration_0003_turns_open_into_due_and_fills_the_windows(settings: Settings) -> None:
    engine = create_engine(settings.resolved_database_url)
    try:
        with engine.begin() as connection:
            config = _config()
            config.attributes["connection"] = connection
            command.upgrade(config, "0002_hl7")
        with engine.begin() as connection:
            connection.execute(text(
                "INSERT INTO patients (id, centre_id, name, sex, childbearing_potential, pseudonym, "
                "created_at) VALUES (1, 'default', 'Jane Roe', 'female', false, 'P-1', "
                "'2026-01-01 00:00:00+00:00')"))
            connection.execute(text(
                "INSERT INTO courses (id, patient_id, number, protocol_id, protocol_version, plan, "
                "created_at, created_by) VALUES (1, 1, 1, 'p', '1', '{}', "
                "'2026-01-01 00:00:00+00:00', 'x')"))
            rows = [("c1-after-full-blood-count-m01", "2026-04-06"),
                    ("c1-after-delayed-reaction-call-d2", "2026-03-04"),
                    ("c1-after-skin-examination-m12", "2027-03-06"),
                    ("c1-after-check-up", "2026-04-03")]
            for activity, due in rows:
                connection.execute(text(
                    "INSERT INTO follow_up_tasks (course_id, activity_id, name, due, status) "
                    f"VALUES (1, '{activity}', 'x', '{due}', 'open')"))
        assert upgrade(engine) == current_revision(engine) == head_revision()
        with engine.connect() as connection:
            stored = {r.activity_id: r for r in connection.execute(
                select(t.follow_up_tasks).order_by(t.follow_up_tasks.c.id))}
        assert {r.status for r in stored.values()} == {"due"}
        blood = stored["c1-after-full-blood-count-m01"]
        assert (blood.kind, blood.opens, blood.overdue_from) == ("lab", date(2026, 3, 30), date(2026, 4, 14))
        call = stored["c1-after-delayed-reaction-call-d2"]
        assert (call.kind, call.opens, call.overdue_from) == ("call", date(2026, 3, 3), date(2026, 3, 5))
        assert stored["c1-after-skin-examination-m12"].kind == "examination"
        assert stored["c1-after-check-up"].kind == "care"
        with engine.begin() as connection, pytest.raises(Exception, match=r"(?i)null"):
            connection.execute(insert(t.follow_up_tasks).values(
                course_id=1, activity_id="x", name="x", kind="care", due=date(2026, 1, 1),
                opens=None, overdue_from=date(2026, 1, 1), status="due"))
    finally:
        engine.dispose()


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_the_cli_lists_the_worklist_and_closes_a_task(settings: Settings, course_id: int,
                                                      tmp_path: Path) -> None:
    env = {**os.environ, "INFUSIONIST_DATABASE_URL": settings.resolved_database_url,
           "INFUSIONIST_DATA_DIR": str(tmp_path)}

    def run(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([sys.executable, "-m", "infusionist", "followup", *args], env=env,
                              capture_output=True, text=True, timeout=120, check=False)

    listed = run("due", "--user", "nurse", "--date", ON, "--format", "json")
    assert listed.returncode == 0, listed.stderr
    document = json.loads(listed.stdout)
    assert document["date"] == ON and document["tasks"][0]["status"] == "overdue"
    task_id = document["tasks"][0]["task_id"]
    limited = json.loads(run("due", "--user", "nurse", "--date", ON, "--format", "json",
                             "--limit", "1", "--offset", "1").stdout)
    assert [r["task_id"] for r in limited["tasks"]] == [document["tasks"][1]["task_id"]]
    assert limited["total"] == document["total"] == len(document["tasks"])

    table = run("due", "--user", "investigator", "--date", ON)
    assert table.returncode == 0, table.stderr
    assert "Follow-up worklist for 2026-04-20" in table.stdout and "overdue" in table.stdout
    assert "Jane Roe" not in table.stdout and document["tasks"][0]["patient"]["pseudonym"] in table.stdout

    refused = run("close", str(task_id), "--user", "nurse", "--status", "cancelled")
    assert refused.returncode == 2 and "FOLLOWUP-REASON-REQUIRED" in refused.stderr
    denied = run("close", str(task_id), "--user", "admin", "--status", "done")
    assert denied.returncode == 2 and "ACCESS-DENIED" in denied.stderr
    unknown = run("due", "--user", "nobody")
    assert unknown.returncode == 2 and "AUTH-UNKNOWN-USER" in unknown.stderr

    closed = run("close", str(task_id), "--user", "nurse", "--status", "done")
    assert closed.returncode == 0, closed.stderr
    assert closed.stdout.startswith(f"Task {task_id} (") and ": done on " in closed.stdout
    after = json.loads(run("due", "--user", "nurse", "--date", ON, "--format", "json").stdout)
    assert task_id not in {r["task_id"] for r in after["tasks"]}
