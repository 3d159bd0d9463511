"""Protocol identity: the SHA-256 digest of a protocol's content and the record of released versions.

Every plan records the protocol's ``id``, ``version`` and digest. The digest is computed from the
validated protocol, not from the file's bytes: the model dumped as JSON without the values that
equal the format's defaults, keys sorted, no whitespace, UTF-8. Comments, key order, quoting and
layout of the YAML file do not change it; any change of a dose, time, text or source does.

A released protocol version is frozen: a file that carries a released ``id`` and ``version``
but whose digest differs is refused (``PROTOCOL-CHANGED-WITHOUT-VERSION``). A changed protocol
needs a new version, and a new release record.
"""

from __future__ import annotations

import hashlib
import json
from typing import Annotated, Literal

from pydantic import Field, StringConstraints

from infusionist.domain.errors import ProtocolError
from infusionist.domain.protocol import Protocol
from infusionist.domain.protocol_elements import Frozen, Slug

Digest = Annotated[str, StringConstraints(pattern=r"^sha256:[0-9a-f]{64}$")]


def protocol_digest(protocol: Protocol) -> str:
    """``sha256:<hex>`` of the protocol's canonical content."""
    data = protocol.model_dump(mode="json", exclude_defaults=True)
    text = json.dumps(data, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return "sha256:" + hashlib.sha256(text.encode("utf-8")).hexdigest()


class ReleasedProtocol(Frozen):
    """One released protocol version and the digest of its content."""

    id: Slug
    version: Annotated[str, StringConstraints(pattern=r"^\d+\.\d+\.\d+$")]
    digest: Digest


class ReleaseRecord(Frozen):
    """Every released protocol version (``protocols/released.yaml``)."""

    released: tuple[ReleasedProtocol, ...] = Field(default=())
    # The protocol used when none is named (``plan`` without ``--protocol-id``, the server).
    default: Slug | None = None

    def find(self, protocol_id: str, version: str) -> ReleasedProtocol | None:
        return next((r for r in self.released
                     if r.id == protocol_id and r.version == version), None)


ReleaseStatus = Literal["released", "not released"]


def check_release(protocol: Protocol, record: ReleaseRecord) -> tuple[ReleaseStatus, str]:
    """(status, digest); refuse a file that changes a released version without a new version."""
    digest = protocol_digest(protocol)
    released = record.find(protocol.id, protocol.version)
    if released is None:
        return "not released", digest
    if released.digest != digest:
        raise ProtocolError(
            "PROTOCOL-CHANGED-WITHOUT-VERSION",
            f"This file differs from released {protocol.id} {protocol.version}: change the "
            f"version. A released protocol never changes under the same version (released "
            f"content {released.digest}, this file {digest}).",
        )
    return "released", digest
