"""HL7 FHIR R4 export: one Bundle (type ``collection``) per patient, from the analytics snapshot.

FHIR release: the resources are built and validated with the ``fhir.resources`` R4B models
(``fhir.resources.R4B``, FHIR 4.3.0, package ``fhir.resources`` 8.x). Every element used here
has the same definition in FHIR R4 (4.0.1): the tests also validate each Bundle against the R4
definitions with an independent validator (the npm package ``fhir``), so an R4B-only element
would fail there. ``fhir.resources`` is imported lazily (only by the export).

Read from the Parquet snapshot (``analytics/snapshot.py``) through the SDTM export's readers
(``adapters/cdisc/sdtm.py``), so FHIR, SDTM and the report see the same record. Per patient:

- **Patient**, pseudonymised: ``identifier`` = the study pseudonym, ``gender``; no name, no
  birth date, no address; ``meta.security`` PSEUDED.
- **CarePlan** per course (``intent`` plan; ``status`` completed, or revoked when the course was
  withdrawn after anaphylaxis), ``period`` from the first infusion start to the last infusion
  end, one ``activity`` per infusion day (completed, or stopped when stopped for the day).
- **MedicationAdministration**: alemtuzumab, one per constant-rate segment of an infusion (a
  new one at every rate change, pause, restart and stop; ``dosage.rateQuantity`` in mL/h,
  ``dosage.dose`` the mg given in the segment, ``dosage.text`` why the rate was set); the
  premedications (``category.text`` premedication) and the rescue medications (rescue
  medication), each with its dose (UCUM) and route (SNOMED CT).
- **Observation** per vital sign per reading, profile vitalsigns plus the specific R4 profile,
  category vital-signs, LOINC codes, UCUM units; blood pressure as the 85354-9 panel with the
  8480-6 and 8462-4 components; SpO2 coded 2708-6 and 59408-5 (as the R4 oxygensat profile asks).
- **AdverseEvent** per reaction: ``date`` the onset, ``event`` the CTCAE term (and the symptoms
  in its text), ``severity`` mild/moderate/severe from the CTCAE grade (1, 2, >= 3), the grade
  itself in HL7's AdverseEventGrade extension (``CTCAE_GRADE_URL``, Adverse Event Clinical
  Research R4 Backport IG 1.0.1) as an NCI Thesaurus grade code (``CTCAE_GRADES``), ``seriousness``
  serious for grade >= 3 (as AESER), ``suspectEntity`` the alemtuzumab segment running at the
  onset (or the day's last one).

All references inside a Bundle are ``urn:uuid:`` full URLs, derived (UUID v5) from the study,
the pseudonym and the record, so the same snapshot gives the same files but for
``Bundle.timestamp`` (the time of the export).
"""

from __future__ import annotations

import json
import uuid
from collections import defaultdict
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from infusionist.adapters.cdisc.sdtm import _Days, _reactions, _read, _segments, rate_segments
from infusionist.domain.protocol import Protocol

FHIR_RELEASE = "R4B 4.3.0 (fhir.resources.R4B), checked against R4 4.0.x"
UCUM = "http://unitsofmeasure.org"
LOINC = "http://loinc.org"
SNOMED = "http://snomed.info/sct"
ATC = "http://www.whocc.no/atc"
VITALSIGNS_PROFILE = "http://hl7.org/fhir/StructureDefinition/vitalsigns"
NCI_THESAURUS = "http://ncicb.nci.nih.gov/xml/owl/EVS/Thesaurus.owl"
# HL7 Adverse Event Clinical Research R4 Backport IG (STU1, 1.0.1): extension AdverseEventGrade,
# valueCodeableConcept from the value set adverse-event-clinical-research-grades (NCI Thesaurus).
CTCAE_GRADE_URL = "http://hl7.org/fhir/uv/ae-research-backport-ig/StructureDefinition/ae-grade"
CTCAE_GRADES = {
    1: ("C41338", "Grade 1 Mild Adverse Event"),
    2: ("C41339", "Grade 2 Moderate Adverse Event"),
    3: ("C41340", "Grade 3 Severe Adverse Event"),
    4: ("C41337", "Grade 4 Life Threatening or Disabling Adverse Event"),
    5: ("C48275", "Grade 5 Death Related to Adverse Event"),
}
PSEUDONYM_SYSTEM = "urn:infusionist:pseudonym"
NAMESPACE = uuid.uuid5(uuid.NAMESPACE_URL, "https://infusionist.invalid/fhir")

