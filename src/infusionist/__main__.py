"""``python -m infusionist`` runs the CLI."""

from infusionist.entrypoints.cli.app import main

main()
