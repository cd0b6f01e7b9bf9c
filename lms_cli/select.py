"""Pure filtering and ordering of claims by topic, rank, year and population."""

from __future__ import annotations

import difflib
from collections.abc import Callable

from lms_cli.errors import NoResultsError, UsageError
from lms_cli.model import Claim, EvidenceBase, Filters, Population, Reference, Selection, Topic


def find_topic(base: EvidenceBase, slug: str) -> Topic:
    """The topic with this slug, or a UsageError suggesting the closest slugs."""
    topic = base.topic(slug)
    if topic is None:
        slugs = [t.slug for t in base.topics]
        close = difflib.get_close_matches(slug, slugs, n=3, cutoff=0.5)
        hint = ("did you mean: " + ", ".join(close) + "?") if close else "run `lms topics` to list them"
        raise UsageError(f"unknown topic {slug!r}", hint)
    return topic


Kept = list[tuple[Claim, tuple[Reference, ...]]]


def filter_claims(
    claims: tuple[Claim, ...] | list[Claim],
    refs: dict[str, Reference],
    filters: Filters,
) -> tuple[Kept, tuple[str, int] | None]:
    """Apply population, then rank, then year filters.

    A rank or year filter drops references, then the claims left citing none. Returns
    the surviving claims with their surviving citations and, when a filter removed the
    last of them, that filter's name and how many claims it removed.
    """
    stage: Kept = [(c, tuple(refs[r] for r in c.cites)) for c in claims]
    population, min_rank, since = filters.population, filters.min_rank, filters.since
    steps: list[tuple[str, Callable[[Claim], bool], Callable[[Reference], bool]]] = []
    if population is not None:
        steps.append((f"--population {population.value}",
                      lambda c: c.population in (Population.ALL, population), lambda r: True))
    if min_rank is not None:
        steps.append((f"--min-rank {min_rank.value}", lambda c: True, lambda r: r.rank.at_least(min_rank)))
    if since is not None:
        steps.append((f"--since {since}", lambda c: True, lambda r: r.year >= since))
    for name, keep_claim, keep_ref in steps:
        before = len(stage)
        stage = [
            (c, kept)
            for c, rs in stage
            if keep_claim(c) and (kept := tuple(r for r in rs if keep_ref(r)))
        ]
        if before and not stage:
            return [], (name, before)
    return stage, None


def select(base: EvidenceBase, slug: str, filters: Filters) -> Selection:
    """The claims of one topic that the filters keep, in evidence-file order."""
    topic = find_topic(base, slug)
    claims = [c for c in base.claims if slug in c.topics]
    kept, removed = filter_claims(claims, base.reference_map(), filters)
    if not kept:
        if removed is None:
            raise NoResultsError(f"topic {slug!r} has no claims")
        raise emptied(repr(slug), removed)
    return Selection(topic, tuple(kept))


def emptied(subject: str, removed: tuple[str, int]) -> NoResultsError:
    """The error for filters that left nothing, naming the filter that removed the last claims."""
    name, count = removed
    return NoResultsError(
        f"no claims left for {subject}: {name} removed the last {count} claim{'s' if count != 1 else ''}",
        "relax that filter",
    )
