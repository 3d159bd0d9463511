"""Issue 14 item 8 (web): body size limits (413, counted as the body arrives), free-text length
limits (422) for API schemas and form posts, the Origin check on every unsafe request (CSRF),
security headers and the Secure cookie; every refusal leaves the database as it was."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace

import httpx
import pytest
from api_support import PASSWORDS, ClientFactory, Role, serving, snapshot, vital_signs

from infusionist.config import Settings
from infusionist.domain.limits import TEXT_MAX_LENGTH
from infusionist.entrypoints.web import create_app
from infusionist.services.deps import Deps


def test_every_answer_carries_the_security_headers(base_url: str, client_as: ClientFactory) -> None:
    nurse = client_as(Role.NURSE)
    with httpx.Client(base_url=base_url, cookies=nurse.cookies) as browser:
        answers = [browser.get("/login"), browser.get("/"), browser.get("/static/app.js"),
                   nurse.get("/patients"), browser.get("/no-such-page"),
                   browser.post("/login", headers={"Origin": "https://evil.example"})]
    for answer in answers:
        headers = answer.headers
        assert headers["x-frame-options"] == "DENY", answer.url
        policy = headers["content-security-policy"]
        assert "frame-ancestors 'none'" in policy and "script-src 'self';" in policy
        assert "unsafe-inline" not in policy
        assert headers["x-content-type-options"] == "nosniff"
        assert headers["referrer-policy"] == "same-origin"
    assert answers[1].headers["cache-control"] == "no-store"  # the board: patients' names
    assert "no-store" not in answers[2].headers.get("cache-control", "")


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_no_page_has_inline_script_or_style(base_url: str, client_as: ClientFactory, course_id: int) -> None:
    pages = {Role.NURSE: ["/", "/patients", "/patients/1", f"/days/{course_id}/1", "/worklist", "/monitors"],
             Role.ADMIN: ["/", "/admin/users", "/admin/tokens"]}
    for role, paths in pages.items():
        with httpx.Client(base_url=base_url, cookies=client_as(role).cookies) as browser:
            for path in paths:
                html = browser.get(path).text
                assert "<script>" not in html and "<style" not in html and " style=" not in html, path
                assert " onclick=" not in html and "javascript:" not in html, path
    with httpx.Client(base_url=base_url, cookies=client_as(Role.PHYSICIAN).cookies) as browser:
        printable = browser.get(f"/courses/{course_id}/print")  # a document with its own <style>
    policy = printable.headers["content-security-policy"]
    assert printable.status_code == 200 and " style=" not in printable.text
    assert "style-src 'self' 'sha256-" in policy and "unsafe-inline" not in policy
    assert "frame-ancestors 'none'" in policy


def test_bodies_larger_than_the_limit_are_refused_with_413_while_they_arrive(
    deps: Deps, base_url: str, client_as: ClientFactory, course_id: int
) -> None:
    nurse = client_as(Role.NURSE)
    before = snapshot(deps)
    with httpx.Client(base_url=base_url) as anonymous:
        login = anonymous.post("/api/v1/session", content=b'{"username": "' + b"a" * 100_000 + b'"}',
                               headers={"content-type": "application/json"})
        assert login.status_code == 413 and login.json()["error"]["code"] == "REQUEST-TOO-LARGE"

        def chunks() -> Iterator[bytes]:  # no Content-Length: counted as it arrives
            yield b'{"username": "'
            for _ in range(40):
                yield b"a" * 1024
            yield b'", "password": "x"}'

        streamed = anonymous.post("/api/v1/session", content=chunks(),
                                  headers={"content-type": "application/json"})
        assert streamed.status_code == 413, streamed.text
        page = anonymous.post("/login", data={"username": "nurse", "password": "p" * 20_000})
        assert page.status_code == 413 and "larger than" in page.text
    big_event = {"expected_seq": 1, "event": {**vital_signs(1), "id": "x" * (2 * 1024 * 1024)}}
    refused = nurse.post(f"/courses/{course_id}/days/1/events", json=big_event)
    assert refused.status_code == 413

    def event_chunks() -> Iterator[bytes]:
        yield b'{"expected_seq": 1, "event": {"type": "vital_signs", "id": "'
        for _ in range(1200):
            yield b"y" * 1024
        yield b'"}}'

    streamed_event = nurse.post(f"/courses/{course_id}/days/1/events", content=event_chunks(),
                                headers={"content-type": "application/json"})
    assert streamed_event.status_code == 413, streamed_event.text
    assert snapshot(deps) == before


def test_free_text_longer_than_the_limit_is_refused_with_422(
    deps: Deps, base_url: str, client_as: ClientFactory, course_id: int
) -> None:
    nurse, admin = client_as(Role.NURSE), client_as(Role.ADMIN)
    before = snapshot(deps)
    long_text = "n" * (TEXT_MAX_LENGTH + 1)
    refusals = [
        nurse.post(f"/courses/{course_id}/days/1/events",
                   json={"expected_seq": 1, "event": {**vital_signs(1), "id": long_text}}),
        nurse.post(f"/courses/{course_id}/days/1/events",
                   json={"expected_seq": 1, "event": {**vital_signs(1), long_text: 1}}),
        nurse.post(f"/courses/{course_id}/days/1/events",
                   json={"expected_seq": 1, "event": {**vital_signs(1), "deep": [[[[[[[[[1]]]]]]]]]}}),
        admin.put("/centres/default", json={"config": {"name": long_text}}),
        admin.put("/centres/default", json={"config": {"name": "Unit"}, "reason": long_text}),
        nurse.post("/tasks/1/close", json={"status": "cancelled", "reason": long_text}),
        nurse.post("/tasks/1/answer", json={"symptoms": ["s" * 101]}),
        admin.post("/tokens", json={"device": "d" * 58}),
    ]
    for answer in refusals:
        assert answer.status_code == 422, answer.text
        assert answer.json()["error"]["code"] == "INPUT-INVALID"
    with httpx.Client(base_url=base_url, cookies=nurse.cookies) as browser:
        form = browser.post(f"/days/{course_id}/1/record",
                            data={"type": "vital_signs", "expected_seq": "1", "note": long_text})
        assert form.status_code == 422 and "longer than 1000 characters" in form.text
        many = browser.post("/login", content="&".join(f"f{n}=1" for n in range(300)),
                            headers={"content-type": "application/x-www-form-urlencoded"})
        assert many.status_code == 422
    assert snapshot(deps) == before


def test_unsafe_requests_from_another_site_are_refused(
    deps: Deps, base_url: str, client_as: ClientFactory
) -> None:
    nurse = client_as(Role.NURSE)
    before = snapshot(deps)
    patient = {"name": "Mallory Example", "sex": "male"}
    for headers in ({"Origin": "https://evil.example"}, {"Origin": "null"},
                    {"Referer": "https://evil.example/form.html"},
                    {"Origin": base_url.replace("127.0.0.1", "localhost")}):
        api = nurse.post("/patients", json=patient, headers=headers)
        assert api.status_code == 403 and api.json()["error"]["code"] == "CSRF-ORIGIN", headers
    with httpx.Client(base_url=base_url, cookies=nurse.cookies) as browser:
        page = browser.post("/logout", headers={"Origin": "https://evil.example"})
        assert page.status_code == 403 and "another web site" in page.text
        login = browser.post("/login", data={"username": "nurse", "password": PASSWORDS[Role.NURSE]},
                             headers={"Origin": "https://evil.example"})
        assert login.status_code == 403
    assert snapshot(deps) == before
    same = nurse.post("/patients", json=patient, headers={"Origin": base_url})
    assert same.status_code == 201
    referred = nurse.post("/patients", json=patient, headers={"Referer": base_url + "/patients"})
    assert referred.status_code == 201


def test_trusted_origins_are_accepted(settings: Settings, deps: Deps) -> None:
    trusted = settings.model_copy(update={"trusted_origins": ["https://infusion.example.org"]})
    with serving(create_app(trusted, deps=deps)) as url, httpx.Client(base_url=url) as client:
        answer = client.post("/api/v1/session", json={"username": "nurse", "password": PASSWORDS[Role.NURSE]},
                             headers={"Origin": "https://infusion.example.org"})
        assert answer.status_code == 200
        other = client.post("/api/v1/session", json={"username": "nurse", "password": PASSWORDS[Role.NURSE]},
                            headers={"Origin": "https://other.example.org"})
        assert other.status_code == 403


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_the_session_cookie_is_secure_except_for_plain_http_on_loopback(
    settings: Settings, deps: Deps, base_url: str
) -> None:
    login = {"username": "nurse", "password": PASSWORDS[Role.NURSE]}
    with httpx.Client(base_url=base_url) as local:
        cookie = local.post("/api/v1/session", json=login).headers["set-cookie"]
        assert "HttpOnly" in cookie and "SameSite=strict" in cookie and "Secure" not in cookie
        # The same server reached by another name (a proxy, the network): Secure.
        named = local.post("/api/v1/session", json=login, headers={"Host": "infusion.example.org"})
        assert "Secure" in named.headers["set-cookie"]
        page = local.post("/login", data=login, headers={"Host": "infusion.example.org"})
        assert "Secure" in page.headers["set-cookie"]
    with serving(create_app(settings, deps=replace(deps, secure_cookies=True))) as url, \
            httpx.Client(base_url=url) as client:
        assert "Secure" in client.post("/api/v1/session", json=login).headers["set-cookie"]
