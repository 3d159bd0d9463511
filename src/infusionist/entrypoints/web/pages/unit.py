"""The infusion unit's pages (issue 17): the Unit page (chairs, opening hours, staffing; edited
by the admin) and the unit calendar (a week of chairs by hours, with each day's load)."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta, tzinfo
from typing import Any

from fastapi import APIRouter, Request

from infusionist.domain.access import Permission, require
from infusionist.domain.capacity import WEEKDAYS
from infusionist.domain.errors import InfusionistError, ValidationFailed
from infusionist.entrypoints.web.dependencies import ServicesDep
from infusionist.entrypoints.web.pages.common import PageContext, redirect, render
from infusionist.services import bookings, unit

router = APIRouter(include_in_schema=False)
HERE = "/unit"


@router.get(HERE)
def unit_page(request: Request, ctx: PageContext, deps: ServicesDep) -> Any:
    return render(request, ctx, "unit.html", unit=unit.get_unit(deps, ctx, "default"), weekdays=WEEKDAYS)


async def _form(request: Request) -> dict[str, str]:
    return {k: str(v).strip() for k, v in (await request.form()).items()}


@router.post(HERE + "/rules")
async def save_rules(request: Request, ctx: PageContext, deps: ServicesDep) -> Any:
    require(ctx.actor.role, Permission.CONFIGURE_CENTRE)
    form = await _form(request)
    hours = {day: {"opens": form[f"{day}_opens"], "closes": form[f"{day}_closes"]}
             for day in WEEKDAYS if form.get(f"{day}_opens") and form.get(f"{day}_closes")}
    try:
        data = {"hours": hours, "turnover_minutes": _number(form, "turnover_minutes", "Turnover"),
                "max_starts_per_half_hour": _number(form, "max_starts_per_half_hour", "Starts per half hour"),
                "max_running_per_nurse": _number(form, "max_running_per_nurse", "Patients per nurse"),
                "nurses": {day: _number(form, f"{day}_nurses", f"Nurses on {day.title()}")
                           for day in WEEKDAYS if form.get(f"{day}_nurses")}}
        unit.configure_unit(deps, ctx, "default", data, form.get("reason") or None)
    except InfusionistError as error:
        return redirect(request, HERE, error=f"{error.message} Nothing was saved.", anchor="rules")
    return redirect(request, HERE, notice="Opening hours and staffing saved.", anchor="rules")


def _number(form: dict[str, str], field: str, label: str) -> int:
    text = form.get(field, "")
    if not text.isdigit():
        raise ValidationFailed("INPUT-INVALID", f"{label}: give a whole number.",
                               details={field: "not a number"})
    return int(text)


@router.post(HERE + "/chairs")
async def add_chair(request: Request, ctx: PageContext, deps: ServicesDep) -> Any:
    require(ctx.actor.role, Permission.CONFIGURE_CENTRE)
    form = await _form(request)
    try:
        added = unit.add_chair(deps, ctx, "default", unit.ChairChange(form.get("name", ""),
                                                                      form.get("kind", "recliner")))
    except InfusionistError as error:
        return redirect(request, HERE, error=f"{error.message} Nothing was saved.", anchor="chairs")
    return redirect(request, HERE, notice=f"{added.name} added.", anchor="chairs")


@router.post(HERE + "/chairs/{chair_id}")
async def change_chair(request: Request, ctx: PageContext, deps: ServicesDep, chair_id: int) -> Any:
    require(ctx.actor.role, Permission.CONFIGURE_CENTRE)
    form = await _form(request)
    try:
        saved = unit.change_chair(deps, ctx, "default", chair_id, unit.ChairChange(
            form.get("name", ""), form.get("kind", "recliner"), form.get("active") == "yes"))
    except InfusionistError as error:
        return redirect(request, HERE, error=f"{error.message} Nothing was saved.", anchor="chairs")
    return redirect(request, HERE, notice=f"{saved.name} saved.", anchor="chairs")


@router.get("/calendar")
def calendar(request: Request, ctx: PageContext, deps: ServicesDep, monday: str | None = None) -> Any:
    zone = unit.get_unit(deps, ctx, "default").zone
    today = deps.clock.now().astimezone(zone).date()
    try:
        start = date.fromisoformat(monday) if monday else today
    except ValueError:
        start = today
    start -= timedelta(days=start.weekday())
    week = bookings.week(deps, ctx, start).as_json()
    return render(request, ctx, "calendar.html", week=week, zone=week["timezone"],
                  days=[_day_rows(week, day, zone) for day in week["days"]],
                  previous=(start - timedelta(days=7)).isoformat(),
                  following=(start + timedelta(days=7)).isoformat(),
                  this_week=(today - timedelta(days=today.weekday())).isoformat())


def _day_rows(week: dict[str, Any], day: dict[str, Any], zone: tzinfo) -> dict[str, Any]:
    """One day: each chair's bookings placed on the day's opening hours (percent of the width)."""
    if not day["open"]:
        return {**day, "chairs": [], "ticks": []}
    on = date.fromisoformat(day["date"])
    opens = datetime.combine(on, time.fromisoformat(day["opens"]), tzinfo=zone)
    closes = datetime.combine(on, time.fromisoformat(day["closes"]), tzinfo=zone)
    span = (closes - opens).total_seconds()

    def percent(moment: datetime) -> float:
        return round(100 * (moment - opens).total_seconds() / span, 2)

    rows = []
    for chair in week["chairs"]:
        blocks = []
        for b in week["bookings"]:
            start = datetime.fromisoformat(b["chair_start"])
            if b["chair_id"] != chair["id"] or start.astimezone(zone).date() != on:
                continue
            end = datetime.fromisoformat(b["chair_end"])
            blocks.append({**b, "left": percent(start), "width": percent(end) - percent(start),
                           "turnover": percent(datetime.fromisoformat(b["held_until"])) - percent(end)})
        rows.append({"chair": chair, "blocks": blocks})
    hour = opens.replace(minute=0) + (timedelta(hours=1) if opens.minute else timedelta(0))
    ticks = []
    while hour <= closes:
        ticks.append({"label": hour.strftime("%H"), "left": percent(hour)})
        hour += timedelta(hours=1)
    return {**day, "chairs": rows, "ticks": ticks}
