"""The anchor file: the heads of the audit trail and of the row ledger, kept outside the
database (``infusionist audit anchor FILE``, and beside every backup). ``audit verify --anchor
FILE`` then proves that both chains still extend these heads: a chain rewritten consistently
from the start (which verifying the database alone cannot see) no longer has the anchored hash
at the anchored length.
"""

from __future__ import annotations

import json
import os
from datetime import datetime
from pathlib import Path

from infusionist.domain.errors import InfusionistError
from infusionist.domain.row_ledger import Anchor, ChainHead

FORMAT = "infusionist-chain-anchor/1"


class AnchorFileError(InfusionistError):
    """An anchor file that cannot be read."""


def write_anchor(path: Path, anchor: Anchor) -> None:
    """Write the anchor (durably: written beside, flushed, then renamed into place)."""
    document = {
        "format": FORMAT,
        "at": anchor.at.isoformat(),
        "audit": {"rows": anchor.audit.rows, "last_hash": anchor.audit.last_hash},
        "ledger": {"entries": anchor.ledger.rows, "last_hash": anchor.ledger.last_hash},
    }
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(path.name + ".partial")
    with partial.open("w", encoding="utf-8") as file:
        json.dump(document, file, indent=2)
        file.write("\n")
        file.flush()
        os.fsync(file.fileno())
    partial.replace(path)


def read_anchor(path: Path) -> Anchor:
    try:
        document = json.loads(path.read_text(encoding="utf-8"))
        if document.get("format") != FORMAT:
            raise ValueError("not an anchor file")
        return Anchor(
            audit=_head(document["audit"]["rows"], document["audit"]["last_hash"]),
            ledger=_head(document["ledger"]["entries"], document["ledger"]["last_hash"]),
            at=datetime.fromisoformat(document["at"]),
        )
    except FileNotFoundError:
        raise AnchorFileError("ANCHOR-NO-FILE", f"{path} does not exist.") from None
    except (OSError, ValueError, KeyError, TypeError, AttributeError):
        raise AnchorFileError("ANCHOR-UNREADABLE",
                              f"{path} is not an anchor written by `infusionist audit anchor`.") from None


def _head(rows: object, last_hash: object) -> ChainHead:
    if not isinstance(rows, int) or rows < 0 or not (last_hash is None or isinstance(last_hash, str)):
        raise ValueError("bad head")
    return ChainHead(rows, last_hash)


def beside(backup: Path) -> Path:
    """Where ``infusionist backup FILE`` keeps the anchor of FILE."""
    return backup.with_name(backup.name + ".anchor.json")
