"""The trial record the report and export commands read: a given snapshot, or one taken now."""

from __future__ import annotations

import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any


@contextmanager
def trial_snapshot(snapshot: Path | None) -> Iterator[tuple[Any, Path]]:
    """(deps, snapshot directory): ``snapshot`` when given, else the configured database's record
    exported to a temporary directory for as long as the block runs."""
    from infusionist.analytics.snapshot import export_snapshot
    from infusionist.entrypoints.cli.server import deps_for, settings

    deps = deps_for(settings())
    if snapshot is not None:
        yield deps, snapshot
        return
    with tempfile.TemporaryDirectory() as scratch:
        yield deps, export_snapshot(deps.uow.engine, deps.protocol, Path(scratch))  # type: ignore[attr-defined]