# ATC since the 2024 index: L04AG (monoclonal antibodies) took the antibodies out of L04AA, so
# alemtuzumab is L04AG06 (before 2024: L04AA34).
ALEMTUZUMAB = {
    "coding": [{"system": ATC, "code": "L04AG06", "display": "alemtuzumab"}],
    "text": "alemtuzumab",
}
MULTIPLE_SCLEROSIS = {"coding": [{"system": SNOMED, "code": "24700007", "display": "Multiple sclerosis"}]}
ROUTES = {
    "iv": ("47625008", "Intravenous route"),
    "oral": ("26643006", "Oral route"),
    "po": ("26643006", "Oral route"),
    "im": ("78421000", "Intramuscular route"),
    "sc": ("34206005", "Subcutaneous route"),
    "inhaled": ("447694001", "Respiratory tract route"),
}
VITAL_SIGNS_CATEGORY = [
    {
        "coding": [
            {
                "system": "http://terminology.hl7.org/CodeSystem/observation-category",
                "code": "vital-signs",
                "display": "Vital Signs",
            }
        ]
    }
]
# snapshot field -> (profile, LOINC codings, UCUM unit code, unit display)
VITALS: dict[str, tuple[str, list[tuple[str, str]], str, str]] = {
    "heart_rate_bpm": ("heartrate", [("8867-4", "Heart rate")], "/min", "beats/minute"),
    "temperature_c": ("bodytemp", [("8310-5", "Body temperature")], "Cel", "C"),
    "respiratory_rate_per_min": ("resprate", [("9279-1", "Respiratory rate")], "/min", "breaths/minute"),
    "spo2_percent": (
        "oxygensat",
        [
            ("2708-6", "Oxygen saturation in Arterial blood"),
            ("59408-5", "Oxygen saturation in Arterial blood by Pulse oximetry"),
        ],
        "%",
        "%",
    ),
}
BLOOD_PRESSURE = ("85354-9", "Blood pressure panel with all children optional")
BP_COMPONENTS = (
    ("systolic_mmhg", "8480-6", "Systolic blood pressure"),
    ("diastolic_mmhg", "8462-4", "Diastolic blood pressure"),
)
SEVERITY = {1: "mild", 2: "moderate"}  # grade 3 and above: severe


def instant(at: datetime) -> str:
    """FHIR dateTime/instant, UTC with seconds: ``2024-07-08T06:10:00Z``."""
    return at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _quantity(value: float, code: str, unit: str | None = None) -> dict[str, Any]:
    return {"value": value, "unit": unit or code, "system": UCUM, "code": code}


def _codes(codings: list[tuple[str, str]], system: str = LOINC) -> dict[str, Any]:
    return {
        "coding": [{"system": system, "code": c, "display": d} for c, d in codings],
        "text": codings[0][1],
    }


class _Patient:
    """The entries of one patient's Bundle, as FHIR JSON dicts."""

    def __init__(self, study_id: str, pseudonym: str) -> None:
        self.study_id, self.pseudonym = study_id, pseudonym
        self.entries: list[dict[str, Any]] = []

    def url(self, *key: Any) -> str:
        return f"urn:uuid:{self.uid(*key)}"

    def uid(self, *key: Any) -> str:
        return str(uuid.uuid5(NAMESPACE, "/".join(str(k) for k in (self.study_id, self.pseudonym, *key))))

    def add(self, key: tuple[Any, ...], resource: dict[str, Any]) -> str:
        url = self.url(*key)
        self.entries.append({"fullUrl": url, "resource": {**resource, "id": self.uid(*key)}})
        return url


