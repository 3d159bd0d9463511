"""Run the MLLP listener over the wired services until interrupted."""

from __future__ import annotations

import asyncio
import contextlib
import ssl
import threading
from collections.abc import Callable

from infusionist.adapters.hl7.mllp import MllpLimits, MllpServer, server_tls
from infusionist.config import Settings
from infusionist.entrypoints.heap import freeze_startup_heap
from infusionist.entrypoints.hl7.intake import Intake
from infusionist.services.deps import Deps


def limits_of(settings: Settings) -> MllpLimits:
    """The listener's connection cap, idle timeout and frame size limit from the settings."""
    return MllpLimits(max_connections=settings.hl7_max_connections,
                      idle_timeout_seconds=settings.hl7_idle_timeout_seconds,
                      max_frame_bytes=settings.hl7_max_frame_bytes)


def tls_of(settings: Settings) -> ssl.SSLContext | None:
    """The listener's TLS context when the settings name a certificate and key, else None."""
    if settings.hl7_tls_certificate is None or settings.hl7_tls_key is None:
        return None
    client_ca = str(settings.hl7_tls_client_ca) if settings.hl7_tls_client_ca is not None else None
    return server_tls(str(settings.hl7_tls_certificate), str(settings.hl7_tls_key), client_ca)


async def listen(deps: Deps, host: str, port: int, *, on_ready: Callable[[int], None] | None = None,
                 limits: MllpLimits | None = None, tls: ssl.SSLContext | None = None) -> None:
    server = MllpServer(Intake(deps), limits=limits, tls=tls)
    bound = await server.start(host, port)
    if on_ready is not None:
        on_ready(bound)
    try:
        await server.serve_forever()
    finally:
        await server.close()


def new_event_loop() -> asyncio.AbstractEventLoop:
    """uvloop's event loop where it is installed (with uvicorn[standard]), else asyncio's."""
    try:
        import uvloop
    except ImportError:
        return asyncio.new_event_loop()
    return uvloop.new_event_loop()


def run(deps: Deps, host: str, port: int, *, on_ready: Callable[[int], None] | None = None,
        limits: MllpLimits | None = None, tls: ssl.SSLContext | None = None) -> None:
    freeze_startup_heap()
    with contextlib.suppress(KeyboardInterrupt), asyncio.Runner(loop_factory=new_event_loop) as runner:
        runner.run(listen(deps, host, port, on_ready=on_ready, limits=limits, tls=tls))


def start_in_background(deps: Deps, host: str, port: int, *, limits: MllpLimits | None = None) -> int:
    """The listener on its own event loop in a daemon thread (beside a web server); the bound port."""
    loop = new_event_loop()
    server = MllpServer(Intake(deps), limits=limits)
    bound = loop.run_until_complete(server.start(host, port))
    threading.Thread(target=loop.run_forever, name="hl7-listener", daemon=True).start()
    return bound
