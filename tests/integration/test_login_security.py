"""Issue 14 item 7, "login like the trusted systems" (OWASP ASVS level 2), on SQLite and PostgreSQL:
throttling per account and per address (429 with Retry-After), every refused log-in in the audit
trail without the password, the same argon2 work for an unknown user as for a wrong password,
the password rules (NIST SP 800-63B) for the API, the page and the command line, an idle timeout
that slides and an absolute one that does not."""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import time
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest
from api_support import PASSWORDS, ClientFactory, Role, engine_of, snapshot
from sqlalchemy import text

from infusionist.adapters.security import Argon2Hasher
from infusionist.config import Settings
from infusionist.domain.errors import NotAuthenticated, Throttled, ValidationFailed
from infusionist.services import auth
from infusionist.services.deps import Deps

WRONG = "not-the-right-password"


class Clock:
    def __init__(self) -> None:
        self.current = datetime(2026, 3, 2, 7, 0, tzinfo=UTC)

    def now(self) -> datetime:
        return self.current

    def advance(self, **delta: float) -> None:
        self.current += timedelta(**delta)


@pytest.fixture
def clocked(deps: Deps) -> tuple[Deps, Clock]:
    clock = Clock()
    return replace(deps, clock=clock), clock


def audit_rows(deps: Deps, action: str) -> list[dict[str, object]]:
    with engine_of(deps).connect() as connection:
        rows = connection.execute(text("SELECT actor, entity_id, new_value FROM audit_log "
                                       "WHERE action = :a ORDER BY seq"), {"a": action}).all()
    return [{"actor": r[0], "entity_id": r[1],
             "new": r[2] if isinstance(r[2], dict) or r[2] is None else json.loads(r[2])} for r in rows]


def all_audit_text(deps: Deps) -> str:
    with engine_of(deps).connect() as connection:
        return " ".join(str(row) for row in connection.execute(text("SELECT * FROM audit_log")))


def test_failed_logins_are_audited_without_the_password_and_lock_the_account_for_its_window(
    clocked: tuple[Deps, Clock],
) -> None:
    deps, clock = clocked
    limit, window = deps.auth.account_failures, deps.auth.failure_window
    for n in range(limit):
        with pytest.raises(NotAuthenticated):
            auth.login(deps, "nurse", f"{WRONG}-{n}", "req", f"10.0.0.{n}")
        clock.advance(seconds=10)
    failed = audit_rows(deps, "session.login_failed")
    assert [(r["actor"], r["entity_id"], r["new"]["reason"]) for r in failed] == \
        [("anonymous", "nurse", "wrong password")] * limit
    assert [r["new"]["address"] for r in failed] == [f"10.0.0.{n}" for n in range(limit)]
    # The right password now: refused without being checked, with the wait until the oldest
    # of the last `limit` failures leaves the window.
    with pytest.raises(Throttled) as refused:
        auth.login(deps, "nurse", PASSWORDS[Role.NURSE], "req", "10.0.0.99")
    assert refused.value.code == "AUTH-THROTTLED"
    assert refused.value.retry_after == int((window - timedelta(seconds=10 * limit)).total_seconds())
    assert "try again in 15 minutes" in refused.value.message
    throttled = audit_rows(deps, "session.login_throttled")
    assert len(throttled) == 1 and throttled[0]["new"]["reason"] == "too many failures for this account"
    assert WRONG not in all_audit_text(deps) and PASSWORDS[Role.NURSE] not in all_audit_text(deps)
    # Another account is not locked; once the window has passed, the nurse logs in again.
    auth.login(deps, "physician", PASSWORDS[Role.PHYSICIAN], "req", "10.0.0.99")
    clock.advance(seconds=refused.value.retry_after)
    auth.login(deps, "nurse", PASSWORDS[Role.NURSE], "req", "10.0.0.99")
    # A success forgets the account's failures: the next wrong password is the first of five.
    with pytest.raises(NotAuthenticated):
        auth.login(deps, "nurse", WRONG, "req", "10.0.0.1")


def test_many_failures_from_one_address_throttle_that_address_only(clocked: tuple[Deps, Clock]) -> None:
    deps, _clock = clocked
    for n in range(deps.auth.address_failures):  # different names, so no account reaches its limit
        with pytest.raises(NotAuthenticated):
            auth.login(deps, f"guess{n}", WRONG, None, "192.0.2.7")
    with pytest.raises(Throttled):
        auth.login(deps, "admin", PASSWORDS[Role.ADMIN], None, "192.0.2.7")
    assert audit_rows(deps, "session.login_throttled")[0]["new"]["reason"] == \
        "too many failures for this address"
    auth.login(deps, "admin", PASSWORDS[Role.ADMIN], None, "192.0.2.8")
    unknown = audit_rows(deps, "session.login_failed")[0]
    assert unknown["entity_id"] == "guess0" and unknown["new"]["reason"] == "unknown user"


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_an_unknown_user_costs_the_same_argon2_work_as_a_wrong_password(deps: Deps) -> None:
    hasher = Argon2Hasher(time_cost=2, memory_kib=32768)  # every stored hash made with these
    deps = replace(deps, hasher=hasher)
    auth.create_user(deps, None, "ward.nurse", "Ward Nurse", Role.NURSE, "a long enough password")

    def seconds(username: str) -> float:
        start = time.perf_counter()
        with pytest.raises(NotAuthenticated):
            auth.login(deps, username, WRONG, None, f"198.51.100.{len(username)}")
        return time.perf_counter() - start

    seconds("nobody.here")  # the dummy hash is made once, on first use
    known = statistics.median(seconds("ward.nurse") for _ in range(4))
    unknown = statistics.median(seconds("nobody.here") for _ in range(4))
    assert known > 0.005  # argon2 did run
    assert 0.6 < unknown / known < 1.6, (known, unknown)


