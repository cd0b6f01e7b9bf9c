"""Allow ``python -m lms_cli``."""

from lms_cli.cli.app import main

main()
