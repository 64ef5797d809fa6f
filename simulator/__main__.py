"""``python -m simulator`` is the ``crmsim`` command."""

from simulator.cli import main

main()
