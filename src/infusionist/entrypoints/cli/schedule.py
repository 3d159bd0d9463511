"""``infusionist schedule find`` and ``infusionist unit ...``: chairs and capacity (issue 17).

Like ``followup``, these act on the configured database as the stored user named with ``--user``
(or ``INFUSIONIST_USER``); that user's role decides what is allowed and the audit rows carry the
name. Heavy modules are imported inside the commands.
"""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from infusionist.entrypoints.cli.errors import fail, reported_errors
from infusionist.entrypoints.cli.followup import UserOption, user_context
from infusionist.entrypoints.cli.server import deps_for, settings

if TYPE_CHECKING:  # the command imports the services when it runs (a fast --help)
    from infusionist.services.schedule_views import FirstStartsView

schedule_app = typer.Typer(help="Find when a course fits into the unit's chairs.", no_args_is_help=True)
unit_app = typer.Typer(help="The infusion unit: chairs, opening hours, turnover and staffing.",
                       no_args_is_help=True)
Format = Annotated[str, typer.Option("--format", help="table or json.")]


def _date(option: str, text: str | None) -> date | None:
    if text is None:
        return None
    try:
        return date.fromisoformat(text)
    except ValueError:
        fail("INPUT-DATE", f"{option}: {text!r} is not a date (YYYY-MM-DD).")


def _format(output: str) -> None:
    if output not in ("table", "json"):
        fail("INPUT-FORMAT", f"--format: {output!r} is not one of table, json.")


@schedule_app.command("find")
def find(
    user: UserOption,
    patient_id: Annotated[int, typer.Option("--patient-id", min=1, help="The patient's id.")],
    course: Annotated[int, typer.Option("--course", min=1, max=20, help="The course number.")],
    after: Annotated[str | None, typer.Option(
        "--after", help="Start looking on this day (default today).")] = None,
    previous_course_end: Annotated[str | None, typer.Option(
        "--previous-course-end",
        help="Last infusion day of course N-1 (default: the stored course).")] = None,
    output: Format = "table",
) -> None:
    """The three earliest first days on which every day of the course fits into a chair within
    the opening hours, with the chairs and times."""
    from infusionist.services.bookings import FindStart, find_first_starts

    _format(output)
    with reported_errors():
        deps = deps_for(settings())
        found = find_first_starts(deps, user_context(deps, user), FindStart(
            patient_id=patient_id, course=course, after=_date("--after", after),
            previous_course_end=_date("--previous-course-end", previous_course_end)))
    if output == "json":
        typer.echo(json.dumps(found.as_json(), indent=2))
        return
    _print_choices(found)


def _print_choices(found: FirstStartsView) -> None:
    from rich.console import Console
    from rich.table import Table

    console = Console(width=120)
    if not found.choices:
        console.print(f"No start fits within a year after {found.after}.")
        return
    table = Table(title=f"Course {found.course} of patient {found.patient_id}: the earliest "
                        f"starts from {found.after} ({found.timezone})", title_justify="left")
    for column in ("choice", "first day", "infusion", "chairs by day"):
        table.add_column(column)
    for n, choice in enumerate(found.choices, start=1):
        chairs = ", ".join(f"day {d.day} {d.chair}" for d in choice.days)
        table.add_row(str(n), date.fromisoformat(choice.first_day).strftime("%a %d %b %Y"),
                      choice.infusion_start, chairs)
    console.print(table)


@unit_app.command("show")
def show(user: UserOption, output: Format = "table") -> None:
    """The unit's chairs, opening hours, turnover and staffing limits."""
    from infusionist.services.unit import get_unit

    _format(output)
    with reported_errors():
        deps = deps_for(settings())
        unit = get_unit(deps, user_context(deps, user), "default")
    if output == "json":
        typer.echo(json.dumps({"rules": unit.rules.model_dump(mode="json"),
                               "chairs": [c.model_dump(mode="json") for c in unit.chairs],
                               "closed_days": sorted(d.isoformat() for d in unit.closed_days),
                               "timezone": str(unit.zone)}, indent=2))
        return
    rules = unit.rules
    typer.echo(f"Turnover {rules.turnover_minutes} min; at most {rules.max_starts_per_half_hour} "
               f"starts per half hour; {rules.max_running_per_nurse} patients per nurse on duty.")
    for day, hours in rules.hours.items():
        typer.echo(f"{day:<10} {hours.opens:%H:%M}-{hours.closes:%H:%M}, "
                   f"{rules.nurses.get(day, 0)} nurse(s)")
    for chair in unit.chairs:
        typer.echo(f"chair {chair.id}: {chair.name} ({chair.kind.value})"
                   + ("" if chair.active else " - not in use"))


