"""The Content-Security-Policy of the pages (``guards.SecurityHeaders`` sends it) and of a printed
document served as a page. Its own module: pages and the middleware both read it."""

from __future__ import annotations

import base64
import hashlib
import re

PAGE_POLICY = ("default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
               "connect-src 'self'; font-src 'self'; form-action 'self'; frame-ancestors 'none'; "
               "base-uri 'none'; object-src 'none'")
# FastAPI's /docs page loads Swagger UI from a CDN and starts it with an inline script.
DOCS_POLICY = ("default-src 'self'; script-src 'self' 'unsafe-inline' https://cdn.jsdelivr.net; "
               "style-src 'self' https://cdn.jsdelivr.net; "
               "img-src 'self' data: https://fastapi.tiangolo.com; "
               "connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; object-src 'none'")
_STYLE_BLOCK = re.compile(r"<style>(.*?)</style>", re.DOTALL)


def document_policy(html: str) -> str:
    """The pages' policy, also allowing exactly the ``<style>`` blocks of ``html`` by their
    SHA-256 (a printed document served as a page: its styles are part of the document)."""
    hashes = " ".join(f"'sha256-{base64.b64encode(hashlib.sha256(block.encode()).digest()).decode()}'"
                      for block in _STYLE_BLOCK.findall(html))
    return PAGE_POLICY.replace("style-src 'self'", f"style-src 'self' {hashes}".rstrip())
