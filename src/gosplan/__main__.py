"""``python -m gosplan`` runs the command-line tool."""

from gosplan.cli import main

main(prog_name="gosplan")
