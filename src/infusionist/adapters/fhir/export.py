"""``export_fhir``: the trial record as FHIR, in the Bulk Data format (default) or as Bundles."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Literal

from infusionist.adapters.fhir.bulk import write_ndjson
from infusionist.adapters.fhir.bundle import write_bundles
from infusionist.adapters.fhir.resources import patient_resources
from infusionist.adapters.snapshot_days import snapshot_patients
from infusionist.domain.protocol import Protocol

Format = Literal["ndjson", "bundle"]
FORMATS: tuple[Format, ...] = ("ndjson", "bundle")
DEFAULT_FORMAT: Format = "ndjson"


def export_fhir(
    snapshot: Path,
    protocol: Protocol,
    out_dir: Path,
    study_id: str,
    output_format: Format = DEFAULT_FORMAT,
    assembled: datetime | None = None,
) -> dict[str, int]:
    """Write the export into ``out_dir``; returns the number of resources by type (and Bundles)."""
    at = assembled or datetime.now(UTC)
    records = snapshot_patients(snapshot)
    if output_format == "bundle":
        return write_bundles(patient_resources(records, protocol, study_id, "urn"), out_dir, at)
    return write_ndjson(patient_resources(records, protocol, study_id, "relative"), out_dir, study_id, at)
