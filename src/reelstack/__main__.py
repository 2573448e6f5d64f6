"""``python -m reelstack`` is the ``reelstack`` command."""

from reelstack.cli import main

main()
