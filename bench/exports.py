"""The exports (FHIR Bulk NDJSON, FHIR Bundles, SDTM) and the IAR report of a synthetic trial,
beside a plain JSON-lines baseline and the FHIR export as it was before, all in the same run.

Usage: .venv/bin/python bench/exports.py [--patients N] [--seed S] [--before-patients B]
       [--snapshot DIR] [--keep DIR]

Generates the Parquet snapshot of an N-patient synthetic trial (``synthetic_snapshot``, default
1,000 patients, seed 7: the trial of ``infusionist synth --patients 1000 --seed 7``), or reuses
``--snapshot DIR``, then times each step once (wall and CPU time of this process):

- **baseline**: the snapshot's event rows read the exports' way (``snapshot_days``, one patient
  at a time) and written as plain JSON lines, one row per line: the floor for reading and
  serialising the same record;
- **FHIR NDJSON** (``export_fhir(..., "ndjson")``, the default of ``infusionist export fhir``)
  and **FHIR Bundles** (``"bundle"``);
- **FHIR before**: the export as it was until this change (every Bundle built into the
  ``fhir.resources`` models, validated, written pretty-printed with ``model_dump_json(indent=1)``
  and parsed again to count), on the first B patients only (default 20; at ~0.4 s a patient the
  whole trial would take minutes);
- **SDTM** (``export_sdtm``: build, conformance checks, XPT v5 and CSV) and the **IAR report**
  (``analytics.iar.compute``).

``--scratch /dev/shm`` writes the outputs to memory, to time the exports without the disk
(the FHIR output of 1,000 patients is about 0.7 GB per format). Prints milliseconds per patient,
the ratio to the baseline and, for FHIR, the speed-up against the old path per patient. The
snapshot of a stored trial (``infusionist export ...`` without ``--snapshot``) adds the database
read (``export_snapshot``), not timed here.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import shutil
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime
from itertools import islice
from pathlib import Path
from typing import Any

from infusionist.adapters.cdisc.sdtm import export_sdtm
from infusionist.adapters.fhir.export import export_fhir
from infusionist.adapters.fhir.resources import bundle_dict, patient_resources
from infusionist.adapters.protocol_files import load_protocol
from infusionist.adapters.snapshot_days import EventRow, snapshot_patients
from infusionist.analytics.iar import compute
from infusionist.analytics.snapshot import synthetic_snapshot
from infusionist.domain.protocol import Protocol

STUDY = "BENCH"


def timed(fn: Callable[[], Any]) -> tuple[float, float, Any]:
    """(wall seconds, CPU seconds of this process, result)."""
    wall, cpu = time.perf_counter(), time.process_time()
    result = fn()
    return time.perf_counter() - wall, time.process_time() - cpu, result


def baseline(snapshot: Path, out: Path) -> int:
    """The event rows as plain JSON lines, read one patient at a time like the exports."""
    rows = 0
    names = [f.name for f in dataclasses.fields(EventRow)]
    with out.open("w", encoding="utf-8") as f:
        for record in snapshot_patients(snapshot):
            for day in record.days:
                for row in day.events:
                    f.write(json.dumps({n: getattr(row, n) for n in names}, default=str) + "\n")
                    rows += 1
    return rows


def fhir_before(snapshot: Path, protocol: Protocol, out_dir: Path, patients: int) -> int:
    """The old export path for the first ``patients`` patients: models, validation, indent=1."""
    from fhir.resources.R4B.bundle import Bundle

    out_dir.mkdir(parents=True, exist_ok=True)
    resources = 0
    assembled = datetime.now(UTC)
    for patient in islice(patient_resources(snapshot_patients(snapshot), protocol, STUDY), patients):
        text = Bundle.model_validate(bundle_dict(patient, assembled)).model_dump_json(indent=1)
        (out_dir / f"{patient.pseudonym}.json").write_text(text + "\n", encoding="utf-8")
        resources += len(json.loads(text)["entry"])
    return resources


def size(path: Path) -> str:
    files = [p for p in path.rglob("*") if p.is_file()] if path.is_dir() else [path]
    total = sum(p.stat().st_size for p in files)
    return f"{total / 1e6:.0f} MB"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--patients", type=int, default=1000)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--before-patients", type=int, default=20)
    parser.add_argument("--snapshot", type=Path, help="reuse this snapshot instead of generating one")
    parser.add_argument("--keep", type=Path, help="keep the generated snapshot in this directory")
    parser.add_argument("--scratch", type=Path, help="write the outputs under this directory "
                        "(e.g. /dev/shm, to time without the disk; default: the system's temp dir)")
    args = parser.parse_args()
    protocol = load_protocol()
    scratch = Path(tempfile.mkdtemp(prefix="bench-exports-", dir=args.scratch))
    try:
        snapshot = args.snapshot
        if snapshot is None:
            snapshot = args.keep or scratch / "snapshot"
            took, _, _ = timed(lambda: synthetic_snapshot(protocol, args.seed, args.patients, snapshot))
            print(f"generated {args.patients:,} patients (seed {args.seed}) in {took:.0f} s")
        import pyarrow.parquet as pq

        patients = pq.read_metadata(snapshot / "patients.parquet").num_rows
        events = pq.read_metadata(snapshot / "events.parquet").num_rows
        print(f"snapshot: {patients:,} patients, {events:,} events")

        steps: list[tuple[str, int, float, float, str]] = []

        def step(label: str, n: int, fn: Callable[[], Any], out: Path) -> Any:
            wall, cpu, result = timed(fn)
            steps.append((label, n, wall, cpu, size(out)))
            print(f"  {label}: {wall:.2f} s wall, {cpu:.2f} s CPU", flush=True)
            return result

        step("baseline: event rows as JSON lines", patients,
             lambda: baseline(snapshot, scratch / "rows.jsonl"), scratch / "rows.jsonl")
        resources: dict[str, int] = {}
        for fmt, label in (("ndjson", "FHIR Bulk NDJSON"), ("bundle", "FHIR Bundles")):
            out = scratch / fmt
            counts = step(label, patients,
                          lambda out=out, fmt=fmt: export_fhir(snapshot, protocol, out, STUDY, fmt), out)
            resources[label] = sum(n for kind, n in counts.items() if kind != "Bundle")
            shutil.rmtree(out)  # 0.7 GB each
        before = min(args.before_patients, patients)
        resources["before"] = step(
            f"FHIR before (first {before} patients)", before,
            lambda: fhir_before(snapshot, protocol, scratch / "before", before), scratch / "before")
        step("SDTM (build, check, XPT + CSV)", patients,
             lambda: export_sdtm(snapshot, protocol, scratch / "sdtm", STUDY), scratch / "sdtm")
        step("IAR report (DuckDB)", patients, lambda: compute(snapshot, protocol), snapshot)

        base = steps[0][2] / patients
        old = next(s for s in steps if s[0].startswith("FHIR before"))
        old_per = old[2] / old[1]
        print(f"\n{'step':40s} {'wall s':>8s} {'CPU s':>7s} {'ms/patient':>11s} {'x baseline':>10s}  output")
        for label, n, wall, cpu, written in steps:
            per = wall / n
            print(f"{label:40s} {wall:8.2f} {cpu:7.2f} {1000 * per:11.1f} {per / base:10.1f}  {written}")
        for label, n, wall, cpu, _out in steps[1:3]:
            print(f"{label}: {old_per / (wall / n):.0f}x faster per patient than before (wall), "
                  f"{(old[3] / old[1]) / (cpu / n):.0f}x (CPU); {resources[label] / cpu:,.0f} resources "
                  f"per CPU second against {resources['before'] / old[3]:,.0f} before")
        return 0
    finally:
        shutil.rmtree(scratch, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
