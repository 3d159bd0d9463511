"""The vital-sign chart as server-side SVG: temperature, heart rate and blood pressure over time,
with the infusion's running, paused and flushing periods shaded and reactions marked, all from the
day's one reading (``domain/day_reading.py``): corrections applied as the bedside applies them."""

from __future__ import annotations

from datetime import datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

from markupsafe import Markup, escape

from infusionist.domain.day_reading import DayReading

WIDTH, HEIGHT, LEFT, RIGHT, TOP, BOTTOM = 900, 300, 56, 48, 20, 36
# (field, label, colour, lowest and highest value drawn on the shared 0..1 scale)
SERIES = (
    ("systolic_mmhg", "Systolic mmHg", "#1f4e9c", 40, 220),
    ("diastolic_mmhg", "Diastolic mmHg", "#5b8bd6", 40, 220),
    ("heart_rate_bpm", "Heart rate /min", "#a8326e", 40, 220),
    ("temperature_c", "Temperature °C (right scale 35-41)", "#b34700", 35, 41),
)


# (phase, label in the legend, fill): the periods shaded behind the readings
PERIODS = (
    ("running", "Infusion running", "#d3ecd9"),
    ("paused", "Infusion paused", "#ffd9a8"),
    ("flushing", "Flush", "#d6e4f7"),
)
LABEL_WIDTH = 130  # "Reaction grade 2" at 14px, with room to spare
Period = tuple[str, datetime, datetime]


def periods(reading: DayReading) -> list[Period]:
    """(phase, from, until) for each running, paused and flushing stretch of the day, in order,
    from the day's reading (corrections applied, as the bedside reads them).

    A running stretch still open ends at the reading's moment, or when the bag runs empty if that
    comes first; an open pause or flush at the reading's moment."""
    now = reading.at
    empty = reading.state.projected_infusion_end
    out: list[Period] = []
    for s in reading.segments:
        until = s.end
        if s.ended_by is None and empty is not None:
            until = min(now, max(empty, s.start))
        out.append(("running", s.start, until))
    out += [("paused", p.start, now if p.end is None else p.end) for p in reading.pauses]
    if reading.flush_started_at is not None:
        out.append(("flushing", reading.flush_started_at, reading.flush_completed_at or now))
    return sorted(out, key=lambda p: p[1])


CHART_MAX_SPAN = timedelta(hours=24)


