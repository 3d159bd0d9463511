"""``infusionist export sdtm|fhir DIR``: the trial record as submission datasets or FHIR (Bulk Data NDJSON
or Bundles)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from infusionist.entrypoints.cli.errors import fail, reported_errors
from infusionist.entrypoints.cli.trial_source import trial_snapshot

app = typer.Typer(help="Exports of the trial record (CDISC SDTM, HL7 FHIR R4).", no_args_is_help=True)


@app.command("sdtm")
def sdtm_command(
    out_dir: Annotated[Path, typer.Argument(help="Directory for the .xpt and .csv files.")],
    study_id: Annotated[str, typer.Option("--study", help="STUDYID of every record.")] = "INFUSIONIST",
    country: Annotated[str, typer.Option("--country", help="DM COUNTRY (ISO 3166-1 alpha-3).")] = "DEU",
    snapshot: Annotated[
        Path | None,
        typer.Option("--snapshot", help="An existing snapshot directory (default: export the database now)."),
    ] = None,
) -> None:
    """DM, EX, AE, VS and CM as SAS XPT v5 and CSV, pseudonymised, checked for conformance."""
    from infusionist.adapters.cdisc.sdtm import export_sdtm

    with reported_errors(), trial_snapshot(snapshot) as (deps, source):
        counts, findings = export_sdtm(source, deps.protocol, out_dir, study_id, country)
    typer.echo(", ".join(f"{name} {n}" for name, n in counts.items()) + f" records in {out_dir}.")
    for domain, rule, message in findings[:50]:
        typer.echo(f"{domain} [{rule}] {message}", err=True)
    if findings:
        fail("SDTM-CONFORMANCE", f"{len(findings)} conformance findings (first 50 above).")


@app.command("fhir")
def fhir_command(
    out_dir: Annotated[Path, typer.Argument(help="Directory for the NDJSON files (or the Bundles).")],
    output_format: Annotated[
        str,
        typer.Option(
            "--format",
            help="ndjson (default): FHIR Bulk Data, one <Type>.ndjson per resource type and manifest.json; "
            "bundle: one <pseudonym>.json Bundle per patient.",
        ),
    ] = "ndjson",
    study_id: Annotated[str, typer.Option("--study", help="Study the pseudonyms belong to.")] = "INFUSIONIST",
    snapshot: Annotated[
        Path | None,
        typer.Option("--snapshot", help="An existing snapshot directory (default: export the database now)."),
    ] = None,
) -> None:
    """Patient, CarePlan, MedicationAdministration, Observation, AdverseEvent as FHIR R4."""
    from infusionist.adapters.fhir.export import FORMATS, export_fhir

    if output_format not in FORMATS:
        fail("INPUT-FORMAT", f"--format: {output_format!r} is not one of {', '.join(FORMATS)}.")
    with reported_errors(), trial_snapshot(snapshot) as (deps, source):
        counts = export_fhir(source, deps.protocol, out_dir, study_id,
                             "bundle" if output_format == "bundle" else "ndjson")
    typer.echo(", ".join(f"{name} {n}" for name, n in counts.items()) + f" in {out_dir}.")
