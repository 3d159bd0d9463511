"""The web entrypoint: JSON API under /api/v1 (and, later, server-rendered pages)."""

from infusionist.entrypoints.web.app import create_app

__all__ = ["create_app"]
