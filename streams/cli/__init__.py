"""``forewarn``: every command line (argparse) lives here, and nothing imports this package."""

from streams.cli.main import main

__all__ = ["main"]
