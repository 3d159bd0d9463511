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
    "CMROUTE": {"INTRAVENOUS", "INTRAMUSCULAR", "ORAL", "SUBCUTANEOUS"},
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
    findings: list[Finding] = []
    studies = {r["STUDYID"] for rows in domains.values() for r in rows}
    if len(studies) != 1:
        findings.append(("*", "one-studyid", f"expected one STUDYID, found {sorted(studies)}"))
    for name, rows in domains.items():
        findings += _domain(name, rows)
    return findings


def _domain(name: str, rows: list[dict[str, Any]]) -> Iterable[Finding]:
    variables = {v for r in rows for v in r}
    for v in sorted(variables):
        if not NAME.match(v):
            yield name, "name", f"{v}: not an XPT v5 variable name"
    for v in REQUIRED.get(name, ()):
        if v not in variables:
            yield name, "required", f"{v} is missing"
    seqs: set[tuple[str, Any]] = set()
    for i, r in enumerate(rows, start=1):
        where = f"row {i} ({r.get('USUBJID')})"
        for v in REQUIRED.get(name, ()):
            if v in variables and r.get(v) in (None, ""):
                yield name, "required", f"{where}: {v} is empty or missing"
        if r.get("DOMAIN") != name:
            yield name, "domain", f"{where}: DOMAIN {r.get('DOMAIN')!r}"
        for v, value in r.items():
            if v.endswith("DTC") and value not in (None, "") and not _valid_dtc(str(value)):
                yield name, "iso8601", f"{where}: {v} {value!r} is not an ISO 8601 date/time"
            if v.endswith("ELTM") and value not in (None, "") and not ISO_DURATION.match(str(value)):
                yield name, "iso8601", f"{where}: {v} {value!r} is not an ISO 8601 duration"
            if v in TERMS and value is not None and str(value) not in TERMS[v]:
                yield name, "controlled-term", f"{where}: {v} {value!r} not in its codelist"
        key = f"{name}SEQ"
        if key in r:
            pair = (r["USUBJID"], r[key])
            if pair in seqs:
                yield name, "seq", f"{where}: {key} {r[key]} repeats for the subject"
            seqs.add(pair)
