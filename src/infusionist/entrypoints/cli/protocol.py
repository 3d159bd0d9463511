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


@app.command("list")
def list_protocols() -> None:
    """List the protocols the product has: id, version, title, status and release state."""
    from infusionist.adapters.protocol_files import (
        bundled_protocol_ids,
        bundled_protocol_path,
        inspect_protocol,
    )

    with reported_errors():
        loaded = [inspect_protocol(bundled_protocol_path(i)) for i in bundled_protocol_ids()]
    for item in loaded:
        protocol = item.protocol
        typer.echo(f"{protocol.id}\t{protocol.version}\t{protocol.status}\t{item.status}\t"
                   f"{protocol.title}")


@app.command("validate")
def validate(file: Annotated[Path, typer.Argument(help="Protocol YAML file to check.")]) -> None:
    """Check a protocol file: schema, release record, drug library; exit 2 if it is refused."""
    from infusionist.adapters.protocol_files import inspect_protocol

    with reported_errors():
        loaded = inspect_protocol(file)
    protocol = loaded.protocol
    typer.echo(
        f"{file}: valid protocol {protocol.id} {protocol.version} "
        f"({len(protocol.all_elements())} elements, "
        f"{len(protocol.requirement_ids())} requirement IDs)"
    )
    typer.echo(f"content digest {loaded.digest} ({loaded.status})")
    for finding in loaded.warnings:
        refs = f" [{', '.join(finding.requirements)}]" if finding.requirements else ""
        typer.echo(f"warning: {finding.message}{refs}")


@app.command("digest")
def digest(
    file: Annotated[Path | None, typer.Argument(help="Protocol YAML (default: the bundled one).")]
    = None,
) -> None:
    """Print the SHA-256 digest of a protocol's canonical content (for the release record)."""
    from infusionist.adapters.protocol_files import read_protocol
    from infusionist.domain.protocol_identity import protocol_digest

    with reported_errors():
        protocol = read_protocol(file)
    typer.echo(f"{protocol.id} {protocol.version} {protocol_digest(protocol)}")


@app.command("schema")
def schema() -> None:
    """Print the JSON Schema of the protocol format."""
    from infusionist.domain.protocol import Protocol

    typer.echo(json.dumps(Protocol.model_json_schema(), indent=2))
