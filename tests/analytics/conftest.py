"""A small synthetic trial shared by the report and export tests (a few seconds to build)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from infusionist.analytics.iar import compute
from infusionist.analytics.snapshot import synthetic_snapshot
from infusionist.domain.protocol import Protocol

SMALL_TRIAL = 160


@pytest.fixture(scope="session")
def small_snapshot(protocol: Protocol, tmp_path_factory: pytest.TempPathFactory) -> Path:
    return synthetic_snapshot(protocol, 7, SMALL_TRIAL, tmp_path_factory.mktemp("small-trial"))


@pytest.fixture(scope="session")
def small_report(small_snapshot: Path, protocol: Protocol) -> dict[str, Any]:
    return compute(small_snapshot, protocol)
