"""Today's board: every chair of the day, kept live by server-sent events.

Live updates follow the audit trail's last row, which every recorded change writes in its own
transaction, so several workers behind a proxy stay in step without sharing memory. On
PostgreSQL each worker LISTENs (``adapters.db.notify``) and the audit insert NOTIFYs in the same
transaction: a change reaches every worker's streams on commit; the streams still re-read the
marker every few seconds in case the listening connection drops. On SQLite each stream polls the
marker once a second.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import StreamingResponse
from starlette.concurrency import run_in_threadpool

from infusionist.adapters.db.notify import ChangeListener
from infusionist.domain.access import Permission, allows
from infusionist.entrypoints.web.dependencies import ServicesDep
from infusionist.entrypoints.web.pages.common import PageContext, render
from infusionist.services import audit, device_vitals, views
from infusionist.services.deps import Deps

router = APIRouter(include_in_schema=False)
POLL_SECONDS = 1.0  # SQLite: how often a stream re-reads the marker
FALLBACK_SECONDS = 5.0  # PostgreSQL: re-read even without a notification
KEEPALIVE_SECONDS = 15.0


@router.get("/")
def board(request: Request, ctx: PageContext, deps: ServicesDep) -> Any:
    if not allows(ctx.actor.role, Permission.READ_PSEUDONYMISED):
        zone = views.centre_zone(deps)
        lines = audit.readable_audit(deps, ctx, audit.AuditFilter(), zone)
        return render(request, ctx, "admin_home.html", rows=list(reversed(lines[-100:])), zone=zone)
    return render(request, ctx, "board.html", rows=views.today_board(deps, ctx),
                  zone=views.centre_zone(deps), now=deps.clock.now(),
                  marker=views.change_marker(deps), silent=device_vitals.device_alerts(deps, ctx))


@router.get("/board/rows")
def board_rows(request: Request, ctx: PageContext, deps: ServicesDep) -> Any:
    return render(request, ctx, "_board_rows.html", rows=views.today_board(deps, ctx),
                  zone=views.centre_zone(deps), now=deps.clock.now())


def change_listener(request: Request, deps: Deps) -> ChangeListener | None:
    """This worker's LISTEN connection on PostgreSQL (started on the first stream), else None."""
    engine = getattr(deps.uow, "engine", None)
    if deps.database != "postgresql" or engine is None:
        return None
    listener: ChangeListener | None = getattr(request.app.state, "change_listener", None)
    if listener is None:
        listener = request.app.state.change_listener = ChangeListener(engine.url)
        listener.start()
    return listener


@router.get("/board/stream")
async def board_stream(request: Request, ctx: PageContext, deps: ServicesDep) -> StreamingResponse:
    """``event: change`` with the new marker whenever anything was recorded, by any worker."""
    listener = change_listener(request, deps)

    async def changes() -> AsyncIterator[str]:
        loop = asyncio.get_running_loop()
        seen = listener.generation if listener is not None else 0
        last = await run_in_threadpool(views.change_marker, deps)
        yield f"event: hello\ndata: {last}\n\n"
        quiet_since = loop.time()
        while not await request.is_disconnected():
            if listener is not None:
                await listener.wait(seen, FALLBACK_SECONDS)
                seen = listener.generation
            else:
                await asyncio.sleep(POLL_SECONDS)
            marker = await run_in_threadpool(views.change_marker, deps)
            if marker != last:
                last, quiet_since = marker, loop.time()
                yield f"event: change\ndata: {marker}\n\n"
            elif loop.time() - quiet_since >= KEEPALIVE_SECONDS:
                quiet_since = loop.time()
                yield ": keep-alive\n\n"

    return StreamingResponse(changes(), media_type="text/event-stream",
                             headers={"Cache-Control": "no-store", "X-Accel-Buffering": "no"})