def bundle_dicts(
    snapshot: Path, protocol: Protocol, study_id: str, assembled: datetime | None = None
) -> Iterator[tuple[str, dict[str, Any]]]:
    """``(pseudonym, Bundle as a FHIR JSON dict)`` per patient with at least one infusion day."""
    patients = {p["patient_id"]: p for p in _read(snapshot, "patients")}
    courses = {c["course_id"]: c for c in _read(snapshot, "courses")}
    days = _Days(_read(snapshot, "events"))
    by_patient: dict[int, list[tuple[int, int]]] = defaultdict(list)
    for key in sorted(days.days, key=lambda k: (courses[k[0]]["patient_id"], courses[k[0]]["course"], k[1])):
        by_patient[courses[key[0]]["patient_id"]].append(key)
    timestamp = instant(assembled or datetime.now(UTC))
    for pid, keys in by_patient.items():
        p = patients[pid]
        out = _Patient(study_id, p["pseudonym"])
        patient = out.add(("Patient",), _patient(p))
        by_course: dict[int, list[tuple[int, int]]] = defaultdict(list)
        for key in keys:
            by_course[key[0]].append(key)
        for course_id, course_keys in by_course.items():
            _course(out, patient, protocol, courses[course_id], course_keys, days)
        yield (
            p["pseudonym"],
            {
                "resourceType": "Bundle",
                "id": out.uid("Bundle"),
                "identifier": {"system": PSEUDONYM_SYSTEM, "value": p["pseudonym"]},
                "type": "collection",
                "timestamp": timestamp,
                "entry": out.entries,
            },
        )


def _patient(p: dict[str, Any]) -> dict[str, Any]:
    return {
        "resourceType": "Patient",
        "meta": {
            "security": [
                {
                    "system": "http://terminology.hl7.org/CodeSystem/v3-ObservationValue",
                    "code": "PSEUDED",
                    "display": "pseudonymized",
                }
            ]
        },
        "identifier": [{"use": "secondary", "system": PSEUDONYM_SYSTEM, "value": p["pseudonym"]}],
        "gender": p["sex"] if p["sex"] in {"female", "male", "other"} else "unknown",
    }


def _course(
    out: _Patient,
    patient: str,
    protocol: Protocol,
    course: dict[str, Any],
    keys: list[tuple[int, int]],
    days: _Days,
) -> None:
    number = course["course"]
    plan_key = ("CarePlan", number)
    plan = out.url(*plan_key)
    subject = {"reference": patient}
    activities, starts, ends, withdrawn = [], [], [], False
    for key in keys:
        day = key[1]
        events = days.days[key]
        segments = rate_segments(events, protocol)
        last_day = key == keys[-1]
        reactions = iter(_reactions(events, _segments(events, protocol), last_day))  # SDTM AE records
        mas = []
        for i, s in enumerate(segments, 1):
            mas.append(
                out.add(
                    ("MedicationAdministration", number, day, "alemtuzumab", i),
                    _alemtuzumab(s, subject, plan, number, day, i, len(segments)),
                )
            )
        if segments:
            starts.append(segments[0]["start"])
            ends.append(segments[-1]["end"])
        for e in events:
            if e["type"] in {"premedication_given", "medication_given"}:
                out.add(("MedicationAdministration", number, day, e["seq"]), _medication(e, subject, plan))
            elif e["type"] == "vital_signs":
                for i, obs in enumerate(_observations(e, subject, plan)):
                    out.add(("Observation", number, day, e["seq"], i), obs)
            elif e["type"] == "reaction_onset":
                reaction = next(reactions)
                withdrawn |= reaction["AEACN"] == "DRUG WITHDRAWN"
                running = [m for m, s in zip(mas, segments, strict=True) if s["start"] <= e["at"]]
                suspect = running[-1] if running else (mas[0] if mas else None)
                out.add(
                    ("AdverseEvent", number, day, e["seq"]), _adverse_event(e, reaction, subject, suspect)
                )
        stopped = any(e["type"] == "infusion_stopped" for e in events)
        started = any(e["type"] == "infusion_started" for e in events)
        detail: dict[str, Any] = {
            "kind": "MedicationRequest",
            "status": "stopped" if stopped else "completed" if started else "not-started",
            "description": f"Course {number} day {day}: alemtuzumab "
            f"{protocol.infusion.dose.value} {protocol.infusion.dose.unit} intravenous infusion",
            "productCodeableConcept": ALEMTUZUMAB,
            "dailyAmount": _quantity(float(protocol.infusion.dose.value), str(protocol.infusion.dose.unit)),
        }
        if segments:
            detail["scheduledPeriod"] = {
                "start": instant(segments[0]["start"]),
                "end": instant(segments[-1]["end"]),
            }
        activities.append({"detail": detail})
    resource: dict[str, Any] = {
        "resourceType": "CarePlan",
        "identifier": [{"system": f"{PSEUDONYM_SYSTEM}:course", "value": f"{out.pseudonym}-C{number}"}],
        "status": "revoked" if withdrawn else "completed",
        "intent": "plan",
        "title": f"Alemtuzumab course {number}",
        "description": f"Alemtuzumab course {number} ({course['protocol']}), first day {course['first_day']}",
        "subject": subject,
        "activity": activities,
    }
    if starts:
        resource["period"] = {"start": instant(min(starts)), "end": instant(max(ends))}
    out.add(plan_key, resource)


