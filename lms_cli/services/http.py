"""One HTTP policy for every service lms talks to: pacing, retries, timeouts, caps, a record cache.

Nothing here prints, exits or reads the environment: the CLI builds a ``Config``. Answers
that cannot be had become ``Failure`` (a message naming the service and URL, credentials
removed), never a traceback. The policy, for every reply:

- its body is read as a stream and decompressed here, ``max_reply_bytes`` at most (a gzip
  bomb or an endless body stops at the cap, the memory used stays near it);
- one request (its redirects included) ends by ``deadline`` seconds, however slowly the
  server trickles bytes, and no request starts after ``command_deadline`` seconds;
- redirects are followed on the same host only (the User-Agent carries LMS_EMAIL);
- JSON nested deeper than ``max_json_depth`` is a malformed reply, never a RecursionError.
"""

from __future__ import annotations

import email.utils
import json as jsonlib
import re
import threading
import time
import zlib
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
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
    # One Crossref `/works?filter=doi:...` list asks for this many DOIs at most: 50 works of
    # ~50 KiB each stay far below max_reply_bytes, and a reply past it puts Crossref out of use.
    crossref_batch: int = 50
    crossref_max_url: int = 4000  # characters; servers and proxies commonly refuse 8 KiB request lines
    ctgov_url: str = CTGOV_URL
    # The registry's documentation asks for about 50 requests a minute per address.
    ctgov_rate: float = 50 / 60
    ctgov_page_size: int = 100  # studies per page (the API takes up to 1000; full records are large)
    ttl_trials: float = 1 * DAY  # recruitment status changes: a registry page is kept for a day
    # An ESummary batch of 500 records is ~1.5 MiB, a Crossref work ~50 KiB: 16 MiB is 10 times
    # the largest real reply and bounds the memory a hostile one can take.
    max_reply_bytes: int = 16 * 2**20
    deadline: float = 60.0  # one request, redirects and slow bodies included (retries start anew)
    command_deadline: float = 900.0  # no request starts later than this after the first
    max_json_depth: int = 64  # ESummary and Crossref nest 6 deep at most
    max_redirects: int = 5

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


_USERINFO = re.compile(r"(?i)\b([a-z][a-z0-9+.-]*://)[^/?#@\s]*@")


def redact(text: str) -> str:
    """``text`` with the ``user:password@`` part of every URL in it removed."""
    return _USERINFO.sub(r"\1", text)


def shown(url: str) -> str:
    """A URL as messages show it: no credentials, no query (an API key may be there)."""
    return redact(url.split("?", 1)[0].split("#", 1)[0])


class Failure(Exception):
    """A service could not give an answer; ``detail`` says which service, where and why.

    Credentials in any URL of the detail are removed here, so no message can show them.
    """

    def __init__(self, detail: str) -> None:
        detail = redact(detail)
        super().__init__(detail)
        self.detail = detail


def malformed(service: str, why: str) -> Failure:
    """The one wording of a reply of the wrong shape (exit 4 where the CLI reports it)."""
    return Failure(f"malformed reply from {service}: {why}")


@dataclass(frozen=True)
class Reply:
    """A whole reply, read within the caps: status, headers, decompressed body, final URL."""

    status_code: int
    url: str
    content: bytes = b""
    headers: Mapping[str, str] = field(default_factory=dict)


class _TooLarge(Exception):
    pass


class _Late(Exception):
    pass


class _Refused(Exception):
    pass


def _mib(n: int) -> str:
    return f"{n / 2**20:g} MiB" if n >= 2**20 else f"{n:,} bytes"


