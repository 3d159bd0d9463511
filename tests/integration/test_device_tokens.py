"""Issue 14 item 6, "admins administer, clinicians record", on SQLite and PostgreSQL: a token
belongs to a named device (no user behind it), records vital signs only and as the device,
expires and can be revoked (API, admin page, command line), each action in the audit trail;
the admin reads the audit trail without clinical values."""

from __future__ import annotations

import os
import subprocess
import sys
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest
from api_support import ClientFactory, Role, snapshot, vital_signs
from sqlalchemy import text

from infusionist.config import Settings
from infusionist.domain.errors import NotAuthenticated, ValidationFailed
from infusionist.services import auth
from infusionist.services.deps import Deps


def device_client(base_url: str, token: str) -> httpx.Client:
    return httpx.Client(base_url=base_url + "/api/v1", headers={"Authorization": f"Bearer {token}"})


def test_a_device_token_records_vital_signs_as_the_device_and_nothing_else(
    deps: Deps, client_as: ClientFactory, base_url: str, course_id: int
) -> None:
    admin = client_as(Role.ADMIN)
    issued = admin.post("/tokens", json={"device": "MON-07", "valid_days": 30})
    assert issued.status_code == 201, issued.text
    body = issued.json()
    assert body["status"] == "active" and body["created_by"] == "admin" and len(body["token"]) >= 40
    issued_at = datetime.fromisoformat(body["created_at"])
    assert datetime.fromisoformat(body["expires_at"]) - issued_at == timedelta(days=30)
    with device_client(base_url, body["token"]) as device:
        assert device.get("/session").json() == {"username": "device:MON-07", "full_name": "Device MON-07",
                                                 "role": "device"}
        recorded = device.post(f"/courses/{course_id}/days/1/events",
                               json={"expected_seq": 1, "event": vital_signs(1, heart_rate=80)})
        assert recorded.status_code == 201, recorded.text
        assert recorded.json()["recorded_by"] == "device:MON-07"
        assert recorded.json()["payload"]["by"] == "device:MON-07"
        before = snapshot(deps)
        for event in ({"type": "infusion_started", "at": "2026-03-02T08:00:00+00:00"},
                      {"type": "reaction_onset", "at": "2026-03-02T08:00:00+00:00"},
                      {"type": "correction", "corrects": 1, "reason": "x",
                       "at": "2026-03-02T08:00:00+00:00"}):
            refused = device.post(f"/courses/{course_id}/days/1/events",
                                  json={"expected_seq": 2, "event": event})
            assert refused.status_code == 403, refused.text
            assert refused.json()["error"]["code"] == "ACCESS-DENIED-DEVICE"
        for path in ("/patients", f"/courses/{course_id}", "/audit", "/users", "/tokens", "/worklist"):
            assert device.get(path).status_code == 403, path
        assert snapshot(deps) == before
    physician = client_as(Role.PHYSICIAN)
    trail = physician.get("/audit", params={"limit": 1000}).json()
    appended = [row for row in trail if row["action"] == "event.append"]
    assert [row["actor"] for row in appended] == ["device:MON-07"]
    created = [row for row in trail if row["action"] == "token.create"]
    assert [(row["actor"], row["new_value"]["device"]) for row in created] == [("admin", "MON-07")]
    assert "token" not in str(created[0]["new_value"]).replace("device_token", "")


