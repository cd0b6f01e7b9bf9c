"""Allow ``python -m lms_cli``."""

from lms_cli.cli import main

main()
