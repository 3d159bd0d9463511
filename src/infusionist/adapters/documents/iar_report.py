"""The IAR report for investigators: one HTML page (tables + embedded SVG charts), or its PDF.

The page holds aggregates only: no names, no pseudonyms, no dates of birth. Every reference
figure is printed with its source (title and citation from the protocol's ``sources``). The charts
are SVG text drawn by ``analytics/charts.py``; this module only lays them out. WeasyPrint is
imported only when a PDF is asked for.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from markupsafe import Markup

from infusionist.adapters.documents.templating import TEMPLATES
from infusionist.domain.protocol import Protocol


def percent(value: float | None, digits: int = 1) -> str:
    return "–" if value is None else f"{100 * value:.{digits}f}%"


def interval(row: dict[str, Any]) -> str:
    if row.get("ci_low") is None:
        return "–"
    return f"{percent(row['ci_low'])} – {percent(row['ci_high'])}"


def _sources(report: dict[str, Any], protocol: Protocol) -> list[dict[str, Any]]:
    used: set[str] = set()
    for key in ("by_course", "serious", "symptoms"):
        for row in report[key]:
            if row.get("reference"):
                used.add(row["reference"]["source"])
            used.update(r["source"] for r in row.get("other_references", ()))
    return [
        {"key": key, "title": s.title, "citation": s.citation, "url": s.url}
        for key, s in sorted(protocol.sources.items())
        if key in used
    ]


def render_report_html(
    report: dict[str, Any],
    charts: dict[str, str],
    protocol: Protocol,
    *,
    calibration: str | None,
    generated: datetime,
) -> str:
    return TEMPLATES.get_template("iar_report.html").render(
        report=report,
        charts={name: Markup(svg) for name, svg in charts.items()},  # our own matplotlib SVG
        protocol=protocol,
        sources=_sources(report, protocol),
        calibration=calibration,
        generated=f"{generated:%d %b %Y %H:%M %Z}".strip(),
        percent=percent,
        interval=interval,
    )


def render_report_pdf(html: str) -> bytes:
    from weasyprint import HTML  # lazy: loads Pango

    pdf: bytes = HTML(string=html).write_pdf()
    return pdf
