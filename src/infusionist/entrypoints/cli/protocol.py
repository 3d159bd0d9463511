"""``infusionist protocol``: show, validate and export the schema of protocol files."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer

from infusionist.entrypoints.cli.errors import reported_errors

app = typer.Typer(help="Show and validate protocol files.", no_args_is_help=True)

ProtocolFile = Annotated[
    Path | None, typer.Option("--protocol", help="Protocol YAML (default: the bundled one).")
]


@app.command("show")
def show(protocol_file: ProtocolFile = None) -> None:
    """Print the protocol: every step with its dose, timing and requirement IDs."""
    from infusionist.adapters.protocol_files import load_protocol
    from infusionist.entrypoints.cli.render import print_protocol

    with reported_errors():
        print_protocol(load_protocol(protocol_file))


@app.command("validate")
def validate(file: Annotated[Path, typer.Argument(help="Protocol YAML file to check.")]) -> None:
    """Check a protocol file against the schema; exit 2 with the problems if it is invalid."""
    from infusionist.adapters.protocol_files import load_protocol

    with reported_errors():
        protocol = load_protocol(file)
    typer.echo(
        f"{file}: valid protocol {protocol.id} {protocol.version} "
        f"({len(protocol.all_elements())} elements, "
        f"{len(protocol.requirement_ids())} requirement IDs)"
    )


@app.command("schema")
def schema() -> None:
    """Print the JSON Schema of the protocol format."""
    from infusionist.domain.protocol import Protocol

    typer.echo(json.dumps(Protocol.model_json_schema(), indent=2))
