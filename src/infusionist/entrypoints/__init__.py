"""Entrypoints: the CLI, the web app and the HL7 listener."""
