"""``infusionist hl7 listen``, ``hl7 device`` (register), ``hl7 retire``, ``hl7 devices``, ``hl7 refused``.

The hl7 package, SQLAlchemy and asyncio are imported inside the commands.
"""

from __future__ import annotations

import json
from typing import Annotated

import typer

from infusionist.entrypoints.cli.errors import fail, reported_errors
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
    from infusionist.entrypoints.hl7.listener import limits_of, run, tls_of

    with reported_errors():
        configured = settings()
        deps = deps_for(configured)
    try:
        tls = tls_of(configured)
    except (OSError, ValueError) as exc:
        fail("HL7-TLS-CONFIG", f"The TLS certificate, key or client CA cannot be read: {exc}.")
    mode = "" if tls is None else (" (TLS, client certificates required)"
                                   if configured.hl7_tls_client_ca is not None else " (TLS)")

    def ready(bound: int) -> None:
        typer.echo(f"HL7 MLLP listener on {host}:{bound}{mode}", err=True)

    run(deps, host, port, on_ready=ready, limits=limits_of(configured), tls=tls)


@app.command("device")
def device(
    device_id: Annotated[str, typer.Argument(help="The sender, MSH-3^MSH-4 (MSH-3 alone without MSH-4).")],
    place: Annotated[str, typer.Option("--place", help="The chair or bed (PV1-3).")],
    source: Annotated[list[str], typer.Option(
        "--source", help="An address or network (CIDR) it sends from; repeat for several.")],
    interval: Annotated[int, typer.Option("--interval", min=1, help="Seconds between its messages.")] = 60,
    description: Annotated[str, typer.Option("--description")] = "",
) -> None:
    """Register a monitor: the sender it is, its place, how often it sends, where it sends from.
    Only registered monitors are heard; registering a retired one hears it again."""
    from infusionist.domain.access import Role
    from infusionist.domain.device_readings import DeviceRecord
    from infusionist.domain.records import Actor, Context
    from infusionist.services.device_vitals import configure_device

    ctx = Context(Actor(0, SYSTEM, "Command line", Role.ADMIN), "cli")
    with reported_errors():
        view = configure_device(deps_for(settings()), ctx, DeviceRecord(
            device_id=device_id, place=place, interval_seconds=interval, description=description,
            sources=tuple(source)))
    typer.echo(view.model_dump_json(indent=2))


@app.command("retire")
def retire(
    device_id: Annotated[str, typer.Argument(help="The sender, MSH-3^MSH-4.")],
) -> None:
    """Stop hearing a monitor: its messages are refused from now on (HL7-SENDER-RETIRED)."""
    from infusionist.domain.access import Role
    from infusionist.domain.records import Actor, Context
    from infusionist.services.device_vitals import retire_device

    ctx = Context(Actor(0, SYSTEM, "Command line", Role.ADMIN), "cli")
    with reported_errors():
        view = retire_device(deps_for(settings()), ctx, device_id)
    typer.echo(view.model_dump_json(indent=2))


@app.command("refused")
def refused(
    sender: Annotated[str | None, typer.Option("--sender", help="Only this sender's.")] = None,
) -> None:
    """Messages refused before intake (unknown sender, too large, unstorable), oldest first."""
    from infusionist.domain.access import Role
    from infusionist.domain.records import Actor, Context
    from infusionist.services.device_vitals import refused_messages

    ctx = Context(Actor(0, SYSTEM, "Command line", Role.ADMIN), "cli")
    with reported_errors():
        rows = refused_messages(deps_for(settings()), ctx, sender)
    typer.echo(json.dumps([{**vars(row), "received_at": row.received_at.isoformat()} for row in rows],
                          indent=2))


@app.command("devices")
def devices() -> None:
    """Monitors with the time of their last message; DEVICE-SILENT after twice the interval."""
    from infusionist.domain.access import Role
    from infusionist.domain.records import Actor, Context
    from infusionist.services.device_vitals import list_devices

    ctx = Context(Actor(0, SYSTEM, "Command line", Role.ADMIN), "cli")
    with reported_errors():
        views = list_devices(deps_for(settings()), ctx)
    typer.echo(json.dumps([v.model_dump(mode="json") for v in views], indent=2))
