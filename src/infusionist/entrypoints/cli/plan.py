"""``infusionist plan``: plan a course and print it as a table, JSON, iCalendar or a PDF handout."""

from __future__ import annotations

import json
import sys
from datetime import date, datetime, time
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from infusionist.entrypoints.cli.errors import fail, reported_errors

if TYPE_CHECKING:
    from infusionist.domain.centre import CentreConfig
    from infusionist.domain.planning import CoursePlan
    from infusionist.domain.protocol import Protocol


class Sex(StrEnum):
    female = "female"
    male = "male"


class YesNo(StrEnum):
    yes = "yes"
    no = "no"


class PlanFormat(StrEnum):
    table = "table"
    json = "json"
    ics = "ics"
    pdf = "pdf"


def plan_command(
    first_day: Annotated[str, typer.Option("--first-day", help="First infusion day, YYYY-MM-DD.")],
    sex: Annotated[Sex, typer.Option("--sex", help="The patient's sex.")],
    course: Annotated[int, typer.Option("--course", min=1, help="Course number (1, 2, ...).")] = 1,
    start: Annotated[
        str, typer.Option("--start", help="Clock time the infusion starts, HH:MM.")
    ] = "09:00",
    timezone: Annotated[
        str | None, typer.Option("--timezone", help="IANA time zone, e.g. Europe/Berlin.")
    ] = None,
    childbearing_potential: Annotated[
        YesNo, typer.Option("--childbearing-potential", help="Female of childbearing potential.")
    ] = YesNo.no,
    previous_course_end: Annotated[
        str | None,
        typer.Option("--previous-course-end", help="Last infusion day of the previous course."),
    ] = None,
    patient_id: Annotated[str, typer.Option("--patient-id", help="Patient identifier.")] = "example",
    weight_kg: Annotated[
        float | None, typer.Option("--weight-kg", help="Body weight, for dose checks.")
    ] = None,
    config: Annotated[Path | None, typer.Option("--config", help="Centre configuration YAML.")] = None,
    protocol_file: Annotated[
        Path | None, typer.Option("--protocol", help="Protocol YAML file (instead of --protocol-id).")
    ] = None,
    protocol_id: Annotated[
        str | None, typer.Option("--protocol-id", help="A bundled protocol by id "
                                 "(`infusionist protocol list`); default: the default protocol.")
    ] = None,
    rate_table: Annotated[
        str | None, typer.Option("--rate-table", help="An alternative rate table of the protocol, "
                                 "by id (only for patients who meet its condition).")
    ] = None,
    prior_serious_reaction: Annotated[
        YesNo | None, typer.Option("--prior-serious-reaction",
                                   help="Whether the patient ever had a serious infusion reaction.")
    ] = None,
    output_format: Annotated[PlanFormat, typer.Option("--format", help="Output format.")] = (
        PlanFormat.table
    ),
    output: Annotated[Path | None, typer.Option("--output", help="Write to this file.")] = None,
) -> None:
    """Plan a course of a protocol: every medication, infusion, flush and check at its time."""
    from decimal import Decimal

    from infusionist.adapters.protocol_files import (
        load_bundled_protocol,
        load_centre_config,
        load_protocol,
    )
    from infusionist.domain.planning import Patient
    from infusionist.services.planning import PlanCourseCommand, plan_course_for

    command_input = PlanCourseCommand(
        patient=Patient(
            id=patient_id, sex=sex.value,
            childbearing_potential=childbearing_potential is YesNo.yes,
            weight_kg=Decimal(str(weight_kg)) if weight_kg is not None else None,
            prior_serious_reaction=None if prior_serious_reaction is None
            else prior_serious_reaction is YesNo.yes,
        ),
        course=course,
        first_day=_date("--first-day", first_day),
        infusion_start=_clock("--start", start),
        timezone=timezone,
        previous_course_end=_date("--previous-course-end", previous_course_end)
        if previous_course_end else None,
        rate_table=rate_table,
    )
    with reported_errors():
        if sex is Sex.male and childbearing_potential is YesNo.yes:
            fail("INPUT-CHILDBEARING", "--childbearing-potential yes applies to female patients.")
        if protocol_file is not None and protocol_id is not None:
            fail("INPUT-PROTOCOL", "Give either --protocol FILE or --protocol-id ID, not both.")
        protocol = (load_bundled_protocol(protocol_id) if protocol_id is not None
                    else load_protocol(protocol_file))
        centre = load_centre_config(config)
        plan = plan_course_for(protocol, centre, command_input)
    if output_format is PlanFormat.pdf:
        _write_handout(plan, protocol, centre, output)
        return
    _emit(plan, output_format, output)


def _write_handout(
    plan: CoursePlan, protocol: Protocol, centre: CentreConfig, output: Path | None
) -> None:
    """The patient's handout as PDF (WeasyPrint is loaded only here)."""
    from infusionist.adapters.documents.handout import render_handout_pdf

    if output is None:
        fail("INPUT-OUTPUT-REQUIRED", "--format pdf writes a file: give --output FILE.pdf.")
    output.write_bytes(render_handout_pdf(plan, protocol, centre))
    typer.echo(f"Wrote {output}", err=True)


def _emit(plan: object, output_format: PlanFormat, output: Path | None) -> None:
    from infusionist.domain.planning import CoursePlan

    assert isinstance(plan, CoursePlan)
    if output_format is PlanFormat.table:
        from infusionist.entrypoints.cli.render import print_plan

        print_plan(plan)
        return
    if output_format is PlanFormat.json:
        from infusionist.domain.plan_json import plan_to_json

        data = (json.dumps(plan_to_json(plan), indent=2, ensure_ascii=False) + "\n").encode()
    else:
        from datetime import UTC

        from infusionist.adapters.calendar import plan_to_ics

        # DTSTAMP must be the export time (RFC 5545); UIDs stay stable across exports.
        data = plan_to_ics(plan, stamp=datetime.now(UTC))
    if output is None:
        sys.stdout.buffer.write(data)
    else:
        output.write_bytes(data)
        typer.echo(f"Wrote {output}", err=True)


def _date(option: str, text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        fail("INPUT-DATE", f"{option}: {text!r} is not a date; use YYYY-MM-DD.")


def _clock(option: str, text: str) -> time:
    try:
        parsed = time.fromisoformat(text)
    except ValueError:
        fail("INPUT-TIME", f"{option}: {text!r} is not a clock time; use HH:MM.")
    if parsed.tzinfo is not None:
        fail("INPUT-TIME", f"{option}: give a local clock time without an offset.")
    return parsed
