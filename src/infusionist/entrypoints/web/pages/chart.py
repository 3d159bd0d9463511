"""The vital-sign chart as server-side SVG: temperature, heart rate and blood pressure over time,
with the infusion's running time shaded and reactions marked."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from markupsafe import Markup, escape

WIDTH, HEIGHT, LEFT, RIGHT, TOP, BOTTOM = 900, 300, 56, 20, 20, 36
# (field, label, colour, lowest and highest value drawn on the shared 0..1 scale)
SERIES = (
    ("systolic_mmhg", "Systolic mmHg", "#1f4e9c", 40, 220),
    ("diastolic_mmhg", "Diastolic mmHg", "#5b8bd6", 40, 220),
    ("heart_rate_bpm", "Heart rate /min", "#a8326e", 40, 220),
    ("temperature_c", "Temperature °C (right scale 35-41)", "#b34700", 35, 41),
)


def _effective_vitals(stored: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Vital signs in force: a corrected reading is replaced (or dropped) as the replay does."""
    readings: dict[int, dict[str, Any]] = {}
    for i, event in enumerate(stored):
        payload = event["payload"]
        if payload["type"] == "vital_signs":
            readings[i] = payload
        elif payload["type"] == "correction" and isinstance(payload.get("corrects"), int):
            target = payload["corrects"]
            replacement = payload.get("replacement")
            if replacement is not None and replacement.get("type") == "vital_signs":
                readings[target] = replacement
            else:
                readings.pop(target, None)
    return [readings[i] for i in sorted(readings)]


def vital_signs_svg(stored: list[dict[str, Any]], state: dict[str, Any], zone: str) -> Markup:
    readings = _effective_vitals(stored)
    if not readings:
        return Markup('<p class="muted">No vital signs recorded yet.</p>')
    times = [datetime.fromisoformat(r["at"]) for r in readings]
    start = min([*times, *(datetime.fromisoformat(x) for x in _marks(state))])
    end = max([*times, datetime.fromisoformat(state["at"])])
    span = max((end - start).total_seconds(), 1800.0)
    plot_w, plot_h = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM

    def x(moment: datetime) -> float:
        return LEFT + plot_w * (moment - start).total_seconds() / span

    def y(value: Decimal | float, low: float, high: float) -> float:
        return TOP + plot_h * (1 - (float(value) - low) / (high - low))

    parts = [f'<svg viewBox="0 0 {WIDTH} {HEIGHT}" class="chart" role="img" '
             f'aria-labelledby="chart-title"><title id="chart-title">Vital signs over time</title>']
    started, ended = state.get("infusion_started_at"), state.get("infusion_ended_at") or state["at"]
    if started:
        x0, x1 = x(datetime.fromisoformat(started)), x(datetime.fromisoformat(ended))
        parts.append(f'<rect x="{x0:.1f}" y="{TOP}" width="{max(x1 - x0, 1):.1f}" height="{plot_h}" '
                     f'fill="#e3f1e6"><title>Infusion</title></rect>')
    for value in (60, 100, 140, 180):
        parts.append(f'<line x1="{LEFT}" x2="{WIDTH - RIGHT}" y1="{y(value, 40, 220):.1f}" '
                     f'y2="{y(value, 40, 220):.1f}" stroke="#ddd"/>'
                     f'<text x="{LEFT - 6}" y="{y(value, 40, 220) + 5:.1f}" text-anchor="end">{value}</text>')
    for value in (36, 38, 40):
        parts.append(f'<text x="{WIDTH - 2}" y="{y(value, 35, 41) + 5:.1f}" text-anchor="end" '
                     f'fill="#b34700">{value}°</text>')
    for reaction in state.get("reactions", []):
        rx = x(datetime.fromisoformat(reaction["onset"]))
        grade = reaction["grade"] if reaction["grade"] is not None else "?"
        parts.append(f'<line x1="{rx:.1f}" x2="{rx:.1f}" y1="{TOP}" y2="{TOP + plot_h}" stroke="#c00" '
                     f'stroke-width="3" stroke-dasharray="6 4"/><text x="{rx + 4:.1f}" y="{TOP + 14}" '
                     f'fill="#c00">Reaction grade {grade}</text>')
    for field, label, colour, low, high in SERIES:
        points = [(x(t), y(r[field], low, high)) for t, r in zip(times, readings, strict=True)
                  if r.get(field) is not None]
        if not points:
            continue
        path = " ".join(f"{px:.1f},{py:.1f}" for px, py in points)
        parts.append(f'<polyline points="{path}" fill="none" stroke="{colour}" stroke-width="3">'
                     f'<title>{escape(label)}</title></polyline>')
        parts.extend(f'<circle cx="{px:.1f}" cy="{py:.1f}" r="5" fill="{colour}"/>' for px, py in points)
    tz = ZoneInfo(zone)
    for t in (start, end):
        parts.append(f'<text x="{x(t):.1f}" y="{HEIGHT - 10}" text-anchor="middle">'
                     f'{t.astimezone(tz):%H:%M}</text>')
    parts.append("</svg>")
    legend = "".join(f'<span class="key"><span class="swatch" style="background:{c}"></span>'
                     f'{escape(lab)}</span>' for _f, lab, c, _l, _h in SERIES)
    return Markup("".join(parts) + f'<p class="legend">{legend}<span class="key"><span class="swatch" '
                  f'style="background:#e3f1e6"></span>Infusion running</span></p>')


def _marks(state: dict[str, Any]) -> list[str]:
    return [m for m in (state.get("infusion_started_at"),) if m]
