"""Crossref: works by DOI, and their parser."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

from lms_cli.services.http import CROSSREF, Failure, join, malformed, shown
from lms_cli.services.records import Lookup, LookupState, MalformedRecord, Work, _list, _str, clean_text

if TYPE_CHECKING:
    from lms_cli.services.http import Http


def _initials(given: str) -> str:
    parts = re.split(r"[\s.\-]+", clean_text(given))
    return "".join(p[0].upper() for p in parts if p and p[0].isalpha())


def _crossref_author(a: Mapping[str, Any]) -> str | None:
    family = _str(a.get("family"))
    if family:
        initials = _initials(_str(a.get("given")) or "")
        return clean_text(f"{family} {initials}" if initials else family)
    name = _str(a.get("name"))  # an organisation
    return clean_text(name) if name else None


def _first_of(value: Any) -> str | None:
    if isinstance(value, list):
        return next((clean_text(s) for v in value if (s := _str(v))), None)
    if value is not None and not isinstance(value, (str, int, float)):
        raise MalformedRecord(f"a {type(value).__name__} where text goes")
    return clean_text(s) if (s := _str(value)) else None


def _date_year(value: Any) -> int | None:
    try:
        year = value["date-parts"][0][0]
    except (KeyError, IndexError, TypeError):
        return None
    return year if isinstance(year, int) and not isinstance(year, bool) else None


def work_from_crossref(message: Mapping[str, Any]) -> Work:
    """Crossref `/works/{doi}` message -> Work; raise MalformedRecord when unusable."""
    title = _first_of(message.get("title"))
    doi = _str(message.get("DOI"))
    if not title or not doi:
        raise MalformedRecord("work has no title or DOI")
    raw_authors = [a for a in _list(message, "author") if isinstance(a, Mapping)]
    # Crossref marks the first author with sequence "first"; keep the list order otherwise.
    raw_authors.sort(key=lambda a: 0 if a.get("sequence") == "first" else 1)
    authors = tuple(n for a in raw_authors if (n := _crossref_author(a)))
    years = tuple(
        dict.fromkeys(
            y
            for y in (
                _date_year(message.get(k)) for k in ("published-print", "issued", "published-online", "published")
            )
            if y
        )
    )
    retraction = None
    for kind, what in (
        ("updated-by", "Crossref records a retraction of it"),
        ("update-to", "this DOI is a retraction notice"),
    ):
        for upd in _list(message, kind):
            if isinstance(upd, Mapping) and str(upd.get("type", "")).lower() == "retraction":
                retraction = what
    if retraction is None and re.match(r"(?i)^(retracted|withdrawn)\b", title):
        retraction = f"its title says {title.split(':')[0].strip()!r}"
    return Work(
        source="Crossref",
        title=title,
        authors=authors,
        journal=_first_of(message.get("short-container-title")) or _first_of(message.get("container-title")),
        journal_full=_first_of(message.get("container-title")),
        years=years,
        volume=_str(message.get("volume")),
        issue=_str(message.get("issue")),
        pages=_str(message.get("page")),
        doi=doi,
        retraction=retraction,
    )


def work(http: Http, doi: str) -> Lookup:
    """One work from Crossref `/works/{doi}` (404: no such DOI)."""
    hit = http.cached("crossref", doi)
    if hit is not None:
        return _lookup(doi, hit[1])
    if http.config.offline:
        return Lookup(LookupState.NOT_CACHED, CROSSREF)
    url = join(http.config.crossref_url, "works/" + quote(doi, safe="/"))
    params = {"mailto": http.config.email} if http.config.email else None
    try:
        resp = http.request(CROSSREF, "GET", url, params=params)
        if resp.status_code == 404:
            http.cache.put("crossref", doi, None)
            return Lookup(LookupState.NOT_FOUND, CROSSREF)
        if resp.status_code != 200:
            raise Failure(f"Crossref failed at {shown(url)}: HTTP {resp.status_code}")
        body = http.json(CROSSREF, resp)
        message = body.get("message") if isinstance(body, dict) else None
        if not isinstance(message, dict):
            raise malformed(CROSSREF, "no 'message' object")
    except Failure as exc:
        return Lookup(LookupState.FAILED, CROSSREF, detail=exc.detail)
    lookup = _lookup(doi, message)
    if lookup.state is LookupState.FOUND:
        http.cache.put("crossref", doi, message)
    return lookup


def _lookup(doi: str, message: Mapping[str, Any] | None) -> Lookup:
    if message is None:
        return Lookup(LookupState.NOT_FOUND, CROSSREF)
    try:
        work = work_from_crossref(message)
    except (MalformedRecord, TypeError, AttributeError) as exc:  # any shape the parser did not foresee
        why = f"the record for DOI {doi} cannot be read ({str(exc)[:100]})"
        return Lookup(LookupState.FAILED, CROSSREF, detail=malformed(CROSSREF, why).detail)
    if (work.doi or "").casefold() != doi.casefold():  # the wrong paper must never be taken for the one asked for
        why = f"asked for DOI {doi}, sent the record of DOI {str(work.doi)[:100]}"
        return Lookup(LookupState.FAILED, CROSSREF, detail=malformed(CROSSREF, why).detail)
    return Lookup.found(CROSSREF, work)
