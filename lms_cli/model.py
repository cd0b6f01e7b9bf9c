"""Frozen data: ranks, topics, references, claims, the evidence base, queries and summaries."""

from __future__ import annotations

import datetime as dt
from enum import Enum
from typing import NamedTuple

from lms_cli.text import Pattern

#: Publication years lms accepts, in evidence, report specs and --since.
YEAR_MIN, YEAR_MAX = 1800, 2100

_KEY_UNSAFE = Pattern(r"[^A-Za-z0-9._:/;()\-]")


class Member(Enum):
    """An enumeration whose members hash by identity. They are singletons, and Enum's own
    ``__hash__`` (the name's hash, written in Python) is a function call on every dict or set
    lookup: 0.5 us a claim's section or a reference's rank."""

    __hash__ = object.__hash__


class Rank(Member):
    """Evidence rank of a reference, by study design; strongest first."""

    GUIDELINE = "guideline"
    META_ANALYSIS = "meta-analysis"
    RCT = "rct"
    PROSPECTIVE = "prospective"
    RETROSPECTIVE = "retrospective"
    CASE_SERIES = "case-series"
    REVIEW = "review"
    EXPERT_OPINION = "expert-opinion"

    @property
    def strength(self) -> int:
        """0 for the strongest rank, growing as evidence weakens."""
        return RANK_ORDER[self]

    def at_least(self, other: Rank) -> bool:
        """True when this rank is as strong as ``other`` or stronger."""
        return self.strength <= other.strength


#: Each rank's strength: 0 for the strongest.
RANK_ORDER = {rank: i for i, rank in enumerate(Rank)}

#: One-line explanations, used in --help, the README and under reference lists.
RANK_HELP: dict[Rank, str] = {
    Rank.GUIDELINE: "practice guideline or consensus of a professional body",
    Rank.META_ANALYSIS: "systematic review or meta-analysis (CEBM 1)",
    Rank.RCT: "randomised controlled trial, or a subgroup of one (CEBM 2)",
    Rank.PROSPECTIVE: "prospective non-randomised, e.g. single-arm phase 2 (CEBM 3)",
    Rank.RETROSPECTIVE: "retrospective cohort, registry or database (CEBM 3-4)",
    Rank.CASE_SERIES: "case series or case report (CEBM 4)",
    Rank.REVIEW: "narrative review (CEBM 5)",
    Rank.EXPERT_OPINION: "editorial or expert opinion (CEBM 5)",
}

RANK_LEGEND = "Ranks, strongest first: " + " > ".join(r.value for r in Rank) + "."


class Section(Member):
    """Where a claim appears in a summary, in display order."""

    ANSWER = "answer"
    KEY_POINT = "key-point"
    ADVANCE = "advance"
    IMPLICATION = "implication"

    @property
    def heading(self) -> str:
        return SECTION_HEADINGS[self]


SECTION_HEADINGS: dict[Section, str] = {
    Section.ANSWER: "From the research",
    Section.KEY_POINT: "Key points",
    Section.ADVANCE: "Recent advances",
    Section.IMPLICATION: "Clinical implications",
}


class Population(Member):
    """Which patients a claim is about."""

    ALL = "all"
    UTERINE = "uterine"
    EXTRA_UTERINE = "extra-uterine"


class Support(Member):
    """How a claim rests on its sources."""

    TOGETHER = "together"  # the sentence needs every cited source; each states part
    EACH = "each"  # every cited source, alone, states the whole sentence


class Publication(Member):
    """What kind of publication a reference is."""

    JOURNAL_ARTICLE = "journal-article"
    CONFERENCE_ABSTRACT = "conference-abstract"


class Seen(Member):
    """The kind of page a reference's fields were seen on."""

    PUBMED = "pubmed"
    PMC = "pmc"
    PUBLISHER = "publisher"
    REGISTRY = "registry"
    CONFERENCE = "conference"
    MIRROR = "mirror"  # a copy of PubMed on another site
    SECONDARY = "secondary"  # a news report, or another paper's reference list

    @property
    def label(self) -> str:
        return SEEN_LABELS[self]


SEEN_LABELS: dict[Seen, str] = {
    Seen.PUBMED: "PubMed record",
    Seen.PMC: "PubMed Central article",
    Seen.PUBLISHER: "publisher's page",
    Seen.REGISTRY: "trial registry record",
    Seen.CONFERENCE: "meeting abstract page",
    Seen.MIRROR: "secondary copy of PubMed",
    Seen.SECONDARY: "secondary source (news report or another paper's reference list)",
}


class Location(NamedTuple):
    """Where an item was defined (1-based line)."""

    path: str
    line: int

    def __str__(self) -> str:
        return f"{self.path}:{self.line}"


class Topic(NamedTuple):
    """A question the base answers; claims name it by ``slug``."""

    slug: str
    title: str
    question: str
    aliases: tuple[str, ...] = ()
    pubmed: str | None = None  # a PubMed query for what appeared since review (lms updates)
    trials: str | None = None  # words narrowing a registry search to the topic (lms trials)
    where: Location | None = None


