"""`python -m enet4y2` is the `enet4y2` command."""

from enet4y2.cli import main

main()
