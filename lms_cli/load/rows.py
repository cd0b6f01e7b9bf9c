"""One clean file's items as plain tuples: what the cache stores and what worker processes send."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator, Sequence
from sys import intern
from typing import Any, TypeVar

from lms_cli.load.items import FileItems, Use
from lms_cli.model import (
    Claim,
    Location,
    Population,
    Publication,
    Rank,
    Reference,
    Section,
    Seen,
    Support,
    Topic,
)

# Stored values back to the enums they name.
_SECTIONS = {s.value: s for s in Section}
_POPULATIONS = {p.value: p for p in Population}
_RANKS = {r.value: r for r in Rank}
_SUPPORTS = {s.value: s for s in Support}
_PUBLICATIONS = {p.value: p for p in Publication}
_SEEN = {s.value: s for s in Seen}


TopicRow = tuple[int, int, str, str, str, str, str | None, str | None]


# seq, line, slug, title, question, aliases, pubmed, trials
ReferenceRow = tuple[
    int,
    int,
    str,
    str,
    str,
    str,
    str,
    int,
    str | None,
    str | None,
    str | None,
    str | None,
    str | None,
    str | None,
    int | None,
    str,
    str | None,
    str,
    str | None,
    str | None,
    str,
    str,
    str | None,
    int,
]


# seq, line, id, design, authors, title, journal, year, volume, issue, pages, doi, pmid, pmcid, n,
# findings, note, publication, meeting, abstract, nct, seen, checked, authors_partial; lists of
# text (aliases, authors, findings, nct, seen) are joined by newlines
ClaimRow = tuple[int, int, str, str, str, str, str, str, str | None, str, str]


class FileRows:
    """One clean file's topics, references and claims, encoded for SQLite."""

    # A plain class: each dataclass costs a warm start about half a millisecond to create.
    __slots__ = ("claims", "references", "topics")

    def __init__(self) -> None:
        self.topics: list[TopicRow] = []
        self.references: list[ReferenceRow] = []
        self.claims: list[ClaimRow] = []


def _lines(texts: tuple[str, ...]) -> str:
    # Checked text is whitespace-folded (fields.text_field), so it never holds a newline; a list
    # that did could not be stored faithfully: refuse it, and the file is just not cached.
    if any("\n" in t or not t for t in texts):
        raise ValueError("list item with a newline or empty")
    return "\n".join(texts)


def _unlines(text: str) -> tuple[str, ...]:
    return tuple(text.split("\n")) if text else ()


def encode(items: FileItems) -> FileRows:
    """Rows for a file that parsed without problems."""
    if items.problems:
        raise ValueError("only files without problems are cached")
    rows = FileRows()
    for i, t in enumerate(items.topics):
        rows.topics.append((i, _line(t.where), t.slug, t.title, t.question, _lines(t.aliases), t.pubmed, t.trials))
    for i, r in enumerate(items.references):
        rows.references.append(
            (
                i,
                _line(r.where),
                r.id,
                r.design.value,
                _lines(r.authors),
                r.title,
                r.journal,
                r.year,
                r.volume,
                r.issue,
                r.pages,
                r.doi,
                r.pmid,
                r.pmcid,
                r.n,
                _lines(r.findings),
                r.note,
                r.publication.value,
                r.meeting,
                r.abstract,
                _lines(r.nct),
                _lines(tuple(s.value for s in r.seen)),
                r.checked.isoformat() if r.checked else None,
                int(r.authors_partial),
            )
        )
    used = iter(items.refs_used)
    for i, c in enumerate(items.claims):
        # refs_used holds, claim after claim, the position of each cited id, then of each topic
        positions = []
        for expected in [("reference", key) for key in c.cites] + [("topic", key) for key in c.topics]:
            kind, key, _path, line, col = next(used)
            if (kind, key) != expected:
                raise ValueError("refs_used does not follow the claims")
            positions.append(f"{line} {col}")
        # ids and slugs match ID_RE/SLUG_RE (no spaces): a space separates them safely
        rows.claims.append(
            (
                i,
                _line(c.where),
                c.id,
                " ".join(c.topics),
                c.section.value,
                c.statement,
                " ".join(c.cites),
                c.population.value,
                c.reviewed.isoformat() if c.reviewed else None,
                c.support.value,
                " ".join(positions),
            )
        )
    if next(used, None) is not None:
        raise ValueError("refs_used has entries for no claim")
    return rows


def _line(where: Location | None) -> int:
    assert where is not None
    return where.line


