"""The IAR report tables, computed by DuckDB over the Parquet snapshot (``snapshot.py``).

The snapshot holds each day as the domain reads it (``domain/day_reading.py``): the reactions in
force (a reaction withdrawn by a correction is not there; a corrected one is there as corrected),
graded as the bedside grades them, ``severe`` from the protocol's ``severe_from_grade``. An IAR
is any reaction recorded against an infusion day: the bedside accepts a reaction onset up to 24 h
after the end of the infusion (IAR-01, IAR-15) and refuses later ones, so every reaction row
counts. A patient is exposed to a course (or a day) when an infusion was started in it; a course
missed days when fewer were given than its plan (the protocol's course rule) has. Intervals:
Wilson 95 %. References: the protocol's ``reference_figures``, each with its source.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from infusionist.analytics.stats import wilson
from infusionist.domain.protocol import Protocol

CALIBRATION_SOURCE = "pooled-2021"

_EXPOSED_COURSE = """
SELECT course, count(DISTINCT patient_id) AS exposed FROM days
WHERE infusion_started_at IS NOT NULL GROUP BY course"""
_WITH_COURSE = """
SELECT course, count(DISTINCT patient_id) AS n FROM reactions GROUP BY course"""
_SERIOUS_COURSE = """
SELECT course, count(DISTINCT patient_id) AS n FROM reactions WHERE severe GROUP BY course"""
_EXPOSED_DAY = """
SELECT course, day, count(DISTINCT patient_id) AS exposed FROM days WHERE infusion_started_at IS NOT NULL
GROUP BY course, day"""
_WITH_DAY = """
SELECT course, day, count(DISTINCT patient_id) AS n FROM reactions GROUP BY course, day"""
_SYMPTOMS = """
SELECT symptom, count(DISTINCT patient_id) AS n
FROM (SELECT patient_id, unnest(symptoms) AS symptom FROM reactions)
GROUP BY symptom"""
_GRADES = """
SELECT grade, count(*) AS n FROM reactions GROUP BY grade"""
_ONSET = """
SELECT quantile_cont(m, [0.25, 0.5, 0.75]) AS q, count(*) AS n FROM (
  SELECT date_diff('minute', d.infusion_started_at, r."at") AS m FROM reactions r
  JOIN days d USING (course_id, day) WHERE d.infusion_started_at IS NOT NULL)"""
# A course missed days when fewer were given than its plan has (the protocol's course rule).
_INTERRUPTED = """
WITH planned AS (SELECT course, count(*) AS n FROM courses GROUP BY course),
     stopped AS (SELECT DISTINCT course_id, course FROM ev WHERE type IN ('paused', 'infusion_stopped')),
     given AS (SELECT course_id, count(DISTINCT day) AS days FROM days
               WHERE infusion_started_at IS NOT NULL GROUP BY course_id),
     short AS (SELECT g.course_id, c.course FROM given g JOIN courses c USING (course_id)
               WHERE g.days < c.planned_days)
SELECT p.course, p.n AS courses,
  (SELECT count(*) FROM stopped s WHERE s.course = p.course) AS paused_or_stopped,
  (SELECT count(*) FROM short s WHERE s.course = p.course) AS days_missed
