"""HL7 FHIR R4 resources of the trial record, per patient, from the analytics snapshot.

FHIR release: the resources are the JSON of the ``fhir.resources`` R4B models
(``fhir.resources.R4B``, FHIR 4.3.0, package ``fhir.resources`` 8.x), built here directly as
JSON values: building and validating the models for every resource cost 0.39 s a patient, so
the export does not construct them. The tests validate the output instead: with the models
(``fhir.resources``) and with an independent validator against the R4 (4.0.1) definitions (the
npm package ``fhir``), so an R4B-only element or a wrong code would fail there.

Read from the Parquet snapshot (``analytics/snapshot.py``) one patient at a time
(``adapters/snapshot_days.py``): the snapshot holds each day as the domain reads it
(``domain/day_reading.py``: corrections applied, withdrawn entries absent, exact segments, graded
reactions), so FHIR, SDTM and the report see the record the bedside sees. Per patient:

- **Patient**, pseudonymised: ``identifier`` = the study pseudonym, ``gender``; no name, no
  birth date, no address; ``meta.security`` PSEUDED.
- **CarePlan** per course (``intent`` plan; ``status`` completed, or revoked when the course was
  withdrawn after anaphylaxis), ``period`` from the first infusion start to the last infusion
  end, one ``activity`` per infusion day (completed, or stopped when stopped for the day).
- **MedicationAdministration**: the protocol's infusion drug (coded from its drug-library
  entry's ``codes``), one per constant-rate segment of an infusion (a
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
  serious when the grade reaches the protocol's severe grade (as AESER), ``suspectEntity`` the
  infusion segment running at the onset (or the day's last one).

Resource ids are UUID v5 of the study, the pseudonym and the record, so the same snapshot gives
the same resources. References are ``urn:uuid:<id>`` inside a Bundle (its entries' ``fullUrl``)
and ``<type>/<id>`` in the bulk NDJSON files (``REFERENCE_STYLES``).
"""

from __future__ import annotations

import hashlib
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any, Literal

from infusionist.adapters.cdisc.sdtm import adjustment, adverse_event, given_segments
from infusionist.adapters.snapshot_days import (
    CourseRow,
    EventRow,
    PatientRow,
    ReactionRow,
    SegmentRow,
    SnapshotDay,
    SnapshotPatient,
)
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

CODE_SYSTEMS = {"atc": ATC, "snomed": SNOMED, "rxnorm": "http://www.nlm.nih.gov/research/umls/rxnorm"}


def drug_concept(protocol: Protocol, name: str) -> dict[str, Any]:
    """A drug's CodeableConcept from its drug-library entry's codes (protocol data)."""
    drug = protocol.drug_library.find(name) if protocol.drug_library is not None else None
    codes = drug.codes if drug is not None else ()
    coding = [{"system": CODE_SYSTEMS[c.system], "code": c.code, "display": c.display} for c in codes]
    return {"coding": coding, "text": name} if coding else {"text": name}
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
# the CarePlan activity's status by how the day ended (``domain/day_reading.DayEnding``)
CARE_PLAN_ACTIVITY = {"stopped": "stopped", "transferred": "stopped", "ended_early": "stopped",
                      "not_started": "not-started", "in_progress": "in-progress"}


def instant(at: datetime) -> str:
    """FHIR dateTime/instant, UTC with seconds: ``2024-07-08T06:10:00Z``."""
    return at.astimezone(UTC).replace(tzinfo=None, microsecond=0).isoformat() + "Z"


def _quantity(value: float, code: str, unit: str | None = None) -> dict[str, Any]:
    return {"value": value, "unit": unit or code, "system": UCUM, "code": code}


def _codes(codings: list[tuple[str, str]], system: str = LOINC) -> dict[str, Any]:
    return {
        "coding": [{"system": system, "code": c, "display": d} for c, d in codings],
        "text": codings[0][1],
    }


def uuid5(namespace: uuid.UUID, name: str) -> str:
    """``str(uuid.uuid5(namespace, name))`` (RFC 4122 version 5) without building UUID objects:
    a third of the export's time went there."""
    digest = hashlib.sha1(namespace.bytes + name.encode("utf-8"), usedforsecurity=False).hexdigest()
    variant = "89ab"[int(digest[16], 16) & 0x3]
    return f"{digest[:8]}-{digest[8:12]}-5{digest[13:16]}-{variant}{digest[17:20]}-{digest[20:32]}"


ReferenceStyle = Literal["urn", "relative"]
REFERENCE_STYLES: tuple[ReferenceStyle, ...] = ("urn", "relative")
Entry = tuple[str, dict[str, Any]]  # (fullUrl, resource)


