"""Adapters: files, databases, standards formats. They depend on the domain, never the reverse."""
