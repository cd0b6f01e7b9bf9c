"""Selected claims -> Summary: sections in display order, citation numbers by first use."""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence

from lms_cli.model import (
    RANK_ORDER,
    CitedClaim,
    Claim,
    Glance,
    Hidden,
    NumberedReference,
    Query,
    Rank,
    Reference,
    Section,
    Selection,
    Summary,
    SummarySection,
    Support,
    Topic,
)


def glance(references: list[Reference] | tuple[Reference, ...]) -> Glance:
    """Sources per rank (strongest first) and the span of publication years."""
    counts = Counter(r.rank for r in references)
    years = [r.year for r in references]
    return Glance(
        by_rank=tuple((rank, counts[rank]) for rank in Rank if counts[rank]),
        first_year=min(years) if years else None,
        last_year=max(years) if years else None,
        total=len(references),
    )


class Numbering:
    """Assigns citation numbers in order of first use; shared across report sections."""

    def __init__(self) -> None:
        self._numbers: dict[str, int] = {}
        self._refs: list[Reference] = []
        self._single: dict[int, tuple[int]] = {}

    def cite(self, refs: tuple[Reference, ...]) -> tuple[int, ...]:
        numbers = self._numbers
        out = set()
        for ref in refs:
            number = numbers.get(ref.id)
            if number is None:
                self._refs.append(ref)
                number = numbers[ref.id] = len(self._refs)
            out.add(number)
        if len(out) == 1:  # most claims: one tuple a reference, not one a claim
            (number,) = out
            return self._single.setdefault(number, (number,))
        return tuple(sorted(out))

    def references(self) -> tuple[NumberedReference, ...]:
        return tuple(NumberedReference(i + 1, r) for i, r in enumerate(self._refs))


def sections(selection: Selection, numbering: Numbering) -> tuple[SummarySection, ...]:
    """Group claims by section in display order, numbering citations as they appear."""
    grouped: dict[Section, list[tuple[Claim, tuple[Reference, ...]]]] = {s: [] for s in Section}
    for claim, refs in selection.claims:
        grouped[claim.section].append((claim, refs))
    out = []
    for section, items in grouped.items():  # display order; numbers follow it
        if items:
            cited = tuple(CitedClaim(c, claim_rank(c, refs), numbering.cite(refs)) for c, refs in items)
            out.append(SummarySection(section, cited))
    return tuple(out)


def claim_rank(claim: Claim, refs: tuple[Reference, ...]) -> Rank:
    """A claim's rank from the sources shown with it.

    A ``together`` claim is as strong as its weakest source (the sentence needs them all);
    an ``each`` claim as its strongest (any one of them states it).
    """
    if len(refs) == 1:  # most claims: no choice to make
        return refs[0].design
    ranks = [r.design for r in refs]  # a field, where .rank is a property: the same value
    if claim.support is Support.EACH:
        return min(ranks, key=RANK_ORDER.__getitem__)
    return max(ranks, key=RANK_ORDER.__getitem__)


def compose(query: Query, selection: Selection) -> Summary:
    """Build the Summary a renderer needs; numbers are fixed here, once."""
    numbering = Numbering()
    parts = sections(selection, numbering)
    refs = numbering.references()
    reviewed = [c.claim.reviewed for s in parts for c in s.claims if c.claim.reviewed]
    return Summary(
        query=query,
        topic=selection.topic,
        sections=parts,
        references=refs,
        glance=glance([n.reference for n in refs]),
        reviewed_through=max(reviewed) if reviewed else None,
        hidden=selection.hidden,
    )


def compose_search(
    query: Query,
    topics: Sequence[Topic],
    kept: Sequence[tuple[Claim, tuple[Reference, ...]]],
    hidden: tuple[Hidden, ...] = (),
) -> Summary:
    """Search results as a Summary: matches grouped under their (first) topic, best group first.

    ``kept`` is in rank order (best match first); a group's place is that of its best claim.
    """
    by_slug = {t.slug: t for t in topics}
    groups: dict[str, list[tuple[Claim, tuple[Reference, ...]]]] = {}
    for claim, refs in kept:
        groups.setdefault(claim.topics[0], []).append((claim, refs))
    numbering = Numbering()
    parts = []
    for slug, items in groups.items():
        cited = tuple(CitedClaim(c, claim_rank(c, refs), numbering.cite(refs)) for c, refs in items)
        parts.append(SummarySection(Section.KEY_POINT, cited, topic=by_slug[slug]))
    refs_out = numbering.references()
    reviewed = [c.reviewed for c, _ in kept if c.reviewed]
    words = query.search or ""
    return Summary(
        query=query,
        topic=Topic("search", "Search", f"Claims matching: {words}"),
        sections=tuple(parts),
        references=refs_out,
        glance=glance([n.reference for n in refs_out]),
        reviewed_through=max(reviewed) if reviewed else None,
        hidden=hidden,
    )
