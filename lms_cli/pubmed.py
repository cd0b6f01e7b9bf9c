"""Clients for PubMed E-utilities (ESummary), Crossref and the PMC ID converter: the only httpx user.

Good citizenship is built in: a pace per service (NCBI 3 requests/s, 10 with an API key;
Crossref 5/s, 10 with a contact address), retries with exponential backoff on 429 and 5xx
that honour ``Retry-After``, explicit timeouts, and a disk cache keyed by service and id
with a time to live (a corrupt entry is ignored and fetched again). ``offline`` answers
from the cache only. Answers come back as ``refs.Lookup`` values, never as exceptions, so
one failing service does not hide what the others said. Nothing here prints, exits or reads
the environment: the CLI builds a ``Config``.
"""

from __future__ import annotations

import email.utils
import hashlib
import json
import threading
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import quote

import httpx

from lms_cli import __version__
from lms_cli.atomic import write_atomic
from lms_cli.errors import OutputError
from lms_cli.model import Reference
from lms_cli.refs import IdKind, Lookup, LookupState, MalformedRecord, work_from_crossref, work_from_esummary

EUTILS_URL = "https://eutils.ncbi.nlm.nih.gov/entrez/eutils/"
CROSSREF_URL = "https://api.crossref.org/"
IDCONV_URL = "https://pmc.ncbi.nlm.nih.gov/tools/idconv/api/v1/articles/"

PUBMED = "PubMed"
CROSSREF = "Crossref"
IDCONV = "PMC ID converter"

DAY = 24 * 3600.0

Progress = Callable[[int], None]


@dataclass(frozen=True)
class Config:
    """Everything the clients need; the CLI fills it from options and the environment."""

    eutils_url: str = EUTILS_URL
    crossref_url: str = CROSSREF_URL
    idconv_url: str = IDCONV_URL
    email: str | None = None
    api_key: str | None = None
    tool: str = "lms"
    cache_dir: Path | None = None  # <cache root>/services; None: no cache
    offline: bool = False
    refresh: bool = False  # ignore fresh cache entries (the answers are cached anew)
    ttl: float = 7 * DAY  # a record; short enough that a new retraction shows within a week
    ttl_missing: float = 1 * DAY  # "no such record" (it may appear soon)
    timeout: float = 20.0
    connect_timeout: float = 10.0
    retries: int = 3  # after 429 and 5xx
    connect_retries: int = 1  # after timeouts and refused connections: offline should fail fast
    backoff: float = 0.5  # first wait; doubles with each retry
    max_wait: float = 60.0  # a longer Retry-After is not waited for
    ncbi_rate: float | None = None  # requests/s; None: 3, or 10 with an API key
    crossref_rate: float | None = None  # requests/s; None: 5, or 10 with an email (the polite pool)
    get_max_ids: int = 200  # ESummary GET up to this many ids, POST above
    post_batch: int = 500

    @property
    def pace_ncbi(self) -> float:
        return self.ncbi_rate or (10.0 if self.api_key else 3.0)

    @property
    def pace_crossref(self) -> float:
        return self.crossref_rate or (10.0 if self.email else 5.0)


class Pacer:
    """Spaces request starts so no more than ``per_second`` begin in any second."""

    def __init__(self, per_second: float, clock: Callable[[], float], sleep: Callable[[float], None]) -> None:
        self.interval = 1.0 / per_second
        self._clock = clock
        self._sleep = sleep
        self._next = float("-inf")
        self._lock = threading.Lock()

    def wait(self) -> None:
        with self._lock:
            now = self._clock()
            start = max(now, self._next)
            self._next = start + self.interval
        if start > now:
            self._sleep(start - now)


# --- the disk cache -----------------------------------------------------------------------


