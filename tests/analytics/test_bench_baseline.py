"""The benchmark's pure-Python baseline (``bench/analytics.py``) computes the same report as DuckDB."""

from __future__ import annotations

import importlib.util
from pathlib import Path
from typing import Any

from infusionist.domain.protocol import Protocol

BENCH = Path(__file__).resolve().parents[2] / "bench" / "analytics.py"


def _bench() -> Any:
    spec = importlib.util.spec_from_file_location("bench_analytics", BENCH)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_the_pure_python_baseline_gives_the_duckdb_report(
    small_snapshot: Path, small_report: dict[str, Any], protocol: Protocol
) -> None:
    bench = _bench()
    baseline = bench.pure_python(small_snapshot, protocol)
    assert bench.same(bench._ties_sorted(small_report), bench._ties_sorted(baseline)) == []
    assert bench._quantiles([1, 2, 3, 4]) == [1.75, 2.5, 3.25]  # quantile_cont's interpolation
    broken = {**baseline, "patients": baseline["patients"] + 1}
    assert bench.same(bench._ties_sorted(small_report), bench._ties_sorted(broken)) == [f".patients: {small_report['patients']} != {broken['patients']}"]
