"""SDTM domains DM, EX, AE, VS, CM from the analytics snapshot, written as SAS XPT v5 and CSV.

Read from the Parquet snapshot (``analytics/snapshot.py``), so the export sees exactly what the
report sees. Investigator data are pseudonymised: USUBJID is ``STUDYID-pseudonym``, no names, no
birth dates (DM carries AGE at the first infusion). Times are UTC, ISO 8601 without offset.
XPT is written by pyreadstat (``write_xport(..., file_format_version=5)``), never by hand.

Every record comes from the domain's reading of the day (``domain/day_reading.py``, stored in the
snapshot): corrections applied, withdrawn entries absent.

- EX: one record per constant-rate segment of an infusion: a new record starts at every rate
  change, pause, restart and stop; EXDOSE is the infusion drug given in the segment, from the
  reading's exact volume and the volume and dose actually prepared (C-11).
- AE: one record per reaction in force, with AEDECOD and AETOXGR from the bedside's CTCAE grading,
  AESER from the protocol's severe grade (``reactions.severe_from_grade``), AEACN from what the
  pump did next.
- VS: one record per vital sign per reading; VSTPTREF is the day's infusion start, VSELTM the
  ISO 8601 duration from it (negative before the start), VSRFTDTC its time.
- CM: premedications (CMCAT PREMEDICATION) and reaction treatment (CMCAT RESCUE MEDICATION).
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from infusionist.adapters.snapshot_days import EventRow, ReactionRow, SegmentRow, SnapshotDay
from infusionist.domain.protocol import Protocol
from infusionist.domain.units import format_decimal

DOMAINS = ("DM", "EX", "AE", "VS", "CM")


def arm(protocol: Protocol) -> tuple[str, str]:
    """(ARMCD, ARM) from the protocol's infusion: the first 4 letters of its name and the dose
    (``XXXX12``), the name and the daily dose (``Xxxxxx 12 mg/day``)."""
    infusion = protocol.infusion
    dose = f"{format_decimal(infusion.dose.value)}"
    name = infusion.name[:1].upper() + infusion.name[1:]
    return (infusion.name[:4].upper() + dose)[:8], f"{name} {dose} {infusion.dose.unit}/day"

ROUTES = {"iv": "INTRAVENOUS", "im": "INTRAMUSCULAR", "po": "ORAL", "oral": "ORAL", "sc": "SUBCUTANEOUS",
          "inhaled": "RESPIRATORY (INHALATION)"}  # CDISC ROUTE codelist C66729
VITALS = (
    ("temperature_c", "TEMP", "Temperature", "C"),
    ("heart_rate_bpm", "PULSE", "Pulse Rate", "beats/min"),
    ("systolic_mmhg", "SYSBP", "Systolic Blood Pressure", "mmHg"),
    ("diastolic_mmhg", "DIABP", "Diastolic Blood Pressure", "mmHg"),
    ("respiratory_rate_per_min", "RESP", "Respiratory Rate", "breaths/min"),
    ("spo2_percent", "OXYSAT", "Oxygen Saturation", "%"),
)
# EXADJ by the entry that set the segment's rate
ADJUSTMENTS = {"resumed": "INFUSION REACTION: RESTARTED AT REDUCED RATE", "rate_changed": "RATE CHANGE"}
# AEACN by what the pump did after the reaction's onset (``domain/day_reading.PumpAfterReaction``)
ACTIONS = {"stopped": "DRUG INTERRUPTED", "rate_reduced": "DOSE RATE REDUCED",
           "interrupted": "DRUG INTERRUPTED", "not_applicable": "NOT APPLICABLE",
           "unchanged": "DOSE NOT CHANGED"}
LABELS = {
    "STUDYID": "Study Identifier",
    "DOMAIN": "Domain Abbreviation",
    "USUBJID": "Unique Subject Identifier",
    "SUBJID": "Subject Identifier for the Study",
    "RFSTDTC": "Subject Reference Start Date/Time",
    "RFENDTC": "Subject Reference End Date/Time",
    "RFXSTDTC": "Date/Time of First Study Treatment",
    "RFXENDTC": "Date/Time of Last Study Treatment",
    "SITEID": "Study Site Identifier",
    "AGE": "Age",
    "AGEU": "Age Units",
    "SEX": "Sex",
    "ARMCD": "Planned Arm Code",
    "ARM": "Description of Planned Arm",
    "ACTARMCD": "Actual Arm Code",
    "ACTARM": "Description of Actual Arm",
    "COUNTRY": "Country",
    "EXSEQ": "Sequence Number",
    "EXTRT": "Name of Treatment",
    "EXDOSE": "Dose",
    "EXDOSU": "Dose Units",
    "EXDOSFRM": "Dose Form",
    "EXROUTE": "Route of Administration",
    "EXADJ": "Reason for Dose Adjustment",
    "EXSTDTC": "Start Date/Time of Treatment",
    "EXENDTC": "End Date/Time of Treatment",
    "VISITNUM": "Visit Number",
    "VISIT": "Visit Name",
    "AESEQ": "Sequence Number",
    "AETERM": "Reported Term for the Adverse Event",
    "AEDECOD": "Dictionary-Derived Term",
    "AETOXGR": "Standard Toxicity Grade",
    "AESER": "Serious Event",
    "AEACN": "Action Taken with Study Treatment",
    "AESTDTC": "Start Date/Time of Adverse Event",
    "AESTDY": "Study Day of Start of Adverse Event",
    "VSSEQ": "Sequence Number",
    "VSTESTCD": "Vital Signs Test Short Name",
    "VSTEST": "Vital Signs Test Name",
    "VSORRES": "Result or Finding in Original Units",
    "VSORRESU": "Original Units",
    "VSSTRESC": "Character Result/Finding in Std Format",
    "VSSTRESN": "Numeric Result/Finding in Standard Units",
    "VSSTRESU": "Standard Units",
    "VSDTC": "Date/Time of Measurements",
    "VSTPT": "Planned Time Point Name",
    "VSTPTREF": "Time Point Reference",
    "VSRFTDTC": "Date/Time of Reference Time Point",
    "VSELTM": "Planned Elapsed Time from Time Point Ref",
    "CMSEQ": "Sequence Number",
    "CMTRT": "Reported Name of Drug, Med, or Therapy",
    "CMCAT": "Category for Medication",
    "CMINDC": "Indication",
    "CMDOSE": "Dose per Administration",
    "CMDOSU": "Dose Units",
    "CMROUTE": "Route of Administration",
    "CMSTDTC": "Start Date/Time of Medication",
}


def dtc(at: datetime) -> str:
    """``2024-07-08T06:10`` (the snapshot's times are UTC)."""
    return at.isoformat()[:16]


def duration(delta: timedelta) -> str:
    """ISO 8601 duration in minutes, signed: ``PT45M``, ``-PT70M``, ``PT0M``."""
    minutes = round(delta.total_seconds() / 60)
    sign = "-" if minutes < 0 else ""
    hours, rest = divmod(abs(minutes), 60)
    return f"{sign}PT{hours}H{rest}M" if hours else f"{sign}PT{rest}M"


def build(
    snapshot: Path, protocol: Protocol, study_id: str, country: str = "DEU"
) -> dict[str, list[dict[str, Any]]]:
    """The five domains as lists of records (one dict per row, SDTM variable names)."""
    from infusionist.adapters.snapshot_days import snapshot_patients

    dm: list[dict[str, Any]] = []
    ex: list[dict[str, Any]] = []
    ae: list[dict[str, Any]] = []
    vs: list[dict[str, Any]] = []
    cm: list[dict[str, Any]] = []
    for record in snapshot_patients(snapshot):
        p = record.patient
        usubjid = f"{study_id}-{p.pseudonym}"
        subject = {"STUDYID": study_id, "USUBJID": usubjid}
        first = last = None
        for day in record.days:
            visit = {"VISITNUM": day.course * 100 + day.day, "VISIT": f"COURSE {day.course} DAY {day.day}"}
            segments = _segments(day, protocol)
            if segments:
                first = first or segments[0]["EXSTDTC"]
                last = segments[-1]["EXENDTC"]
            _extend(ex, "EX", subject, visit, segments)
            _extend(ae, "AE", subject, visit, (adverse_event(r, day.last_of_course) for r in day.reactions))
            _extend(cm, "CM", subject, visit, _medications(day.events))
            _extend(vs, "VS", subject, visit, _vitals(day.events, day.infusion_start))
        if first is not None:
            birth = p.birth_date
            first_day = datetime.fromisoformat(first).date()
            age = first_day.year - birth.year - ((first_day.month, first_day.day) < (birth.month, birth.day))
            dm.append(
                {
                    "STUDYID": study_id,
                    "DOMAIN": "DM",
                    "USUBJID": usubjid,
                    "SUBJID": p.pseudonym,
                    "RFSTDTC": first,
                    "RFENDTC": last,
                    "RFXSTDTC": first,
                    "RFXENDTC": last,
                    "SITEID": p.centre_id,
                    "AGE": age,
                    "AGEU": "YEARS",
                    "SEX": {"female": "F", "male": "M"}.get(p.sex, "U"),
                    "ARMCD": arm(protocol)[0],
                    "ARM": arm(protocol)[1],
                    "ACTARMCD": arm(protocol)[0],
                    "ACTARM": arm(protocol)[1],
                    "COUNTRY": country,
                }
            )
    return {"DM": dm, "EX": ex, "AE": ae, "VS": vs, "CM": cm}


def _extend(
    out: list[dict[str, Any]],
    domain: str,
    subject: dict[str, Any],
    visit: dict[str, Any],
    records: Iterable[dict[str, Any]],
) -> None:
    """Append a subject's records with STUDYID, DOMAIN, USUBJID, --SEQ (1, 2, ... per subject) first."""
    key = f"{domain}SEQ"
    seq = out[-1][key] if out and out[-1]["USUBJID"] == subject["USUBJID"] else 0
    for values in records:
        seq += 1
        out.append({"STUDYID": subject["STUDYID"], "DOMAIN": domain, "USUBJID": subject["USUBJID"],
                    key: seq, **values, **visit})


def given_segments(day: SnapshotDay) -> list[SegmentRow]:
    """The day's rate segments that ended (a stretch still running has no end to report yet)."""
    return [s for s in day.segments if s.ended_by is not None]


def adjustment(segment: SegmentRow) -> str:
    """EXADJ: why the rate was set (empty for the start)."""
    return ADJUSTMENTS.get(segment.started_by, "")


def _segments(day: SnapshotDay, protocol: Protocol) -> list[dict[str, Any]]:
    return [
        {
            "EXTRT": protocol.infusion.name.upper(),
            "EXDOSE": round(float(s.dose_mg), 3),
            "EXDOSU": "mg",
            "EXDOSFRM": "SOLUTION",
            "EXROUTE": "INTRAVENOUS",
            "EXADJ": adjustment(s),
            "EXSTDTC": dtc(s.start),
            "EXENDTC": dtc(s.end),
        }
        for s in given_segments(day)
    ]


def adverse_event(reaction: ReactionRow, last_day: bool) -> dict[str, Any]:
    """The AE record of a reaction in force: term and grade as the bedside graded it, AESER from
    the protocol's severe grade (``reactions.severe_from_grade``), AEACN from what the pump did."""
    action = ACTIONS[reaction.pump_after]
    if reaction.pump_after == "stopped" and reaction.term == "Anaphylaxis" and last_day:
        action = "DRUG WITHDRAWN"
    return {
        "AETERM": ", ".join(reaction.symptoms or ()).upper() or "INFUSION RELATED REACTION",
        "AEDECOD": reaction.term or "Infusion related reaction",
        "AETOXGR": "" if reaction.grade is None else str(reaction.grade),
        "AESER": "Y" if reaction.severe else "N",
        "AEACN": action,
        "AESTDTC": dtc(reaction.at),
    }


def _medications(events: list[EventRow]) -> Iterable[dict[str, Any]]:
    for e in events:
        if e.type not in {"premedication_given", "medication_given"}:
            continue
        premed = e.type == "premedication_given"
        yield {
            "CMTRT": (e.name or "").upper(),
            "CMCAT": "PREMEDICATION" if premed else "RESCUE MEDICATION",
            "CMINDC": "PREVENTION OF INFUSION REACTION" if premed else "INFUSION RELATED REACTION",
            "CMDOSE": e.dose_value,
            "CMDOSU": e.dose_unit or "",
            "CMROUTE": ROUTES.get((e.route or "").lower(), (e.route or "").upper()),
            "CMSTDTC": dtc(e.at),
        }


def _vitals(events: list[EventRow], start: datetime | None) -> Iterable[dict[str, Any]]:
    reference = "" if start is None else dtc(start)
    for e in events:
        if e.type != "vital_signs":
            continue
        timing: dict[str, Any] = {"VSTPT": "", "VSTPTREF": "", "VSRFTDTC": "", "VSELTM": ""}
        if start is not None:
            elapsed = e.at - start
            timing = {
                "VSTPT": "PRE-INFUSION"
                if elapsed < timedelta(0)
                else f"{round(elapsed.total_seconds() / 60)} MIN",
                "VSTPTREF": "INFUSION START",
                "VSRFTDTC": reference,
                "VSELTM": duration(elapsed),
            }
        at = dtc(e.at)
        for field, code, test, unit in VITALS:
            value = getattr(e, field)
            if value is None:
                continue
            text = f"{value:g}"
            yield {
                "VSTESTCD": code,
                "VSTEST": test,
                "VSORRES": text,
                "VSORRESU": unit,
                "VSSTRESC": text,
                "VSSTRESN": value,
                "VSSTRESU": unit,
                "VSDTC": at,
                **timing,
            }


def frames(domains: dict[str, list[dict[str, Any]]]) -> dict[str, Any]:
    """Each domain as a pandas DataFrame, columns in the records' order."""
    import pandas as pd

    return {name: pd.DataFrame.from_records(records) for name, records in domains.items()}


def write(domains: dict[str, list[dict[str, Any]]], out_dir: Path) -> list[Path]:
    """Each domain as ``xx.xpt`` (SAS XPORT v5, pyreadstat) and ``xx.csv``; returns the paths."""
    return write_frames(frames(domains), out_dir)


def write_frames(tables: dict[str, Any], out_dir: Path) -> list[Path]:
    import duckdb
    import pyreadstat

    out_dir.mkdir(parents=True, exist_ok=True)
    written = []
    for name, frame in tables.items():
        xpt, csv = out_dir / f"{name.lower()}.xpt", out_dir / f"{name.lower()}.csv"
        pyreadstat.write_xport(
            frame,
            str(xpt),
            file_label=name,
            table_name=name,
            file_format_version=5,
            column_labels={c: LABELS.get(c, c)[:40] for c in frame.columns},
        )
        # DuckDB's CSV writer (a fraction of pandas' time): quotes only the values that need it
        duckdb.from_df(frame).write_csv(str(csv))
        written += [xpt, csv]
    return written


def export_sdtm(
    snapshot: Path, protocol: Protocol, out_dir: Path, study_id: str, country: str = "DEU"
) -> tuple[dict[str, int], list[tuple[str, str, str]]]:
    """Build, check and write the five domains; returns rows per domain and the findings."""
    from infusionist.adapters.cdisc.conformance import check_frames

    tables = frames(build(snapshot, protocol, study_id, country))
    findings = check_frames(tables)
    write_frames(tables, out_dir)
    return {name: len(frame) for name, frame in tables.items()}, findings
