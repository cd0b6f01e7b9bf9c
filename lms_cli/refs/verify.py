"""Checking references: fetched metadata vs the base (title, year, journal, first author, ids, retraction).

Pure logic over plain data: it never prints, exits or opens sockets."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from enum import Enum

from lms_cli.model import Reference
from lms_cli.services.records import Lookup, LookupState, Work, clean_text
from lms_cli.text import plural


def _fold(text: str) -> str:
    """Case-, accent- and punctuation-blind form of a text (for comparisons only)."""
    text = unicodedata.normalize("NFKD", clean_text(text))
    text = "".join(ch for ch in text if not unicodedata.combining(ch)).casefold()
    return " ".join(re.sub(r"[\W_]+", " ", text).split())


def same_title(ours: str, theirs: str) -> bool:
    """True when two titles match once case, accents, punctuation and markup are folded."""
    return _fold(ours) == _fold(theirs)


_JOURNAL_STOPWORDS = {"the", "of", "and", "for", "in", "on", "la", "le", "de", "der", "des", "di"}


def _abbreviates(abbrev: str, full: str) -> bool:
    """True when each word of an NLM-style abbreviation starts the next word of the full title."""
    short = _fold(re.sub(r"\([^)]*\)", " ", abbrev)).split()  # "Cancers (Basel)": the place is not in the title
    words = [w for w in _fold(full).split() if w not in _JOURNAL_STOPWORDS]
    return bool(short) and len(short) == len(words) and all(w.startswith(s) for s, w in zip(short, words, strict=True))


def same_journal(ours: str, work: Work) -> bool:
    """True when our journal matches the work's abbreviation or full name."""
    names = [n for n in (work.journal, work.journal_full) if n]
    return any(_fold(ours) == _fold(n) or _abbreviates(ours, n) for n in names)


_INITIALS = re.compile(r"^[A-Z]{1,4}$")


def surname(name: str) -> str:
    """The folded surname of 'Surname Initials' (an organisation's name stays whole)."""
    parts = clean_text(name).split()
    if len(parts) > 1 and _INITIALS.match(parts[-1]):
        parts = parts[:-1]
    return _fold(" ".join(parts)).replace(" ", "")


def same_doi(a: str, b: str) -> bool:
    """True when two DOIs are the same (DOIs are case-insensitive)."""
    return a.strip().casefold() == b.strip().casefold()


class Status(Enum):
    """The outcome for one reference, in the order results are summarised."""

    VERIFIED = "verified"
    MISMATCH = "mismatch"
    NOT_FOUND = "not-found"
    RETRACTED = "retracted"
    UNCHECKED = "unchecked"


@dataclass(frozen=True, slots=True)
class Mismatch:
    """One field where the base and the service disagree."""

    field: str
    ours: str
    theirs: str


@dataclass(frozen=True, slots=True)
class Result:
    """How one reference compares with what a service says about it."""

    reference: Reference
    status: Status
    source: str
    mismatches: tuple[Mismatch, ...] = ()
    detail: str | None = None
    unreachable: bool = False  # the service failed: the command exits 4


def compare(ref: Reference, work: Work) -> tuple[Mismatch, ...]:
    """The fields where the base and the service disagree (fields a side lacks are skipped)."""
    out: list[Mismatch] = []
    if not same_title(ref.title, work.title):
        out.append(Mismatch("title", ref.title, work.title))
    if work.years and ref.year not in work.years:
        out.append(Mismatch("year", str(ref.year), str(work.years[0])))
    if (work.journal or work.journal_full) and not same_journal(ref.journal, work):
        out.append(Mismatch("journal", ref.journal, work.journal or work.journal_full or ""))
    if ref.named_authors and work.authors and surname(ref.named_authors[0]) != surname(work.authors[0]):
        out.append(Mismatch("first author", ref.named_authors[0], work.authors[0]))
    if ref.doi and work.doi and not same_doi(ref.doi, work.doi):
        out.append(Mismatch("doi", ref.doi, work.doi))
    if ref.pmid and work.pmid and ref.pmid != work.pmid:
        out.append(Mismatch("pmid", ref.pmid, work.pmid))
    return tuple(out)


def asked(ref: Reference, lookup: Lookup) -> str:
    """What the service was asked about ``ref``: its PMID, its DOI, or its DOI through the PMID PMC gives."""
    if lookup.service != "PubMed":
        return f"DOI {ref.doi}"
    if ref.pmid:
        return f"PMID {ref.pmid}"
    pmid = lookup.work.pmid if lookup.work else None  # a DOI-only reference, asked through the PMC ID converter
    return f"DOI {ref.doi} (PMID {pmid} via PMC)" if pmid else f"DOI {ref.doi} (via PMC)"


def check(ref: Reference, lookup: Lookup) -> Result:
    """One reference's status from the service's answer about it."""
    asked_for = asked(ref, lookup)
    if lookup.state is LookupState.NOT_FOUND:
        return Result(ref, Status.NOT_FOUND, lookup.service, detail=f"{lookup.service} has no record for {asked_for}")
    if lookup.state is LookupState.NOT_CACHED:
        return Result(ref, Status.UNCHECKED, lookup.service, detail=f"offline and {asked_for} is not cached")
    if lookup.state is LookupState.FAILED or lookup.work is None:
        return Result(
            ref, Status.UNCHECKED, lookup.service, detail=lookup.detail or f"{lookup.service} failed", unreachable=True
        )
    work = lookup.work
    mismatches = compare(ref, work)
    if work.retraction:
        return Result(ref, Status.RETRACTED, lookup.service, mismatches, detail=work.retraction)
    if mismatches:
        return Result(ref, Status.MISMATCH, lookup.service, mismatches)
    return Result(ref, Status.VERIFIED, lookup.service, detail=f"{asked_for} matches {lookup.service}")


def counts(results: Iterable[Result]) -> dict[str, int]:
    """How many references have each status (every status named, zeros included)."""
    out = {s.value: 0 for s in Status}
    for r in results:
        out[r.status.value] += 1
    return out


def describe(result: Result) -> str:
    """One line on why a reference has its status."""
    if result.mismatches:
        text = "; ".join(f'{m.field}: ours "{m.ours}", {result.source} "{m.theirs}"' for m in result.mismatches)
        return f"{result.detail}; {text}" if result.detail else text
    return result.detail or ""


def summary_line(results: Sequence[Result]) -> str:
    """One line: how many references, and how many have each status."""
    parts = [f"{n} {status}" for status, n in counts(results).items() if n]
    total = len(results)
    return f"{plural(total, 'reference')}: " + (", ".join(parts) if parts else "none") + "."
