"""``infusionist db upgrade``, ``infusionist serve``, ``infusionist user add``, ``infusionist audit
verify`` and ``infusionist audit anchor``.

Heavy imports (SQLAlchemy, FastAPI, uvicorn) happen inside the commands, so ``infusionist --help``
stays fast.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from infusionist.entrypoints.cli.errors import fail, reported_errors

if TYPE_CHECKING:
    from infusionist.config import Settings
    from infusionist.services.audit import Verification
    from infusionist.services.deps import Deps

db_app = typer.Typer(help="The database: migrations.", no_args_is_help=True)
user_app = typer.Typer(help="Users.", no_args_is_help=True)
token_app = typer.Typer(help="Device tokens (monitors, pumps): add, list, revoke.", no_args_is_help=True)
audit_app = typer.Typer(help="The audit trail and the row ledger.", no_args_is_help=True)
SHOWN_PROBLEMS = 200  # more are counted, not listed

FIRST_ADMIN_HINT = (
    "The database has no users yet: create the first admin with "
    "`infusionist user add NAME --role admin --full-name 'Full Name'` (password from stdin)."
)


def settings() -> Settings:
    from pydantic import ValidationError

    from infusionist.config import Settings

    try:
        return Settings()
    except ValidationError as exc:
        fail("CONFIG-ENV", f"INFUSIONIST_* environment: {exc.errors()[0]['msg']}")


def deps_for(current: Settings, *, migrate: bool = True) -> Deps:
    from infusionist.bootstrap import build

    return build(current, run_migrations=migrate)


def hint_first_admin(deps: Deps) -> None:
    from infusionist.services.auth import count_users

    if count_users(deps) == 0:
        typer.echo(FIRST_ADMIN_HINT, err=True)


@db_app.command("upgrade")
def db_upgrade() -> None:
    """Create or migrate the database schema to the newest revision."""
    from infusionist.bootstrap import migrate

    current = settings()
    with reported_errors():
        revision = migrate(current)
        typer.echo(f"Database at revision {revision}: {_shown(current.resolved_database_url)}")
        hint_first_admin(deps_for(current))


@user_app.command("add")
def user_add(
    name: Annotated[str, typer.Argument(help="Login name (lower case letters, digits, . _ -).")],
    role: Annotated[str, typer.Option("--role", help="nurse, physician, investigator or admin.")],
    full_name: Annotated[str | None, typer.Option("--full-name", help="Printed name.")] = None,
) -> None:
    """Add a user. The password is read from standard input when it is not a terminal; the same
    rules as on the page and the API (docs/security.md)."""
    from infusionist.domain.access import USER_ROLES, Role
    from infusionist.services.auth import create_user

    try:
        chosen = Role(role)
    except ValueError:
        fail("INPUT-ROLE", f"--role: {role!r} is not one of {', '.join(r.value for r in USER_ROLES)}.")
    password = _read_password()
    with reported_errors():
        user = create_user(deps_for(settings()), None, name, full_name or name, chosen, password)
    typer.echo(f"Added {user.username} ({user.role.value}).")


@token_app.command("add")
def token_add(
    device: Annotated[str, typer.Argument(help="The device's name (its records say device:NAME).")],
    days: Annotated[int | None, typer.Option("--days", help="Days until it expires (default 90).")] = None,
) -> None:
    """Issue a device token (vital signs only, no user behind it); printed once."""
    from infusionist.services.auth import create_device_token

    with reported_errors():
        issued = create_device_token(deps_for(settings()), None, device, days)
    typer.echo(f"Device token {issued.record.id} for {issued.record.device}, valid until "
               f"{issued.record.expires_at:%Y-%m-%d %H:%M} UTC:", err=True)
    typer.echo(issued.token)


@token_app.command("list")
def token_list() -> None:
    """Every device token issued: id, device, status, expiry (never the token)."""
    from infusionist.services.auth import list_device_tokens, token_status

    with reported_errors():
        deps = deps_for(settings())
        tokens = list_device_tokens(deps, None)
    now = deps.clock.now()
    for token in tokens:
        typer.echo(f"{token.id}\t{token.device}\t{token_status(token, now)}\t"
                   f"expires {token.expires_at:%Y-%m-%d %H:%M} UTC\tissued by {token.created_by}")


@token_app.command("revoke")
def token_revoke(token_id: Annotated[int, typer.Argument(help="The token's id (token list).")]) -> None:
    """Revoke a device token at once."""
    from infusionist.services.auth import revoke_device_token

    with reported_errors():
        revoked = revoke_device_token(deps_for(settings()), None, token_id)
    typer.echo(f"Revoked device token {revoked.id} ({revoked.device}).")


@audit_app.command("verify")
def audit_verify(
    anchor: Annotated[Path | None, typer.Option(
        "--anchor", help="An anchor file (`infusionist audit anchor`): check that both chains "
                         "still extend the heads it holds.")] = None,
) -> None:
    """Check the audit trail and the row ledger: names every clinical row, patient, user or
    device changed, removed or added outside the application."""
    from infusionist.adapters.anchor_file import read_anchor
    from infusionist.services.audit import verify

    with reported_errors():
        anchored = read_anchor(anchor) if anchor is not None else None
        checked = verify(deps_for(settings()), anchored)
    report_verification(checked, anchored_from=anchor)


def report_verification(checked: Verification, *, anchored_from: Path | None = None) -> None:
    """Print what ``verify`` found: "intact" with the counts, or every problem (exit status 1)."""
    rows = sum(checked.rows.values())
    counts = (f"{checked.audit_rows} audit row(s); {checked.ledger_entries} ledger entries "
              f"({checked.sealed} of them seals) over {rows} protected row(s): "
              + ", ".join(f"{table} {n}" for table, n in checked.rows.items()))
    problems = checked.problems()
    if problems:
        typer.echo(f"AUDIT BROKEN after checking {counts}", err=True)
        for problem in problems[:SHOWN_PROBLEMS]:
            typer.echo(f"  {problem}", err=True)
        if len(problems) > SHOWN_PROBLEMS:
            typer.echo(f"  ... and {len(problems) - SHOWN_PROBLEMS} more", err=True)
        raise typer.Exit(1)
    typer.echo(f"Audit trail and row ledger intact: {counts}.")
    if anchored_from is not None:
        typer.echo(f"Both chains extend the anchor {anchored_from}.")


@audit_app.command("anchor")
def audit_anchor(
    file: Annotated[Path, typer.Argument(help="Where to write the anchor; keep it outside the "
                                              "database's machine (it proves later rewrites).")],
) -> None:
    """Write both chains' heads (length, last hash, time) to FILE, for `audit verify --anchor`."""
    from infusionist.adapters.anchor_file import write_anchor
    from infusionist.services.audit import head

    with reported_errors():
        anchor = head(deps_for(settings()))
        write_anchor(file, anchor)
    typer.echo(f"Anchored {anchor.audit.rows} audit row(s) and {anchor.ledger.rows} ledger "
               f"entries at {anchor.at.isoformat(timespec='seconds')} in {file}.")


def serve(
    host: Annotated[str, typer.Option("--host", help="Interface to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option("--port", help="TCP port.")] = 8000,
    workers: Annotated[int, typer.Option("--workers", min=1, help="Worker processes.")] = 1,
) -> None:
    """Run the web server (migrates the database first)."""
    import uvicorn

    current = settings()
    with reported_errors():
        deps = deps_for(current)
        hint_first_admin(deps)
    typer.echo(f"Serving on http://{host}:{port} ({_shown(current.resolved_database_url)})", err=True)
    uvicorn.run("infusionist.entrypoints.web.asgi:app", host=host, port=port, workers=workers,
                log_level="warning")


def _read_password() -> str:
    if sys.stdin.isatty():
        import getpass

        first = getpass.getpass("Password: ")
        if getpass.getpass("Again: ") != first:
            fail("INPUT-PASSWORD-MISMATCH", "password: the two entries differ.")
        return first
    return sys.stdin.readline().rstrip("\r\n")


def _shown(url: str) -> str:
    """The database URL without a password."""
    if "://" in url and "@" in url:
        scheme, rest = url.split("://", 1)
        credentials, host = rest.rsplit("@", 1)
        return f"{scheme}://{credentials.split(':', 1)[0]}@{host}"
    return url
