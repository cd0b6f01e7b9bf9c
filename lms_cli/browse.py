"""Browsing the base: topic rows for `lms topics` and one item with its links for `lms show`."""

from __future__ import annotations

from dataclasses import dataclass
from typing import NamedTuple

from lms_cli.errors import UsageError
from lms_cli.model import Claim, EvidenceBase, Rank, Reference, Topic
from lms_cli.store import Cited, MemoryStore, Store
from lms_cli.text import close_matches


class TopicRow(NamedTuple):
    """One row of `lms topics`: a topic and how many claims and references it has."""

    slug: str
    title: str
    question: str
    claims: int
    references: int


def topic_rows(base: EvidenceBase | Store) -> list[TopicRow]:
    """Every topic in file order with how many claims and distinct references it has."""
    store = _store(base)
    sizes = store.sizes()
    return [TopicRow(t.slug, t.title, t.question, *sizes[t.slug]) for t in store.topics]


def _store(base: EvidenceBase | Store) -> Store:
    return MemoryStore(base) if isinstance(base, EvidenceBase) else base


@dataclass(frozen=True)
class Detail:
    """One item and what it links to: a topic's claims, a claim's references, a reference's citers."""

    item: Topic | Claim | Reference
    claims: tuple[Claim, ...]
    references: tuple[Reference, ...]


_PREFIXES = ("pmid:", "doi:", "pmcid:", "https://doi.org/", "http://doi.org/", "doi.org/")


def find_reference(base: EvidenceBase | Store, text: str) -> Reference | None:
    """The reference an identifier lms prints names: its id, key (``pmid:N``, ``doi:...``), a bare
    PMID, a DOI (case-insensitive, with or without https://doi.org/) or a PMCID."""
    wanted = text.strip()
    lowered = wanted.lower()
    for prefix in _PREFIXES:
        if lowered.startswith(prefix):
            wanted, lowered = wanted[len(prefix) :], lowered[len(prefix) :]
            break
    for ref in base.references if isinstance(base, EvidenceBase) else base.references():
        if (
            ref.id == wanted
            or ref.key.lower() == text.strip().lower()
            or (ref.pmid is not None and ref.pmid == wanted)
            or (ref.doi is not None and ref.doi.lower() == lowered)
            or (ref.pmcid is not None and ref.pmcid.lower() == lowered)
        ):
            return ref
    return None


def detail(base: EvidenceBase | Store, item_id: str) -> Detail:
    """One topic, claim or reference by id (or any identifier of a reference), with its links."""
    store = _store(base)
    if (topic := next((t for t in store.topics if t.slug == item_id), None)) is not None:
        return Detail(topic, store.part(topic=item_id).claims, ())
    if (ref := store.reference(item_id)) is not None:
        return Detail(ref, store.citing(item_id), ())
    if (claim := store.claim(item_id)) is not None:
        return Detail(claim, (), tuple(r for r in map(store.reference, claim.cites) if r is not None))
    if (ref := find_reference(store, item_id)) is not None:
        return Detail(ref, store.citing(ref.id), ())
    close = close_matches(item_id, store.ids())
    raise UsageError(
        f"no topic, reference or claim with id {item_id!r}",
        ("did you mean: " + ", ".join(close) + "?")
        if close
        else "an id, PMID, pmid:N, DOI or PMCID; `lms topics` and `lms refs list` list them",
    )


class ReferenceRow(NamedTuple):
    """One row of `lms refs list`: a reference, its rank, year, ids and how many claims cite it."""

    id: str
    rank: str
    year: int
    first_author: str
    journal: str
    pmid: str | None
    doi: str | None
    topics: tuple[str, ...]
    claims: int
    missing: tuple[str, ...]


#: Fields `lms refs list --missing` can ask about.
CHECKED_FIELDS = ("pmid", "doi", "pmcid", "volume", "issue", "pages", "n", "findings")


def reference_rows(
    base: EvidenceBase | Store,
    *,
    min_rank: Rank | None = None,
    since: int | None = None,
    topic: str | None = None,
    missing: str | None = None,
) -> list[ReferenceRow]:
    """Every reference in file order (filtered by rank, year, topic and a missing field)."""
    store = _store(base)
    cited = store.cited()
    rows = []
    none = Cited(0, ())
    for ref in store.references():
        claims, topics = cited.get(ref.id, none)
        lacks = tuple(f for f in CHECKED_FIELDS if getattr(ref, f) in (None, ()))
        if min_rank is not None and not ref.rank.at_least(min_rank):
            continue
        if since is not None and ref.year < since:
            continue
        if topic is not None and topic not in topics:
            continue
        if missing is not None and missing not in lacks:
            continue
        first = ref.named_authors[0] if ref.named_authors else ""
        rows.append(
            ReferenceRow(ref.id, ref.rank.value, ref.year, first, ref.journal, ref.pmid, ref.doi, topics, claims, lacks)
        )
    return rows
