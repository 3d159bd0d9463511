"""Cold start of ``infusionist plan`` against ``python -c pass`` (the baseline), same run.

Usage: .venv/bin/python bench/cli_startup.py [--runs N]
Prints the median and p90 wall time of each command over N runs, and the ratio.
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import time

PLAN = [sys.executable, "-m", "infusionist", "plan", "--first-day", "2026-12-07", "--sex", "female",
        "--childbearing-potential", "yes", "--timezone", "Europe/Berlin", "--format", "json"]
COMMANDS = {
    "python -c pass (baseline)": [sys.executable, "-c", "pass"],
    "infusionist --help": [sys.executable, "-m", "infusionist", "--help"],
    "infusionist plan --format json": PLAN,
    "infusionist plan (table)": PLAN[:-2],
}


def timed(command: list[str], runs: int) -> list[float]:
    samples = []
    for _ in range(runs):
        start = time.perf_counter()
        subprocess.run(command, check=True, stdout=subprocess.DEVNULL)
        samples.append((time.perf_counter() - start) * 1000)
    return samples


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=15)
    runs = parser.parse_args().runs
    baseline = None
    print(f"{'command':34} {'median ms':>10} {'p90 ms':>8} {'x baseline':>10}")
    for label, command in COMMANDS.items():
        samples = sorted(timed(command, runs))
        median = statistics.median(samples)
        p90 = samples[int(0.9 * (len(samples) - 1))]
        baseline = baseline or median
        print(f"{label:34} {median:10.1f} {p90:8.1f} {median / baseline:10.1f}")


if __name__ == "__main__":
    main()
