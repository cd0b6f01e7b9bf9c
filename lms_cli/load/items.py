"""What one evidence file defines, as the loader, the cache and the cross-file checks pass it on."""

from __future__ import annotations

from dataclasses import dataclass, field

from lms_cli.errors import Problem
from lms_cli.model import (
    Claim,
    Reference,
    Topic,
)


@dataclass
class FileItems:
    """What one file defined, in file order, with the problems found in it alone."""

    topics: list[Topic]
    references: list[Reference]
    claims: list[Claim]
    problems: list[Problem]
    # (kind, id, path, line, col) of every cited id, for cross-file checks
    refs_used: list[tuple[str, str, str, int, int]]
    # (kind, id) of items defined here with problems: a citation of one is not "unknown"
    invalid: list[tuple[str, str]] = field(default_factory=list)


Stamp = tuple[int, int, int, int]
"""What ``os.stat`` says of a file that changes when it is edited: size, mtime, ctime, inode."""


Definition = tuple[str, str, str, int]
"""An id as the cross-file checks see it: kind (topic/reference/claim), id, path, line."""


Use = tuple[str, str, str, int, int]
"""A cited id: kind (reference/topic), id, path, line, column."""