def json_depth_exceeds(value: Any, limit: int) -> bool:
    """True when ``value`` (parsed JSON) nests lists/objects deeper than ``limit`` (no recursion)."""
    stack: list[tuple[Any, int]] = [(value, 1)]
    while stack:
        item, depth = stack.pop()
        if isinstance(item, (dict, list)):
            if depth > limit:
                return True
            children = item.values() if isinstance(item, dict) else item
            stack.extend((c, depth + 1) for c in children if isinstance(c, (dict, list)))
    return False


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
        self.started: float | None = None  # when the first request of this command began
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
                # Decoded here, within the cap: only the encodings zlib reads.
                headers={"User-Agent": agent, "Accept": "application/json", "Accept-Encoding": "gzip, deflate"},
                transport=self.transport,
                follow_redirects=False,  # followed by hand, on the same host only
            )
        return self._http

    def _body(self, resp: httpx.Response, deadline: float) -> bytes:
        """The decompressed body, read as it arrives; past the cap or the deadline it stops."""
        cap = self.config.max_reply_bytes
        encoding = resp.headers.get("Content-Encoding", "identity").strip().lower()
        if encoding not in ("identity", "gzip", "x-gzip", "deflate", ""):
            raise ValueError(f"an unknown content encoding ({encoding[:40]})")
        wbits = {"gzip": 16 + zlib.MAX_WBITS, "x-gzip": 16 + zlib.MAX_WBITS, "deflate": zlib.MAX_WBITS}.get(encoding)
        decoder = zlib.decompressobj(wbits) if wbits else None
        parts: list[bytes] = []
        size = 0
        first = True

        def pieces(raw: bytes) -> Iterator[bytes]:
            nonlocal decoder, first
            if decoder is None:
                yield raw
                return
            try:
                data = raw
                while data and not decoder.eof:
                    yield decoder.decompress(data, 2**20)  # never more than 1 MiB at once
                    data = decoder.unconsumed_tail
            except zlib.error:
                if encoding == "deflate" and first:  # some servers send raw deflate
                    decoder = zlib.decompressobj(-zlib.MAX_WBITS)
                    first = False
                    yield from pieces(raw)
                    return
                raise ValueError("a body that does not decompress") from None
            first = False

        for raw in resp.iter_raw():
            for piece in pieces(raw):
                size += len(piece)
                if size > cap:
                    raise _TooLarge
                parts.append(piece)
            if self.clock() > deadline:
                raise _Late
        return b"".join(parts)

    def _exchange(
        self,
        method: str,
        url: str,
        params: Mapping[str, str] | None,
        data: Mapping[str, str] | None,
        deadline: float,
    ) -> Reply:
        """One request, same-host redirects followed, the body read within the caps."""
        client = self.client()
        c = self.config
        remaining = max(0.001, deadline - self.clock())
        timeout = httpx.Timeout(min(c.timeout, remaining), connect=min(c.connect_timeout, remaining))
        req = client.build_request(method, url, params=params, data=data, timeout=timeout)
        origin = req.url.host
        for _ in range(c.max_redirects + 1):
            resp = client.send(req, stream=True, follow_redirects=False)
            try:
                nxt = resp.next_request
                if nxt is None:
                    body = self._body(resp, deadline)
                    return Reply(resp.status_code, str(resp.url), body, httpx.Headers(resp.headers))
            finally:
                resp.close()
            if nxt.url.host != origin:
                raise _Refused(f"refused a redirect to another host ({nxt.url.host or '?'})")
            if self.clock() > deadline:
                raise _Late
            req = nxt
        raise _Refused(f"more than {c.max_redirects} redirects")

    def request(
        self,
        service: str,
        method: str,
        url: str,
        *,
        params: Mapping[str, str] | None = None,
        data: Mapping[str, str] | None = None,
    ) -> Reply:
        """One call with pacing, retries and the caps; a failure after retries raises Failure."""
        if service in self.down:  # asked once, failed: not asked again (its row says so, not another URL)
            raise Failure(f"not asked: {service} failed earlier in this run")
        c = self.config
        if self.started is None:
            self.started = self.clock()
        end = self.started + c.command_deadline
        attempt = 0
        while True:
            if self.clock() >= end:
                detail = f"{service} was not asked: the command's deadline of {c.command_deadline:g} s has passed"
                self.down[service] = detail
                raise Failure(detail)
            self.pacers[service].wait()
            self.requests += 1
            delay = c.backoff * 2**attempt
            begun = self.clock()
            deadline = min(begun + c.deadline, end)
            try:
                resp = self._exchange(method, url, params, data, deadline)
            except _TooLarge:
                detail = f"{service} sent a reply larger than {_mib(c.max_reply_bytes)} at {shown(url)}"
                self.down[service] = detail
                raise Failure(detail) from None
            except ValueError as exc:  # an encoding we cannot read
                raise malformed(service, f"{exc} ({shown(url)})") from None
            except (_Late, httpx.TimeoutException) as exc:
                limit, reached = c.connect_retries, False
                if isinstance(exc, httpx.ConnectTimeout) and self.clock() < deadline:
                    reason = f"no connection within {c.connect_timeout:g} s"
                elif isinstance(exc, _Late) or self.clock() >= deadline:
                    reason = f"no full answer within {deadline - begun:.3g} s"
                    limit = attempt  # a server that trickles will trickle again: not retried
                else:
                    reason = f"no answer within {c.timeout:g} s"
            except _Refused as exc:
                reason, limit, reached = str(exc), attempt, False
            except httpx.InvalidURL as exc:
                reason, limit, reached = f"invalid URL ({exc})", attempt, False
            except httpx.RequestError as exc:  # refused, DNS, TLS, protocol
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
                detail = f"{service} {how} at {shown(url)}: {reason}{tries}"
                self.down[service] = detail
                raise Failure(detail)
            self.sleep(delay)
            attempt += 1

    def json(self, service: str, resp: Reply) -> Any:
        """The reply's JSON; not JSON, or nested deeper than ``max_json_depth``: a malformed reply."""
        where = f"(HTTP {resp.status_code}, {httpx.URL(resp.url).path})"
        limit = self.config.max_json_depth
        try:
            value = jsonlib.loads(resp.content)
        except RecursionError:
            raise malformed(service, f"JSON nested deeper than {limit} {where}") from None
        except ValueError:
            raise malformed(service, f"not JSON {where}") from None
        if json_depth_exceeds(value, limit):
            raise malformed(service, f"JSON nested deeper than {limit} {where}")
        return value

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