class Cache:
    """JSON answers under ``root/<service>/<hash of id>.json``; unreadable entries count as absent."""

    VERSION = 1

    def __init__(self, root: Path | None, ttl: float, ttl_missing: float,
                 clock: Callable[[], float] = time.time) -> None:
        self.root = root
        self.ttl = ttl
        self.ttl_missing = ttl_missing
        self._clock = clock

    def path(self, service: str, key: str) -> Path | None:
        if self.root is None:
            return None
        digest = hashlib.sha256(key.casefold().encode()).hexdigest()[:40]
        return self.root / service / f"{digest}.json"

    def get(self, service: str, key: str, *, any_age: bool = False) -> tuple[bool, Any] | None:
        """``(found, record)`` when a usable entry exists; ``None`` when absent, stale or corrupt."""
        path = self.path(service, key)
        if path is None:
            return None
        try:
            data = json.loads(path.read_bytes())
        except (OSError, ValueError):
            return None
        if not (isinstance(data, dict) and data.get("v") == self.VERSION and data.get("key") == key.casefold()
                and isinstance(data.get("saved"), (int, float)) and "record" in data):
            return None
        record = data["record"]
        if record is not None and not isinstance(record, dict):
            return None
        age = self._clock() - data["saved"]
        if not any_age and not 0 <= age <= (self.ttl if record is not None else self.ttl_missing):
            return None
        return record is not None, record

    def put(self, service: str, key: str, record: Mapping[str, Any] | None) -> None:
        """Save an answer (``None``: no such record); a cache that cannot be written is skipped."""
        path = self.path(service, key)
        if path is None:
            return
        data = {"v": self.VERSION, "service": service, "key": key.casefold(), "saved": self._clock(),
                "record": record}
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            write_atomic(path, json.dumps(data, ensure_ascii=False), durable=False)
        except (OSError, OutputError):
            pass  # a read-only or full cache must never fail a command


# --- the client -----------------------------------------------------------------------------


class _Failure(Exception):
    def __init__(self, detail: str) -> None:
        super().__init__(detail)
        self.detail = detail


def retry_after(value: str | None, now: float) -> float | None:
    """Seconds to wait from a Retry-After header (seconds or an HTTP date), or None."""
    if not value:
        return None
    value = value.strip()
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, when.timestamp() - now)


def _join(base: str, tail: str) -> str:
    return base if base.endswith("/") and not tail else (base.rstrip("/") + "/" + tail)