@unit_app.command("set")
def set_rules(
    user: UserOption,
    file: Annotated[Path, typer.Argument(help="JSON file: hours, turnover_minutes, "
                                              "max_starts_per_half_hour, max_running_per_nurse, nurses.")],
    reason: Annotated[str | None, typer.Option("--reason", help="Why (kept in the audit trail).")] = None,
) -> None:
    """Replace the opening hours, turnover and staffing limits (admin; audited)."""
    from infusionist.services.unit import configure_unit

    try:
        data = json.loads(file.read_text(encoding="utf-8"))
    except (OSError, ValueError) as error:
        fail("INPUT-FILE", f"{file}: cannot be read as JSON ({error}).")
    if not isinstance(data, dict):
        fail("INPUT-FILE", f"{file}: expected a JSON object.")
    with reported_errors():
        deps = deps_for(settings())
        configure_unit(deps, user_context(deps, user), "default", data, reason)
    typer.echo("The unit's hours and staffing are saved.")


@unit_app.command("chair")
def chair(
    user: UserOption,
    name: Annotated[str, typer.Argument(help="The chair's name, e.g. 'Chair 3' or 'Bed 1'.")],
    kind: Annotated[str, typer.Option("--kind", help="recliner or bed.")] = "recliner",
    inactive: Annotated[bool, typer.Option("--inactive", help="Take the chair out of use.")] = False,
) -> None:
    """Add a chair, or change the kind or use of the chair with that name (admin; audited)."""
    from infusionist.services.unit import ChairChange, add_chair, change_chair, get_unit

    with reported_errors():
        deps = deps_for(settings())
        ctx = user_context(deps, user)
        change = ChairChange(name=name, kind=kind, active=not inactive)
        known = next((c for c in get_unit(deps, ctx, "default").chairs if c.name == name), None)
        if known is None:
            saved = add_chair(deps, ctx, "default", change)
        else:
            saved = change_chair(deps, ctx, "default", known.id, change)
    typer.echo(f"chair {saved.id}: {saved.name} ({saved.kind.value})"
               + ("" if saved.active else " - not in use"))


@schedule_app.command("cancel")
def cancel(
    booking_id: Annotated[int, typer.Argument(min=1, help="The booking's id (GET /courses/{id}/bookings).")],
    user: UserOption,
    reason: Annotated[str, typer.Option("--reason", help="Why: a missed day, a day stopped, ...")],
) -> None:
    """Free a day's chair (audited)."""
    from infusionist.services.bookings import cancel_booking

    with reported_errors():
        deps = deps_for(settings())
        cancel_booking(deps, user_context(deps, user), booking_id, reason)
    typer.echo(f"Booking {booking_id} cancelled: its chair is free.")


@schedule_app.command("move")
def move(
    booking_id: Annotated[int, typer.Argument(min=1, help="The booking's id.")],
    user: UserOption,
    infusion_start: Annotated[str, typer.Option(
        "--infusion-start", help="The new infusion start with its offset, e.g. 2027-01-05T10:30+01:00.")],
    reason: Annotated[str, typer.Option("--reason", help="Why the day moves.")],
    chair_id: Annotated[int | None, typer.Option("--chair-id", min=1, help="Another chair.")] = None,
) -> None:
    """Move a day to another time or chair; refused with the next time that fits (audited)."""
    from datetime import datetime

    from infusionist.services.bookings import move_booking

    try:
        moment = datetime.fromisoformat(infusion_start)
    except ValueError:
        fail("INPUT-DATE", f"--infusion-start: {infusion_start!r} is not a date and time.")
    if moment.tzinfo is None:
        fail("INPUT-DATE", "--infusion-start: give the UTC offset too, e.g. 2027-01-05T10:30+01:00.")
    with reported_errors():
        deps = deps_for(settings())
        moved = move_booking(deps, user_context(deps, user), booking_id, moment, chair_id, reason)
    typer.echo(f"Day {moved['day']} now booked as {moved['id']}: {moved['chair']}, chair from "
               f"{moved['chair_start']} to {moved['chair_end']}.")
