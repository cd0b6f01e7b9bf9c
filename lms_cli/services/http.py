"""One HTTP policy for every service lms talks to: pacing, retries, timeouts, a record cache.

Nothing here prints, exits or reads the environment: the CLI builds a ``Config``. Answers
that cannot be had become ``Failure`` (a message naming the service and URL), never a
traceback.
"""

from __future__ import annotations

import email.utils
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Self

import httpx

from lms_cli import __version__
from lms_cli.services.cache import Cache

EUTILS_URL = "https://eutils.ncbi.nlm.nih.gov/entrez/eutils/"
CROSSREF_URL = "https://api.crossref.org/"
IDCONV_URL = "https://pmc.ncbi.nlm.nih.gov/tools/idconv/api/v1/articles/"
CTGOV_URL = "https://clinicaltrials.gov/"  # /api/v2/studies is appended

PUBMED = "PubMed"
CROSSREF = "Crossref"
IDCONV = "PMC ID converter"
CTGOV = "ClinicalTrials.gov"

DAY = 24 * 3600.0


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
    ctgov_url: str = CTGOV_URL
    # The registry's documentation asks for about 50 requests a minute per address.
    ctgov_rate: float = 50 / 60
    ctgov_page_size: int = 100  # studies per page (the API takes up to 1000; full records are large)
    ttl_trials: float = 1 * DAY  # recruitment status changes: a registry page is kept for a day

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


class Failure(Exception):
    """A service could not give an answer; ``detail`` says which service, where and why."""

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


def join(base: str, tail: str) -> str:
    """A base URL and a path, joined with one slash."""
    return base if base.endswith("/") and not tail else (base.rstrip("/") + "/" + tail)


class Http:
    """One HTTP policy for every service: pacing, retries, timeouts, the record cache."""

    def __init__(
        self,
        config: Config | None = None,
        transport: httpx.BaseTransport | None = None,
        sleep: Callable[[float], None] = time.sleep,
        clock: Callable[[], float] = time.monotonic,
        wall: Callable[[], float] = time.time,
    ) -> None:
        self.config = config or Config()
        self.transport = transport  # tests may pass httpx.MockTransport
        self.sleep = sleep
        self.clock = clock
        self.wall = wall
        self.requests = 0  # HTTP requests sent, retries included
        c = self.config
        self.cache = Cache(c.cache_dir, c.ttl, c.ttl_missing, self.wall)
        ncbi = Pacer(c.pace_ncbi, self.clock, self.sleep)  # one NCBI budget for every E-utility and idconv
        self.pacers = {PUBMED: ncbi, IDCONV: ncbi, CROSSREF: Pacer(c.pace_crossref, self.clock, self.sleep)}
        self.pacers[CTGOV] = Pacer(c.ctgov_rate, self.clock, self.sleep)
        self._http: httpx.Client | None = None
        self.down: dict[str, str] = {}  # a service that failed after retries is not asked again

    def __enter__(self) -> Self:
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
        return dict(self.down)

    def client(self) -> httpx.Client:
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

    def request(
        self,
        service: str,
        method: str,
        url: str,
        *,
        params: Mapping[str, str] | None = None,
        data: Mapping[str, str] | None = None,
    ) -> httpx.Response:
        """One call with pacing and retries; a 429/5xx/transport failure after retries raises Failure."""
        if service in self.down:  # asked once, failed: not asked again (its row says so, not another URL)
            raise Failure(f"not asked: {service} failed earlier in this run")
        c = self.config
        attempt = 0
        while True:
            self.pacers[service].wait()
            self.requests += 1
            delay = c.backoff * 2**attempt
            try:
                resp = self.client().request(method, url, params=params, data=data)
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
                self.down[service] = detail
                raise Failure(detail)
            self.sleep(delay)
            attempt += 1

    def json(self, service: str, resp: httpx.Response) -> Any:
        try:
            return resp.json()
        except ValueError:
            raise Failure(f"{service} sent malformed JSON (HTTP {resp.status_code}, {resp.url.path})") from None

    def ncbi_params(self) -> dict[str, str]:
        c = self.config
        params = {"tool": c.tool}
        if c.email:
            params["email"] = c.email
        if c.api_key:
            params["api_key"] = c.api_key
        return params

    def cached(self, service: str, key: str) -> tuple[bool, Any] | None:
        c = self.config
        if c.refresh and not c.offline:
            return None
        return self.cache.get(service, key, any_age=c.offline)