@dataclass
class Client:
    """Talks to the three services with pacing, retries, timeouts and the cache."""

    config: Config = field(default_factory=Config)
    transport: httpx.BaseTransport | None = None  # tests may pass httpx.MockTransport
    sleep: Callable[[float], None] = time.sleep
    clock: Callable[[], float] = time.monotonic
    wall: Callable[[], float] = time.time
    requests: int = 0  # HTTP requests sent, retries included

    def __post_init__(self) -> None:
        c = self.config
        self.cache = Cache(c.cache_dir, c.ttl, c.ttl_missing, self.wall)
        ncbi = Pacer(c.pace_ncbi, self.clock, self.sleep)  # one NCBI budget for ESummary and idconv
        self._pacers = {PUBMED: ncbi, IDCONV: ncbi, CROSSREF: Pacer(c.pace_crossref, self.clock, self.sleep)}
        self._http: httpx.Client | None = None
        self._down: dict[str, str] = {}  # a service that failed after retries is not asked again

    def __enter__(self) -> Client:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        if self._http is not None:
            self._http.close()
            self._http = None

    @property
    def failures(self) -> dict[str, str]:
        """Services that could not be reached or failed in this run, with why."""
        return dict(self._down)

    def _client(self) -> httpx.Client:
        if self._http is None:
            c = self.config
            agent = f"{c.tool}/{__version__} (https://pypi.org/project/lms-cli/"
            agent += f"; mailto:{c.email})" if c.email else ")"
            self._http = httpx.Client(
                timeout=httpx.Timeout(c.timeout, connect=c.connect_timeout),
                headers={"User-Agent": agent, "Accept": "application/json"},
                transport=self.transport,
                follow_redirects=True,
            )
        return self._http

    def _request(self, service: str, method: str, url: str, *, params: Mapping[str, str] | None = None,
                 data: Mapping[str, str] | None = None) -> httpx.Response:
        """One call with pacing and retries; a 429/5xx/transport failure after retries raises _Failure."""
        if service in self._down:
            raise _Failure(self._down[service])
        c = self.config
        attempt = 0
        while True:
            self._pacers[service].wait()
            self.requests += 1
            delay = c.backoff * 2 ** attempt
            try:
                resp = self._client().request(method, url, params=params, data=data)
            except httpx.ConnectTimeout:
                reason, limit, reached = f"no connection within {c.connect_timeout:g} s", c.connect_retries, False
            except httpx.TimeoutException:
                reason, limit, reached = f"no answer within {c.timeout:g} s", c.connect_retries, False
            except httpx.InvalidURL as exc:
                reason, limit, reached = f"invalid URL ({exc})", attempt, False
            except httpx.RequestError as exc:  # refused, DNS, TLS, protocol, redirects, decoding
                reason, limit, reached = str(exc) or type(exc).__name__, c.connect_retries, False
            else:
                if resp.status_code != 429 and resp.status_code < 500:
                    return resp
                reason, limit, reached = f"HTTP {resp.status_code}", c.retries, True
                wait = retry_after(resp.headers.get("Retry-After"), self.wall())
                if wait is not None:
                    if wait > c.max_wait:
                        limit = attempt  # do not wait that long: give up now
                        reason += f", asked to retry after {wait:g} s"
                    delay = wait
            if attempt >= limit:
                how = "failed" if reached else "could not be reached"
                tries = f" (after {attempt + 1} attempts)" if attempt else ""
                # The URL without its query: never echo an API key.
                detail = f"{service} {how} at {url}: {reason}{tries}"
                self._down[service] = detail
                raise _Failure(detail)
            self.sleep(delay)
            attempt += 1

    def _json(self, service: str, resp: httpx.Response) -> Any:
        try:
            return resp.json()
        except ValueError:
            raise _Failure(f"{service} sent malformed JSON (HTTP {resp.status_code}, {resp.url.path})") from None

    def _ncbi_params(self) -> dict[str, str]:
        c = self.config
        params = {"tool": c.tool}
        if c.email:
            params["email"] = c.email
        if c.api_key:
            params["api_key"] = c.api_key
        return params

    def _cached(self, service: str, key: str) -> tuple[bool, Any] | None:
        c = self.config
        if c.refresh and not c.offline:
            return None
        return self.cache.get(service, key, any_age=c.offline)

    # --- ESummary ---------------------------------------------------------------------------

    def esummary(self, pmids: Iterable[str], progress: Progress | None = None) -> dict[str, Lookup]:
        """PubMed records by PMID: batched, GET up to ``get_max_ids`` ids and POST above."""
        wanted = list(dict.fromkeys(pmids))
        out: dict[str, Lookup] = {}
        todo: list[str] = []
        for pmid in wanted:
            hit = self._cached("esummary", pmid)
            if hit is not None:
                out[pmid] = self._esummary_lookup(pmid, hit[1])
            elif self.config.offline:
                out[pmid] = Lookup(LookupState.NOT_CACHED, PUBMED)
            else:
                todo.append(pmid)
        if progress and out:
            progress(len(out))
        size = self.config.get_max_ids if len(todo) <= self.config.get_max_ids else self.config.post_batch
        for i in range(0, len(todo), size):
            batch = todo[i:i + size]
            try:
                out.update(self._esummary_batch(batch))
            except _Failure as exc:
                out.update({p: Lookup(LookupState.FAILED, PUBMED, detail=exc.detail) for p in batch})
            if progress:
                progress(len(batch))
        return {p: out[p] for p in wanted}

    def _esummary_lookup(self, pmid: str, record: Mapping[str, Any] | None) -> Lookup:
        if record is None or "error" in record:
            return Lookup(LookupState.NOT_FOUND, PUBMED)
        try:
            return Lookup.found(PUBMED, work_from_esummary(record))
        except MalformedRecord:
            return Lookup(LookupState.FAILED, PUBMED, detail=f"PubMed sent a record for PMID {pmid} lms cannot read")

    def _esummary_batch(self, batch: Sequence[str]) -> dict[str, Lookup]:
        url = _join(self.config.eutils_url, "esummary.fcgi")
        fields = {"db": "pubmed", "id": ",".join(batch), "retmode": "json", **self._ncbi_params()}
        if len(batch) <= self.config.get_max_ids:
            resp = self._request(PUBMED, "GET", url, params=fields)
        else:  # long id lists do not fit in a URL
            resp = self._request(PUBMED, "POST", url, data=fields)
        if resp.status_code != 200:
            raise _Failure(f"PubMed failed at {url}: HTTP {resp.status_code}")
        body = self._json(PUBMED, resp)
        if not isinstance(body, dict):
            raise _Failure("PubMed sent malformed JSON (not an object)")
        if "error" in body:
            raise _Failure(f"PubMed answered with an error: {str(body['error'])[:200]}")
        result = body.get("result")
        if not isinstance(result, dict):
            raise _Failure("PubMed sent malformed JSON (no 'result')")
        out = {}
        for pmid in batch:
            record = result.get(pmid)
            if not isinstance(record, dict):
                out[pmid] = Lookup(LookupState.NOT_FOUND, PUBMED)  # left out of the answer: not cached
                continue
            # An unknown PMID still comes back with HTTP 200: {"uid": ..., "error": "cannot get document summary"}
            lookup = self._esummary_lookup(pmid, record)
            if lookup.state is LookupState.FOUND:
                self.cache.put("esummary", pmid, record)
            elif lookup.state is LookupState.NOT_FOUND:
                self.cache.put("esummary", pmid, None)
            out[pmid] = lookup
        return out

    # --- Crossref ---------------------------------------------------------------------------

    def crossref(self, doi: str) -> Lookup:
        """One work from Crossref `/works/{doi}` (404: no such DOI)."""
        hit = self._cached("crossref", doi)
        if hit is not None:
            return self._crossref_lookup(doi, hit[1])
        if self.config.offline:
            return Lookup(LookupState.NOT_CACHED, CROSSREF)
        url = _join(self.config.crossref_url, "works/" + quote(doi, safe="/"))
        params = {"mailto": self.config.email} if self.config.email else None
        try:
            resp = self._request(CROSSREF, "GET", url, params=params)
            if resp.status_code == 404:
                self.cache.put("crossref", doi, None)
                return Lookup(LookupState.NOT_FOUND, CROSSREF)
            if resp.status_code != 200:
                raise _Failure(f"Crossref failed at {url}: HTTP {resp.status_code}")
            body = self._json(CROSSREF, resp)
            message = body.get("message") if isinstance(body, dict) else None
            if not isinstance(message, dict):
                raise _Failure("Crossref sent malformed JSON (no 'message')")
        except _Failure as exc:
            return Lookup(LookupState.FAILED, CROSSREF, detail=exc.detail)
        lookup = self._crossref_lookup(doi, message)
        if lookup.state is LookupState.FOUND:
            self.cache.put("crossref", doi, message)
        return lookup

    def _crossref_lookup(self, doi: str, message: Mapping[str, Any] | None) -> Lookup:
        if message is None:
            return Lookup(LookupState.NOT_FOUND, CROSSREF)
        try:
            return Lookup.found(CROSSREF, work_from_crossref(message))
        except MalformedRecord:
            return Lookup(LookupState.FAILED, CROSSREF, detail=f"Crossref sent a record for DOI {doi} lms cannot read")

    # --- PMC ID converter -------------------------------------------------------------------

    def idconv(self, ids: Sequence[str]) -> dict[str, dict[str, str] | None]:
        """PMID/PMCID/DOI of each id (all of one type) that PMC knows; None when it does not.

        Ids with no answer (offline and not cached, or the call failed: see ``failures``)
        are left out.
        """
        out: dict[str, dict[str, str] | None] = {}
        todo = []
        for i in dict.fromkeys(ids):
            hit = self._cached("idconv", i)
            if hit is not None:
                out[i] = hit[1]
            elif not self.config.offline:
                todo.append(i)
        for start in range(0, len(todo), 200):
            batch = todo[start:start + 200]
            params = {"ids": ",".join(batch), "format": "json", **self._ncbi_params()}
            try:
                resp = self._request(IDCONV, "GET", self.config.idconv_url, params=params)
                if resp.status_code != 200:
                    raise _Failure(f"{IDCONV} failed at {self.config.idconv_url}: HTTP {resp.status_code}")
                body = self._json(IDCONV, resp)
            except _Failure as exc:
                self._down.setdefault(IDCONV, exc.detail)
                continue
            records = body.get("records") if isinstance(body, dict) else None
            by_id = {}
            for rec in records if isinstance(records, list) else ():
                if isinstance(rec, dict) and isinstance(rec.get("requested-id"), str):
                    by_id[rec["requested-id"].casefold()] = rec
            for i in batch:
                rec = by_id.get(i.casefold())
                ids_found = {k: str(rec[k]) for k in ("pmid", "pmcid", "doi") if rec and rec.get(k)} if rec else {}
                value = ids_found if ids_found and not (rec and rec.get("status") == "error") else None
                self.cache.put("idconv", i, value)
                out[i] = value
        return out

    # --- what the commands call -------------------------------------------------------------

    def lookup_references(self, refs: Sequence[Reference], progress: Progress | None = None) -> dict[str, Lookup]:
        """An answer for each reference id: PMIDs through ESummary, DOI-only ones through Crossref."""
        with_pmid = [r for r in refs if r.pmid]
        by_pmid = self.esummary([r.pmid for r in with_pmid if r.pmid], progress)
        out = {r.id: by_pmid[r.pmid] for r in with_pmid if r.pmid}
        for r in refs:
            if r.pmid:
                continue
            if r.doi:
                out[r.id] = self.crossref(r.doi)
            else:  # the loader requires one of them; kept for references built by hand
                out[r.id] = Lookup(LookupState.NOT_CACHED, PUBMED, detail="no PMID or DOI")
            if progress:
                progress(1)
        return {r.id: out[r.id] for r in refs}

    def works(self, identifiers: Sequence[tuple[IdKind, str]]) -> list[Lookup]:
        """An answer for each PMID, DOI or PMCID, PubMed first (complete authors, NLM abbreviation)."""
        pmcids = [v for k, v in identifiers if k is IdKind.PMCID]
        dois = [v for k, v in identifiers if k is IdKind.DOI]
        conv = self.idconv(pmcids) if pmcids else {}
        # A DOI of a PMC article has a PMID: ask PubMed for the better record.
        doi_conv = self.idconv(dois) if dois else {}
        route: list[tuple[str, str] | Lookup] = []
        for kind, value in identifiers:
            if kind is IdKind.PMID:
                route.append(("pmid", value))
            elif kind is IdKind.PMCID:
                rec = conv.get(value)
                if rec and rec.get("pmid"):
                    route.append(("pmid", rec["pmid"]))
                elif rec and rec.get("doi"):
                    route.append(("doi", rec["doi"]))
                elif IDCONV in self._down:
                    route.append(Lookup(LookupState.FAILED, IDCONV, detail=self._down[IDCONV]))
                elif self.config.offline and rec is None and value not in conv:
                    route.append(Lookup(LookupState.NOT_CACHED, IDCONV))
                else:
                    route.append(Lookup(LookupState.NOT_FOUND, IDCONV))
            else:
                rec = doi_conv.get(value)
                route.append(("pmid", rec["pmid"]) if rec and rec.get("pmid") else ("doi", value))
        pubmed = self.esummary([r[1] for r in route if isinstance(r, tuple) and r[0] == "pmid"])
        out = []
        for r in route:
            if isinstance(r, Lookup):
                out.append(r)
            elif r[0] == "pmid":
                out.append(pubmed[r[1]])
            else:
                out.append(self.crossref(r[1]))
        return out
