"""What appeared since each topic was reviewed: search windows, triage by design, per-topic counts.

Pure logic over plain data (the base, ESearch results, ESummary lookups): it never prints,
exits, reads the clock or opens sockets; ``lms updates`` (cli/updates.py) does the asking.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from enum import Enum

from lms_cli.model import EvidenceBase, Topic
from lms_cli.services.records import Lookup, LookupState
from lms_cli.text import plural


class Design(Enum):
    """A candidate's design as PubMed's publication types tell it; strongest first."""

    GUIDELINE = "guideline"
    META_ANALYSIS = "meta-analysis"
    RCT = "rct"
    CLINICAL_TRIAL = "clinical-trial"
    OTHER = "other"

    @property
    def order(self) -> int:
        """0 for the strongest design, growing as evidence weakens."""
        return list(Design).index(self)


#: PubMed publication types (NLM's list) that name each design; the first match wins.
DESIGN_TYPES: tuple[tuple[Design, frozenset[str]], ...] = (
    (
        Design.GUIDELINE,
        frozenset(
            {
                "Guideline",
                "Practice Guideline",
                "Consensus Development Conference",
                "Consensus Development Conference, NIH",
            }
        ),
    ),
    (Design.META_ANALYSIS, frozenset({"Meta-Analysis", "Systematic Review", "Network Meta-Analysis"})),
    (Design.RCT, frozenset({"Randomized Controlled Trial", "Equivalence Trial"})),
    (
        Design.CLINICAL_TRIAL,
        frozenset(
            {
                "Clinical Trial",
                "Clinical Trial, Phase I",
                "Clinical Trial, Phase II",
                "Clinical Trial, Phase III",
                "Clinical Trial, Phase IV",
                "Controlled Clinical Trial",
                "Pragmatic Clinical Trial",
                "Adaptive Clinical Trial",
            }
        ),
    ),
)

#: Publication types a curator must see before reading: the flag each one raises.
FLAG_TYPES: tuple[tuple[str, str], ...] = (
    ("Retracted Publication", "retracted"),
    ("Published Erratum", "erratum"),
)


def design_of(pubtypes: Iterable[str]) -> Design:
    """The strongest design the publication types name, else ``other``."""
    types = set(pubtypes)
    return next((design for design, names in DESIGN_TYPES if types & names), Design.OTHER)


def flags_of(pubtypes: Iterable[str]) -> tuple[str, ...]:
    """``retracted`` and ``erratum`` when PubMed's publication types say so."""
    types = set(pubtypes)
    return tuple(flag for name, flag in FLAG_TYPES if name in types)


@dataclass(frozen=True, slots=True)
class Window:
    """The Entrez dates searched, both ends included."""

    start: dt.date
    end: dt.date


@dataclass(frozen=True, slots=True)
class Plan:
    """One topic to search: its PubMed query and window."""

    topic: Topic
    query: str
    window: Window


@dataclass(frozen=True, slots=True)
class Skipped:
    """A topic that cannot be searched, and why."""

    slug: str
    reason: str


def plan(
    base: EvidenceBase, slugs: Sequence[str], since: dt.date | None, today: dt.date
) -> tuple[list[Plan], list[Skipped]]:
    """The searches to run for ``slugs`` (all topics when empty), in the base's topic order.

    A topic's window starts at the earliest ``reviewed`` date among its claims (what was read
    longest ago), or at ``since`` when given, and ends ``today``.
    """
    wanted = set(slugs)
    plans, skipped = [], []
    for topic in base.topics:
        if wanted and topic.slug not in wanted:
            continue
        if not topic.pubmed:
            skipped.append(Skipped(topic.slug, "no pubmed: query"))
            continue
        start = since or reviewed_from(base, topic.slug)
        if start is None:
            skipped.append(Skipped(topic.slug, "no claim has a reviewed date (give --since DATE)"))
            continue
        plans.append(Plan(topic, topic.pubmed, Window(min(start, today), today)))
    return plans, skipped


def reviewed_from(base: EvidenceBase, slug: str) -> dt.date | None:
    """The earliest ``reviewed`` date among the topic's claims, or None."""
    dates = [c.reviewed for c in base.claims if slug in c.topics and c.reviewed is not None]
    return min(dates) if dates else None


def in_base(base: EvidenceBase) -> tuple[set[str], dict[str, str]]:
    """The base's PMIDs, and its DOIs (case-folded) with the id of the reference holding each."""
    pmids = {r.pmid for r in base.references if r.pmid}
    dois = {r.doi.casefold(): r.id for r in base.references if r.doi}
    return pmids, dois


def to_summarise(found: Iterable[Sequence[str]], base: EvidenceBase) -> list[str]:
    """The PMIDs of every search that the base lacks, once each, in the order found."""
    known, _ = in_base(base)
    return list(dict.fromkeys(p for pmids in found for p in pmids if p not in known))


