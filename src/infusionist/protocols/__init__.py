"""Protocol data files shipped with the package (YAML, schema in docs/protocol-schema.json)."""

DEFAULT_PROTOCOL = "alemtuzumab-ms"
