"""Errors a user can cause, and the exit codes they map to.

Hierarchy::

    LmsError                    base; carries a message, an optional hint, an exit code
    ├── UsageError              a wrong option value or unknown topic/id      (exit 2)
    ├── NoResultsError          the filters left no claim                     (exit 1)
    ├── EvidenceError           invalid evidence or spec files, all problems  (exit 3)
    ├── OutputError             a file that cannot be written                 (exit 5)
    ├── ServiceError            a bibliographic service failed                (exit 4)
    └── Findings                the output itself is the message: e.g. mismatches were
                                found (exit 1, nothing more printed)

Only the ``lms_cli.cli`` package turns these into text on stderr and an exit code.
"""

from __future__ import annotations

from enum import IntEnum
from typing import NamedTuple

from lms_cli.text import plural


class ExitCode(IntEnum):
    """Documented process exit codes (the README has the same table)."""

    OK = 0
    NO_RESULTS = 1
    USAGE = 2
    INVALID_EVIDENCE = 3
    SERVICE = 4
    OUTPUT = 5
    INTERRUPTED = 130


class LmsError(Exception):
    """Base of every error lms reports to a user without a traceback."""

    exit_code: ExitCode = ExitCode.USAGE

    def __init__(self, message: str, hint: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint


class UsageError(LmsError):
    """A value given on the command line is not usable."""

    exit_code = ExitCode.USAGE


class NoResultsError(LmsError):
    """The query's filters removed every claim."""

    exit_code = ExitCode.NO_RESULTS


class OutputError(LmsError):
    """An output file could not be written; the old file is left intact."""

    exit_code = ExitCode.OUTPUT


class ServiceError(LmsError):
    """A bibliographic service could not be reached or answered badly."""

    exit_code = ExitCode.SERVICE


class Problem(NamedTuple):
    """One validation problem, located in a file (line and column are 1-based; 0 for a whole folder)."""

    path: str
    line: int
    column: int
    message: str

    def __str__(self) -> str:
        if not self.line:  # a folder, or a file as a whole: no position to give
            return f"{self.path}: {self.message}"
        return f"{self.path}:{self.line}:{self.column}: {self.message}"


class EvidenceError(LmsError):
    """One or more evidence (or spec) files are invalid; holds every problem found."""

    exit_code = ExitCode.INVALID_EVIDENCE

    def __init__(self, problems: list[Problem], hint: str | None = None) -> None:
        self.problems = sorted(problems, key=lambda p: (p.path, p.line, p.column, p.message))
        count = len(self.problems)
        head = f"{plural(count, 'problem')} in the evidence"
        body = "\n".join(str(p) for p in self.problems)
        super().__init__(f"{head}:\n{body}", hint)


class Findings(LmsError):
    """The command worked and its output says what it found (e.g. reference mismatches): exit 1.

    Nothing more is printed: the output is the message.
    """

    exit_code = ExitCode.NO_RESULTS

    def __init__(self) -> None:
        super().__init__("")
