"""The patient's handout for one planned course: Jinja2 HTML, printed to PDF by WeasyPrint.

Everything clinical comes from the plan and the protocol: dates and times from the plan, doses and
the 1-0-1 display from the protocol's medications, diet and hydration from its patient
instructions (PROT-18, PROT-31, PROT-32), warning signs from ``monitoring.warning_signs``, whom to
call from the centre configuration (``contact_phone``). WeasyPrint is imported only when a PDF is
asked for (it loads Pango, which takes a moment).
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from infusionist.adapters.documents.templating import TEMPLATES
from infusionist.domain.activities import Activity, ActivityKind
from infusionist.domain.centre import CentreConfig
from infusionist.domain.planning import CoursePlan
from infusionist.domain.protocol import Medication, Protocol
from infusionist.domain.protocol_monitoring import MonitoringSeries
from infusionist.domain.units import Quantity, format_decimal

DIET_AND_FLUIDS = {"PROT-18", "PROT-31", "PROT-32"}
MONTHS_PER_YEAR = 12
# What each medication role is for, in the patient's words (roles are protocol slugs).
PURPOSE = {
    "herpes-prophylaxis": "protects against herpes (cold sores, shingles)",
    "h1-antihistamine": "prevents allergic reactions",
    "h2-antagonist": "protects the stomach",
}


def long_date(day: date | datetime) -> str:
    """Fri 11 Dec 2026: the weekday helps patients, the month name avoids day/month mix-ups."""
    return f"{day:%a} {day.day} {day:%b %Y}"


def render_handout_html(plan: CoursePlan, protocol: Protocol, config: CentreConfig) -> str:
    return TEMPLATES.get_template("handout.html").render(**handout_context(plan, protocol, config))


def render_handout_pdf(plan: CoursePlan, protocol: Protocol, config: CentreConfig) -> bytes:
    from weasyprint import HTML  # lazy: loads Pango

    pdf: bytes = HTML(string=render_handout_html(plan, protocol, config)).write_pdf()
    return pdf


def handout_context(plan: CoursePlan, protocol: Protocol, config: CentreConfig) -> dict[str, Any]:
    after = plan.activities_on(None)
    contraception = _first(after, "contraception")
    return {
        "plan": plan,
        "centre": config.name,
        "contact_phone": config.contact_phone,
        "title": f"Your {protocol.infusion.name} course {plan.course}",
        "days": [_day_row(plan, n) for n in range(1, len(plan.days) + 1)],
        "medicines": [_medicine_row(a, protocol) for a in plan.activities_on(0)
                      if a.kind is ActivityKind.MEDICATION],
        "standby": [a for a in after if a.kind is ActivityKind.MEDICATION],
        "diet": _patient_instructions(plan, protocol, diet=True),
        "other_advice": _patient_instructions(plan, protocol, diet=False),
        "contraception": {"until": long_date(contraception.end), "text": contraception.text}
        if contraception is not None and contraception.end is not None else None,
        "key_dates": _key_dates(after, skip=_series_ids(protocol) | {"contraception", _call_id(protocol)}),
        "calls": [long_date(a.start) for a in after if a.element == _call_id(protocol)],
        "monitoring": _monitoring(after, protocol),
        "warnings": protocol.monitoring.warning_signs if protocol.monitoring else (),
        "long_date": long_date,
    }


def _day_row(plan: CoursePlan, number: int) -> dict[str, str]:
    day = plan.day(number)
    return {"number": str(number), "date": long_date(day.date), "arrive": f"{day.chair_start:%H:%M}",
            "start": f"{day.infusion_start:%H:%M}", "home": f"{day.observation_end:%H:%M}"}


@dataclass(frozen=True)
class MedicineRow:
    name: str
    purpose: str
    unit_dose: str
    pattern: str
    pattern_words: str
    per_day: str
    start: str
    until: str | None
    note: str | None


def _medicine_row(activity: Activity, protocol: Protocol) -> MedicineRow:
    med = next(m for m in protocol.evening_before if m.id == activity.element)
    stop = med.stop_condition if med.stop_condition in activity.advisories else None
    return MedicineRow(
        name=med.name, purpose=PURPOSE.get(med.role, ""), unit_dose=_amount(med.unit_dose),
        pattern=med.timing.display(),
        pattern_words=_pattern_words(med), per_day=_amount(med.daily_dose()),
        start=f"evening of {long_date(activity.start)}",
        until=f"evening of {long_date(activity.end)}" if activity.end else None, note=stop,
    )


def _amount(quantity: Quantity) -> str:
    return f"{format_decimal(quantity.value)} {quantity.unit}"


def _pattern_words(med: Medication) -> str:
    timing, dose = med.timing, _amount(med.unit_dose)
    parts = [f"{count} × {dose} in the {moment}" for count, moment in
             ((timing.morning, "morning"), (timing.noon, "middle of the day"), (timing.evening, "evening"))
             if count]
    return " and ".join(parts)


def _patient_instructions(plan: CoursePlan, protocol: Protocol, *, diet: bool) -> list[Activity]:
    """Patient instructions; those the warning signs already cover are not repeated."""
    patient = {i.id for i in protocol.instructions if i.audience == "patient"}
    warned = {r for w in protocol.monitoring.warning_signs for r in w.requirements} if protocol.monitoring \
        else set()
    seen: dict[str, Activity] = {}
    for activity in plan.activities:
        if activity.kind is ActivityKind.INSTRUCTION and activity.element in patient and not (
            set(activity.requirements) <= warned
        ):
            is_diet = bool(DIET_AND_FLUIDS & set(activity.requirements))
            if is_diet == diet:
                seen.setdefault(activity.element, activity)
    return list(seen.values())


def _key_dates(after: list[Activity], skip: set[str]) -> list[dict[str, str]]:
    return [
        {"date": long_date(a.start), "what": a.name.capitalize(), "detail": a.text or ""}
        for a in after
        if a.kind in (ActivityKind.FOLLOW_UP, ActivityKind.MEDICATION) and a.element not in skip
    ]


def _series_ids(protocol: Protocol) -> set[str]:
    return {s.id for s in protocol.monitoring.series} if protocol.monitoring else set()


def _call_id(protocol: Protocol) -> str:
    call = protocol.monitoring.delayed_reaction_call if protocol.monitoring else None
    return call.id if call is not None else ""


def _monitoring(after: list[Activity], protocol: Protocol) -> dict[str, Any] | None:
    """The series as a year-by-year grid: each date with the checks beyond the monthly ones."""
    monitoring = protocol.monitoring
    if monitoring is None:
        return None
    series: dict[str, MonitoringSeries] = {s.id: s for s in monitoring.series}
    used = {a.element: series[a.element] for a in after if a.element in series}
    if not used:
        return None
    shortest = min(s.every.months for s in used.values())
    months: dict[int, dict[str, Any]] = {}
    for activity in after:
        if activity.element in used:
            month = int(activity.id.rsplit("-m", 1)[1])
            slot = months.setdefault(month, {"date": f"{activity.start.day} {activity.start:%b %Y}",
                                             "extra": []})
            if used[activity.element].every.months != shortest:
                slot["extra"].append(used[activity.element].name)
    years: dict[int, list[dict[str, Any]]] = defaultdict(list)
    for month in sorted(months):
        years[(month - 1) // MONTHS_PER_YEAR + 1].append(months[month])
    return {
        "series": [{"name": s.name, "every": _every(s)} for s in used.values()],
        "window": f"{monitoring.task_window.opens_before.describe()} before to "
                  f"{monitoring.task_window.overdue_after.describe()} after",
        "every_date": [s.name for s in used.values() if s.every.months == shortest],
        "years": dict(years),
        "last": long_date(max(a.start for a in after if a.element in used)),
        "duration": monitoring.duration.describe(),
    }


def _every(series: MonitoringSeries) -> str:
    text = series.every.describe()
    return text[2:] if text.startswith("1 ") else text  # "month", "3 months"


def _first(activities: list[Activity], element: str) -> Activity | None:
    return next((a for a in activities if a.element == element), None)
