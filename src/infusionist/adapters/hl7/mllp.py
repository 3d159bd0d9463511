"""The MLLP server: one block in, one acknowledgement out, in order, per connection.

Every connection puts its message on one queue; a single worker thread takes all the messages
waiting there as a batch and gives them to the handler (raw texts -> ACK texts, blocking
database work), so one commit serves many messages (group commit) and only one thread competes
with the event loop. A connection that breaks before its ACK is written loses only that ACK: the
sender retransmits and the duplicate check answers it.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from hl7.mllp import InvalidBlockError, start_hl7_server

log = logging.getLogger("infusionist.hl7")
BatchHandler = Callable[[Sequence[str]], list[str]]
MAX_BATCH = 100  # messages settled in one transaction at most


def decode(block: bytes) -> str:
    try:
        return block.decode("utf-8")
    except UnicodeDecodeError:
        return block.decode("latin-1")  # never fails; kept as received


class MllpServer:
    def __init__(self, handler: BatchHandler, *, max_batch: int = MAX_BATCH) -> None:
        self.handler = handler
        self.max_batch = max_batch
        self.executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="hl7")
        self.server: asyncio.base_events.Server | None = None
        self._waiting: asyncio.Queue[tuple[str, asyncio.Future[str]]] | None = None
        self._worker: asyncio.Task[None] | None = None

    async def start(self, host: str, port: int) -> int:
        """Listen; returns the port (useful with ``port=0``)."""
        self._waiting = asyncio.Queue()
        self._worker = asyncio.get_running_loop().create_task(self._work())
        self.server = await start_hl7_server(self._client, host, port, limit=1024 * 1024)
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
                acks = await loop.run_in_executor(self.executor, self.handler, [raw for raw, _ in batch])
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
        assert self._waiting is not None
        loop = asyncio.get_running_loop()
        try:
            while True:
                try:
                    block = await reader.readblock()
                except (asyncio.IncompleteReadError, ConnectionError):
                    break
                except (InvalidBlockError, ValueError) as exc:
                    log.warning("closing a connection that did not speak MLLP: %s", exc)
                    break
                answer: asyncio.Future[str] = loop.create_future()
                await self._waiting.put((decode(block), answer))
                try:
                    ack = await answer
                except Exception:
                    break  # already logged; closing tells the sender to resend
                writer.writeblock(ack.encode("utf-8"))
                await writer.drain()
        except ConnectionError:
            pass
        finally:
            writer.close()
