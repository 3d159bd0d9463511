"""``infusionist hl7 listen``, ``infusionist hl7 device``, ``infusionist hl7 devices``.

The hl7 package, SQLAlchemy and asyncio are imported inside the commands.
"""

from __future__ import annotations

import json
from typing import Annotated

import typer

from infusionist.entrypoints.cli.errors import reported_errors
from infusionist.entrypoints.cli.server import deps_for, settings

app = typer.Typer(help="Vital signs from bedside monitors (HL7 v2 ORU^R01 over MLLP).",
                  no_args_is_help=True)
SYSTEM = "system"


@app.command("listen")
def listen(
    host: Annotated[str, typer.Option("--host", help="Interface to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option("--port", help="TCP port (0: any free port).")] = 2575,
) -> None:
    """Accept ORU^R01 messages over MLLP; acknowledge each after it is committed."""
    from infusionist.entrypoints.hl7.listener import run

    with reported_errors():
        deps = deps_for(settings())

    def ready(bound: int) -> None:
        typer.echo(f"HL7 MLLP listener on {host}:{bound}", err=True)

    run(deps, host, port, on_ready=ready)


@app.command("device")
def device(
    device_id: Annotated[str, typer.Argument(help="The sender, MSH-3^MSH-4 (MSH-3 alone without MSH-4).")],
    place: Annotated[str, typer.Option("--place", help="The chair or bed (PV1-3).")],
    interval: Annotated[int, typer.Option("--interval", min=1, help="Seconds between its messages.")] = 60,
    description: Annotated[str, typer.Option("--description")] = "",
) -> None:
    """Say which place a monitor belongs to and how often it sends."""
    from infusionist.domain.access import Role
    from infusionist.domain.device_readings import DeviceRecord
    from infusionist.domain.records import Actor, Context
    from infusionist.services.device_vitals import configure_device

    ctx = Context(Actor(0, SYSTEM, "Command line", Role.ADMIN), "cli")
    with reported_errors():
        view = configure_device(deps_for(settings()), ctx, DeviceRecord(
            device_id=device_id, place=place, interval_seconds=interval, description=description))
    typer.echo(json.dumps(view, indent=2))


@app.command("devices")
def devices() -> None:
    """Monitors with the time of their last message; DEVICE-SILENT after twice the interval."""
    from infusionist.domain.access import Role
    from infusionist.domain.records import Actor, Context
    from infusionist.services.device_vitals import list_devices

    ctx = Context(Actor(0, SYSTEM, "Command line", Role.ADMIN), "cli")
    with reported_errors():
        views = list_devices(deps_for(settings()), ctx)
    typer.echo(json.dumps(views, indent=2))