def _alemtuzumab(
    s: dict[str, Any], subject: dict[str, Any], plan: str, course: int, day: int, i: int, n: int
) -> dict[str, Any]:
    reason = s["reason"].capitalize() or "Infusion start"
    resource = {
        "resourceType": "MedicationAdministration",
        "status": "stopped" if s["ended_by"] == "infusion_stopped" else "completed",
        "medicationCodeableConcept": ALEMTUZUMAB,
        "subject": subject,
        "supportingInformation": [{"reference": plan}],
        "effectivePeriod": {"start": instant(s["start"]), "end": instant(s["end"])},
        "reasonCode": [MULTIPLE_SCLEROSIS],
        "note": [{"text": f"Course {course} day {day}, segment {i} of {n} (ended by {s['ended_by']})"}],
        "dosage": {
            "text": reason,
            "route": _route("iv"),
            "dose": _quantity(round(s["dose_mg"], 3), "mg"),
            "rateQuantity": _quantity(s["rate_ml_per_h"], "mL/h"),
        },
    }
    return resource


def _route(route: str | None) -> dict[str, Any]:
    code = ROUTES.get((route or "").lower())
    if code is None:
        return {"text": route or "unknown"}
    return _codes([code], SNOMED)


def _medication(e: dict[str, Any], subject: dict[str, Any], plan: str) -> dict[str, Any]:
    premed = e["type"] == "premedication_given"
    dosage: dict[str, Any] = {"route": _route(e["route"])}
    if e["dose_value"] is not None:
        dosage["dose"] = _quantity(e["dose_value"], e["dose_unit"] or "1")
    return {
        "resourceType": "MedicationAdministration",
        "status": "completed",
        "category": {"text": "premedication" if premed else "rescue medication"},
        "medicationCodeableConcept": {"text": e["name"] or "unknown"},
        "subject": subject,
        "supportingInformation": [{"reference": plan}],
        "effectiveDateTime": instant(e["at"]),
        "reasonCode": [
            {"text": "Prevention of infusion related reaction" if premed else "Infusion related reaction"}
        ],
        "dosage": dosage,
    }


