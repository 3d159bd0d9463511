"""Rich rendering of plans and protocols for the terminal."""

from __future__ import annotations

from collections.abc import Iterable

from rich.console import Console
from rich.table import Table
from rich.text import Text

from infusionist.domain.activities import Activity, ActivityKind
from infusionist.domain.planning import CoursePlan
from infusionist.domain.protocol import Protocol
from infusionist.domain.units import format_decimal


def print_plan(plan: CoursePlan, console: Console | None = None) -> None:
    console = console or Console()
    patient = plan.patient
    console.print(
        f"[bold]Course {plan.course}[/] for patient [bold]{patient.id}[/] "
        f"({patient.sex}{', childbearing potential' if patient.childbearing_potential else ''}) "
        f"- protocol {plan.protocol_id} {plan.protocol_version} - times in {plan.timezone}"
    )
    for warning in plan.warnings:
        console.print(Text(f"! {warning}", style="bold yellow"))
    day_numbers: list[int | None] = [0, *(d.day for d in plan.days), None]
    for number in day_numbers:
        activities = plan.activities_on(number)
        if activities:
            console.print(_day_table(plan, number, activities))
    console.print("[bold]Instructions[/]")
    seen: set[str] = set()
    for activity in plan.activities:
        if activity.kind is ActivityKind.INSTRUCTION and activity.element not in seen and activity.text:
            seen.add(activity.element)
            console.print(f"- [bold]{activity.name}[/]: {activity.text}")


def _day_table(plan: CoursePlan, number: int | None, activities: list[Activity]) -> Table:
    table = Table(title=_day_title(plan, number, activities), title_justify="left", expand=False)
    table.add_column("Date" if number is None else "Time", no_wrap=True)
    table.add_column("What", ratio=3)
    table.add_column("Dose / rate", ratio=2)
    table.add_column("Refs", style="dim", ratio=1, overflow="fold")
    for row in _rows(activities, after_course=number is None):
        table.add_row(*row)
    return table


def _day_title(plan: CoursePlan, number: int | None, activities: list[Activity]) -> str:
    if number == 0:
        return f"Evening before day 1 - {activities[0].start.date().isoformat()}"
    if number is None:
        return "After the course"
    day = plan.day(number)
    return (f"Day {number} - {day.date.strftime('%a %Y-%m-%d')} - chair "
            f"{day.chair_start:%H:%M}-{day.observation_end:%H:%M} ({day.chair_minutes} min)")


def _rows(activities: list[Activity], *, after_course: bool) -> Iterable[tuple[str, ...]]:
    checks = [a for a in activities if a.kind is ActivityKind.VITAL_SIGNS]
    series = _series(activities) if after_course else {}
    shown: set[str] = set()
    for activity in activities:
        if activity.kind is ActivityKind.VITAL_SIGNS and activity is not checks[0]:
            continue
        occurrences = series.get(activity.element)
        if occurrences is not None:
            if activity.element not in shown:
                shown.add(activity.element)
                yield _series_row(occurrences)
            continue
        yield (
            _span(activity, after_course),
            _what(activity, checks),
            _dose(activity),
            " ".join(activity.requirements),
        )


def _series(activities: list[Activity]) -> dict[str, list[Activity]]:
    """Repeated after-course items (monthly blood tests, calls) shown as one row each."""
    by_element: dict[str, list[Activity]] = {}
    for activity in activities:
        by_element.setdefault(activity.element, []).append(activity)
    return {element: items for element, items in by_element.items() if len(items) > 2}


def _series_row(items: list[Activity]) -> tuple[str, ...]:
    first, last = items[0], items[-1]
    span = f"{first.start:%Y-%m-%d} to {last.start:%Y-%m-%d}"
    return (span, f"{first.name} x {len(items)}", "", " ".join(first.requirements))


def _what(activity: Activity, checks: list[Activity]) -> str:
    if activity.kind is ActivityKind.VITAL_SIGNS:
        first, regular = checks[0], checks[1:]
        gap = int((regular[1].start - regular[0].start).total_seconds() // 60) if len(regular) > 1 else 0
        return (f"vital signs (BP, HR, temp, RR, SpO2): baseline {first.start:%H:%M}, then every "
                f"{gap} min {regular[0].start:%H:%M}-{regular[-1].start:%H:%M} ({len(checks)} checks)")
    if activity.kind in {ActivityKind.INSTRUCTION, ActivityKind.FOLLOW_UP, ActivityKind.OBSERVATION}:
        return activity.name
    return f"{activity.name} ({activity.kind.value.replace('_', ' ')})"


def _dose(activity: Activity) -> str:
    parts = []
    if activity.dose_display:
        parts.append(activity.dose_display)
    elif activity.dose is not None:
        parts.append(activity.dose.display())
    if activity.route:
        parts.append(activity.route)
    if activity.volume_ml is not None:
        parts.append(f"{format_decimal(activity.volume_ml)} mL")
    if activity.rate_ml_per_h is not None:
        parts.append(f"{format_decimal(activity.rate_ml_per_h)} mL/h")
    return " ".join(parts)


def _span(activity: Activity, after_course: bool) -> str:
    date_only = after_course or activity.all_day
    start = activity.start.strftime("%Y-%m-%d" if date_only else "%H:%M")
    end = activity.end
    if end is None:
        return start
    if date_only:
        return f"{start} to {end:%Y-%m-%d}"
    if end.date() != activity.start.date():
        return f"{start} to {end:%Y-%m-%d %H:%M}"
    return f"{start}-{end:%H:%M}"


def print_protocol(protocol: Protocol, console: Console | None = None) -> None:
    console = console or Console()
    console.print(f"[bold]{protocol.title}[/] ({protocol.id} {protocol.version}, {protocol.status})")
    table = Table(show_lines=False)
    table.add_column("Element")
    table.add_column("What")
    table.add_column("Refs", style="dim")
    table.add_column("Source", style="dim")
    for element in protocol.all_elements():
        table.add_row(element.id, _describe(element), ", ".join(element.requirements),
                      element.source)
        for advisory in element.advisories:
            label = f"{advisory.conflict}: " if advisory.conflict else ""
            table.add_row("", Text(f"advisory {label}{advisory.text}", style="yellow"), "",
                          advisory.source)
    console.print(table)
    if protocol.drug_library is not None:
        drugs = Table(title="Drug library (hard: refused; soft: only with a reason)")
        for column in ("Drug", "Route", "Limits", "Source"):
            drugs.add_column(column)
        for drug in protocol.drug_library.drugs:
            names = drug.name + (f" ({', '.join(drug.synonyms)})" if drug.synonyms else "")
            for entry in drug.routes:
                drugs.add_row(names, entry.route, entry.describe(),
                              ", ".join(dict.fromkeys(entry.sources())) or drug.source)
                names = ""
        console.print(drugs)


def _describe(element: object) -> str:
    for attribute in ("text", "label", "name"):
        value = getattr(element, attribute, None)
        if isinstance(value, str):
            return value
    return type(element).__name__