def vital_signs_svg(reading: DayReading, zone: str) -> Markup:
    readings = reading.vital_signs
    if not readings:
        return Markup('<p class="muted">No vital signs recorded yet.</p>')
    times = [r.at for r in readings]
    marks = [] if reading.infusion_started_at is None else [reading.infusion_started_at]
    start = min([*times, *marks])
    # The axis runs to now while the day is on, but a day read long after (last year, or a plan
    # made for 1930) stops a day after its first mark: the axis is one day, never decades.
    end = max([*times, min(reading.at, start + CHART_MAX_SPAN)])
    span = max((end - start).total_seconds(), 1800.0)
    plot_w, plot_h = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM

    def x(moment: datetime) -> float:
        return LEFT + plot_w * (moment - start).total_seconds() / span

    def y(value: Decimal | float, low: float, high: float) -> float:
        return TOP + plot_h * (1 - (float(value) - low) / (high - low))

    parts = [f'<svg viewBox="0 0 {WIDTH} {HEIGHT}" class="chart" role="img" '
             f'aria-labelledby="chart-title"><title id="chart-title">Vital signs over time</title>']
    fills = {phase: (label, fill) for phase, label, fill in PERIODS}
    for phase, since, until in periods(reading):
        x0 = min(max(x(since), LEFT), WIDTH - RIGHT)
        x1 = min(max(x(until), LEFT), WIDTH - RIGHT)
        label, fill = fills[phase]
        parts.append(f'<rect x="{x0:.1f}" y="{TOP}" width="{max(x1 - x0, 1):.1f}" height="{plot_h}" '
                     f'fill="{fill}" class="period {phase}"><title>{label}</title></rect>')
    for value in (60, 100, 140, 180):
        parts.append(f'<line x1="{LEFT}" x2="{WIDTH - RIGHT}" y1="{y(value, 40, 220):.1f}" '
                     f'y2="{y(value, 40, 220):.1f}" stroke="#ddd"/>'
                     f'<text x="{LEFT - 6}" y="{y(value, 40, 220) + 5:.1f}" text-anchor="end">{value}</text>')
    for value in (36, 38, 40):
        parts.append(f'<text x="{WIDTH - 2}" y="{y(value, 35, 41) + 5:.1f}" text-anchor="end" '
                     f'fill="#b34700">{value}°</text>')
    for reaction in reading.reactions:
        rx = x(reaction.onset)
        grade = reaction.grade if reaction.grade is not None else "?"
        # the label sits right of the line unless it would run past the plot, then left of it
        left = rx + LABEL_WIDTH > WIDTH - RIGHT
        tx, anchor = (rx - 4, "end") if left else (rx + 4, "start")
        parts.append(f'<line x1="{rx:.1f}" x2="{rx:.1f}" y1="{TOP}" y2="{TOP + plot_h}" stroke="#c00" '
                     f'stroke-width="3" stroke-dasharray="6 4"/><text x="{tx:.1f}" y="{TOP + 14}" '
                     f'text-anchor="{anchor}" fill="#b00020" class="reaction-label">'
                     f'Reaction grade {grade}</text>')
    for field, label, colour, low, high in SERIES:
        points = [(x(r.at), y(measured, low, high)) for r in readings
                  if (measured := r.value(field)) is not None]
        if not points:
            continue
        path = " ".join(f"{px:.1f},{py:.1f}" for px, py in points)
        parts.append(f'<polyline points="{path}" fill="none" stroke="{colour}" stroke-width="3">'
                     f'<title>{escape(label)}</title></polyline>')
        parts.extend(f'<circle cx="{px:.1f}" cy="{py:.1f}" r="5" fill="{colour}"/>' for px, py in points)
    tz = ZoneInfo(zone)
    for t in _ticks(start, end, tz):
        parts.append(f'<line x1="{x(t):.1f}" x2="{x(t):.1f}" y1="{TOP + plot_h}" y2="{TOP + plot_h + 6}" '
                     f'stroke="#4f5b67"/><text x="{x(t):.1f}" y="{HEIGHT - 10}" text-anchor="middle">'
                     f'{t.astimezone(tz):%H:%M}</text>')
    parts.append("</svg>")
    # The swatch's colour is an SVG fill (an attribute), not an inline style: the pages' CSP
    # allows no inline styles.
    legend = "".join(f'<span class="key">{_swatch(c)}{escape(lab)}</span>' for _f, lab, c, _l, _h in SERIES)
    legend += "".join(f'<span class="key">{_swatch(fill)}{label}</span>' for _p, label, fill in PERIODS)
    return Markup("".join(parts) + f'<p class="legend">{legend}</p>')


def _swatch(colour: str) -> str:
    return (f'<svg class="swatch" viewBox="0 0 16 16" aria-hidden="true" focusable="false">'
            f'<rect width="16" height="16" rx="3" fill="{colour}"/></svg>')


def _ticks(start: datetime, end: datetime, tz: ZoneInfo) -> list[datetime]:
    """Whole half-hours, hours or two-hours on the time axis, at most about ten labels."""
    hours = (end - start).total_seconds() / 3600
    step = 30 if hours <= 4 else (60 if hours <= 9 else 120)
    local = start.astimezone(tz)
    tick = local.replace(minute=0, second=0, microsecond=0)
    out = []
    while tick <= end:
        if tick >= start and (tick.hour * 60 + tick.minute) % step == 0:
            out.append(tick)
        tick += timedelta(minutes=30)
    return out
