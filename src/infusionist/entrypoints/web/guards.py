"""ASGI middleware that guards every request before the application sees it.

- ``SecurityHeaders``: X-Frame-Options, a Content-Security-Policy the pages satisfy (scripts and
  styles from /static only, no inline code), nosniff, Referrer-Policy, no caching of answers.
- ``SameOrigin``: refuses a POST/PUT/PATCH/DELETE whose ``Origin`` (or, without it, ``Referer``)
  names another site (CSRF, OWASP ASVS 4.2.2; SameSite=Strict cookies are the second layer).
- ``BodyLimits``: refuses a body larger than the limit with 413, counting the bytes as they
  arrive (``Content-Length`` is not trusted alone); checks each field of a form post against the
  free-text limit (422) before the page reads it.

Every refusal answers before any handler runs, so nothing is written.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from urllib.parse import parse_qsl, urlsplit

from starlette.datastructures import Headers, MutableHeaders
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from infusionist.domain.limits import FORM_MAX_FIELDS, TEXT_MAX_LENGTH
from infusionist.domain.text_input import refuse_nul
from infusionist.entrypoints.web.policy import DOCS_POLICY, PAGE_POLICY

UNSAFE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})
HEADERS = {
    "x-frame-options": "DENY",
    "x-content-type-options": "nosniff",
    "referrer-policy": "same-origin",  # Origin stays on same-origin posts (no-referrer would make it "null")
    "cross-origin-opener-policy": "same-origin",
}


class SecurityHeaders:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        path: str = scope["path"]
        policy = DOCS_POLICY if path == "/docs" else PAGE_POLICY

        async def with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                for name, value in HEADERS.items():
                    headers.setdefault(name, value)
                headers.setdefault("content-security-policy", policy)
                if not path.startswith("/static/"):
                    headers.setdefault("cache-control", "no-store")
            await send(message)

        await self.app(scope, receive, with_headers)


class SameOrigin:
    """Unsafe methods only from this site: ``Origin`` (else ``Referer``) must name the host the
    request was sent to, or one of ``trusted`` (e.g. the address a reverse proxy serves).
    Requests with neither header (devices, scripts, the command line) are not a browser's and
    pass; browsers send ``Origin`` with every cross-site POST."""

    def __init__(self, app: ASGIApp, trusted: Iterable[str] = ()) -> None:
        self.app = app
        self.trusted = frozenset(urlsplit(o).netloc.lower() or o.lower() for o in trusted)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope["method"] in UNSAFE_METHODS:
            headers = Headers(scope=scope)
            source = headers.get("origin")
            if source is None:
                source = headers.get("referer")
            if source is not None and not self._same(source, headers.get("host", "")):
                await refuse(scope, receive, send, 403, "CSRF-ORIGIN",
                             "This form was sent from another web site, so it was refused; "
                             "nothing was saved. Open the page again and send it from there.")
                return
        await self.app(scope, receive, send)

    def _same(self, source: str, host: str) -> bool:
        netloc = urlsplit(source).netloc.lower() if source != "null" else ""
        return bool(netloc) and (netloc == host.lower() or netloc in self.trusted)


class BodyTooLarge(HTTPException):
    def __init__(self, limit: int) -> None:
        super().__init__(413, f"The request is larger than {limit} bytes; nothing was saved.")


class BodyLimits:
    def __init__(self, app: ASGIApp, *, max_bytes: int, login_max_bytes: int,
                 login_paths: Iterable[str] = ("/login", "/api/v1/session")) -> None:
        self.app = app
        self.max_bytes = max_bytes
        self.login_max_bytes = login_max_bytes
        self.login_paths = frozenset(login_paths)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        limit = self.login_max_bytes if scope["path"] in self.login_paths else self.max_bytes
        headers = Headers(scope=scope)
        declared = headers.get("content-length", "")
        if declared.isdigit() and int(declared) > limit:
            await _too_large(scope, receive, send, limit)
            return
        if headers.get("content-type", "").startswith("application/x-www-form-urlencoded"):
            body = await _read(receive, limit)
            if body is None:
                await _too_large(scope, receive, send, limit)
                return
            problem = _form_problem(body)
            if problem is not None:
                await refuse(scope, receive, send, 422, "INPUT-TOO-LONG", problem)
                return
            await self.app(scope, _replay(body, receive), send)
            return
        await self.app(scope, _counted(receive, limit), send)


async def _read(receive: Receive, limit: int) -> bytes | None:
    """The whole body, or None as soon as it passes ``limit`` bytes."""
    chunks: list[bytes] = []
    size = 0
    while True:
        message = await receive()
        if message["type"] != "http.request":
            return b"".join(chunks)
        chunk = message.get("body", b"")
        size += len(chunk)
        if size > limit:
            return None
        chunks.append(chunk)
        if not message.get("more_body", False):
            return b"".join(chunks)


def _replay(body: bytes, receive: Receive) -> Receive:
    sent = False

    async def replayed() -> Message:
        nonlocal sent
        if not sent:
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}
        return await receive()

    return replayed


def _counted(receive: Receive, limit: int) -> Receive:
    size = 0

    async def counted() -> Message:
        nonlocal size
        message = await receive()
        if message["type"] == "http.request":
            size += len(message.get("body", b""))
            if size > limit:
                raise BodyTooLarge(limit)
        return message

    return counted


def _form_problem(body: bytes) -> str | None:
    try:
        fields = parse_qsl(body.decode("latin-1"), keep_blank_values=True, max_num_fields=FORM_MAX_FIELDS,
                           encoding="utf-8", errors="replace")
    except ValueError:
        return f"The form has more than {FORM_MAX_FIELDS} fields; nothing was saved."
    if any(len(value) > TEXT_MAX_LENGTH or len(name) > TEXT_MAX_LENGTH for name, value in fields):
        return (f"One of the entries is longer than {TEXT_MAX_LENGTH} characters; shorten it. "
                "Nothing was saved.")
    return None


async def _too_large(scope: Scope, receive: Receive, send: Send, limit: int) -> None:
    await refuse(scope, receive, send, 413, "REQUEST-TOO-LARGE",
                 f"The request is larger than {limit} bytes; nothing was saved.")


async def refuse(scope: Scope, receive: Receive, send: Send, status: int, code: str, message: str) -> None:
    """Answer before the application runs: JSON under /api, the error page elsewhere."""
    if scope["path"].startswith("/api/"):
        body = json.dumps({"error": {"code": code, "message": message, "field": None, "details": {},
                                     "requirements": []}}).encode()
        await send({"type": "http.response.start", "status": status,
                    "headers": [(b"content-type", b"application/json"),
                                (b"content-length", str(len(body)).encode()),
                                (b"connection", b"close")]})
        await send({"type": "http.response.body", "body": body})
        return
    from infusionist.entrypoints.web.pages.common import render

    response = render(Request(scope), None, "error.html", status=status, message=message, code=code)
    response.headers["connection"] = "close"
    await response(scope, receive, send)


def no_nul_in_query(request: Request) -> None:
    """Every route's query (names and values): a NUL is refused as ``INPUT-TEXT-NUL`` before
    anything reads it, as in a body (PostgreSQL cannot compare text holding one)."""
    params = request.query_params
    refuse_nul([*params.keys(), *params.values()])
