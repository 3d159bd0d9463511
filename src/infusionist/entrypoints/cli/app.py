"""The ``infusionist`` command. Sub-commands import their heavy dependencies lazily."""

from __future__ import annotations

import typer

from infusionist.entrypoints.cli import backup, day, demo, followup, hl7, plan, protocol, schedule, server
from infusionist.entrypoints.cli import export as export_cli
from infusionist.entrypoints.cli import report as report_cli
from infusionist.entrypoints.cli import synth as synth_cli

app = typer.Typer(
    name="infusionist",
    help="Infusion planning and bedside records for MS infusion units.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
app.command("plan")(plan.plan_command)
app.add_typer(protocol.app, name="protocol")
app.add_typer(day.app, name="day")
app.add_typer(server.db_app, name="db")
app.add_typer(server.user_app, name="user")
app.add_typer(server.token_app, name="token")
app.add_typer(server.audit_app, name="audit")
app.command("serve")(server.serve)
app.add_typer(hl7.app, name="hl7")
app.command("backup")(backup.backup_command)
app.command("restore")(backup.restore_command)
app.command("synth")(synth_cli.synth_command)
app.add_typer(report_cli.app, name="report")
app.add_typer(export_cli.app, name="export")
app.command("demo")(demo.demo_command)
app.add_typer(followup.app, name="followup")
app.add_typer(schedule.schedule_app, name="schedule")
app.add_typer(schedule.unit_app, name="unit")


def main() -> None:
    app()
