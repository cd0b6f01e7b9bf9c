"""The command line: the Typer app (``app``), the run environment and error boundary (``common``),
and one module per command group (``refs``, ``report``). Only this package knows exit codes."""

from __future__ import annotations

from typing import Any


def main() -> Any:
    """Console-script entry point."""
    from lms_cli.cli.app import main as run

    return run()
