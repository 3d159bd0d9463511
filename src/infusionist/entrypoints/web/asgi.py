"""The ASGI application for ``uvicorn`` (settings from the environment), one per worker process."""

from infusionist.entrypoints.heap import freeze_startup_heap
from infusionist.entrypoints.web.app import create_app

app = create_app()
freeze_startup_heap()
