"""``infusionist synth``: a synthetic trial written through the services (or in bulk)."""

from __future__ import annotations

from typing import Annotated

import typer

from infusionist.entrypoints.cli.errors import reported_errors


def synth_command(
    patients: Annotated[int, typer.Option("--patients", min=1, help="How many patients.")] = 100,
    seed: Annotated[int, typer.Option("--seed", help="Random seed: the same seed gives the same trial.")] = 1,
    bulk: Annotated[
        bool,
        typer.Option(
            "--bulk",
            help="Write straight through the database layer with the same audit rows "
            "(benchmark sizes; deterministic pseudonyms; refused when the database holds real patients).",
        ),
    ] = False,
) -> None:
    """Generate a synthetic trial calibrated to the pooled CARE-MS IAR figures."""
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

    from infusionist.analytics.synth import trial_calibration
    from infusionist.entrypoints.cli.server import deps_for, settings

    with reported_errors():
        deps = deps_for(settings())
        columns = (TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeRemainingColumn())
        with Progress(*columns, transient=False) as progress:
            task = progress.add_task("bulk" if bulk else "services", total=patients)

            def advance() -> None:
                progress.advance(task)

            if bulk:
                from infusionist.analytics.synth_bulk import write_bulk

                count = write_bulk(deps.uow.engine, deps.protocol, seed, patients, advance)  # type: ignore[attr-defined]
            else:
                from infusionist.analytics.synth import write_with_services

                count = write_with_services(deps, deps.protocol, seed, patients, advance)
        typer.echo(f"{patients} patients, {count} events (seed {seed}).")
        typer.echo(trial_calibration(deps.protocol).describe())