def test_tokens_are_listed_revoked_once_and_refused_after_revocation(
    deps: Deps, client_as: ClientFactory, base_url: str, course_id: int
) -> None:
    admin = client_as(Role.ADMIN)
    first = admin.post("/tokens", json={"device": "Pump chair 3"}).json()
    second = admin.post("/tokens", json={"device": "MON-08"}).json()
    listed = admin.get("/tokens").json()
    assert [(t["id"], t["device"], t["status"]) for t in listed] == [
        (first["id"], "Pump chair 3", "active"), (second["id"], "MON-08", "active")]
    assert all("token" not in t for t in listed)
    default = datetime.fromisoformat(first["expires_at"]) - datetime.fromisoformat(first["created_at"])
    assert default == timedelta(days=90)
    assert admin.delete(f"/tokens/{first['id']}").status_code == 204
    again = admin.delete(f"/tokens/{first['id']}")
    assert again.status_code == 409 and again.json()["error"]["code"] == "TOKEN-REVOKED"
    missing = admin.delete("/tokens/999")
    assert missing.status_code == 404 and missing.json()["error"]["code"] == "TOKEN-NOT-FOUND"
    with device_client(base_url, first["token"]) as revoked, device_client(base_url, second["token"]) as kept:
        refused = revoked.post(f"/courses/{course_id}/days/1/events",
                               json={"expected_seq": 1, "event": vital_signs(1)})
        assert refused.status_code == 401 and refused.json()["error"]["code"] == "AUTH-TOKEN-INVALID"
        assert kept.post(f"/courses/{course_id}/days/1/events",
                         json={"expected_seq": 1, "event": vital_signs(1)}).status_code == 201
    row = next(t for t in admin.get("/tokens").json() if t["id"] == first["id"])
    assert (row["status"], row["revoked_by"]) == ("revoked", "admin")
    trail = admin.get("/audit", params={"limit": 1000}).json()
    assert [(r["actor"], r["entity_id"]) for r in trail if r["action"] == "token.revoke"] == \
        [("admin", str(first["id"]))]
    too_long = admin.post("/tokens", json={"device": "MON-09", "valid_days": 366})
    assert too_long.status_code == 422 and too_long.json()["error"]["code"] == "INPUT-TOKEN-DAYS"
    for role in (Role.NURSE, Role.PHYSICIAN, Role.INVESTIGATOR):
        assert client_as(role).post("/tokens", json={"device": "X"}).status_code == 403


def test_a_token_expires_at_the_end_of_its_days(deps: Deps) -> None:
    class Clock:
        current = datetime(2026, 3, 2, 7, 0, tzinfo=UTC)

        def now(self) -> datetime:
            return self.current

    clock = Clock()
    deps = replace(deps, clock=clock)
    issued = auth.create_device_token(deps, None, "MON-10", 7)
    assert auth.token_actor(deps, issued.token).role is Role.DEVICE
    clock.current += timedelta(days=7)
    with pytest.raises(NotAuthenticated) as expired:
        auth.token_actor(deps, issued.token)
    assert expired.value.code == "AUTH-TOKEN-EXPIRED"
    assert auth.token_status(auth.list_device_tokens(deps, None)[0], clock.now()) == "expired"
    with pytest.raises(ValidationFailed):
        auth.create_device_token(deps, None, "bad/name")


def test_the_admin_reads_the_audit_trail_without_clinical_values(
    client_as: ClientFactory, course_id: int
) -> None:
    nurse = client_as(Role.NURSE)
    assert nurse.post(f"/courses/{course_id}/days/1/events",
                      json={"expected_seq": 1, "event": vital_signs(5, heart_rate=137)}).status_code == 201
    admin_view = client_as(Role.ADMIN).get("/audit", params={"limit": 1000})
    assert admin_view.status_code == 200
    # The patient's name (patient.create), birth date and the heart rate are clinical values.
    assert "Jane Roe" not in admin_view.text and "1980-01-02" not in admin_view.text
    assert "heart_rate_bpm" not in admin_view.text
    rows = {row["action"]: row for row in admin_view.json()}
    for action in ("patient.create", "course.create", "event.append"):
        assert rows[action]["withheld"] is True
        assert (rows[action]["new_value"], rows[action]["reason"]) == (None, None)
        assert rows[action]["actor"] in ("nurse", "physician")  # who did it stays visible
    assert rows["user.create"]["withheld"] is False and rows["user.create"]["new_value"]["role"]
    physician_view = client_as(Role.PHYSICIAN).get("/audit", params={"limit": 1000})
    assert "Jane Roe" in physician_view.text
    assert not any(row["withheld"] for row in physician_view.json())


