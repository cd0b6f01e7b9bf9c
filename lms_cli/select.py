"""Pure filtering of claims by topic, rank, year and population, obeying how each claim rests on its sources."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable

from lms_cli.errors import NoResultsError, UsageError
from lms_cli.model import Claim, EvidenceBase, Filters, Hidden, Population, Reference, Selection, Support, Topic
from lms_cli.text import close_matches, plural


def find_topic(base: EvidenceBase, slug: str) -> Topic:
    """The topic with this slug, or a UsageError suggesting the closest slugs."""
    topic = base.topic(slug)
    if topic is None:
        slugs = [t.slug for t in base.topics]
        close = close_matches(slug, slugs, cutoff=0.5)
        hint = ("did you mean: " + ", ".join(close) + "?") if close else "run `lms topics` to list them"
        raise UsageError(f"unknown topic {slug!r}", hint)
    return topic


Kept = list[tuple[Claim, tuple[Reference, ...]]]


def _shown_sources(claim: Claim, sources: tuple[Reference, ...], kept: tuple[Reference, ...]) -> str | None:
    """Why the claim is hidden now that only ``kept`` of its ``sources`` are left, or None.

    A ``together`` claim needs every source, so it goes as soon as one is removed; an
    ``each`` claim stays while one source is left (each states the whole sentence).
    """
    if not kept:
        return "no-source"
    if len(kept) < len(sources) and claim.support is Support.TOGETHER:
        return "needs-source"
    return None


def filter_claims(
    claims: tuple[Claim, ...] | list[Claim],
    refs: dict[str, Reference],
    filters: Filters,
) -> tuple[Kept, tuple[str, int] | None, tuple[Hidden, ...]]:
    """Apply population, then rank, then year filters, obeying each claim's support.

    A rank or year filter drops references; a ``together`` claim that lost any of them is
    hidden whole, an ``each`` claim is kept with the sources left while one is. Returns the
    surviving claims with their surviving citations; when a filter removed the last of them,
    that filter's name and how many claims it removed; and what each filter hid, and why.
    """
    stage: Kept = [(c, tuple(refs[r] for r in c.cites)) for c in claims]
    population, min_rank, since = filters.population, filters.min_rank, filters.since
    steps: list[tuple[str, Callable[[Claim], bool], Callable[[Reference], bool]]] = []
    if population is not None:
        steps.append(
            (f"--population {population.value}", lambda c: c.population in (Population.ALL, population), lambda r: True)
        )
    if min_rank is not None:
        steps.append((f"--min-rank {min_rank.value}", lambda c: True, lambda r: r.rank.at_least(min_rank)))
    if since is not None:
        steps.append((f"--since {since}", lambda c: True, lambda r: r.year >= since))
    hidden: list[Hidden] = []
    for name, keep_claim, keep_ref in steps:
        before = len(stage)
        survivors: Kept = []
        reasons: Counter[str] = Counter()
        for claim, sources in stage:
            if not keep_claim(claim):
                reasons["population"] += 1
                continue
            kept = tuple(r for r in sources if keep_ref(r))
            why = _shown_sources(claim, sources, kept)
            if why is None:
                survivors.append((claim, kept))
            else:
                reasons[why] += 1
        stage = survivors
        hidden.extend(Hidden(name, why, n) for why, n in sorted(reasons.items()))
        if before and not stage:
            return [], (name, before), tuple(hidden)
    return stage, None, tuple(hidden)


def select(base: EvidenceBase, slug: str, filters: Filters) -> Selection:
    """The claims of one topic that the filters keep, in evidence-file order."""
    topic = find_topic(base, slug)
    claims = [c for c in base.claims if slug in c.topics]
    kept, removed, hidden = filter_claims(claims, base.reference_map(), filters)
    if not kept:
        if removed is None:
            raise NoResultsError(f"topic {slug!r} has no claims")
        raise emptied(repr(slug), removed)
    return Selection(topic, tuple(kept), hidden)


def emptied(subject: str, removed: tuple[str, int]) -> NoResultsError:
    """The error for filters that left nothing, naming the filter that removed the last claims."""
    name, count = removed
    return NoResultsError(
        f"no claims left for {subject}: {name} removed the last {plural(count, 'claim')}",
        "relax that filter",
    )
