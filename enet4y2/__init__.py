"""enet4y2: the B0-4Y detector on upstream AlexeyAB darknet."""

__version__ = "0.1.0"

#: The upstream AlexeyAB/darknet commit enet4y2 builds and is tested against.
DARKNET_PINNED_COMMIT = "59596d7880f6504768df41d6daa586f5cb2b932f"
