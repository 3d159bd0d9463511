"""``infusionist report iar``: IAR incidence against the reference figures (DuckDB over a snapshot)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Any

import typer

from infusionist.entrypoints.cli.errors import fail, reported_errors
from infusionist.entrypoints.cli.trial_source import trial_snapshot

app = typer.Typer(help="Trial reports from the bedside record.", no_args_is_help=True)
FORMATS = ("table", "json", "html", "pdf")


def _pct(value: float | None) -> str:
    return "-" if value is None else f"{100 * value:.1f}%"


@app.command("iar")
def iar_command(
    output_format: Annotated[str, typer.Option("--format", help="table, json, html or pdf.")] = "table",
    snapshot: Annotated[
        Path | None,
        typer.Option("--snapshot", help="An existing snapshot directory (default: export the database now)."),
    ] = None,
    output: Annotated[
        Path | None,
        typer.Option("--output", "-o", help="Write to this file (required for pdf; default: stdout)."),
    ] = None,
    synthetic: Annotated[
        bool,
        typer.Option("--synthetic", help="Data from `infusionist synth`: say how it was calibrated."),
    ] = False,
) -> None:
    """Infusion-associated reactions per course and infusion day, with Wilson 95% intervals."""
    from infusionist.analytics.iar import compute

    if output_format not in FORMATS:
        fail("INPUT-FORMAT", f"--format: {output_format!r} is not one of {', '.join(FORMATS)}.")
    if output_format == "pdf" and output is None:
        fail("INPUT-OUTPUT", "--format pdf writes a file: give it with --output FILE.pdf.")
    with reported_errors():
        with trial_snapshot(snapshot) as (deps, source):
            report = compute(source, deps.protocol)
        if synthetic:
            from infusionist.analytics.synth import trial_calibration

            report["calibration"] = trial_calibration(deps.protocol).describe()
        if output_format in {"html", "pdf"}:
            _document(report, deps.protocol, output_format, output)
            return
    if output_format == "json":
        _write(json.dumps(report, indent=2) + "\n", output)
        return
    _table(report)


def _write(text: str, output: Path | None) -> None:
    if output is None:
        typer.echo(text, nl=False)
    else:
        output.write_text(text, encoding="utf-8")


def _document(report: dict[str, Any], protocol: Any, output_format: str, output: Path | None) -> None:
    from datetime import UTC, datetime

    from infusionist.adapters.documents.iar_report import render_report_html, render_report_pdf
    from infusionist.analytics.charts import all_charts

    html = render_report_html(
        report,
        all_charts(report),
        protocol,
        calibration=report.get("calibration"),
        generated=datetime.now(UTC),
    )
    if output_format == "html":
        _write(html, output)
        return
    assert output is not None
    output.write_bytes(render_report_pdf(html))
    typer.echo(f"Wrote {output}.")


def _table(report: dict[str, Any]) -> None:
    from rich.console import Console
    from rich.table import Table

    table = Table(title=f"IAR incidence per course ({report['patients']} patients)")
    for column in ("course", "exposed", "with IAR", "incidence", "95% CI", "reference", "source"):
        table.add_column(column)
    for row in report["by_course"]:
        ref = row["reference"] or {}
        table.add_row(
            str(row["course"]),
            str(row["patients_exposed"]),
            str(row["patients_with_iar"]),
            _pct(row["incidence"]),
            f"{_pct(row['ci_low'])}-{_pct(row['ci_high'])}",
            _pct(ref.get("value")),
            ref.get("source", "-"),
        )
    Console().print(table)
