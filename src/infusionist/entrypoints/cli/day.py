"""``infusionist day``: replay the event record of an infusion day and show its state."""

from __future__ import annotations

import json
from decimal import Decimal
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from infusionist.entrypoints.cli.errors import fail, reported_errors

if TYPE_CHECKING:
    from datetime import datetime

    from infusionist.domain.day_events import DayEvent
    from infusionist.domain.infusion_day import DayState
    from infusionist.domain.planning import CoursePlan

app = typer.Typer(help="The infusion day at the bedside.", no_args_is_help=True)


class DayFormat(StrEnum):
    json = "json"
    text = "text"


@app.command("replay")
def replay_command(
    file: Annotated[Path, typer.Argument(help='JSON: {"course_plan": ..., "day": N, "events": [...]}.')],
    at: Annotated[
        str | None,
        typer.Option("--at", help="Moment to show, ISO 8601 with offset (default: the last event)."),
    ] = None,
    output_format: Annotated[DayFormat, typer.Option("--format", help="Output format.")] = DayFormat.text,
    config: Annotated[Path | None, typer.Option("--config", help="Centre configuration YAML.")] = None,
) -> None:
    """Replay a day's events: phase, pump arithmetic, alerts, reactions and what to do next."""
    from infusionist.adapters.protocol_files import (
        bundled_protocol_path,
        load_centre_config,
        load_protocol,
    )
    from infusionist.domain.centre import configure
    from infusionist.domain.day_events import parse_events
    from infusionist.domain.day_state_json import state_to_json
    from infusionist.domain.infusion_day import replay
    from infusionist.domain.plan_json import plan_from_json
    from infusionist.domain.protocol_identity import protocol_digest

    record = _read_record(file)
    with reported_errors():
        plan = plan_from_json(record["course_plan"])
        events = parse_events(record["events"])
        protocol = load_protocol(bundled_protocol_path(plan.protocol_id))
        if protocol.version != plan.protocol_version:
            fail("INPUT-PROTOCOL-VERSION",
                 f"The plan was made with protocol {plan.protocol_id} {plan.protocol_version}; "
                 f"the installed one is {protocol.version}.")
        digest = protocol_digest(protocol)
        if plan.protocol_digest is not None and plan.protocol_digest != digest:
            fail("INPUT-PROTOCOL-DIGEST",
                 f"The plan was made with other content of protocol {plan.protocol_id} "
                 f"{plan.protocol_version} ({plan.protocol_digest}) than the installed one "
                 f"({digest}); make the plan again.")
        protocol = configure(protocol, load_centre_config(config)).protocol
        moment = _moment(at, events, plan, record["day"])
        state = replay(plan, record["day"], events, moment, protocol)
    if output_format is DayFormat.json:
        typer.echo(json.dumps(state_to_json(state), indent=2, ensure_ascii=False))
    else:
        _print_text(state)


def _read_record(file: Path) -> dict[str, Any]:
    try:
        data = json.loads(file.read_text(encoding="utf-8"), parse_float=Decimal)
    except FileNotFoundError:
        fail("INPUT-FILE", f"{file} does not exist.")
    except json.JSONDecodeError as exc:
        fail("INPUT-JSON", f"{file} is not valid JSON: {exc}")
    missing = [k for k in ("course_plan", "day", "events") if not isinstance(data, dict) or k not in data]
    if missing:
        fail("INPUT-RECORD", f"{file} lacks {', '.join(missing)}; expected "
             '{"course_plan": ..., "day": N, "events": [...]}.')
    if not isinstance(data["day"], int) or not isinstance(data["events"], list):
        fail("INPUT-RECORD", "day must be a whole number and events a list.")
    return dict(data)


def _moment(at: str | None, events: list[DayEvent], plan: CoursePlan, day: int) -> datetime:
    from datetime import datetime

    if at is not None:
        try:
            moment = datetime.fromisoformat(at)
        except ValueError:
            fail("INPUT-AT", f"--at: {at!r} is not an ISO 8601 date and time.")
        if moment.tzinfo is None:
            fail("INPUT-AT", "--at: give the time with its UTC offset, e.g. 2026-12-07T10:00:00+01:00.")
        return moment
    if events:
        return events[-1].at
    planned = next((d for d in plan.days if d.day == day), None)
    return plan.days[0].chair_start if planned is None else planned.chair_start


def _print_text(state: DayState) -> None:
    def when(moment: datetime | None) -> str:
        return "-" if moment is None else moment.strftime("%H:%M")

    lines = [
        f"Day {state.day} at {when(state.at)}: {state.phase.value}",
        f"  rate {state.rate_ml_per_h} mL/h (max {state.max_rate_ml_per_h}); infused "
        f"{state.volume_infused_ml} mL, {state.dose_delivered_mg} mg; remaining {state.remaining_ml} mL",
        f"  infusion ends {when(state.projected_infusion_end)}, flush ends "
        f"{when(state.projected_flush_end)}, observation ends {when(state.projected_observation_end)}",
        f"  solution expires {when(state.solution_expires_at)} (margin {state.expiry_margin_min} min)",
        f"  next vital signs {when(state.next_vital_signs_due)}"
        + (" (OVERDUE)" if state.vital_signs_overdue else ""),
    ]
    if state.suggested_resume_rate_ml_per_h is not None:
        lines.append(f"  restart at {state.suggested_resume_rate_ml_per_h} mL/h")
    lines += [f"  ALERT {a.severity} {a.code}: {a.message}" for a in state.alerts]
    for reaction in state.reactions:
        grade = "not yet graded" if reaction.grading is None else (
            f"{reaction.grading.term} grade {reaction.grading.grade} ({reaction.grading.severity})")
        lines.append(f"  reaction {when(reaction.onset)} {', '.join(reaction.symptoms)}: {grade}")
    lines += [f"  [{'x' if a.done else ' '}] {a.code}: {a.text}" for a in state.recommended_actions]
    lines.append(f"  next: {', '.join(state.allowed_actions)}")
    typer.echo("\n".join(lines))
