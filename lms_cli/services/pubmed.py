"""PubMed E-utilities: ESummary records by PMID, ESearch PMIDs by query and date, and their parsers."""

from __future__ import annotations

import datetime as dt
import hashlib
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from lms_cli.load.fields import PMCID_RE, PMID_RE
from lms_cli.services.http import PUBMED, Failure, join, malformed, shown
from lms_cli.services.records import (
    Lookup,
    LookupState,
    MalformedRecord,
    Progress,
    Work,
    _drop_final_stop,
    _list,
    _str,
    _year_of,
    advancer,
    clean_text,
)

if TYPE_CHECKING:
    from lms_cli.services.http import Http


def work_from_esummary(record: Mapping[str, Any]) -> Work:
    """One ESummary (db=pubmed, JSON) record -> Work; raise MalformedRecord when unusable."""
    title = record.get("title")
    uid = _str(record.get("uid"))
    if not isinstance(title, str) or not uid:
        raise MalformedRecord("record has no title or uid")
    authors = tuple(name for a in _list(record, "authors") if isinstance(a, Mapping) and (name := _str(a.get("name"))))
    ids: dict[str, str] = {}
    for item in _list(record, "articleids"):
        if isinstance(item, Mapping) and (kind := _str(item.get("idtype"))) and (value := _str(item.get("value"))):
            ids.setdefault(kind, value)
    doi = ids.get("doi")
    if not doi:
        eloc = _str(record.get("elocationid")) or ""
        m = re.search(r"doi:\s*(10\.\S+)", eloc)
        doi = m.group(1) if m else None
    pmcid = ids.get("pmc")
    pubtypes = tuple(p for p in (_str(t) for t in _list(record, "pubtype")) if p)
    years = tuple(
        dict.fromkeys(y for y in (_year_of(record.get(k)) for k in ("pubdate", "epubdate", "sortpubdate")) if y)
    )
    return Work(
        source="PubMed",
        title=_drop_final_stop(clean_text(title)),
        authors=authors,
        journal=_str(record.get("source")),
        journal_full=_str(record.get("fulljournalname")),
        years=years,
        volume=_str(record.get("volume")),
        issue=_str(record.get("issue")),
        pages=_str(record.get("pages")),
        doi=doi,
        pmid=uid,
        pmcid=pmcid if pmcid and PMCID_RE.match(pmcid) else None,
        pubtypes=pubtypes,
        retraction="PubMed lists it as a Retracted Publication" if "Retracted Publication" in pubtypes else None,
        date=_sort_date(record.get("sortpubdate")),
    )


def _sort_date(value: Any) -> str | None:
    # ESummary's sortpubdate reads "2022/08/01 00:00": the print date, or the electronic one before print
    m = re.match(r"(\d{4})/(\d{2})/(\d{2})\b", value) if isinstance(value, str) else None
    return f"{m[1]}-{m[2]}-{m[3]}" if m else None


def esummary(
    http: Http, pmids: Iterable[str], progress: Progress | None = None, weights: Mapping[str, int] | None = None
) -> dict[str, Lookup]:
    """PubMed records by PMID: batched, GET up to ``get_max_ids`` ids and POST above.

    ``progress`` advances by ``weights[pmid]`` (default 1) as each PMID's answer is known.
    """
    wanted = list(dict.fromkeys(pmids))

    advance = advancer(progress, weights)

    out: dict[str, Lookup] = {}
    todo: list[str] = []
    for pmid in wanted:
        hit = http.cached("esummary", pmid)
        if hit is not None:
            out[pmid] = _lookup(pmid, hit[1])
        elif http.config.offline:
            out[pmid] = Lookup(LookupState.NOT_CACHED, PUBMED)
        else:
            todo.append(pmid)
    advance(out)
    size = http.config.get_max_ids if len(todo) <= http.config.get_max_ids else http.config.post_batch
    for i in range(0, len(todo), size):
        batch = todo[i : i + size]
        try:
            out.update(_batch(http, batch))
        except Failure as exc:
            out.update({p: Lookup(LookupState.FAILED, PUBMED, detail=exc.detail) for p in batch})
        advance(batch)
    return {p: out[p] for p in wanted}


