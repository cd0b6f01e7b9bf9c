"""What the services answer with: works (bibliographic records), lookups, identifiers; never exceptions."""

from __future__ import annotations

import html
import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from enum import Enum
from typing import Any

from lms_cli.errors import UsageError
from lms_cli.load.fields import DOI_RE, PMID_RE


@dataclass(frozen=True, slots=True)
class Work:
    """Bibliographic metadata of one paper as a service describes it (text already cleaned)."""

    source: str  # "PubMed" or "Crossref": named in messages
    title: str
    authors: tuple[str, ...] = ()  # "Surname Initials", in order
    journal: str | None = None  # NLM abbreviation (ESummary `source`) or Crossref's short title
    journal_full: str | None = None
    years: tuple[int, ...] = ()  # print year first, then electronic and other years the record gives
    volume: str | None = None
    issue: str | None = None
    pages: str | None = None
    doi: str | None = None
    pmid: str | None = None
    pmcid: str | None = None
    pubtypes: tuple[str, ...] = ()
    retraction: str | None = None  # why the record counts as retracted, or None
    date: str | None = None  # publication date as YYYY-MM-DD when the record gives one (ESummary sortpubdate)

    @property
    def year(self) -> int | None:
        return self.years[0] if self.years else None


class LookupState(Enum):
    """What a service said of one identifier."""

    FOUND = "found"
    NOT_FOUND = "not-found"
    FAILED = "failed"  # the service could not be reached or answered badly (after retries)
    NOT_CACHED = "not-cached"  # offline and no cached answer


@dataclass(frozen=True, slots=True)
class Lookup:
    """The answer for one identifier: a Work, 'no such record', or why there is no answer."""

    state: LookupState
    service: str
    work: Work | None = None
    detail: str | None = None

    @classmethod
    def found(cls, service: str, work: Work) -> Lookup:
        return cls(LookupState.FOUND, service, work)


Progress = Callable[[int], None]


def advancer(progress: Progress | None, weights: Mapping[str, int] | None = None) -> Callable[[Iterable[str]], None]:
    """A function that advances ``progress`` by the weight (default 1) of each id whose answer is known."""

    def advance(done: Iterable[str]) -> None:
        n = sum(weights.get(i, 1) for i in done) if weights is not None else sum(1 for _ in done)
        if progress and n:
            progress(n)

    return advance


class MalformedRecord(ValueError):
    """A service record lacks what lms needs or has the wrong shape (treated like malformed JSON)."""


def _list(record: Any, key: str) -> list[Any]:
    """``record[key]`` when it is a list (absent or null: empty); any other shape is malformed."""
    value = record.get(key)
    if value is None:
        return []
    if not isinstance(value, list):
        raise MalformedRecord(f"{key!r} is a {type(value).__name__}, not a list")
    return value


_TAG = re.compile(r"</?[A-Za-z][A-Za-z0-9:_-]*(?:\s[^<>]*)?/?>")


_ENTITY = re.compile(r"&(?:#\d+|#x[0-9a-fA-F]+|[A-Za-z][A-Za-z0-9]*);")


def clean_text(text: str) -> str:
    """Markup-free text: HTML entities decoded (twice-escaped too), tags like <i> removed."""
    for _ in range(3):  # ESummary escapes markup once (&lt;i&gt;); some records twice
        if not _ENTITY.search(text):
            break
        text = _TAG.sub("", html.unescape(text))
    text = _TAG.sub("", text)
    return " ".join(text.split())


def _str(value: Any) -> str | None:
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return str(value)
    if isinstance(value, str) and value.strip():
        return " ".join(value.split())
    return None


def _year_of(text: Any) -> int | None:
    m = re.search(r"\b(1[89]\d\d|2[01]\d\d)\b", text) if isinstance(text, str) else None
    return int(m.group(1)) if m else None


def _drop_final_stop(title: str) -> str:
    # PubMed ends every title with a full stop; evidence titles carry none.
    return title[:-1].rstrip() if title.endswith(".") and not title.endswith("..") else title


class IdKind(Enum):
    """The kinds of identifier a user may type."""

    PMID = "PMID"
    DOI = "DOI"
    PMCID = "PMCID"


def parse_identifier(text: str) -> tuple[IdKind, str]:
    """A PMID, DOI or PMCID as typed (prefixes like 'PMID:' or https://doi.org/ allowed)."""
    raw = text.strip()
    value = re.sub(r"(?i)^(?:pmid:?\s*)", "", raw)
    if PMID_RE.match(value):
        return IdKind.PMID, value
    if re.match(r"(?i)^pmc\d+$", raw):
        return IdKind.PMCID, raw.upper()
    doi = re.sub(r"(?i)^(?:https?://(?:dx\.)?doi\.org/|doi:\s*)", "", raw)
    if DOI_RE.match(doi):
        return IdKind.DOI, doi
    raise UsageError(
        f"{text!r} is not a PMID, DOI or PMCID", "give digits (35835135), a DOI (10.1016/...) or a PMCID (PMC1234567)"
    )
