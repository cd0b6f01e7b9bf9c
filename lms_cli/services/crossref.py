"""Crossref: works by DOI, one at a time or many per request, and their parser."""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator, Mapping, Sequence
from typing import TYPE_CHECKING, Any
from urllib.parse import quote, urlencode

from lms_cli.services.http import CROSSREF, Failure, join, malformed, shown
from lms_cli.services.records import (
    Lookup,
    LookupState,
    MalformedRecord,
    Progress,
    Work,
    _list,
    _str,
    advancer,
    clean_text,
)

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


# --- many works per request ------------------------------------------------------------------
#
# Crossref's REST API documentation, https://github.com/CrossRef/rest-api-doc/blob/master/rest_api.md
# (sections "Filter Names" and "Multiple filters"; marked deprecated since the API moved to
# Elasticsearch, the current reference being https://api.crossref.org/): the works filter
# `doi:{doi}` selects "metadata describing the DOI {doi}"; filters are joined with commas, and
# "different filters will be applied with AND semantics, while specifying the same filter
# multiple times will result in OR semantics". So
# `/works?filter=doi:A,doi:B&rows=2` lists the works of A and B, and a DOI left out of a
# complete answer has no Crossref record. "The maximum number rows you can ask for in one
# query is 1000" (the default is 20: `rows` is always sent).
#
# Filters are separated by commas; a filter's value is all that follows its first colon, so a
# DOI may hold colons (Crossref's server code, github.com/CrossRef/cayenne, api/v1/query.clj,
# `get-filters`, joins the rest back with ":"). A DOI holding a comma is asked alone at
# `/works/{doi}`, where it travels percent-encoded in the path.


def works(
    http: Http, dois: Iterable[str], progress: Progress | None = None, weights: Mapping[str, int] | None = None
) -> dict[str, Lookup]:
    """Works by DOI, ``crossref_batch`` DOIs (and ``crossref_max_url`` characters) per request.

    Cached answers are reused; a DOI missing from a complete answer is NOT_FOUND (and cached
    like a 404); a failed request makes each of its DOIs FAILED, naming the URL tried.
    ``progress`` advances by ``weights[doi]`` (default 1) as each DOI's answer is known.
    """
    wanted = list(dict.fromkeys(dois))
    advance = advancer(progress, weights)
    out: dict[str, Lookup] = {}
    todo: dict[str, list[str]] = {}  # casefolded DOI -> the spellings asked (DOIs ignore case)
    for doi in wanted:
        hit = http.cached("crossref", doi)
        if hit is not None:
            out[doi] = _lookup(doi, hit[1])
        elif http.config.offline:
            out[doi] = Lookup(LookupState.NOT_CACHED, CROSSREF)
        else:
            todo.setdefault(doi.casefold(), []).append(doi)
    advance(out)
    alone = [k for k in todo if "," in k]
    for key in alone:
        spellings = todo.pop(key)
        lookup = work(http, spellings[0])
        out.update(dict.fromkeys(spellings, lookup))
        advance(spellings)
    url = join(http.config.crossref_url, "works")
    for batch in _batches(http, url, [spellings[0] for spellings in todo.values()]):
        asked = {d.casefold(): todo[d.casefold()] for d in batch}
        out.update(_batch(http, url, asked))
        advance(d for ds in asked.values() for d in ds)
    return {d: out[d] for d in wanted}


def _params(http: Http, dois: Sequence[str]) -> dict[str, str]:
    params = {"filter": ",".join(f"doi:{d}" for d in dois), "rows": str(len(dois))}
    if http.config.email:
        params["mailto"] = http.config.email
    return params


def _batches(http: Http, url: str, dois: Sequence[str]) -> Iterator[list[str]]:
    """``dois`` in runs of at most ``crossref_batch``, each URL within ``crossref_max_url`` (one DOI at least)."""
    c = http.config
    batch: list[str] = []
    for doi in dois:
        longer = [*batch, doi]
        # Every character percent-encoded: an upper bound on the URL the HTTP client sends.
        size = len(url) + 1 + len(urlencode(_params(http, longer), quote_via=quote, safe=""))
        if batch and (len(longer) > c.crossref_batch or size > c.crossref_max_url):
            yield batch
            longer = [doi]
        batch = longer
    if batch:
        yield batch


def _batch(http: Http, url: str, asked: Mapping[str, Sequence[str]]) -> dict[str, Lookup]:
    """One `/works?filter=doi:...` request; ``asked`` maps each casefolded DOI to its spellings."""
    try:
        resp = http.request(CROSSREF, "GET", url, params=_params(http, [ds[0] for ds in asked.values()]))
        if resp.status_code != 200:
            raise Failure(f"Crossref failed at {shown(url)}: HTTP {resp.status_code}")
        body = http.json(CROSSREF, resp)
        message = body.get("message") if isinstance(body, dict) else None
        items = message.get("items") if isinstance(message, dict) else None
        if not isinstance(message, dict) or not isinstance(items, list):
            raise malformed(CROSSREF, f"no 'message' object with an 'items' list ({shown(url)})")
    except Failure as exc:
        return {d: Lookup(LookupState.FAILED, CROSSREF, detail=exc.detail) for ds in asked.values() for d in ds}
    found: dict[str, Mapping[str, Any]] = {}
    strays: list[str | None] = []
    for item in items:
        doi = _str(item.get("DOI")) if isinstance(item, dict) else None
        if doi and doi.casefold() in asked:  # matched by the record's own DOI, never by position
            found.setdefault(doi.casefold(), item)
        else:
            strays.append(doi)
    total = message.get("total-results")
    why = None
    if strays:  # the filter was not applied as asked: absence proves nothing
        stray = f"the record of DOI {strays[0][:100]}, not asked for" if strays[0] else "a record without a DOI"
        why = f"asked for {len(asked)} DOIs at {shown(url)}, sent {stray}"
    elif isinstance(total, int) and not isinstance(total, bool) and total > len(items):
        why = f"asked for {len(asked)} DOIs at {shown(url)}, sent {len(items)} of {total} records"
    out: dict[str, Lookup] = {}
    for key, spellings in asked.items():
        record = found.get(key)
        for doi in spellings:
            if record is not None:
                lookup = _lookup(doi, record)
                if lookup.state is LookupState.FOUND:
                    http.cache.put("crossref", doi, record)
            elif why is None:
                lookup = Lookup(LookupState.NOT_FOUND, CROSSREF)
                http.cache.put("crossref", doi, None)
            else:
                lookup = Lookup(LookupState.FAILED, CROSSREF, detail=malformed(CROSSREF, why).detail)
            out[doi] = lookup
    return out


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
