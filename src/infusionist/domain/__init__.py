"""The pure domain: standard library and pydantic only; no I/O, no clock, no framework."""
