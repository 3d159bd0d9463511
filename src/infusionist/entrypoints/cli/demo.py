"""``infusionist demo``: a fresh demo unit in a temporary data directory, served at once.

FastAPI, uvicorn and SQLAlchemy are imported inside the command so ``infusionist --help`` stays fast.
"""

from __future__ import annotations

import shutil
import signal
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from infusionist.entrypoints.cli.errors import fail, reported_errors

if TYPE_CHECKING:
    from infusionist.config import Settings
    from infusionist.services.deps import Deps


def demo_command(
    host: Annotated[str, typer.Option("--host", help="Interface to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option("--port", help="TCP port.")] = 8000,
    data_dir: Annotated[Path | None, typer.Option(
        "--data-dir", help="An empty directory for the demo database (default: a new temporary one)."),
    ] = None,
    timezone: Annotated[str, typer.Option("--timezone", help="The demo centre's IANA time zone.")]
    = "Europe/Berlin",
    build_only: Annotated[bool, typer.Option("--build-only", help="Create the database, do not serve.")]
    = False,
    hl7_port: Annotated[int, typer.Option("--hl7-port", help="MLLP port for monitors' HL7 (docs/hl7.md).")]
    = 2575,
) -> None:
    """Create a demo unit (users nurse, physician, investigator, admin; password demo) and serve it."""
    from infusionist.bootstrap import build
    from infusionist.config import Settings
    from infusionist.services.demo import build_demo_unit

    temporary = data_dir is None
    directory = data_dir if data_dir is not None else Path(tempfile.mkdtemp(prefix="infusionist-demo-"))
    if (directory / "infusionist.db").exists():
        fail("DEMO-DATA-DIR", f"--data-dir: {directory} already holds a database; give an empty one.")
    settings = Settings(data_dir=directory, database_url=None)
    with reported_errors():
        deps = build(settings)
        unit = build_demo_unit(deps, timezone)
    typer.echo(f"Demo unit ready in {directory} ({len(unit.patients)} patients, time zone {timezone}).")
    if build_only:
        return  # the database is what was asked for: kept, even in a temporary folder
    # uvicorn re-raises the signal that stopped it once it has shut down; SIGTERM's default
    # action would end the process before the clean-up below, so it becomes SystemExit here.
    signal.signal(signal.SIGTERM, _exit_on_signal)
    try:
        _serve(settings, deps, host, port, hl7_port)
    except KeyboardInterrupt:
        pass
    finally:
        if temporary:  # the folder this command made: removed when the demo stops
            shutil.rmtree(directory, ignore_errors=True)
            typer.echo(f"Demo stopped; {directory} removed.")


def _exit_on_signal(signum: int, _frame: object) -> None:
    raise SystemExit(128 + signum)


def _serve(settings: Settings, deps: Deps, host: str, port: int, hl7_port: int) -> None:
    from infusionist.services.demo import DEMO_PASSWORD, DEMO_USERS

    typer.echo(f"\n  Open http://{host}:{port}/ in a browser and log in as one of:")
    for username, full_name, role in DEMO_USERS:
        typer.echo(f"    {username:<13} ({role.value}, {full_name})")
    from infusionist.entrypoints.hl7.listener import limits_of, start_in_background

    bound = start_in_background(deps, host, hl7_port, limits=limits_of(settings))
    typer.echo(f"  HL7 vital signs (MLLP) on {host}:{bound}: "
               f"mllp_send --loose --file examples/oru-demo.hl7 --port {bound} {host}")
    typer.echo(f"  Password for every demo user: {DEMO_PASSWORD}\n  Stop with Ctrl+C.\n")
    import uvicorn

    from infusionist.entrypoints.heap import freeze_startup_heap
    from infusionist.entrypoints.web import create_app

    app = create_app(settings, deps=deps)
    freeze_startup_heap()
    uvicorn.run(app, host=host, port=port, log_level="warning")