class PatientResources:
    """The resources of one patient, built as they are asked for (``entries``)."""

    def __init__(
        self, record: SnapshotPatient, protocol: Protocol, study_id: str, style: ReferenceStyle = "urn"
    ) -> None:
        self.record, self.protocol, self.study_id, self.style = record, protocol, study_id, style
        self.pseudonym: str = record.patient.pseudonym
        self._prefix = f"{study_id}/{self.pseudonym}"

    def uid(self, *key: Any) -> str:
        return uuid5(NAMESPACE, "/".join([self._prefix, *map(str, key)]))

    def reference(self, key: tuple[Any, ...]) -> str:
        """How other resources point at the resource ``key`` (whose first part is its type)."""
        uid = self.uid(*key)
        return f"urn:uuid:{uid}" if self.style == "urn" else f"{key[0]}/{uid}"

    def entry(self, key: tuple[Any, ...], resource: dict[str, Any]) -> Entry:
        uid = self.uid(*key)
        return f"urn:uuid:{uid}", {"resourceType": resource["resourceType"], "id": uid, **resource}

    def entries(self) -> Iterator[Entry]:
        """Patient first, then per course its administrations, observations and adverse events
        in recorded order and the course's CarePlan last."""
        yield self.entry(("Patient",), _patient(self.record.patient))
        subject = {"reference": self.reference(("Patient",))}
        days: list[SnapshotDay] = []
        for day in self.record.days:
            days.append(day)
            if day.last_of_course:
                yield from _course(self, subject, self.record.courses[day.course_id], days)
                days = []


def patient_resources(
    records: Iterator[SnapshotPatient], protocol: Protocol, study_id: str, style: ReferenceStyle = "urn"
) -> Iterator[PatientResources]:
    for record in records:
        yield PatientResources(record, protocol, study_id, style)


def bundle_dict(resources: PatientResources, timestamp: datetime) -> dict[str, Any]:
    """The patient's Bundle (type ``collection``) as one JSON value (tests; the export streams it)."""
    return {**bundle_header(resources, timestamp),
            "entry": [{"fullUrl": url, "resource": r} for url, r in resources.entries()]}


def bundle_header(resources: PatientResources, timestamp: datetime) -> dict[str, Any]:
    return {
        "resourceType": "Bundle",
        "id": resources.uid("Bundle"),
        "identifier": {"system": PSEUDONYM_SYSTEM, "value": resources.pseudonym},
        "type": "collection",
        "timestamp": instant(timestamp),
    }


def _patient(p: PatientRow) -> dict[str, Any]:
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
        "identifier": [{"use": "secondary", "system": PSEUDONYM_SYSTEM, "value": p.pseudonym}],
        "gender": p.sex if p.sex in {"female", "male", "other"} else "unknown",
    }


def _course(
    out: PatientResources, subject: dict[str, Any], course: CourseRow, days: list[SnapshotDay]
) -> Iterator[Entry]:
    protocol = out.protocol
    number = course.course
    plan_key = ("CarePlan", number)
    plan = out.reference(plan_key)
    activities, starts, ends, withdrawn = [], [], [], False
    for snapshot_day in days:
        day = snapshot_day.day
        segments = given_segments(snapshot_day)
        reactions = {r.seq: r for r in snapshot_day.reactions}
        mas = []
        concept = drug_concept(protocol, protocol.infusion.name)
        for s in segments:
            key = ("MedicationAdministration", number, day, protocol.infusion.name, s.number)
            mas.append(out.reference(key))
            yield out.entry(key, _infusion_segment(s, subject, plan, number, day, len(segments), concept))
        if segments:
            starts.append(segments[0].start)
            ends.append(segments[-1].end)
        for e in snapshot_day.events:
            kind = e.type
            if kind == "vital_signs":
                for i, obs in enumerate(_observations(e, subject, plan)):
                    yield out.entry(("Observation", number, day, e.seq, i), obs)
            elif kind in {"premedication_given", "medication_given"}:
                med_key = ("MedicationAdministration", number, day, e.seq)
                yield out.entry(med_key, _medication(e, subject, plan, protocol))
            elif kind == "reaction_onset":
                reaction = reactions[e.seq]
                record = adverse_event(reaction, snapshot_day.last_of_course)
                withdrawn |= record["AEACN"] == "DRUG WITHDRAWN"
                running = [m for m, s in zip(mas, segments, strict=True) if s.start <= e.at]
                suspect = running[-1] if running else (mas[0] if mas else None)
                yield out.entry(
                    ("AdverseEvent", number, day, e.seq), _adverse_event(reaction, record, subject, suspect)
                )
        ending = snapshot_day.reading.ending
        detail: dict[str, Any] = {
            "kind": "MedicationRequest",
            "status": CARE_PLAN_ACTIVITY.get(ending, "completed"),
            "description": f"Course {number} day {day}: {protocol.infusion.name} "
            f"{protocol.infusion.dose.value} {protocol.infusion.dose.unit} intravenous infusion",
            "productCodeableConcept": drug_concept(protocol, protocol.infusion.name),
            "dailyAmount": _quantity(float(protocol.infusion.dose.value), str(protocol.infusion.dose.unit)),
        }
        if segments:
            detail["scheduledPeriod"] = {
                "start": instant(segments[0].start),
                "end": instant(segments[-1].end),
            }
        activities.append({"detail": detail})
    resource: dict[str, Any] = {
        "resourceType": "CarePlan",
        "identifier": [{"system": f"{PSEUDONYM_SYSTEM}:course", "value": f"{out.pseudonym}-C{number}"}],
        "status": "revoked" if withdrawn else "completed",
        "intent": "plan",
        "title": f"{_title(protocol)} course {number}",
        "description": f"{_title(protocol)} course {number} ({course.protocol}), "
                       f"first day {course.first_day}",
        "subject": subject,
        "activity": activities,
    }
    if starts:
        resource["period"] = {"start": instant(min(starts)), "end": instant(max(ends))}
    yield out.entry(plan_key, resource)


