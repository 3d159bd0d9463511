"""``python -m infusionist.entrypoints.cli``: the same command as ``infusionist``."""

from infusionist.entrypoints.cli.app import main

main()
