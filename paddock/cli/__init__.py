"""The ``paddock`` command line."""

from paddock.cli.main import main

__all__ = ["main"]
