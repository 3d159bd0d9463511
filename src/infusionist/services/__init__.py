"""Use cases. They take domain objects and ports; they never import adapters or frameworks."""
