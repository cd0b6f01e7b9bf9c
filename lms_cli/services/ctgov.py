"""ClinicalTrials.gov API v2: study searches (``GET /api/v2/studies``), paged, cached, and their parser.

Where the request and reply shapes come from (the registry's documentation, read with the
search tool on 2026-12-01):

- the endpoint's own description in the API's OpenAPI document (mirrored at
  https://xpack.ai/server/clinicaltrials-gov-rest-api): "If response contains
  ``nextPageToken``, use its value in ``pageToken`` to get next page. The last page will not
  contain ``nextPageToken``. A page may have empty ``studies`` array." and every later page
  must repeat the first page's parameters except ``countTotal``, ``pageSize``, ``pageToken``;
- the parameter reference built from the OpenAPI spec (API 2.0.5),
  https://dev.to/odeeb/clinicaltrialsgov-api-v2-query-parameters-full-reference-4g57:
  ``query.cond`` (ConditionSearch), ``query.term`` (BasicSearch, "Other terms"),
  ``query.intr`` (InterventionSearch), ``filter.overallStatus`` (comma-separated),
  ``pageSize``, ``pageToken``, ``format=json``; there is no ``filter.phase`` (so lms filters
  phases itself, in ``refs.trials``);
- https://ydulab.com/notebook/sources/08-03__clinicaltrials-landscape/references/api-parameters.md
  and the API reference in K-Dense's clinicaltrials-database skill
  (``references/api_reference.md``): ``sort=LastUpdatePostDate:desc``, ``pageSize`` up to
  1000, about 50 requests per minute per IP address, and the reply
  ``{"studies": [...], "nextPageToken": "..."}``;
- the study data structure (https://glama.ai/mcp/servers/@aafjes/mcp-clinicaltrials.gov,
  FIELD_REFERENCE.md, after clinicaltrials.gov/data-api/about-api/study-data-structure):
  ``protocolSection.identificationModule.nctId/briefTitle``,
  ``statusModule.overallStatus/startDateStruct.date/lastUpdatePostDateStruct.date``,
  ``designModule.phases[]/enrollmentInfo.count``, ``conditionsModule.conditions[]``,
  ``armsInterventionsModule.interventions[].name``,
  ``sponsorCollaboratorsModule.leadSponsor.name``, ``contactsLocationsModule.locations[].country``.

Every module is optional (a study registered without locations has no
``contactsLocationsModule``); a field of the wrong type makes the whole reply malformed
(``Failure``), as a half-read page would silently hide trials.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from lms_cli.services.cache import Cache
from lms_cli.services.http import CTGOV, Failure, join

if TYPE_CHECKING:
    from lms_cli.services.http import Http

#: The condition every search is about.
CONDITION = "leiomyosarcoma"
#: Registry status values each --status choice asks for (None: no status filter).
STATUSES: dict[str, tuple[str, ...] | None] = {
    "open": ("RECRUITING", "NOT_YET_RECRUITING"),
    "recruiting": ("RECRUITING",),
    "not-yet-recruiting": ("NOT_YET_RECRUITING",),
    "active": ("ACTIVE_NOT_RECRUITING",),
    "all": None,
}
CACHE_SERVICE = "ctgov"
_NCT = re.compile(r"^NCT\d{8}$")


@dataclass(frozen=True, slots=True)
class Study:
    """One registry record, as far as lms shows it (text as the registry gives it)."""

    nct: str
    title: str
    status: str | None = None  # RECRUITING, NOT_YET_RECRUITING, ...
    phases: tuple[str, ...] = ()  # PHASE1 ... PHASE4, EARLY_PHASE1, NA
    conditions: tuple[str, ...] = ()
    interventions: tuple[str, ...] = ()
    sponsor: str | None = None
    enrollment: int | None = None
    start: str | None = None  # "2024-03" or "2024-03-15"
    last_update: str | None = None
    countries: tuple[str, ...] = ()  # distinct, in the record's order

    @property
    def url(self) -> str:
        return f"https://clinicaltrials.gov/study/{self.nct}"


@dataclass(frozen=True, slots=True)
class Search:
    """What to ask the registry for: always leiomyosarcoma, narrowed by topic words and interventions."""

    terms: str | None = None  # query.term: the topic's `trials` words
    intervention: str | None = None  # query.intr
    statuses: tuple[str, ...] | None = STATUSES["open"]  # None: any status
    limit: int = 50

    def params(self, page_size: int) -> dict[str, str]:
        """The query string of the first page (later pages add ``pageToken``)."""
        out = {"format": "json", "query.cond": CONDITION}
        if self.terms:
            out["query.term"] = self.terms
        if self.intervention:
            out["query.intr"] = self.intervention
        if self.statuses:
            out["filter.overallStatus"] = ",".join(self.statuses)
        out["sort"] = "LastUpdatePostDate:desc"
        out["pageSize"] = str(max(1, min(page_size, self.limit)))
        return out


@dataclass(frozen=True, slots=True)
class Fetched:
    """The studies of one search, newest update first, and when the registry sent them."""

    studies: tuple[Study, ...]
    fetched_at: float  # epoch seconds of the oldest page used (cached pages keep their fetch time)
    more: bool  # the registry had more studies than --limit
    pages: int  # pages read (from the network or the cache)
    complete: bool = True  # offline: False when a later page was not cached
    from_cache: int = 0  # pages answered from the cache


# --- the parser: shape checks on every field used --------------------------------------------


class _Malformed(Exception):
    pass


def _obj(parent: Mapping[str, Any], key: str, where: str) -> Mapping[str, Any]:
    value = parent.get(key)
    if value is None:
        return {}
    if not isinstance(value, Mapping):
        raise _Malformed(f"{where}.{key} is not an object")
    return value


def _text(parent: Mapping[str, Any], key: str, where: str) -> str | None:
    value = parent.get(key)
    if value is None:
        return None
    if not isinstance(value, str):
        raise _Malformed(f"{where}.{key} is not text")
    return " ".join(value.split()) or None


def _list(parent: Mapping[str, Any], key: str, where: str) -> Sequence[Any]:
    value = parent.get(key)
    if value is None:
        return ()
    if not isinstance(value, list):
        raise _Malformed(f"{where}.{key} is not a list")
    return value


def _texts(parent: Mapping[str, Any], key: str, where: str) -> tuple[str, ...]:
    out = []
    for i, item in enumerate(_list(parent, key, where)):
        if not isinstance(item, str):
            raise _Malformed(f"{where}.{key}[{i}] is not text")
        if text := " ".join(item.split()):
            out.append(text)
    return tuple(out)


def _names(parent: Mapping[str, Any], key: str, sub: str, where: str) -> tuple[str, ...]:
    out: list[str] = []
    for i, item in enumerate(_list(parent, key, where)):
        if not isinstance(item, Mapping):
            raise _Malformed(f"{where}.{key}[{i}] is not an object")
        name = _text(item, sub, f"{where}.{key}[{i}]")
        if name and name not in out:
            out.append(name)
    return tuple(out)


def _date(parent: Mapping[str, Any], key: str, where: str) -> str | None:
    return _text(_obj(parent, key, where), "date", f"{where}.{key}")


def study_from_json(record: Any, where: str = "study") -> Study:
    """One element of ``studies`` -> Study; raise ValueError naming the first field of a wrong type."""
    try:
        return _study(record, where)
    except _Malformed as exc:
        raise ValueError(str(exc)) from None


def _study(record: Any, where: str) -> Study:
    if not isinstance(record, Mapping):
        raise _Malformed(f"{where} is not an object")
    proto = record.get("protocolSection")
    if not isinstance(proto, Mapping):
        raise _Malformed(f"{where}.protocolSection is missing or not an object")
    p = f"{where}.protocolSection"
    ident = _obj(proto, "identificationModule", p)
    nct = _text(ident, "nctId", f"{p}.identificationModule")
    if not nct or not _NCT.match(nct):
        raise _Malformed(f"{p}.identificationModule.nctId is not an NCT id")
    title = _text(ident, "briefTitle", f"{p}.identificationModule")
    status = _obj(proto, "statusModule", p)
    design = _obj(proto, "designModule", p)
    enrollment = _obj(design, "enrollmentInfo", f"{p}.designModule")
    count = enrollment.get("count")
    if count is not None and (not isinstance(count, int) or isinstance(count, bool) or count < 0):
        raise _Malformed(f"{p}.designModule.enrollmentInfo.count is not a whole number")
    sponsor = _obj(_obj(proto, "sponsorCollaboratorsModule", p), "leadSponsor", f"{p}.sponsorCollaboratorsModule")
    arms = _obj(proto, "armsInterventionsModule", p)
    places = _obj(proto, "contactsLocationsModule", p)
    return Study(
        nct=nct,
        title=title or "(no title)",
        status=_text(status, "overallStatus", f"{p}.statusModule"),
        phases=_texts(design, "phases", f"{p}.designModule"),
        conditions=_texts(_obj(proto, "conditionsModule", p), "conditions", f"{p}.conditionsModule"),
        interventions=_names(arms, "interventions", "name", f"{p}.armsInterventionsModule"),
        sponsor=_text(sponsor, "name", f"{p}.sponsorCollaboratorsModule.leadSponsor"),
        enrollment=count,
        start=_date(status, "startDateStruct", f"{p}.statusModule"),
        last_update=_date(status, "lastUpdatePostDateStruct", f"{p}.statusModule"),
        countries=_names(places, "locations", "country", f"{p}.contactsLocationsModule"),
    )


def parse_page(body: Any) -> tuple[list[Study], str | None]:
    """A reply page -> its studies and the next page's token; raise ValueError when malformed."""
    if not isinstance(body, Mapping):
        raise ValueError("the reply is not an object")
    studies = body.get("studies")
    if not isinstance(studies, list):
        raise ValueError("'studies' is missing or not a list")
    token = body.get("nextPageToken")
    if token is not None and (not isinstance(token, str) or not token):
        raise ValueError("nextPageToken is not text")
    return [study_from_json(s, f"studies[{i}]") for i, s in enumerate(studies)], token