FROM planned p ORDER BY p.course"""


def _figures(protocol: Protocol, measure: str) -> list[Any]:
    return (
        []
        if protocol.reference_figures is None
        else [f for f in protocol.reference_figures.figures if f.measure == measure and f.arm == "12 mg"]
    )


def _reference(protocol: Protocol, measure: str, course: int | None) -> dict[str, Any] | None:
    for f in _figures(protocol, measure):
        if f.course == course and f.source == CALIBRATION_SOURCE and f.percent is not None:
            return {"value": float(f.percent) / 100, "source": f.source}
    return None


def _row(exposed: int, with_: int) -> dict[str, Any]:
    low, high = wilson(with_, exposed)
    return {
        "patients_exposed": exposed,
        "patients_with_iar": with_,
        "incidence": with_ / exposed if exposed else None,
        "ci_low": low,
        "ci_high": high,
    }


def compute(snapshot: Path, protocol: Protocol) -> dict[str, Any]:
    """The report's tables from a snapshot directory, as plain JSON-ready values."""
    import duckdb

    con = duckdb.connect()
    for view, name in (("ev", "events"), ("courses", "courses"), ("patients", "patients"),
                        ("days", "days"), ("reactions", "reactions")):
        path = str(snapshot / f"{name}.parquet").replace("'", "''")
        con.execute(f"CREATE VIEW {view} AS SELECT * FROM read_parquet('{path}')")

    def table(sql: str) -> list[tuple[Any, ...]]:
        return con.execute(sql).fetchall()

    counts = Counts(
        exposed_course=dict(table(_EXPOSED_COURSE)),
        with_course=dict(table(_WITH_COURSE)),
        serious_course=dict(table(_SERIOUS_COURSE)),
        exposed_day={(c, d): n for c, d, n in table(_EXPOSED_DAY)},
        with_day={(c, d): n for c, d, n in table(_WITH_DAY)},
        symptoms=dict(table(_SYMPTOMS)),
        grades=dict(table(_GRADES)),
        patients=int(
            table("SELECT count(DISTINCT patient_id) FROM days WHERE infusion_started_at IS NOT NULL")[0][0]
        ),
        onset=table(_ONSET)[0],
        interrupted=table(_INTERRUPTED),
    )
    con.close()
    return assemble(counts, protocol)


class Counts:
    """The raw counts both the DuckDB and the pure-Python path produce (``bench/analytics.py``)."""

    def __init__(self, **values: Any) -> None:
        self.__dict__.update(values)


def assemble(counts: Any, protocol: Protocol) -> dict[str, Any]:
    by_course = []
    for course in sorted(counts.exposed_course):
        row = {
            "course": course,
            **_row(counts.exposed_course[course], counts.with_course.get(course, 0)),
            "reference": _reference(protocol, "any_iar", course),
        }
        row["other_references"] = [
            {"value": float(f.percent) / 100, "source": f.source}
            for f in _figures(protocol, "any_iar")
            if f.course == course and f.source != CALIBRATION_SOURCE and f.percent is not None
        ]
        by_course.append(row)
    by_day = [
        {"course": c, "day": d, **_row(n, counts.with_day.get((c, d), 0))}
        for (c, d), n in sorted(counts.exposed_day.items())
    ]
    serious = [
        {
            "course": c,
            **_row(n, counts.serious_course.get(c, 0)),
            "reference": _reference(protocol, "serious_iar", c),
        }
        for c, n in sorted(counts.exposed_course.items())
    ]
    label = {f.symptom: f for f in _figures(protocol, "symptom") if f.source == "us-label"}
    symptoms = sorted(
        (
            {
                "symptom": s,
                **_row(counts.patients, n),
                "reference": (
                    {"value": float(label[s].percent) / 100, "source": "us-label", "note": label[s].note}
                    if s in label and label[s].percent
                    else None
                ),
            }
            for s, n in counts.symptoms.items()
        ),
        key=lambda r: -r["patients_with_iar"],
    )
    quartiles, onsets = counts.onset
    return {
        "format": 1,
        "patients": counts.patients,
        "definition": "IAR: any reaction during an infusion or within 24 h after its end (IAR-01); "
        "incidence = patients with >= 1 IAR / patients exposed; Wilson 95% intervals.",
        "by_course": by_course,
        "by_infusion_day": by_day,
        "serious": serious,
        "symptoms": symptoms,
        "grades": [{"grade": g, "reactions": n} for g, n in sorted(counts.grades.items()) if g is not None],
        "onset_minutes": {
            "reactions": onsets,
            "q1": quartiles[0] if quartiles else None,
            "median": quartiles[1] if quartiles else None,
            "q3": quartiles[2] if quartiles else None,
        },
        "interrupted_courses": [
            {"course": c, "courses": n, "paused_or_stopped": p, "days_missed": m}
            for c, n, p, m in counts.interrupted
        ],
    }
