"""``infusionist report iar``: IAR incidence against the reference figures (DuckDB over a snapshot)."""

from __future__ import annotations

import json
import tempfile
from pathlib import Path
from typing import Annotated

import typer

from infusionist.entrypoints.cli.errors import fail, reported_errors

app = typer.Typer(help="Trial reports from the bedside record.", no_args_is_help=True)


def _pct(value: float | None) -> str:
    return "-" if value is None else f"{100 * value:.1f}%"


@app.command("iar")
def iar_command(
    output_format: Annotated[str, typer.Option("--format", help="table or json.")] = "table",
    snapshot: Annotated[
        Path | None,
        typer.Option("--snapshot", help="An existing snapshot directory (default: export the database now)."),
    ] = None,
) -> None:
    """Infusion-associated reactions per course and infusion day, with Wilson 95% intervals."""
    from infusionist.analytics.iar import compute
    from infusionist.analytics.snapshot import export_snapshot
    from infusionist.entrypoints.cli.server import deps_for, settings

    if output_format not in {"table", "json"}:
        fail(
            "INPUT-FORMAT", f"--format: {output_format!r} is not table or json (html and pdf: not built yet)."
        )
    with reported_errors():
        deps = deps_for(settings())
        with tempfile.TemporaryDirectory() as scratch:
            source = snapshot or export_snapshot(deps.uow.engine, deps.protocol, Path(scratch))  # type: ignore[attr-defined]
            report = compute(source, deps.protocol)
    if output_format == "json":
        typer.echo(json.dumps(report, indent=2))
        return
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