def _lookup(pmid: str, record: Mapping[str, Any] | None) -> Lookup:
    if record is None or "error" in record:
        return Lookup(LookupState.NOT_FOUND, PUBMED)
    try:
        work = work_from_esummary(record)
    except (MalformedRecord, TypeError, AttributeError) as exc:  # any shape the parser did not foresee
        why = f"the record for PMID {pmid} cannot be read ({str(exc)[:100]})"
        return Lookup(LookupState.FAILED, PUBMED, detail=malformed(PUBMED, why).detail)
    if work.pmid != pmid:  # the wrong paper must never be taken for the one asked for
        why = f"asked for PMID {pmid}, sent the record of PMID {str(work.pmid)[:40]}"
        return Lookup(LookupState.FAILED, PUBMED, detail=malformed(PUBMED, why).detail)
    return Lookup.found(PUBMED, work)


def _batch(http: Http, batch: Sequence[str]) -> dict[str, Lookup]:
    url = join(http.config.eutils_url, "esummary.fcgi")
    fields = {"db": "pubmed", "id": ",".join(batch), "retmode": "json", **http.ncbi_params()}
    if len(batch) <= http.config.get_max_ids:
        resp = http.request(PUBMED, "GET", url, params=fields)
    else:  # long id lists do not fit in a URL
        resp = http.request(PUBMED, "POST", url, data=fields)
    if resp.status_code != 200:
        raise Failure(f"PubMed failed at {shown(url)}: HTTP {resp.status_code}")
    body = http.json(PUBMED, resp)
    if not isinstance(body, dict):
        raise malformed(PUBMED, "not a JSON object")
    if "error" in body:
        raise Failure(f"PubMed answered with an error: {str(body['error'])[:200]}")
    result = body.get("result")
    if not isinstance(result, dict):
        raise malformed(PUBMED, "no 'result' object")
    out = {}
    for pmid in batch:
        record = result.get(pmid)
        if not isinstance(record, dict):
            out[pmid] = Lookup(LookupState.NOT_FOUND, PUBMED)  # left out of the answer: not cached
            continue
        # An unknown PMID still comes back with HTTP 200: {"uid": ..., "error": "cannot get document summary"}
        lookup = _lookup(pmid, record)
        if lookup.state is LookupState.FOUND:  # a malformed record is not cached: asked again next time
            http.cache.put("esummary", pmid, record)
        elif lookup.state is LookupState.NOT_FOUND:
            http.cache.put("esummary", pmid, None)
        out[pmid] = lookup
    return out


# --- ESearch -------------------------------------------------------------------------------
#
# The parameters are those of NCBI's "The E-utilities In-Depth: Parameters, Syntax and More"
# (Entrez Programming Utilities Help, https://www.ncbi.nlm.nih.gov/books/NBK25499/, last
# updated 2022-11-30): db, term, retmode=json, retmax (at most 10,000 for PubMed), datetype
# (edat: the Entrez date, when a record entered PubMed), mindate and maxdate (YYYY/MM/DD, and
# both or neither), tool, email, api_key. The JSON reply mirrors the eSearchResult XML of that
# chapter in lower case, every number as a string:
#
#   {"header": {"type": "esearch", "version": "0.3"},
#    "esearchresult": {"count": "2", "retmax": "2", "retstart": "0",
#                      "idlist": ["39990101", "39990102"],
#                      "translationset": [...], "querytranslation": "..."}}
#
# (that shape as shown by an example ESearch reply for db=pubmed published at apis.io, "NCBI
# ESearch PubMed example", and NCBI's own E-utilities quick start). A failed search answers
# HTTP 200 with {"esearchresult": {"ERROR": "..."}} or a top-level {"error": "..."}.

