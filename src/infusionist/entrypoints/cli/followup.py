"""``infusionist followup due`` and ``infusionist followup close``: the follow-up worklist.

Both act on the configured database (``INFUSIONIST_DATABASE_URL``) as a stored, active user
named with ``--user`` (or ``INFUSIONIST_USER``): the command line has no log-in, so the person
at the server says who they are, the user's role decides what is allowed (as on the web) and
the audit rows carry that user's name. SQLAlchemy and the services are imported inside the
commands.
"""

from __future__ import annotations

import json
from datetime import date
from typing import TYPE_CHECKING, Annotated, Any

import typer

from infusionist.entrypoints.cli.errors import fail, reported_errors
from infusionist.entrypoints.cli.server import deps_for, settings

if TYPE_CHECKING:
    from infusionist.domain.records import Context
    from infusionist.services.deps import Deps

app = typer.Typer(help="Follow-up care after a course: the worklist of due and overdue tasks.",
                  no_args_is_help=True)

UserOption = Annotated[str, typer.Option(
    "--user", envvar="INFUSIONIST_USER",
    help="The stored user the command acts as (role and audit name); env INFUSIONIST_USER.")]


def user_context(deps: Deps, username: str) -> Context:
    from infusionist.domain.records import Context
    from infusionist.services.auth import local_actor

    with reported_errors():
        return Context(local_actor(deps, username), "cli")


@app.command("due")
def due(
    user: UserOption,
    on: Annotated[str | None, typer.Option(
        "--date", help="The day (YYYY-MM-DD); default: today in the centre's time zone.")] = None,
    output: Annotated[str, typer.Option("--format", help="table or json.")] = "table",
    limit: Annotated[int, typer.Option(
        "--limit", min=1, max=1000, help="Tasks to list, the most urgent first.")] = 100,
    offset: Annotated[int, typer.Option(
        "--offset", min=0, help="Tasks to skip first (the next page: --offset 100).")] = 0,
) -> None:
    """Every patient's due and overdue tasks, most urgent first (overdue first, oldest first),
    with how many there are in all and how many are overdue."""
    from infusionist.services.followup import centre_today, worklist_page

    if output not in ("table", "json"):
        fail("INPUT-FORMAT", f"--format: {output!r} is not one of table, json.")
    with reported_errors():
        deps = deps_for(settings())
        ctx = user_context(deps, user)
        today = _date(on) if on is not None else centre_today(deps)
        page = worklist_page(deps, ctx, today, limit, offset)
    if output == "json":
        typer.echo(json.dumps(page, indent=2))
        return
    _print_table(today, page)


@app.command("close")
def close(
    task_id: Annotated[int, typer.Argument(help="The task's id (task_id in the worklist).", min=1)],
    user: UserOption,
    status: Annotated[str, typer.Option("--status", help="done or cancelled.")],
    reason: Annotated[str | None, typer.Option(
        "--reason", help="Why (required to cancel, and to close a physician's review).")] = None,
) -> None:
    """Close one task as done or cancelled; the change and its reason go to the audit trail."""
    from infusionist.services.followup import close_task

    with reported_errors():
        deps = deps_for(settings())
        closed = close_task(deps, user_context(deps, user), task_id, status, reason)
    typer.echo(f"Task {closed['task_id']} ({closed['task']}, due {closed['due']}): "
               f"{closed['status']} on {closed['closed_on']}"
               + (f" - {closed['reason']}" if closed["reason"] else "") + ".")


def _date(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        fail("INPUT-DATE", f"--date: {text!r} is not a date (YYYY-MM-DD).")


def _print_table(today: date, page: dict[str, Any]) -> None:
    from rich.console import Console
    from rich.table import Table

    rows: list[dict[str, Any]] = page["tasks"]
    shown = (f"; tasks {page['offset'] + 1}-{page['offset'] + len(rows)} shown"
             if rows and len(rows) < page["total"] else "")
    table = Table(title=f"Follow-up worklist for {today.isoformat()}: {page['total']} task(s), "
                        f"{page['overdue']} overdue{shown}", title_justify="left")
    for column in ("task", "patient", "course", "what", "due", "status", "days overdue"):
        table.add_column(column, justify="right" if column in ("task", "course", "days overdue") else "left")
    for r in rows:
        patient = r["patient"].get("name") or r["patient"]["pseudonym"]
        table.add_row(str(r["task_id"]), patient, str(r["course"]), r["task"], r["due"],
                      r["status"], str(r["days_overdue"]) if r["days_overdue"] else "",
                      style="bold red" if r["status"] == "overdue" else None)
    Console(width=120).print(table)
