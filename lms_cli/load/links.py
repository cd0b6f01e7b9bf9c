"""The cross-file rules: ids defined once, every citation resolving; joining files into a base."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Sequence

from lms_cli.errors import EvidenceError, Problem
from lms_cli.load.items import Definition, FileItems, Use
from lms_cli.load.parse import MAX_PROBLEMS
from lms_cli.model import (
    EvidenceBase,
    Topic,
)
from lms_cli.text import did_you_mean


def definitions(part: FileItems) -> Iterator[Definition]:
    """The ids one file defines, in the order the cross-file checks take them."""
    for kind, items in (("topic", part.topics), ("reference", part.references), ("claim", part.claims)):
        for item in items:
            where = item.where
            assert where is not None
            yield kind, item.slug if isinstance(item, Topic) else item.id, where.path, where.line


def link_problems(
    defined: Iterable[Definition],
    uses: Callable[[dict[str, set[str]]], Iterable[Use]],
    invalid: Iterable[tuple[str, str]] = (),
) -> list[Problem]:
    """The cross-file rules: every id is defined once; every cited reference and topic exists.

    ``defined`` in load order (the first definition of an id wins); ``uses(known)`` gives
    the citations to check once every id is known -- a caller may leave out citations it
    already knows are in ``known`` (the cache does), never others.
    """
    problems: list[Problem] = []
    per_file: dict[str, int] = {}

    def listed(path: str, line: int, col: int) -> bool:
        # At most MAX_PROBLEMS per file, as in parse_file, then one line saying so; the
        # message (and its "did you mean", a scan of every id) is made only when listed.
        count = per_file.get(path, 0)
        per_file[path] = count + 1
        if count == MAX_PROBLEMS:
            problems.append(Problem(path, line, col, f"stopped after {MAX_PROBLEMS} problems with ids in this file"))
        return count < MAX_PROBLEMS

    seen: dict[str, tuple[str, int]] = {}
    known: dict[str, set[str]] = {"topic": set(), "reference": set(), "claim": set()}
    for kind, key, path, line in defined:
        first = seen.get(key)
        if first is not None:
            if listed(path, line, 1):
                problems.append(
                    Problem(path, line, 1, f"duplicate id {key!r} ({kind}); first defined at {first[0]}:{first[1]}")
                )
            continue
        seen[key] = (path, line)
        known[kind].add(key)
    broken = set(invalid)
    for kind, key, path, line, col in uses(known):
        if key in known[kind] or not listed(path, line, col):
            continue
        if (kind, key) in broken:
            problems.append(
                Problem(path, line, col, f"{kind} {key!r} has problems of its own (listed), so it cannot be cited")
            )
        else:
            problems.append(Problem(path, line, col, f"unknown {kind} {key!r}{did_you_mean(key, known[kind])}"))
    return problems


def combine(parts: Sequence[FileItems], problems: list[Problem] | None = None) -> EvidenceBase:
    """Join per-file results, checking ids are unique and every citation resolves."""
    problems = list(problems or [])
    for part in parts:
        problems.extend(part.problems)
    problems.extend(
        link_problems(
            (d for part in parts for d in definitions(part)),
            lambda known: (u for part in parts for u in part.refs_used),
            (bad for part in parts for bad in part.invalid),
        )
    )
    if problems:
        raise EvidenceError(problems)
    return EvidenceBase(
        tuple(t for part in parts for t in part.topics),
        tuple(r for part in parts for r in part.references),
        tuple(c for part in parts for c in part.claims),
    )


def for_topic(base: EvidenceBase, slug: str) -> EvidenceBase:
    """The part of a validated base one topic's summary needs.

    Every topic (so an unknown slug still gets suggestions), the claims about ``slug``
    and the references they cite, each in base order: ``select`` on ``slug`` gives the
    same result as on the whole base.
    """
    claims = tuple(c for c in base.claims if slug in c.topics)
    cited = {r for c in claims for r in c.cites}
    return EvidenceBase(base.topics, tuple(r for r in base.references if r.id in cited), claims)