@dataclass(frozen=True, slots=True)
class Item:
    """A publication the base does not hold, with what triage needs."""

    pmid: str
    doi: str | None
    title: str
    journal: str | None
    date: str | None  # YYYY-MM-DD
    design: Design
    flags: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class Present:
    """A publication found under a new PMID whose DOI a reference of the base already has."""

    pmid: str
    doi: str
    reference: str  # the id of the reference with that DOI


@dataclass(frozen=True, slots=True)
class TopicUpdates:
    """One topic's search and its triage: new items strongest first, and how many of each kind."""

    plan: Plan
    searched_to: dt.date  # the window's end as searched (an older cached search ends earlier)
    found: int  # PubMed's count for the query and window
    listed: int  # PMIDs ESearch listed (at most its retmax)
    in_base_pmid: int
    present: tuple[Present, ...]
    items: tuple[Item, ...]
    uncached: tuple[str, ...] = ()  # PMIDs without a record: offline and not cached
    unavailable: tuple[str, ...] = ()  # PMIDs ESummary had no record for

    @property
    def counts(self) -> dict[str, int]:
        """The figures every format prints, in a fixed order."""
        return {
            "found": self.found,
            "in_base_pmid": self.in_base_pmid,
            "in_base_doi": len(self.present),
            "new": len(self.items),
            "retracted": sum("retracted" in i.flags for i in self.items),
            "errata": sum("erratum" in i.flags for i in self.items),
            "not_listed": self.found - self.listed,
            "not_summarised": len(self.uncached) + len(self.unavailable),
        }


def ranked(items: Iterable[Item]) -> list[Item]:
    """Strongest design first; within a design the newest first (undated last), then the later PMID."""
    out = sorted(items, key=lambda i: -int(i.pmid))
    out.sort(key=lambda i: i.date or "", reverse=True)  # stable: equal dates keep the PMID order
    out.sort(key=lambda i: i.design.order)
    return out


def triage(
    p: Plan, searched_to: dt.date, count: int, pmids: Sequence[str], lookups: Mapping[str, Lookup], base: EvidenceBase
) -> TopicUpdates:
    """One topic's result: PMIDs in the base dropped, DOIs in the base recognised, the rest ranked."""
    known, dois = in_base(base)
    items: list[Item] = []
    present: list[Present] = []
    uncached: list[str] = []
    unavailable: list[str] = []
    held = 0
    for pmid in pmids:
        if pmid in known:
            held += 1
            continue
        lookup = lookups.get(pmid)
        work = lookup.work if lookup is not None else None
        if work is None:
            state = lookup.state if lookup is not None else LookupState.NOT_CACHED
            (unavailable if state is LookupState.NOT_FOUND else uncached).append(pmid)
            continue
        if work.doi and work.doi.casefold() in dois:
            present.append(Present(pmid, work.doi, dois[work.doi.casefold()]))
            continue
        items.append(
            Item(pmid, work.doi, work.title, work.journal, work.date, design_of(work.pubtypes), flags_of(work.pubtypes))
        )
    return TopicUpdates(
        p,
        searched_to,
        count,
        len(pmids),
        held,
        tuple(present),
        tuple(ranked(items)),
        tuple(uncached),
        tuple(unavailable),
    )


@dataclass(frozen=True, slots=True)
class Updates:
    """Every topic's updates, in the base's topic order, and the topics that could not be searched."""

    topics: tuple[TopicUpdates, ...]
    skipped: tuple[Skipped, ...] = ()

    @property
    def new(self) -> int:
        """Candidates across topics (a paper found by two topics counts in each)."""
        return sum(len(t.items) for t in self.topics)


def counts_line(t: TopicUpdates) -> str:
    """The counts of one topic as a sentence."""
    c = t.counts
    line = (
        f"Found {c['found']}: {c['in_base_pmid']} in the base by PMID, {c['in_base_doi']} by DOI, "
        f"{c['new']} new ({c['retracted']} retracted, {plural(c['errata'], 'erratum', 'errata')})."
    )
    if c["not_listed"]:
        line += f" {c['not_listed']} more not listed (narrow the window with --since)."
    if c["not_summarised"]:
        line += f" {c['not_summarised']} without a record."
    return line


def summary_line(result: Updates) -> str:
    """One sentence for the end of the text formats."""
    with_new = sum(1 for t in result.topics if t.items)
    if not result.new:
        return f"Nothing new in {plural(len(result.topics), 'topic')}."
    return (
        f"{plural(result.new, 'new publication')} in {plural(with_new, 'topic')} of {len(result.topics)}; "
        "take one in with `lms refs add PMID --to FILE`."
    )
