"""Start-up of the long-running servers (web, HL7 listener): keep collector pauses short."""

from __future__ import annotations

import gc


def freeze_startup_heap() -> None:
    """Collect once, then move every object that exists now (modules, the protocol, the app and
    its schemas) out of the cyclic garbage collector's generations. They live as long as the
    process; scanning them made each full collection pause the web server for about 100 ms
    while requests waited (docs/performance.md). Call it once the server is wired, before it
    serves."""
    gc.collect()
    gc.freeze()
