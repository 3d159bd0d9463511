"""Protocol data files shipped with the package (YAML, schema in docs/protocol-schema.json).

``released.yaml`` records the released versions and names the default protocol.
"""