def _observations(e: dict[str, Any], subject: dict[str, Any], plan: str) -> Iterator[dict[str, Any]]:
    def observation(profile: str, code: dict[str, Any], **value: Any) -> dict[str, Any]:
        return {
            "resourceType": "Observation",
            "meta": {"profile": [VITALSIGNS_PROFILE, f"http://hl7.org/fhir/StructureDefinition/{profile}"]},
            "basedOn": [{"reference": plan}],
            "status": "final",
            "category": VITAL_SIGNS_CATEGORY,
            "code": code,
            "subject": subject,
            "effectiveDateTime": instant(e["at"]),
            **value,
        }

    for field in ("heart_rate_bpm", "temperature_c", "respiratory_rate_per_min", "spo2_percent"):
        if e[field] is not None:
            profile, codings, unit, display = VITALS[field]
            yield observation(profile, _codes(codings), valueQuantity=_quantity(e[field], unit, display))
    if any(e[field] is not None for field, _, _ in BP_COMPONENTS):
        components = [
            {"code": _codes([(code, name)]), "valueQuantity": _quantity(e[field], "mm[Hg]", "mmHg")}
            for field, code, name in BP_COMPONENTS
            if e[field] is not None
        ]
        yield observation("bp", _codes([BLOOD_PRESSURE]), component=components)


def _adverse_event(
    e: dict[str, Any], reaction: dict[str, Any], subject: dict[str, Any], suspect: str | None
) -> dict[str, Any]:
    grade = int(reaction["AETOXGR"]) if reaction["AETOXGR"] else None
    symptoms = ", ".join(e["symptoms"] or ())
    term = reaction["AEDECOD"]
    resource: dict[str, Any] = {
        "resourceType": "AdverseEvent",
        "actuality": "actual",
        "event": {"text": f"{term} ({symptoms})" if symptoms else term},
        "subject": subject,
        "date": instant(e["at"]),
        "seriousness": {
            "coding": [
                {
                    "system": "http://terminology.hl7.org/CodeSystem/adverse-event-seriousness",
                    "code": "serious" if reaction["AESER"] == "Y" else "non-serious",
                    "display": "Serious" if reaction["AESER"] == "Y" else "Non-serious",
                }
            ]
        },
    }
    if grade is not None:
        severity = SEVERITY.get(grade, "severe")
        code, display = CTCAE_GRADES[grade]
        resource["extension"] = [{"url": CTCAE_GRADE_URL, "valueCodeableConcept": {
            "coding": [{"system": NCI_THESAURUS, "code": code, "display": display}],
            "text": f"CTCAE v5.0 grade {grade}"}}]
        resource["severity"] = {
            "coding": [
                {
                    "system": "http://terminology.hl7.org/CodeSystem/adverse-event-severity",
                    "code": severity,
                    "display": severity.capitalize(),
                }
            ],
            "text": f"CTCAE v5.0 grade {grade}",
        }
    if suspect is not None:
        resource["suspectEntity"] = [{"instance": {"reference": suspect}}]
    return resource


def bundles(
    snapshot: Path, protocol: Protocol, study_id: str, assembled: datetime | None = None
) -> Iterator[tuple[str, Any]]:
    """``(pseudonym, fhir.resources R4B Bundle)`` per patient: every resource validated by the models."""
    from fhir.resources.R4B.bundle import Bundle

    for pseudonym, data in bundle_dicts(snapshot, protocol, study_id, assembled):
        yield pseudonym, Bundle.model_validate(data)


def export_fhir(
    snapshot: Path, protocol: Protocol, out_dir: Path, study_id: str, assembled: datetime | None = None
) -> dict[str, int]:
    """Write ``<pseudonym>.json`` per patient; returns the number of resources by type."""
    out_dir.mkdir(parents=True, exist_ok=True)
    counts: dict[str, int] = defaultdict(int)
    for pseudonym, bundle in bundles(snapshot, protocol, study_id, assembled):
        text = bundle.model_dump_json(indent=1)
        (out_dir / f"{pseudonym}.json").write_text(text + "\n", encoding="utf-8")
        counts["Bundle"] += 1
        for entry in json.loads(text)["entry"]:
            counts[entry["resource"]["resourceType"]] += 1
    return dict(counts)
