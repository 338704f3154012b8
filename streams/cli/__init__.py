"""``forewarn``: every command line (argparse) lives here, and nothing imports this package.

``streams.cli.commands`` holds the root parser and the core subcommands; each other module here
adds one subcommand (``ship``, ``ingest``, ``replay``, ``backtest``, ``prefs``)."""

from streams.cli.commands import main as main

__all__ = ["main"]
