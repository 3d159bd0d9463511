"""The IAR report's charts as SVG text (matplotlib, Agg backend, imported only when drawn).

Each chart reads the report JSON (``iar.compute``), never the events: what the chart shows is
what the tables say. Observed incidences are points with their Wilson 95 % intervals; reference
figures are hollow diamonds labelled with their source, so the two can never be confused.
"""

from __future__ import annotations

import io
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

OBSERVED = "#1f4e79"
REFERENCE = "#c0504d"
GRID = "#d9d9d9"
COURSE_COLOURS = ("#1f4e79", "#2e75b6", "#5b9bd5", "#9dc3e6", "#7f7f7f", "#a5a5a5")


@contextmanager
def _figure(width: float, height: float) -> Iterator[tuple[Any, Any]]:
    import matplotlib

    matplotlib.use("Agg", force=True)
    import matplotlib.pyplot as plt

    with plt.rc_context(
        {
            "font.family": "DejaVu Sans",
            "font.size": 10,
            "axes.spines.top": False,
            "axes.spines.right": False,
            "svg.fonttype": "path",
            "svg.hashsalt": "infusionist",  # stable element ids: the same report gives the same SVG
        }
    ):
        fig, ax = plt.subplots(figsize=(width, height), layout="constrained")
        try:
            yield fig, ax
        finally:
            plt.close(fig)


def _svg(fig: Any) -> str:
    buffer = io.StringIO()
    fig.savefig(buffer, format="svg", metadata={"Date": None, "Creator": "infusionist"})
    text = buffer.getvalue()
    return text[text.index("<svg") :]  # drop the XML prolog and doctype: the SVG is embedded in HTML


def _errors(rows: list[dict[str, Any]]) -> tuple[list[float], list[list[float]]]:
    values = [100.0 * (r["incidence"] or 0) for r in rows]
    low = [v - 100.0 * (r["ci_low"] or 0) for v, r in zip(values, rows, strict=True)]
    high = [100.0 * (r["ci_high"] or 0) - v for v, r in zip(values, rows, strict=True)]
    return values, [low, high]


def _percent_axis(ax: Any, axis: str = "y", top: float = 100) -> None:
    from matplotlib.ticker import PercentFormatter

    getattr(ax, f"set_{axis}lim")(0, top)
    getattr(ax, f"{axis}axis").set_major_formatter(PercentFormatter(decimals=0))
    ax.grid(axis=axis, color=GRID, linewidth=0.6)
    ax.set_axisbelow(True)


def incidence_by_course(report: dict[str, Any]) -> str:
    """Patients with an IAR per course, with Wilson intervals, beside the calibration reference."""
    rows = report["by_course"]
    with _figure(7.2, 4.4) as (fig, ax):
        x = list(range(len(rows)))
        values, errors = _errors(rows)
        ax.bar(x, values, width=0.55, color=OBSERVED, alpha=0.85, label="observed (Wilson 95% CI)")
        ax.errorbar(x, values, yerr=errors, fmt="none", ecolor="black", elinewidth=1.2, capsize=5)
        refs = [(i, 100 * r["reference"]["value"]) for i, r in zip(x, rows, strict=True) if r["reference"]]
        sources = sorted({r["reference"]["source"] for r in rows if r["reference"]})
        if refs:
            ax.scatter(
                [i + 0.38 for i, _ in refs],
                [v for _, v in refs],
                marker="D",
                s=46,
                facecolor="white",
                edgecolor=REFERENCE,
                linewidth=1.8,
                zorder=3,
                label=f"reference ({', '.join(sources)})",
            )
        for i, v in enumerate(values):
            ax.annotate(f"{v:.1f}%", (i, 2), ha="center", va="bottom", color="white", fontsize=9)
        ax.set_xticks(x, [f"Course {r['course']}\nn={r['patients_exposed']}" for r in rows])
        _percent_axis(ax, top=110)
        ax.set_yticks(range(0, 101, 20))
        ax.set_ylabel("patients with ≥1 IAR")
        ax.set_title("IAR incidence per course", loc="left", fontweight="bold", pad=20)
        ax.legend(loc="lower left", bbox_to_anchor=(0.0, 1.0), ncols=2, frameon=False, fontsize=8,
                  borderaxespad=0.2)
        return _svg(fig)


def incidence_by_day(report: dict[str, Any]) -> str:
    """Patients with an IAR on each infusion day, grouped by course."""
    rows = [r for r in report["by_infusion_day"] if r["course"] <= 4]
    with _figure(7.2, 4.2) as (fig, ax):
        x, labels, position = [], [], 0.0
        for course in sorted({r["course"] for r in rows}):
            days = [r for r in rows if r["course"] == course]
            xs = [position + i for i in range(len(days))]
            values, errors = _errors(days)
            colour = COURSE_COLOURS[(course - 1) % len(COURSE_COLOURS)]
            ax.errorbar(xs, values, yerr=errors, fmt="o-", color=colour, capsize=3, markersize=5,
                        linewidth=1.2, label=f"course {course}")
            x += xs
            labels += [f"D{r['day']}" for r in days]
            position += len(days) + 1
        ax.set_xticks(x, labels, fontsize=8)
        top = max([100 * (r["ci_high"] or 0) for r in rows] + [10])
        _percent_axis(ax, top=min(100, 10 * (int(top) // 10 + 1)))
        ax.set_ylabel("patients with an IAR that day")
        ax.set_title("IAR incidence per infusion day (courses 1-4)", loc="left", fontweight="bold", pad=20)
        ax.legend(loc="lower left", bbox_to_anchor=(0.0, 1.0), frameon=False, fontsize=8, ncols=4,
                  borderaxespad=0.2)
        return _svg(fig)


def symptom_frequencies(report: dict[str, Any], limit: int = 12) -> str:
    """The most frequent IAR symptoms (share of patients), with the label's percentage where given."""
    rows = report["symptoms"][:limit][::-1]
    with _figure(7.2, max(3.6, 0.36 * len(rows) + 1.4)) as (fig, ax):
        y = list(range(len(rows)))
        values, errors = _errors(rows)
        ax.barh(y, values, height=0.6, color=OBSERVED, alpha=0.85, label="observed (Wilson 95% CI)")
        ax.errorbar(values, y, xerr=errors, fmt="none", ecolor="black", elinewidth=1, capsize=3)
        refs = [(i, 100 * r["reference"]["value"]) for i, r in enumerate(rows) if r["reference"]]
        if refs:
            ax.scatter([v for _, v in refs], [i for i, _ in refs], marker="D", s=36, facecolor="white",
                       edgecolor=REFERENCE, linewidth=1.6, zorder=3, label="US label (all-cause)")
        ax.set_yticks(y, [r["symptom"].replace("_", " ") for r in rows])
        top = max([100 * (r["ci_high"] or 0) for r in rows] + [v for _, v in refs] + [10])
        _percent_axis(ax, axis="x", top=min(100, 10 * (int(top) // 10 + 1)))
        ax.set_xlabel("patients with the symptom in an IAR")
        ax.set_title("IAR symptoms", loc="left", fontweight="bold")
        ax.legend(loc="lower right", frameon=False, fontsize=8)
        return _svg(fig)


def all_charts(report: dict[str, Any]) -> dict[str, str]:
    return {
        "by_course": incidence_by_course(report),
        "by_day": incidence_by_day(report),
        "symptoms": symptom_frequencies(report),
    }