def _title(protocol: Protocol) -> str:
    return protocol.infusion.name[:1].upper() + protocol.infusion.name[1:]


def _infusion_segment(
    s: SegmentRow, subject: dict[str, Any], plan: str, course: int, day: int, n: int,
    concept: dict[str, Any],
) -> dict[str, Any]:
    reason = adjustment(s).capitalize() or "Infusion start"
    resource = {
        "resourceType": "MedicationAdministration",
        "status": "stopped" if s.ended_by == "infusion_stopped" else "completed",
        "medicationCodeableConcept": concept,
        "subject": subject,
        "supportingInformation": [{"reference": plan}],
        "effectivePeriod": {"start": instant(s.start), "end": instant(s.end)},
        "reasonCode": [MULTIPLE_SCLEROSIS],
        "note": [{"text": f"Course {course} day {day}, segment {s.number} of {n} (ended by {s.ended_by})"}],
        "dosage": {
            "text": reason,
            "route": _route("iv"),
            "dose": _quantity(round(float(s.dose_mg), 3), "mg"),
            "rateQuantity": _quantity(float(s.rate_ml_per_h), "mL/h"),
        },
    }
    return resource


def _route(route: str | None) -> dict[str, Any]:
    code = ROUTES.get((route or "").lower())
    if code is None:
        return {"text": route or "unknown"}
    return _codes([code], SNOMED)


def _medication(e: EventRow, subject: dict[str, Any], plan: str, protocol: Protocol) -> dict[str, Any]:
    premed = e.type == "premedication_given"
    dosage: dict[str, Any] = {"route": _route(e.route)}
    if e.dose_value is not None:
        dosage["dose"] = _quantity(e.dose_value, e.dose_unit or "1")
    return {
        "resourceType": "MedicationAdministration",
        "status": "completed",
        "category": {"text": "premedication" if premed else "rescue medication"},
        "medicationCodeableConcept": drug_concept(protocol, e.name or "unknown"),
        "subject": subject,
        "supportingInformation": [{"reference": plan}],
        "effectiveDateTime": instant(e.at),
        "reasonCode": [
            {"text": "Prevention of infusion related reaction" if premed else "Infusion related reaction"}
        ],
        "dosage": dosage,
    }


def _observations(e: EventRow, subject: dict[str, Any], plan: str) -> Iterator[dict[str, Any]]:
    def observation(profile: str, code: dict[str, Any], **value: Any) -> dict[str, Any]:
        return {
            "resourceType": "Observation",
            "meta": {"profile": [VITALSIGNS_PROFILE, f"http://hl7.org/fhir/StructureDefinition/{profile}"]},
            "basedOn": [{"reference": plan}],
            "status": "final",
            "category": VITAL_SIGNS_CATEGORY,
            "code": code,
            "subject": subject,
            "effectiveDateTime": instant(e.at),
            **value,
        }

    for field in ("heart_rate_bpm", "temperature_c", "respiratory_rate_per_min", "spo2_percent"):
        value = getattr(e, field)
        if value is not None:
            profile, codings, unit, display = VITALS[field]
            yield observation(profile, _codes(codings), valueQuantity=_quantity(value, unit, display))
    if any(getattr(e, field) is not None for field, _, _ in BP_COMPONENTS):
        components = [
            {"code": _codes([(code, name)]), "valueQuantity": _quantity(getattr(e, field), "mm[Hg]", "mmHg")}
            for field, code, name in BP_COMPONENTS
            if getattr(e, field) is not None
        ]
        yield observation("bp", _codes([BLOOD_PRESSURE]), component=components)


def _adverse_event(
    reaction: ReactionRow, record: dict[str, Any], subject: dict[str, Any], suspect: str | None
) -> dict[str, Any]:
    grade = reaction.grade
    symptoms = ", ".join(reaction.symptoms or ())
    term = record["AEDECOD"]
    resource: dict[str, Any] = {
        "resourceType": "AdverseEvent",
        "actuality": "actual",
        "event": {"text": f"{term} ({symptoms})" if symptoms else term},
        "subject": subject,
        "date": instant(reaction.at),
        "seriousness": {
            "coding": [
                {
                    "system": "http://terminology.hl7.org/CodeSystem/adverse-event-seriousness",
                    "code": "serious" if reaction.severe else "non-serious",
                    "display": "Serious" if reaction.severe else "Non-serious",
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
