"""FHIR export in the Bulk Data format: one NDJSON file per resource type and a manifest.

Follows the output of the HL7 FHIR Bulk Data Access IG (2.0.0): ``<Type>.ndjson`` holds one
resource per line (compact JSON, UTF-8, ``\\n``-terminated), and ``manifest.json`` is the IG's
completion manifest (``transactionTime``, ``request``, ``requiresAccessToken``,
``output: [{type, url, count}]``, ``error: []``). The resources are the same as in the
per-patient Bundles, with references of the form ``<Type>/<id>`` (``Patient/...``,
``CarePlan/...``, ``MedicationAdministration/...``), each of which resolves to a resource of the
export. Streamed: every resource is written as it is built, one patient at a time.

Where the IG assumes a server, a file export decides (docs/analytics.md): ``url`` is the file's
absolute ``file://`` URL; ``request`` names the system-level ``$export`` of the study the
export answers (``urn:infusionist:<study>/$export``); ``requiresAccessToken`` is false (the
files are read directly, no token); ``transactionTime`` is the time of the export.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterable
from datetime import datetime
from pathlib import Path
from typing import IO, Any
from urllib.parse import quote

from infusionist.adapters.fhir.resources import PatientResources, instant

MANIFEST = "manifest.json"
_compact = json.JSONEncoder(separators=(",", ":"), ensure_ascii=False).encode


def write_ndjson(
    patients: Iterable[PatientResources], out_dir: Path, study_id: str, assembled: datetime
) -> dict[str, int]:
    """Write ``<Type>.ndjson`` per resource type and ``manifest.json``; returns the counts by type."""
    out_dir.mkdir(parents=True, exist_ok=True)
    files: dict[str, IO[str]] = {}
    counts: Counter[str] = Counter()
    try:
        for patient in patients:
            for _url, resource in patient.entries():
                kind = resource["resourceType"]
                out = files.get(kind)
                if out is None:
                    out = files[kind] = (out_dir / f"{kind}.ndjson").open(
                        "w", encoding="utf-8", newline="\n", buffering=1 << 20
                    )
                out.write(_compact(resource) + "\n")
                counts[kind] += 1
    finally:
        for out in files.values():
            out.close()
    (out_dir / MANIFEST).write_text(
        json.dumps(manifest(out_dir, study_id, assembled, counts), indent=2) + "\n", encoding="utf-8"
    )
    return dict(counts)


def manifest(out_dir: Path, study_id: str, assembled: datetime, counts: Counter[str]) -> dict[str, Any]:
    """The Bulk Data completion manifest of the files in ``out_dir``."""
    return {
        "transactionTime": instant(assembled),
        "request": f"urn:infusionist:{quote(study_id, safe='')}/$export",
        "requiresAccessToken": False,
        "output": [
            {"type": kind, "url": (out_dir / f"{kind}.ndjson").resolve().as_uri(), "count": n}
            for kind, n in counts.items()
        ],
        "error": [],
    }
