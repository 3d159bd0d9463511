"""The MLLP server: one block in, one acknowledgement out, in order, per connection.

The handler (raw message text -> ACK text) does blocking database work, so it runs in a thread
pool; the event loop keeps accepting connections meanwhile. A connection that breaks before the
ACK is written loses only that ACK: the sender retransmits and the duplicate check answers it.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from hl7.mllp import InvalidBlockError, start_hl7_server

log = logging.getLogger("infusionist.hl7")
Handler = Callable[[str], str]


def decode(block: bytes) -> str:
    try:
        return block.decode("utf-8")
    except UnicodeDecodeError:
        return block.decode("latin-1")  # never fails; kept as received


class MllpServer:
    def __init__(self, handler: Handler, *, workers: int = 4) -> None:
        self.handler = handler
        self.executor = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="hl7")
        self.server: asyncio.base_events.Server | None = None

    async def start(self, host: str, port: int) -> int:
        """Listen; returns the port (useful with ``port=0``)."""
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
        self.executor.shutdown(wait=True)

    async def _client(self, reader: Any, writer: Any) -> None:
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
                ack = await loop.run_in_executor(self.executor, self.handler, decode(block))
                writer.writeblock(ack.encode("utf-8"))
                await writer.drain()
        except ConnectionError:
            pass
        finally:
            writer.close()
