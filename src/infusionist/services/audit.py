"""Use cases of the audit trail: append a row in the caller's transaction; verify both chains
(the audit trail and the row ledger over every protected row), against an anchor if given; take
the anchor (the chains' heads); seal the rows a migration changed."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from infusionist.domain.access import Permission, Role, require, sees_audit_values, sees_identity
from infusionist.domain.audit_chain import GENESIS_HASH, AuditEntry, ChainBreak, first_break, row_hash
from infusionist.domain.records import Context
from infusionist.domain.row_ledger import LEDGER_CHAIN, Anchor, ChainHead, RowFinding, anchor_break
from infusionist.services import audit_text
from infusionist.services.deps import Deps
from infusionist.services.ports import UnitOfWork


def record(
    uow: UnitOfWork,
    deps: Deps,
    actor: str,
    request_id: str | None,
    action: str,
    entity: str,
    entity_id: object,
    *,
    old: Any = None,
    new: Any = None,
    reason: str | None = None,
) -> AuditEntry:
    """Append one hash-chained audit row in the same transaction as the change it records."""
    last = uow.audit.last()
    draft = AuditEntry(
        seq=(last.seq if last is not None else 0) + 1,
        at=deps.clock.now(),
        actor=actor,
        action=action,
        entity=entity,
        entity_id=str(entity_id),
        old_value=old,
        new_value=new,
        reason=reason,
        request_id=request_id,
        prev_hash=last.hash if last is not None else GENESIS_HASH,
        hash="",
    )
    entry = replace(draft, hash=row_hash(draft.prev_hash, draft))
    uow.audit.add(entry)
    return entry


def record_for(uow: UnitOfWork, deps: Deps, ctx: Context, action: str, entity: str,
               entity_id: object, **values: Any) -> AuditEntry:
    return record(uow, deps, ctx.actor.username, ctx.request_id, action, entity, entity_id, **values)


def list_audit(deps: Deps, ctx: Context, after_seq: int, limit: int) -> list[AuditEntry]:
    """The rows as ``ctx``'s role may read them (an admin: no clinical values, ``for_reader``)."""
    require(ctx.actor.role, Permission.READ_AUDIT)
    with deps.uow() as uow:
        return [for_reader(entry, ctx.actor.role) for entry in uow.audit.page(after_seq, limit)]


def for_reader(entry: AuditEntry, role: Role) -> AuditEntry:
    """The row, or, for a role that reads no clinical data, the row without its values and
    reason (who, when, what action on which record stay; the stored row is unchanged)."""
    if sees_audit_values(role, entry.entity):
        return entry
    return replace(entry, old_value=None, new_value=None, reason=None)


SYSTEM_ACTOR = "system"


@dataclass(frozen=True)
class Verification:
    """What ``audit verify`` found: both chains, every protected row, the anchor if given."""

    audit_rows: int
    audit_break: ChainBreak | None
    ledger_entries: int
    ledger_break: ChainBreak | None
    sealed: int  # ledger entries that took rows under the ledger as they stood (seals)
    rows: dict[str, int]  # protected rows read, by table
    findings: list[RowFinding]
    anchor_problems: list[str]

    @property
    def intact(self) -> bool:
        return not self.problems()

    def problems(self) -> list[str]:
        """Every problem as a sentence: chain breaks, then anchor, then rows."""
        breaks = [b.describe() for b in (self.audit_break, self.ledger_break) if b is not None]
        return breaks + self.anchor_problems + [f.describe() for f in self.findings]


def verify(deps: Deps, anchor: Anchor | None = None) -> Verification:
    """Check the audit trail's chain, the row ledger's chain, and every protected row against
    the ledger's latest entry for it; with ``anchor``, that both chains still extend its heads.
    One consistent snapshot. Offline: needs no user."""
    with deps.uow() as uow:
        uow.ledger.snapshot()
        entries = list(uow.audit.all())
        audit_break = first_break(entries)
        state = uow.ledger.state()
        rows, findings = uow.ledger.compare(state)
        problems: list[str] = []
        if anchor is not None:
            audit_at = uow.audit.at(anchor.audit.rows)
            for problem in (
                anchor_break("audit row", anchor.audit, audit_at.hash if audit_at else None, len(entries)),
                anchor_break(LEDGER_CHAIN, anchor.ledger, uow.ledger.hash_at(anchor.ledger.rows),
                             state.entries),
            ):
                if problem is not None:
                    problems.append(problem)
    return Verification(len(entries), audit_break, state.entries, state.broken, state.sealed, rows,
                        findings, problems)


def verify_as(deps: Deps, ctx: Context) -> Verification:
    require(ctx.actor.role, Permission.READ_AUDIT)
    return verify(deps)


def head(deps: Deps) -> Anchor:
    """The heads of both chains now (``infusionist audit anchor`` writes them to a file)."""
    with deps.uow() as uow:
        uow.ledger.snapshot()
        last = uow.audit.last()
        entries, ledger_hash = uow.ledger.head()
    return Anchor(
        audit=ChainHead(last.seq if last is not None else 0, last.hash if last is not None else None),
        ledger=ChainHead(entries, ledger_hash if entries else None),
        at=deps.clock.now(),
    )


