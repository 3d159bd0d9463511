"""The project's own SDTM conformance checks (CDISC CORE cannot run here).

``check(domains)`` returns findings as ``(domain, rule, message)``; an empty list means the
export passes. Rules: the required variables of each domain (SDTMIG 3.4 "Req"), XPT v5 names
(at most 8 characters, upper case), ISO 8601 date/times in every ``--DTC`` variable and ISO 8601
durations in ``--ELTM``, controlled terms for the coded variables used here, one STUDYID across
all domains, DOMAIN equal to the dataset name, and ``--SEQ`` unique per subject within a domain.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any

REQUIRED = {
    "DM": ("STUDYID", "DOMAIN", "USUBJID", "SUBJID", "SITEID", "SEX", "ARMCD", "ARM", "ACTARMCD", "ACTARM",
           "COUNTRY"),
    "EX": ("STUDYID", "DOMAIN", "USUBJID", "EXSEQ", "EXTRT", "EXSTDTC"),
    "AE": ("STUDYID", "DOMAIN", "USUBJID", "AESEQ", "AETERM", "AEDECOD"),
    "VS": ("STUDYID", "DOMAIN", "USUBJID", "VSSEQ", "VSTESTCD", "VSTEST"),
    "CM": ("STUDYID", "DOMAIN", "USUBJID", "CMSEQ", "CMTRT"),
}
TERMS = {
    "SEX": {"F", "M", "U", "UNDIFFERENTIATED"},
    "AGEU": {"YEARS", "MONTHS", "WEEKS", "DAYS"},
    "AESER": {"Y", "N"},
    "AEACN": {"DOSE INCREASED", "DOSE NOT CHANGED", "DOSE RATE REDUCED", "DOSE REDUCED", "DRUG INTERRUPTED",
              "DRUG WITHDRAWN", "NOT APPLICABLE", "UNKNOWN"},
    "AETOXGR": {"", "1", "2", "3", "4", "5"},
    "EXROUTE": {"INTRAVENOUS", "INTRAMUSCULAR", "ORAL", "SUBCUTANEOUS"},
    "CMROUTE": {"INTRAVENOUS", "INTRAMUSCULAR", "ORAL", "SUBCUTANEOUS", "RESPIRATORY (INHALATION)"},
    "EXDOSU": {"mg", "g"},
    "CMDOSU": {"mg", "g", "ug", "mL"},
    "VSTESTCD": {"TEMP", "PULSE", "SYSBP", "DIABP", "RESP", "OXYSAT", "HR", "WEIGHT", "HEIGHT"},
    "VSORRESU": {"C", "beats/min", "mmHg", "breaths/min", "%", "kg", "cm"},
    "VSSTRESU": {"C", "beats/min", "mmHg", "breaths/min", "%", "kg", "cm"},
}
ISO_DATETIME = re.compile(r"^\d{4}(-\d{2}(-\d{2}(T\d{2}(:\d{2}(:\d{2}(\.\d+)?)?)?)?)?)?$")
ISO_DURATION = re.compile(
    r"^-?P(?=\d|T\d)(\d+Y)?(\d+M)?(\d+W)?(\d+D)?(T(?=\d)(\d+H)?(\d+M)?(\d+(\.\d+)?S)?)?$"
)
NAME = re.compile(r"^[A-Z][A-Z0-9_]{0,7}$")

Finding = tuple[str, str, str]


def _valid_dtc(value: str) -> bool:
    if not ISO_DATETIME.match(value):
        return False
    from datetime import datetime

    try:
        datetime.fromisoformat(value if len(value) > 7 else f"{value}-01-01"[:10])
    except ValueError:
        return False
    return True


def check(domains: dict[str, list[dict[str, Any]]]) -> list[Finding]:
    """The findings for domains given as records (one dict per row)."""
    import pandas as pd

    return check_frames({name: pd.DataFrame.from_records(rows) for name, rows in domains.items()})


def check_frames(frames: dict[str, Any]) -> list[Finding]:
    """The findings for domains given as pandas DataFrames (what ``sdtm.write`` writes)."""
    findings: list[Finding] = []
    studies = {s for frame in frames.values() if "STUDYID" in frame for s in _distinct(frame["STUDYID"])}
    if len(studies) != 1:
        findings.append(("*", "one-studyid", f"expected one STUDYID, found {sorted(studies, key=str)}"))
    for name, frame in frames.items():
        findings += _domain(name, frame)
    return findings


def _distinct(column: Any) -> list[Any]:
    """A column's distinct values, a missing value (None, NaN) as None."""
    import pandas as pd

    return list(dict.fromkeys(None if pd.isna(v) else v for v in column.unique()))


def _domain(name: str, frame: Any) -> Iterable[Finding]:
    """Checked column by column: each distinct value once (VS has about 850 rows a patient, most
    values repeat); rows are named only when a value fails."""
    import pandas as pd

    variables = list(frame.columns)

    def where(i: int) -> str:
        usubjid = frame["USUBJID"].iat[i] if "USUBJID" in frame else None
        return f"row {i + 1} ({None if pd.isna(usubjid) else usubjid})"

    for v in sorted(variables):
        if not NAME.match(v):
            yield name, "name", f"{v}: not an XPT v5 variable name"
    for v in REQUIRED.get(name, ()):
        if v not in variables:
            yield name, "required", f"{v} is missing"
    if "DOMAIN" not in variables:
        for i in range(len(frame)):
            yield name, "domain", f"{where(i)}: DOMAIN None"
    for v in variables:
        column = frame[v]
        bad = {value: problem for value in _distinct(column) if (problem := _problem(name, v, value))}
        if bad:
            values = [None if pd.isna(x) else x for x in column]
            for i, value in enumerate(values):
                if value in bad:
                    yield name, bad[value][0], f"{where(i)}: {bad[value][1]}"
    key = f"{name}SEQ"
    if key in variables and "USUBJID" in variables:
        for i in frame.index[frame.duplicated(["USUBJID", key])]:
            yield name, "seq", f"{where(int(i))}: {key} {frame[key].iat[int(i)]} repeats for the subject"


def _problem(domain: str, v: str, value: Any) -> tuple[str, str] | None:
    """(rule, message) when ``value`` of variable ``v`` fails a check, else None."""
    if v in REQUIRED.get(domain, ()) and value in (None, ""):
        return "required", f"{v} is empty or missing"
    if v == "DOMAIN" and value != domain:
        return "domain", f"DOMAIN {value!r}"
    if v.endswith("DTC") and value not in (None, "") and not _valid_dtc(str(value)):
        return "iso8601", f"{v} {value!r} is not an ISO 8601 date/time"
    if v.endswith("ELTM") and value not in (None, "") and not ISO_DURATION.match(str(value)):
        return "iso8601", f"{v} {value!r} is not an ISO 8601 duration"
    if v in TERMS and value not in (None, "") and str(value) not in TERMS[v]:  # empty: not collected
        return "controlled-term", f"{v} {value!r} not in its codelist"
    return None