def test_the_admin_page_issues_a_token_once_and_revokes_it(
    deps: Deps, client_as: ClientFactory, base_url: str
) -> None:
    admin_api = client_as(Role.ADMIN)
    with httpx.Client(base_url=base_url, cookies=admin_api.cookies) as page:
        issued = page.post("/admin/tokens", data={"device": "MON-11", "valid_days": "14"})
        assert issued.status_code == 201
        token = auth.list_device_tokens(deps, None)[0]
        assert "shown <b>only this once</b>" in issued.text and "MON-11" in issued.text
        assert auth.token_digest(issued.text.split('<code class="token">')[1].split("<")[0]) == token.token_hash
        listing = page.get("/admin/tokens")
        assert "MON-11" in listing.text and '<code class="token">' not in listing.text
        bad = page.post("/admin/tokens", data={"device": "", "valid_days": "14"}, follow_redirects=True)
        assert "Nothing was issued" in bad.text
        revoked = page.post(f"/admin/tokens/{token.id}/revoke", follow_redirects=True)
        assert "is revoked" in revoked.text
        assert auth.list_device_tokens(deps, None)[0].revoked_by == "admin"
    nurse_api = client_as(Role.NURSE)
    with httpx.Client(base_url=base_url, cookies=nurse_api.cookies) as page:
        assert page.get("/admin/tokens").status_code == 403
        assert page.post("/admin/tokens", data={"device": "MON-12"}).status_code == 403
    assert len(auth.list_device_tokens(deps, None)) == 1


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_the_command_line_adds_lists_and_revokes_device_tokens(
    deps: Deps, settings: Settings, tmp_path: Path
) -> None:
    env = {**os.environ, "INFUSIONIST_DATABASE_URL": settings.resolved_database_url,
           "INFUSIONIST_DATA_DIR": str(tmp_path)}

    def run(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([sys.executable, "-m", "infusionist.entrypoints.cli", "token", *args],
                              capture_output=True, text=True, env=env, check=False)

    added = run("add", "MON-12", "--days", "10")
    assert added.returncode == 0, added.stderr
    assert auth.token_actor(deps, added.stdout.strip()).username == "device:MON-12"
    assert "MON-12\tactive" in run("list").stdout
    assert run("revoke", "1").returncode == 0
    assert "MON-12\trevoked" in run("list").stdout
    assert run("add", "MON-13", "--days", "400").returncode != 0


def test_migration_0006_voids_the_old_user_tokens_and_keeps_the_rest(settings: Settings) -> None:
    from alembic import command
    from sqlalchemy import create_engine, inspect

    from infusionist.adapters.db.migrate import _config, upgrade

    engine = create_engine(settings.resolved_database_url)
    try:
        with engine.begin() as connection:
            config = _config()
            config.attributes["connection"] = connection
            command.upgrade(config, "0005_lab_results")
        with engine.begin() as connection:
            connection.execute(text(
                "INSERT INTO users (id, username, full_name, role, password_hash, active, created_at) "
                "VALUES (1, 'nurse', 'Nora Nurse', 'nurse', 'x', true, '2026-01-01 00:00:00+00:00')"))
            connection.execute(text(
                "INSERT INTO api_tokens (user_id, name, token_hash, created_at) "
                "VALUES (1, 'pump', 'abc', '2026-01-01 00:00:00+00:00')"))
        upgrade(engine)
        tables = set(inspect(engine).get_table_names())
        assert {"device_tokens", "login_failures"} <= tables and "api_tokens" not in tables
        with engine.connect() as connection:
            assert connection.execute(text("SELECT username FROM users")).scalar_one() == "nurse"
            assert connection.execute(text("SELECT count(*) FROM device_tokens")).scalar_one() == 0
    finally:
        engine.dispose()