def seal(deps: Deps, reason: str) -> dict[str, int]:
    """Take every protected row the ledger does not hold as it stands (a database made before
    the ledger, or rows whose columns a migration changed) under the ledger, and record the seal
    in the audit trail; returns how many rows were sealed, by table (nothing written if none)."""
    with deps.uow(write=True) as uow:
        sealed = uow.ledger.seal()
        if sealed:
            record(uow, deps, SYSTEM_ACTOR, None, "ledger.seal", "row_ledger", uow.ledger.head()[0],
                   new={"sealed": sealed}, reason=reason)
            uow.commit()
    return sealed


# --- the trail as people read it (the audit page and the inspector's CSV) -----------------------

READABLE_LIMIT = 500  # rows the page shows (newest first); the CSV holds every matching row


@dataclass(frozen=True)
class AuditFilter:
    """Which rows to show; every criterion left empty matches every row."""

    patient_id: int | None = None
    actor: str | None = None  # username
    action: str | None = None  # e.g. "event.append"
    since: date | None = None  # in the centre's zone, both days included
    until: date | None = None


@dataclass(frozen=True)
class AuditLine:
    seq: int
    entered_at: datetime  # when the row was written
    happened_at: datetime | None  # the clinical time the entry gives ("at"), if any
    actor: str
    actor_name: str
    action: str
    summary: str
    change: str  # a correction or edit as "old -> new"
    reason: str | None
    patient_id: int | None
    entity: str
    entity_id: str


def readable_audit(deps: Deps, ctx: Context, wanted: AuditFilter, zone: str) -> list[AuditLine]:
    """Matching rows in order, each told as a sentence. Clinical values (vital signs, names,
    corrections) only for roles that read clinical data; the admin role sees what was done,
    by whom and when, without them, and the values of administrative rows (users, device tokens,
    centre, monitors, unit, chairs) as ``for_reader`` (docs/security.md)."""
    require(ctx.actor.role, Permission.READ_AUDIT)
    clinical = sees_identity(ctx.actor.role)
    if wanted.patient_id is not None and not clinical:
        require(ctx.actor.role, Permission.READ_CLINICAL)
    local = ZoneInfo(zone)
    with deps.uow() as uow:
        names = {u.username: u.full_name for u in uow.users.list()}
        # Which patient each row is about: only for the roles that see the patient column.
        course_patient = ({c.id: p.id for p in uow.patients.list() for c in uow.courses.for_patient(p.id)}
                          if clinical else {})
        task_course = {t.id: course_id for course_id in course_patient
                       for t in uow.tasks.for_course(course_id)}
        entries = list(uow.audit.all())
    originals: dict[str, dict[str, Any]] = {}
    lines = []
    for entry in entries:
        new = entry.new_value if isinstance(entry.new_value, dict) else {}
        payload = new.get("payload") if entry.action == "event.append" else None
        original = None
        if isinstance(payload, dict):
            course, day = [*entry.entity_id.split("/"), "", ""][:2]
            originals[entry.entity_id] = payload
            if isinstance(payload.get("corrects"), int):  # the index of the day's entry corrected
                original = originals.get(f"{course}/{day}/{payload['corrects'] + 1}")
        patient = _patient_of(entry, new, course_patient, task_course)
        local_day = entry.at.astimezone(local).date()
        if ((wanted.patient_id is not None and patient != wanted.patient_id)
                or (wanted.actor and entry.actor != wanted.actor)
                or (wanted.action and entry.action != wanted.action)
                or (wanted.since and local_day < wanted.since)
                or (wanted.until and local_day > wanted.until)):
            continue
        at = payload.get("at") if isinstance(payload, dict) else None
        shown = sees_audit_values(ctx.actor.role, entry.entity)
        lines.append(AuditLine(
            seq=entry.seq, entered_at=entry.at,
            happened_at=datetime.fromisoformat(at) if isinstance(at, str) else None,
            actor=entry.actor, actor_name=names.get(entry.actor, entry.actor), action=entry.action,
            summary=audit_text.summary(entry.action, entry.new_value, clinical=shown),
            change=audit_text.change(entry.action, entry.old_value, entry.new_value, original,
                                     clinical=shown),
            reason=entry.reason if shown else None,
            patient_id=patient, entity=entry.entity, entity_id=entry.entity_id))
    return lines


def audit_users(deps: Deps, ctx: Context) -> list[str]:
    """The usernames that appear in the trail's filter (every user, and the system)."""
    require(ctx.actor.role, Permission.READ_AUDIT)
    with deps.uow() as uow:
        return ["system", *sorted(u.username for u in uow.users.list())]


def _patient_of(entry: AuditEntry, new: dict[str, Any], course_patient: dict[int, int],
                task_course: dict[int, int]) -> int | None:
    if entry.entity == "patient":
        return int(entry.entity_id)
    if entry.entity == "course":
        return course_patient.get(int(entry.entity_id))
    if entry.entity == "day_event":
        return course_patient.get(int(entry.entity_id.split("/")[0]))
    if entry.entity == "lab_result" and isinstance(new.get("patient_id"), int):
        return int(new["patient_id"])
    if entry.entity == "follow_up_task":
        course = task_course.get(int(entry.entity_id))
        return course_patient.get(course) if course is not None else None
    return None
