"""``python -m dossiers.entrypoints`` runs the ``conum`` command."""

from dossiers.entrypoints.cli import main

main()
