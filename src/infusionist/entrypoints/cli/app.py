"""The ``infusionist`` command. Sub-commands import their heavy dependencies lazily."""

from __future__ import annotations

import typer

from infusionist.entrypoints.cli import plan, protocol

app = typer.Typer(
    name="infusionist",
    help="Alemtuzumab infusion planning and bedside records for MS infusion units.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
app.command("plan")(plan.plan_command)
app.add_typer(protocol.app, name="protocol")


def main() -> None:
    app()