class Reference(NamedTuple):
    """A publication the base cites, ranked by its design, with where its fields were seen."""

    id: str
    design: Rank
    authors: tuple[str, ...]
    title: str
    journal: str
    year: int
    volume: str | None = None
    issue: str | None = None
    pages: str | None = None
    doi: str | None = None
    pmid: str | None = None
    pmcid: str | None = None
    n: int | None = None
    findings: tuple[str, ...] = ()
    note: str | None = None
    publication: Publication = Publication.JOURNAL_ARTICLE
    meeting: str | None = None
    abstract: str | None = None
    nct: tuple[str, ...] = ()
    seen: tuple[Seen, ...] = ()
    checked: dt.date | None = None
    authors_partial: bool = False
    where: Location | None = None

    @property
    def rank(self) -> Rank:
        return self.design

    @property
    def authors_incomplete(self) -> bool:
        """True when the author list is known to be cut short (ends with 'et al.')."""
        return bool(self.authors) and self.authors[-1] == "et al."

    @property
    def named_authors(self) -> tuple[str, ...]:
        return self.authors[:-1] if self.authors_incomplete else self.authors

    @property
    def key(self) -> str:
        """Citation key shared by every export and by pandoc: pmid:N, else doi:...

        In a DOI key, characters that BibTeX readers reject (e.g. the ``<`` ``>`` of old
        Wiley DOIs) become ``_``, so one key works in CSL-JSON, BibTeX, RIS and pandoc.
        """
        return f"pmid:{self.pmid}" if self.pmid else "doi:" + _KEY_UNSAFE.sub("_", self.doi or "")


class Claim(NamedTuple):
    """One or two sentences in the base's own words, citing the references that state them."""

    id: str
    topics: tuple[str, ...]
    section: Section
    statement: str
    cites: tuple[str, ...]
    population: Population = Population.ALL
    reviewed: dt.date | None = None
    support: Support = Support.TOGETHER
    where: Location | None = None


class EvidenceBase(NamedTuple):
    """A validated, cross-checked set of topics, references and claims, in file order."""

    topics: tuple[Topic, ...]
    references: tuple[Reference, ...]
    claims: tuple[Claim, ...]

    def topic(self, slug: str) -> Topic | None:
        return next((t for t in self.topics if t.slug == slug), None)

    def reference_map(self) -> dict[str, Reference]:
        return {r.id: r for r in self.references}


class Filters(NamedTuple):
    """Filters shared by every command that selects claims."""

    min_rank: Rank | None = None
    since: int | None = None
    population: Population | None = None

    def as_dict(self) -> dict[str, object]:
        return {
            "min_rank": self.min_rank.value if self.min_rank else None,
            "since": self.since,
            "population": self.population.value if self.population else None,
        }


class Query(NamedTuple):
    """What the user asked for: a topic (or, for `lms search`, words) and the filters."""

    topic: str
    filters: Filters = Filters()
    search: str | None = None
    asked: str | None = None  # the TOPIC argument as typed (a slug, or a question in plain words)


class Hidden(NamedTuple):
    """Claims a filter hid, and why: ``population`` (about other patients), ``no-source``
    (every cited source removed) or ``needs-source`` (a ``together`` claim lost a source)."""

    filter: str
    reason: str
    claims: int


#: How each reason reads in the note under an answer.
HIDDEN_REASONS = {
    "population": "about another population",
    "no-source": "left with no source",
    "needs-source": "missing a source they need (support: together)",
}


class Selection(NamedTuple):
    """Claims kept for one topic, each with the citations that survived the filters."""

    topic: Topic
    claims: tuple[tuple[Claim, tuple[Reference, ...]], ...]
    hidden: tuple[Hidden, ...] = ()


class CitedClaim(NamedTuple):
    """A claim as shown: its rank badge and its citation numbers."""

    claim: Claim
    rank: Rank
    numbers: tuple[int, ...]


class SummarySection(NamedTuple):
    """Claims shown under one heading: a section of a topic, or one topic's search matches."""

    section: Section
    claims: tuple[CitedClaim, ...]
    topic: Topic | None = None  # set for search results, grouped by topic

    @property
    def heading(self) -> str:
        return f"{self.topic.title} ({self.topic.slug})" if self.topic else self.section.heading


class NumberedReference(NamedTuple):
    """A reference with the number it is cited by."""

    number: int
    reference: Reference


class Glance(NamedTuple):
    """Evidence at a glance: sources per rank and the range of publication years."""

    by_rank: tuple[tuple[Rank, int], ...]
    first_year: int | None
    last_year: int | None
    total: int


class Summary(NamedTuple):
    """A composed answer: everything a renderer needs, citation numbers already fixed."""

    query: Query
    topic: Topic
    sections: tuple[SummarySection, ...]
    references: tuple[NumberedReference, ...]
    glance: Glance
    reviewed_through: dt.date | None
    hidden: tuple[Hidden, ...] = ()  # claims the filters hid, by filter and reason