#: The stored columns of a claim and of a reference after file, seq and line, in the order
#: ``claim_of`` and ``reference_of`` read them.
CLAIM_COLUMNS = ("id", "topics", "section", "statement", "cites", "population", "reviewed", "support")
REFERENCE_COLUMNS = (
    "id",
    "design",
    "authors",
    "title",
    "journal",
    "year",
    "volume",
    "issue",
    "pages",
    "doi",
    "pmid",
    "pmcid",
    "n",
    "findings",
    "note",
    "publication",
    "meeting",
    "abstract",
    "nct",
    "seen",
    "checked",
    "authors_partial",
)
#: SQLite allows 999 parameters per statement in old builds.
CHUNK = 900

_T = TypeVar("_T")


#: The lengths an ``IN (...)`` list is padded to, with NULLs (which match nothing): a
#: connection then compiles a few statements, not one per length, and SQLite keeps every one
#: it has compiled (a search of 27,000 claims, over 100 files, held 5 MiB of them).
IN_LENGTHS = (8, 64, 256, CHUNK)


def chunked(values: Sequence[_T]) -> Iterator[tuple[list[_T | None], str]]:
    """``values`` in runs of at most ``CHUNK``, each padded to one of ``IN_LENGTHS`` with
    None, with its "?,?,..." for an ``IN (...)``."""
    for start in range(0, len(values), CHUNK):
        chunk: list[_T | None] = list(values[start : start + CHUNK])
        size = next(n for n in IN_LENGTHS if n >= len(chunk))
        chunk += [None] * (size - len(chunk))
        yield chunk, ",".join("?" * size)


def topic_of(
    slug: str, title: str, question: str, aliases: str, pubmed: str | None, trials: str | None, where: Location
) -> Topic:
    """A Topic from its stored columns."""
    return Topic(slug, title, question, _unlines(aliases), pubmed, trials, where)


def reference_of(row: Sequence[Any], where: Location) -> Reference:
    """A Reference from the stored columns after seq and line (id ... note)."""
    (
        ref_id,
        design,
        authors,
        title,
        journal,
        year,
        volume,
        issue,
        pages,
        doi,
        pmid,
        pmcid,
        n,
        findings,
        note,
        publication,
        meeting,
        abstract,
        nct,
        seen,
        checked,
        authors_partial,
    ) = row
    return Reference(
        ref_id,
        _RANKS[design],
        _unlines(authors),
        title,
        journal,
        year,
        volume,
        issue,
        pages,
        doi,
        pmid,
        pmcid,
        n,
        _unlines(findings),
        note,
        _PUBLICATIONS[publication],
        meeting,
        abstract,
        _unlines(nct),
        tuple(_SEEN[s] for s in _unlines(seen)),
        dt.date.fromisoformat(checked) if checked else None,
        bool(authors_partial),
        where,
    )


def claim_of(
    claim_id: str,
    topics: str,
    section: str,
    statement: str,
    cites: str,
    population: str,
    reviewed: str | None,
    support: str,
    where: Location,
) -> Claim:
    """A Claim from its stored columns; the slugs and reference ids it names are interned (many
    claims name the same few: one string each, not one a claim)."""
    return Claim(
        claim_id,
        tuple(map(intern, topics.split(" "))),
        _SECTIONS[section],
        statement,
        tuple(map(intern, cites.split(" "))),
        _POPULATIONS[population],
        dt.date.fromisoformat(reviewed) if reviewed else None,
        _SUPPORTS[support],
        where,
    )


def uses_of(claim: tuple[str, str, str, str], shown: str) -> Iterator[Use]:
    """The refs_used entries of one stored claim: (topics, cites, used) -> positions."""
    topics, cites, used = claim[1], claim[2], claim[3]
    numbers = iter(int(n) for n in used.split())
    for kind, keys in (("reference", cites), ("topic", topics)):
        for key in keys.split(" "):
            yield kind, key, shown, next(numbers), next(numbers)


def decode(rows: FileRows, shown: str) -> FileItems:
    """The FileItems that ``rows`` encode, located in the file shown as ``shown``."""
    items = FileItems([], [], [], [], [])
    for _, line, slug, title, question, aliases, pubmed, trials in rows.topics:
        items.topics.append(topic_of(slug, title, question, aliases, pubmed, trials, Location(shown, line)))
    for _, line, *ref in rows.references:
        items.references.append(reference_of(ref, Location(shown, line)))
    for _, line, claim_id, topics, section, statement, cites, population, reviewed, support, used in rows.claims:
        items.claims.append(
            claim_of(claim_id, topics, section, statement, cites, population, reviewed, support, Location(shown, line))
        )
        items.refs_used.extend(uses_of((claim_id, topics, cites, used), shown))
    return items
