"""One-time messages for a browser session ("Course 2 planned."), kept on the server.

A page that handles a form stores the message for the session and redirects; the next page the
session renders shows it once and deletes it. Nothing in the URL can put text on a page, and a
reload does not repeat it. A message is not part of the record (the audit trail is): a session
that ends takes its message with it.
"""

from __future__ import annotations

from infusionist.domain.records import Flash
from infusionist.services.auth import token_digest
from infusionist.services.deps import Deps

KINDS = ("notice", "error")
MAX_LENGTH = 2000  # a message longer than this is cut (a page is not a log)


def put(deps: Deps, session_token: str, kind: str, message: str) -> None:
    """The message the session's next page shows (replaces one not shown yet)."""
    if kind not in KINDS:
        raise ValueError(f"flash kind must be one of {KINDS}")
    with deps.uow(write=True) as uow:
        uow.flashes.put(token_digest(session_token), Flash(kind=kind, message=message[:MAX_LENGTH]),
                        deps.clock.now())
        uow.commit()


def take(deps: Deps, session_token: str) -> Flash | None:
    """The session's waiting message, deleted as it is read; None (no write) when there is none."""
    digest = token_digest(session_token)
    with deps.uow() as uow:
        waiting = uow.flashes.peek(digest)
    if waiting is None:
        return None
    with deps.uow(write=True) as uow:
        flash = uow.flashes.peek(digest)  # another tab may have shown it meanwhile
        uow.flashes.delete(digest)
        uow.commit()
    return flash