@pytest.mark.parametrize(
    ("password", "code"),
    [
        ("short pw", "INPUT-PASSWORD-SHORT"),
        (" " * 20, "INPUT-PASSWORD-SHORT"),
        ("abc" + " " * 12 + "d", "INPUT-PASSWORD-SHORT"),  # runs of spaces count once
        ("x" * 129, "INPUT-PASSWORD-LONG"),
        ("password1234", "INPUT-PASSWORD-COMMON"),  # "password" with digits tacked on
        ("PASSWORD", "INPUT-PASSWORD-SHORT"),
        ("iloveyou2026!", "INPUT-PASSWORD-COMMON"),
        ("1qaz2wsx3edc", "INPUT-PASSWORD-COMMON"),  # on the breached list itself
        ("infusionist2026", "INPUT-PASSWORD-COMMON"),  # the program's name
        ("sister.ward7-1234", "INPUT-PASSWORD-COMMON"),  # the user name
        ("aaaaaaaaaaaaaa", "INPUT-PASSWORD-COMMON"),
        ("abababababab", "INPUT-PASSWORD-COMMON"),
        ("123456789012", "INPUT-PASSWORD-COMMON"),
        ("abcdefghijklmn", "INPUT-PASSWORD-COMMON"),
    ],
)
@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_new_passwords_follow_nist_800_63b(deps: Deps, password: str, code: str) -> None:
    before = snapshot(deps)
    with pytest.raises(ValidationFailed) as refused:
        auth.create_user(deps, None, "sister.ward7", "Sister Ward", Role.NURSE, password)
    assert refused.value.code == code
    assert "password" in refused.value.message
    assert snapshot(deps) == before


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_good_passwords_pass_and_the_minimum_is_twelve(deps: Deps) -> None:
    assert deps.auth.password_min_length == 12
    for password in ("correct horse battery staple", "Tea at 4 on ward 7", "zebra-lantern-91", "ĉiuj ŝafoj 42"):
        auth.check_new_password(deps, password, username="sister.ward7", full_name="Sister Ward")
    assert len(deps.common_passwords) == 30000


def test_the_api_the_page_and_the_command_line_refuse_the_same_password(
    deps: Deps, client_as: ClientFactory, base_url: str, settings: Settings, tmp_path: Path
) -> None:
    admin = client_as(Role.ADMIN)
    before = snapshot(deps)
    api = admin.post("/users", json={"username": "sam", "full_name": "Sam", "role": "nurse",
                                     "password": "password1234"})
    assert api.status_code == 422 and api.json()["error"]["code"] == "INPUT-PASSWORD-COMMON"
    form = {"username": "sam", "full_name": "Sam", "role": "nurse", "password": "password1234",
            "password_again": "password1234"}
    with httpx.Client(base_url=base_url, cookies=admin.cookies) as page:
        answer = page.post("/admin/users", data=form, follow_redirects=True)
    assert "common or leaked passwords" in answer.text and "Nothing was saved" in answer.text
    env = {**os.environ, "INFUSIONIST_DATABASE_URL": settings.resolved_database_url,
           "INFUSIONIST_DATA_DIR": str(tmp_path)}
    cli = subprocess.run([sys.executable, "-m", "infusionist.entrypoints.cli", "user", "add", "sam",
                          "--role", "nurse"], input="password1234\n", capture_output=True, text=True,
                         env=env, check=False)
    assert cli.returncode != 0 and "INPUT-PASSWORD-COMMON" in cli.stderr + cli.stdout
    assert snapshot(deps) == before
    device = admin.post("/users", json={"username": "pump", "full_name": "Pump", "role": "device",
                                        "password": "a long enough password"})
    assert device.status_code == 422 and device.json()["error"]["code"] == "INPUT-ROLE"


