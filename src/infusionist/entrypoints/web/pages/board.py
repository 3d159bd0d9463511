"""Today's board: every chair of the day, kept live by server-sent events.

Live updates follow the audit trail's last row, which every recorded change writes in its own
transaction: each worker polls it once a second (on SQLite and on PostgreSQL), so several workers
behind a proxy stay in step without sharing memory.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import StreamingResponse
from starlette.concurrency import run_in_threadpool

from infusionist.domain.access import Permission, allows
from infusionist.entrypoints.web.dependencies import ServicesDep
from infusionist.entrypoints.web.pages.common import PageContext, render
from infusionist.services import audit, views

router = APIRouter(include_in_schema=False)
POLL_SECONDS = 1.0
KEEPALIVE_EVERY = 15


@router.get("/")
def board(request: Request, ctx: PageContext, deps: ServicesDep) -> Any:
    if not allows(ctx.actor.role, Permission.READ_PSEUDONYMISED):
        entries = audit.list_audit(deps, ctx, 0, 10_000)[-100:]
        rows = [{"seq": e.seq, "at": e.at.isoformat(), "actor": e.actor, "action": e.action,
                 "entity": f"{e.entity} {e.entity_id}", "reason": e.reason} for e in reversed(entries)]
        return render(request, ctx, "admin_home.html", rows=rows,
                      zone=views.centre_zone(deps))
    return render(request, ctx, "board.html", rows=views.today_board(deps, ctx),
                  zone=views.centre_zone(deps), now=deps.clock.now(),
                  marker=views.change_marker(deps))


@router.get("/board/rows")
def board_rows(request: Request, ctx: PageContext, deps: ServicesDep) -> Any:
    return render(request, ctx, "_board_rows.html", rows=views.today_board(deps, ctx),
                  zone=views.centre_zone(deps), now=deps.clock.now())


@router.get("/board/stream")
async def board_stream(request: Request, ctx: PageContext, deps: ServicesDep) -> StreamingResponse:
    """``event: change`` with the new marker whenever anything was recorded, by any worker."""

    async def changes() -> AsyncIterator[str]:
        last = await run_in_threadpool(views.change_marker, deps)
        yield f"event: hello\ndata: {last}\n\n"
        quiet = 0
        while not await request.is_disconnected():
            await asyncio.sleep(POLL_SECONDS)
            marker = await run_in_threadpool(views.change_marker, deps)
            if marker != last:
                last, quiet = marker, 0
                yield f"event: change\ndata: {marker}\n\n"
            else:
                quiet += 1
                if quiet % KEEPALIVE_EVERY == 0:
                    yield ": keep-alive\n\n"

    return StreamingResponse(changes(), media_type="text/event-stream",
                             headers={"Cache-Control": "no-store", "X-Accel-Buffering": "no"})
