"""The MLLP server: one block in, one acknowledgement out, in order, per connection.

Every connection puts its message on one queue; a single worker thread takes all the messages
waiting there as a batch and gives them to the handler (raw texts -> ACK texts, blocking
database work), so one commit serves many messages (group commit) and only one thread competes
with the event loop. A connection that breaks before its ACK is written loses only that ACK: the
sender retransmits and the duplicate check answers it.

Limits (``MllpLimits``, from the settings): at most ``max_connections`` connections at once (one
more is closed at once, before anything is read); a connection that sends nothing for
``idle_timeout_seconds`` while we wait for a message is closed; a frame longer than
``max_frame_bytes`` is handed over as an oversize :class:`Frame` (its beginning), answered (AR)
and the connection closed, since what follows cannot be trusted to start a frame.

TLS (optional, :func:`server_tls`): MLLP inside TLS 1.2+, and with a client CA, only clients
presenting a certificate that CA signed complete the handshake (IHE ATNA node authentication).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import ssl
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

from hl7.mllp import start_hl7_server

log = logging.getLogger("infusionist.hl7")
MAX_BATCH = 100  # messages settled in one transaction at most
START_BLOCK, END_BLOCK = b"\x0b", b"\x1c\x0d"


@dataclass(frozen=True)
class Frame:
    """One MLLP block as received: its text, the address it came from, and whether it was cut
    short because it exceeded the frame size limit."""

    raw: str
    peer: str = ""
    oversize: bool = False


@dataclass(frozen=True)
class MllpLimits:
    """Product defaults; the settings (``INFUSIONIST_HL7_*``) override them."""

    max_connections: int = 64
    idle_timeout_seconds: float = 300.0
    max_frame_bytes: int = 1024 * 1024


BatchHandler = Callable[[Sequence[Frame]], list[str]]


def server_tls(certificate: str, key: str, client_ca: str | None = None) -> ssl.SSLContext:
    """The listener's TLS context: its certificate chain and key (PEM files); with ``client_ca``,
    a client certificate signed by that CA is required."""
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.minimum_version = ssl.TLSVersion.TLSv1_2
    context.load_cert_chain(certificate, key)
    if client_ca is not None:
        context.load_verify_locations(cafile=client_ca)
        context.verify_mode = ssl.CERT_REQUIRED
    return context


def decode(block: bytes) -> str:
    try:
        return block.decode("utf-8")
    except UnicodeDecodeError:
        return block.decode("latin-1")  # never fails; kept as received


class MllpServer:
    def __init__(self, handler: BatchHandler, *, max_batch: int = MAX_BATCH,
                 limits: MllpLimits | None = None, tls: ssl.SSLContext | None = None) -> None:
        self.handler = handler
        self.tls = tls
        self.max_batch = max_batch
        self.limits = limits if limits is not None else MllpLimits()
        self.connections = 0
        self.executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="hl7")
        self.server: asyncio.base_events.Server | None = None
        self._waiting: asyncio.Queue[tuple[Frame, asyncio.Future[str]]] | None = None
        self._worker: asyncio.Task[None] | None = None

    async def start(self, host: str, port: int) -> int:
        """Listen; returns the port (useful with ``port=0``)."""
        self._waiting = asyncio.Queue()
        self._worker = asyncio.get_running_loop().create_task(self._work())
        self.server = await start_hl7_server(self._client, host, port, limit=self.limits.max_frame_bytes,
                                             ssl=self.tls)
        sockets = self.server.sockets
        return int(sockets[0].getsockname()[1]) if sockets else port

    async def serve_forever(self) -> None:
        assert self.server is not None
        async with self.server:
            await self.server.serve_forever()

    async def close(self) -> None:
        if self.server is not None:
            self.server.close()
            await self.server.wait_closed()
        if self._worker is not None:
            self._worker.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._worker
        self.executor.shutdown(wait=True)

    async def _work(self) -> None:
        """Take every waiting message (at most ``max_batch``), handle them together, answer each."""
        assert self._waiting is not None
        loop = asyncio.get_running_loop()
        while True:
            batch = [await self._waiting.get()]
            while len(batch) < self.max_batch and not self._waiting.empty():
                batch.append(self._waiting.get_nowait())
            try:
                acks = await loop.run_in_executor(self.executor, self.handler, [frame for frame, _ in batch])
            except Exception as exc:  # no ACK at all: every sender keeps its message and resends it
                log.exception("HL7 batch of %d message(s) failed", len(batch))
                for _, answer in batch:
                    if not answer.done():
                        answer.set_exception(exc)
                continue
            for (_, answer), ack in zip(batch, acks, strict=True):
                if not answer.done():
                    answer.set_result(ack)

    async def _client(self, reader: Any, writer: Any) -> None:
        peername = writer.get_extra_info("peername")
        peer = str(peername[0]) if isinstance(peername, tuple) and peername else ""
        if self.connections >= self.limits.max_connections:
            log.warning("refusing a connection from %s: %d connections already open", peer, self.connections)
            writer.close()
            return
        self.connections += 1
        try:
            await self._converse(reader, writer, peer)
        except ConnectionError:
            pass
        finally:
            self.connections -= 1
            writer.close()

    async def _converse(self, reader: Any, writer: Any, peer: str) -> None:
        """Read a frame, queue it, write its ACK; until the peer closes, idles or oversteps."""
        assert self._waiting is not None
        loop = asyncio.get_running_loop()
        while True:
            frame = await self._read_frame(reader, peer)
            if frame is None:
                return
            answer: asyncio.Future[str] = loop.create_future()
            await self._waiting.put((frame, answer))
            try:
                ack = await answer
            except Exception:
                return  # already logged; closing tells the sender to resend
            writer.writeblock(ack.encode("utf-8"))
            await writer.drain()
            if frame.oversize:
                return

    async def _read_frame(self, reader: Any, peer: str) -> Frame | None:
        """The next frame; None when the peer closed, idled past the limit, or did not speak MLLP."""
        try:
            block = await asyncio.wait_for(reader.readuntil(END_BLOCK), self.limits.idle_timeout_seconds)
        except TimeoutError:
            log.info("closing an idle connection from %s", peer)
            return None
        except asyncio.LimitOverrunError:  # the beginning stays buffered: hand it over, refused
            beginning = await reader.read(self.limits.max_frame_bytes)
            log.warning("a frame from %s exceeds %d bytes; refused", peer, self.limits.max_frame_bytes)
            return Frame(decode(beginning.lstrip(START_BLOCK)), peer, oversize=True)
        except (asyncio.IncompleteReadError, ConnectionError):
            return None
        start = block.find(START_BLOCK)
        if start < 0 or block[:start].strip():
            log.warning("closing a connection from %s that did not speak MLLP", peer)
            return None
        return Frame(decode(block[start + 1:-len(END_BLOCK)]), peer)