# --- the client ---------------------------------------------------------------------------------


def search(http: Http, query: Search) -> Fetched:
    """Studies matching ``query``: one request per page, ``nextPageToken`` followed up to ``query.limit``.

    Pages are cached for ``config.ttl_trials`` (offline: any age); a failure or a malformed
    reply raises ``Failure`` with one line naming the registry.
    """
    c = http.config
    cache = Cache(c.cache_dir, c.ttl_trials, c.ttl_trials, http.wall)
    url = join(c.ctgov_url, "api/v2/studies")
    first = query.params(c.ctgov_page_size)
    studies: list[Study] = []
    token: str | None = None
    fetched: list[float] = []
    pages = from_cache = 0
    complete = True
    while True:
        params = dict(first, pageToken=token) if token else first
        key = json.dumps(params, sort_keys=True)
        hit = None if (c.refresh and not c.offline) else cache.get(CACHE_SERVICE, key, any_age=c.offline)
        if hit is not None and hit[1] is not None and isinstance(hit[1].get("fetched"), (int, float)):
            record = hit[1]
            from_cache += 1
        elif c.offline:
            if not pages:
                raise Failure(f"offline, and nothing cached from {CTGOV} for this search")
            complete = False
            break
        else:
            record = {"fetched": http.wall(), "page": _get(http, url, params)}
        pages += 1
        try:
            page, token = parse_page(record["page"])
        except ValueError as exc:
            raise Failure(f"malformed reply from {CTGOV} (page {pages}): {exc}") from None
        if hit is None:
            cache.put(CACHE_SERVICE, key, record)
        fetched.append(float(record["fetched"]))
        studies.extend(page)
        if len(studies) >= query.limit or not token:
            break
    more = len(studies) > query.limit or (token is not None and complete)
    ordered = _newest_first(_distinct(studies))[: query.limit]
    return Fetched(tuple(ordered), min(fetched), more, pages, complete, from_cache)


def _get(http: Http, url: str, params: Mapping[str, str]) -> Any:
    resp = http.request(CTGOV, "GET", url, params=params)
    if resp.status_code != 200:
        raise Failure(f"{CTGOV} failed at {url}: HTTP {resp.status_code}")
    return http.json(CTGOV, resp)  # the one policy: not JSON or too deep is a malformed reply


def _distinct(studies: list[Study]) -> list[Study]:
    seen: dict[str, Study] = {}
    for s in studies:
        seen.setdefault(s.nct, s)
    return list(seen.values())


def _newest_first(studies: list[Study]) -> list[Study]:
    # The API sorts by LastUpdatePostDate:desc; sorting again keeps the order when pages come
    # from the cache at different times, or from a server that ignores `sort`. ISO dates
    # ("2025-01" or "2025-01-15") compare as text; undated studies go last.
    return sorted(studies, key=lambda s: s.last_update or "", reverse=True)