#: The most PMIDs one search lists; a larger ``count`` is reported, not fetched.
ESEARCH_RETMAX = 1000


@dataclass(frozen=True, slots=True)
class Search:
    """What ESearch found for one query and window: how many, and the PMIDs listed."""

    count: int
    pmids: tuple[str, ...]
    maxdate: str  # the end of the window searched (YYYY/MM/DD): a cached search may be older


def parse_esearch(body: Any, where: str) -> tuple[int, tuple[str, ...]]:
    """``(count, pmids)`` from an ESearch JSON reply; anything else raises Failure naming ``where``."""

    def malformed(why: str) -> Failure:
        return Failure(f"malformed reply from PubMed ESearch at {where}: {why}")

    if not isinstance(body, dict):
        raise malformed("not a JSON object")
    if "error" in body:
        raise Failure(f"PubMed ESearch answered with an error at {where}: {str(body['error'])[:200]}")
    result = body.get("esearchresult")
    if not isinstance(result, dict):
        raise malformed("no 'esearchresult' object")
    if "ERROR" in result:
        raise Failure(f"PubMed ESearch answered with an error at {where}: {str(result['ERROR'])[:200]}")
    ids = result.get("idlist")
    if not isinstance(ids, list) or not all(isinstance(i, str) and PMID_RE.match(i) for i in ids):
        raise malformed("'idlist' is not a list of PMIDs")
    raw = result.get("count")
    if isinstance(raw, bool) or not isinstance(raw, (str, int)) or not str(raw).isdigit():
        raise malformed("'count' is not a number")
    count = int(raw)
    if count < len(ids):
        raise malformed(f"'count' ({count}) is below the {len(ids)} PMIDs listed")
    return count, tuple(dict.fromkeys(ids))


def _search_key(term: str, mindate: str, retmax: int) -> str:
    # The cache folds keys' case, and a PubMed query's case matters (AND vs and): hash it.
    return f"{mindate}|{retmax}|" + hashlib.sha256(term.encode()).hexdigest()


def esearch(http: Http, term: str, mindate: dt.date, maxdate: dt.date, retmax: int = ESEARCH_RETMAX) -> Search | None:
    """PMIDs entered in PubMed (``datetype=edat``) from ``mindate`` to ``maxdate`` that match ``term``.

    One request; the answer is cached and reused on the same ``maxdate`` only (a day), or at
    any age offline. ``None``: offline and nothing cached. A malformed reply raises Failure.
    """
    lo, hi = mindate.strftime("%Y/%m/%d"), maxdate.strftime("%Y/%m/%d")
    key = _search_key(term, lo, retmax)
    hit = http.cached("esearch", key)
    if hit is not None and hit[1] is not None:
        record = hit[1]
        try:
            count, pmids = parse_esearch({"esearchresult": record}, "the cache")
        except Failure:
            count, pmids = -1, ()
        cached_hi = record.get("maxdate")
        if count >= 0 and isinstance(cached_hi, str) and (http.config.offline or cached_hi == hi):
            return Search(count, pmids, cached_hi)
    if http.config.offline:
        return None
    url = join(http.config.eutils_url, "esearch.fcgi")
    params = {
        "db": "pubmed",
        "term": term,
        "retmode": "json",
        "datetype": "edat",
        "mindate": lo,
        "maxdate": hi,
        "retmax": str(retmax),
        **http.ncbi_params(),
    }
    resp = http.request(PUBMED, "GET", url, params=params)
    if resp.status_code != 200:
        raise Failure(f"PubMed failed at {url}: HTTP {resp.status_code}")
    body = http.json(PUBMED, resp)  # the one policy: not JSON or too deep is a malformed reply
    count, pmids = parse_esearch(body, url)
    http.cache.put("esearch", key, {"count": str(count), "idlist": list(pmids), "maxdate": hi})
    return Search(count, pmids, hi)
