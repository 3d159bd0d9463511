"""The Jinja environment of the printed documents (handout, IAR report): the package's
templates, HTML autoescaped, and an error for any name a template uses but is not given."""

from __future__ import annotations

from jinja2 import Environment, PackageLoader, StrictUndefined, select_autoescape

TEMPLATES = Environment(
    loader=PackageLoader("infusionist.adapters.documents", "templates"),
    autoescape=select_autoescape(["html"]),
    undefined=StrictUndefined,
    trim_blocks=True,
    lstrip_blocks=True,
)
