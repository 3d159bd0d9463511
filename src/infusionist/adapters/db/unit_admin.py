"""Repositories of the unit's administration: versions of a centre's settings (append-only) and
the one-time messages pages show after a form (one per session, deleted when read)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Connection, delete, insert, select

from infusionist.adapters.db import tables as t
from infusionist.domain.records import CentreVersion, Flash

_V = t.centre_versions.c


class CentreVersionRepository:
    def __init__(self, connection: Connection) -> None:
        self.c = connection

    def latest(self, centre_id: str) -> CentreVersion | None:
        query = select(t.centre_versions).where(_V.centre_id == centre_id).order_by(_V.version.desc())
        row = self.c.execute(query.limit(1)).mappings().first()
        return CentreVersion(**dict(row)) if row is not None else None

    def get(self, centre_id: str, version: int) -> CentreVersion | None:
        query = select(t.centre_versions).where(_V.centre_id == centre_id, _V.version == version)
        row = self.c.execute(query).mappings().first()
        return CentreVersion(**dict(row)) if row is not None else None

    def history(self, centre_id: str) -> list[CentreVersion]:
        query = select(t.centre_versions).where(_V.centre_id == centre_id).order_by(_V.version.desc())
        return [CentreVersion(**dict(r)) for r in self.c.execute(query).mappings()]

    def add(self, version: CentreVersion) -> None:
        """Append; the primary key (centre, version) refuses a second writer of the same number."""
        self.c.execute(insert(t.centre_versions).values(**vars(version)))


class FlashRepository:
    def __init__(self, connection: Connection) -> None:
        self.c = connection

    def put(self, token_hash: str, flash: Flash, at: datetime) -> None:
        """The session's next message (replacing one not yet shown)."""
        self.c.execute(delete(t.flash_messages).where(t.flash_messages.c.token_hash == token_hash))
        self.c.execute(insert(t.flash_messages).values(token_hash=token_hash, kind=flash.kind,
                                                       message=flash.message, created_at=at))

    def peek(self, token_hash: str) -> Flash | None:
        row = self.c.execute(select(t.flash_messages.c.kind, t.flash_messages.c.message)
                             .where(t.flash_messages.c.token_hash == token_hash)).first()
        return Flash(kind=row[0], message=row[1]) if row is not None else None

    def delete(self, token_hash: str) -> None:
        self.c.execute(delete(t.flash_messages).where(t.flash_messages.c.token_hash == token_hash))