def test_the_api_and_the_page_answer_429_with_retry_after(deps: Deps, base_url: str) -> None:
    with httpx.Client(base_url=base_url + "/api/v1") as api:
        for _ in range(deps.auth.account_failures):
            refused = api.post("/session", json={"username": "physician", "password": WRONG})
            assert refused.status_code == 401
        throttled = api.post("/session", json={"username": "physician",
                                                "password": PASSWORDS[Role.PHYSICIAN]})
    assert throttled.status_code == 429 and throttled.json()["error"]["code"] == "AUTH-THROTTLED"
    assert 0 < int(throttled.headers["retry-after"]) <= 15 * 60
    assert "infusionist_session" not in throttled.cookies
    with httpx.Client(base_url=base_url) as browser:
        page = browser.post("/login", data={"username": "physician", "password": PASSWORDS[Role.PHYSICIAN]})
    assert page.status_code == 429 and "Too many failed log-ins" in page.text
    assert int(page.headers["retry-after"]) > 0
    assert [r["new"]["address"] for r in audit_rows(deps, "session.login_failed")] == ["127.0.0.1"] * 5


def test_the_idle_timeout_slides_and_the_absolute_timeout_does_not(clocked: tuple[Deps, Clock]) -> None:
    deps, clock = clocked
    assert (deps.auth.session_idle, deps.auth.session_absolute) == (timedelta(minutes=30), timedelta(hours=12))
    token, _ = auth.login(deps, "nurse", PASSWORDS[Role.NURSE], None, "10.1.1.1")
    for _ in range(35):  # active every 20 minutes: more than 30 minutes in all, still logged in
        clock.advance(minutes=20)
        assert auth.session_actor(deps, token).username == "nurse"
    clock.advance(minutes=31)  # 12 h 31 min after the log-in, 31 min idle
    with pytest.raises(NotAuthenticated, match="inactivity"):
        auth.session_actor(deps, token)
    token, _ = auth.login(deps, "nurse", PASSWORDS[Role.NURSE], None, "10.1.1.1")
    for _ in range(36):
        clock.advance(minutes=20)
        auth.session_actor(deps, token)
    clock.advance(minutes=1)  # 12 h 1 min after the log-in, active a minute ago
    with pytest.raises(NotAuthenticated, match="12 hours after logging in") as expired:
        auth.session_actor(deps, token)
    assert expired.value.code == "AUTH-SESSION-EXPIRED"
    with pytest.raises(NotAuthenticated, match="log in first"):  # the session is gone
        auth.session_actor(deps, token)


@pytest.mark.parametrize("at_once", [1, 2])
def test_password_checks_wait_their_turn_instead_of_taking_every_core(at_once: int) -> None:
    import threading

    hasher = Argon2Hasher(time_cost=2, memory_kib=32768, at_once=at_once)
    stored = hasher.hash("a long enough password")

    class Watched:  # the real argon2, counting how many of its verifications run together
        def __init__(self, inner: object) -> None:
            self.inner, self.running, self.most, self.lock = inner, 0, 0, threading.Lock()

        def verify(self, password_hash: str, password: str) -> bool:
            with self.lock:
                self.running += 1
                self.most = max(self.most, self.running)
            try:
                return bool(self.inner.verify(password_hash, password))  # type: ignore[attr-defined]
            finally:
                with self.lock:
                    self.running -= 1

    watched = Watched(hasher._argon2)
    hasher._argon2 = watched  # type: ignore[assignment]
    threads = [threading.Thread(target=hasher.verify, args=(stored, WRONG)) for _ in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert watched.most == at_once


def test_a_signatures_wrong_password_is_audited_and_throttled_like_a_log_in(
    deps: Deps, client_as: ClientFactory, course_id: int
) -> None:
    physician = client_as(Role.PHYSICIAN)
    override = {"type": "physician_override", "reason": "x", "at": "2026-03-02T07:05:00+00:00"}
    events_before = snapshot(deps)["day_events"]
    for _ in range(deps.auth.account_failures):
        refused = physician.post(f"/courses/{course_id}/days/1/events", json={
            "expected_seq": 1, "event": override, "signature": {"password": WRONG, "meaning": "approve"}})
        assert refused.status_code == 401 and refused.json()["error"]["code"] == "AUTH-INVALID"
    throttled = physician.post(f"/courses/{course_id}/days/1/events", json={
        "expected_seq": 1, "event": override,
        "signature": {"password": PASSWORDS[Role.PHYSICIAN], "meaning": "approve"}})
    assert throttled.status_code == 429 and int(throttled.headers["retry-after"]) > 0
    assert snapshot(deps)["day_events"] == events_before
    failed = audit_rows(deps, "session.login_throttled")
    assert [(r["actor"], r["entity_id"]) for r in failed] == [("physician", "physician")]
    assert [r["actor"] for r in audit_rows(deps, "signature.password_failed")] == ["physician"] * 5
    assert WRONG not in all_audit_text(deps)
    # The account is throttled for logging in too; other users sign and log in as before.
    with pytest.raises(Throttled):
        auth.login(deps, "physician", PASSWORDS[Role.PHYSICIAN], None, "10.9.9.9")
    auth.login(deps, "nurse", PASSWORDS[Role.NURSE], None, "10.9.9.9")
