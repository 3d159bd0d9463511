"""FHIR export as one Bundle (type ``collection``) per patient: ``<pseudonym>.json``.

Each Bundle is written entry by entry as compact JSON (``resources.PatientResources``), with
``urn:uuid:`` full URLs and references, so every reference resolves inside its Bundle.
``Bundle.timestamp`` is the time of the export; everything else is the same for the same snapshot.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterable
from datetime import datetime
from pathlib import Path

from infusionist.adapters.fhir.resources import PatientResources, bundle_header

_compact = json.JSONEncoder(separators=(",", ":"), ensure_ascii=False).encode


def write_bundles(patients: Iterable[PatientResources], out_dir: Path, assembled: datetime) -> dict[str, int]:
    """Write ``<pseudonym>.json`` per patient; returns the number of Bundles and resources by type."""
    out_dir.mkdir(parents=True, exist_ok=True)
    counts: Counter[str] = Counter()
    for patient in patients:
        header = _compact(bundle_header(patient, assembled))
        with (out_dir / f"{patient.pseudonym}.json").open("w", encoding="utf-8") as out:
            out.write(header[:-1] + ',"entry":[')
            for i, (url, resource) in enumerate(patient.entries()):
                out.write(("," if i else "") + '{"fullUrl":' + _compact(url) + ',"resource":'
                          + _compact(resource) + "}")
                counts[resource["resourceType"]] += 1
            out.write("]}\n")
        counts["Bundle"] += 1
    return {"Bundle": counts.pop("Bundle", 0), **counts}
