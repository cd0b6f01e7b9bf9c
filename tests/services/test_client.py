"""pubmed: the service clients against a real HTTP server on 127.0.0.1 (no mocks of our code)."""

from __future__ import annotations

import functools
import itertools
import json
import re
import socket
import time
from collections import Counter
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from pytest_httpserver import HTTPServer
from werkzeug import Request, Response

from lms_cli import load
from lms_cli.model import Reference
from lms_cli.refs.verify import Status, check
from lms_cli.services.cache import Cache
from lms_cli.services.client import Client, Config
from lms_cli.services.http import Pacer, retry_after
from lms_cli.services.records import IdKind, LookupState
from tests.conftest import DATA

SERVICES = DATA / "services"
RECORDS = {p.stem: json.loads(p.read_text(encoding="utf-8")) for p in (SERVICES / "esummary").glob("*.json")}


def esummary_answer(ids: list[str], records: dict[str, Any] | None = None) -> dict[str, Any]:
    """What ESummary sends: a header and a result keyed by uid; unknown ids get a per-record error."""
    known = RECORDS if records is None else records
    result: dict[str, Any] = {"uids": ids}
    for i in ids:
        result[i] = known.get(i) or {"uid": i, "error": "cannot get document summary"}
    return {"header": {"type": "esummary", "version": "0.3"}, "result": result}


def asked_ids(request: Request) -> list[str]:
    source = request.form if request.method == "POST" else request.args
    return source["id"].split(",")


def esummary_handler(request: Request) -> Response:
    return Response(json.dumps(esummary_answer(asked_ids(request))), content_type="application/json")


def crossref_json(name: str) -> Any:
    return json.loads((SERVICES / "crossref" / f"{name}.json").read_text(encoding="utf-8"))


def asked_dois(request: Request) -> list[str]:
    """The DOIs of a `/works?filter=doi:A,doi:B` request: each filter's value is all after its first colon."""
    return [f.split(":", 1)[1] for f in request.args["filter"].split(",")]


def crossref_list(works: dict[str, Any]) -> Callable[[Request], Response]:
    """A `/works?filter=doi:...&rows=N` handler answering from ``works`` (DOI -> message) as Crossref does."""
    by_doi = {d.casefold(): w for d, w in works.items()}

    def handler(request: Request) -> Response:
        items = [by_doi[d.casefold()] for d in asked_dois(request) if d.casefold() in by_doi]
        rows = int(request.args["rows"])
        message = {"total-results": len(items), "items": items[:rows], "items-per-page": rows}
        body = {"status": "ok", "message-type": "work-list", "message": message}
        return Response(json.dumps(body), content_type="application/json")

    return handler


def crossref_single(works: dict[str, Any]) -> Callable[[Request], Response]:
    """A `/works/{doi}` handler answering from ``works`` (DOI -> message); 404 for the others."""
    by_doi = {d.casefold(): w for d, w in works.items()}

    def handler(request: Request) -> Response:
        work = by_doi.get(request.path.removeprefix("/works/").casefold())
        if work is None:
            return Response("Resource not found.", status=404)
        body = {"status": "ok", "message-type": "work", "message": work}
        return Response(json.dumps(body), content_type="application/json")

    return handler


def idconv_handler(pmids: dict[str, str]) -> Callable[[Request], Response]:
    """A PMC ID converter answering a PMID for the DOIs of ``pmids``, an error record for the others."""

    def handler(request: Request) -> Response:
        records = []
        for i in request.args["ids"].split(","):
            if i in pmids:
                records.append({"requested-id": i, "pmcid": f"PMC{pmids[i]}", "pmid": int(pmids[i]), "doi": i})
            else:
                records.append({"requested-id": i, "status": "error", "errmsg": "invalid article id"})
        return Response(json.dumps({"status": "ok", "records": records}), content_type="application/json")

    return handler


@pytest.fixture
def http(server: HTTPServer) -> Iterator[HTTPServer]:
    server.clear()
    yield server
    server.clear()


def closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
    return port


def make_client(
    http: HTTPServer, tmp_path: Path | None = None, sleeps: list[float] | None = None, **config: Any
) -> Client:
    """A client for the test server: fast pacing, tiny waits recorded instead of slept."""
    settings: dict[str, Any] = {
        "eutils_url": http.url_for("/"),
        "crossref_url": http.url_for("/"),
        "idconv_url": http.url_for("/idconv/"),
        "ncbi_rate": 1000.0,
        "crossref_rate": 1000.0,
        "backoff": 0.01,
        "timeout": 2.0,
        "cache_dir": tmp_path / "services" if tmp_path else None,
    }
    settings.update(config)
    record = sleeps if sleeps is not None else []
    return Client(Config(**settings), sleep=record.append)


def waits(sleeps: list[float]) -> list[float]:
    """Retry waits (pacing waits at 1000 requests/s are far shorter)."""
    return [s for s in sleeps if s >= 0.005]


# --- ESummary ------------------------------------------------------------------------------


def test_esummary_sends_one_get_with_tool_email_and_key(http: HTTPServer) -> None:
    http.expect_request("/esummary.fcgi", method="GET").respond_with_handler(esummary_handler)
    with make_client(http, email="me@example.org", api_key="k3y") as client:
        got = client.esummary(["24618336", "99999999", "35835135"])
    assert [(p, lk.state) for p, lk in got.items()] == [
        ("24618336", LookupState.FOUND),
        ("99999999", LookupState.NOT_FOUND),
        ("35835135", LookupState.FOUND),
    ]
    assert got["35835135"].work is not None and got["35835135"].work.journal == "Lancet Oncol"
    ((request, _),) = http.log
    assert dict(request.args) == {
        "db": "pubmed",
        "id": "24618336,99999999,35835135",
        "retmode": "json",
        "tool": "lms",
        "email": "me@example.org",
        "api_key": "k3y",
    }
    assert request.headers["User-Agent"].startswith("lms/")
    assert "mailto:me@example.org" in request.headers["User-Agent"]


@pytest.mark.parametrize(
    ("count", "calls"),
    [(200, [("GET", 200)]), (201, [("POST", 201)]), (1001, [("POST", 500), ("POST", 500), ("GET", 1)])],
)
def test_esummary_batches_get_up_to_200_ids_and_posts_above(
    http: HTTPServer, count: int, calls: list[tuple[str, int]]
) -> None:
    http.expect_request("/esummary.fcgi").respond_with_handler(esummary_handler)
    pmids = [str(30000000 + i) for i in range(count)]
    with make_client(http) as client:
        got = client.esummary(pmids)
    assert [(r.method, len(asked_ids(r))) for r, _ in http.log] == calls
    assert list(got) == pmids
    assert {lk.state for lk in got.values()} == {LookupState.NOT_FOUND}
    assert client.requests == len(calls)


def test_retry_after_429_is_honoured(http: HTTPServer) -> None:
    limit = {"error": "API rate limit exceeded", "api-key": "127.0.0.1", "count": "5", "limit": "3"}
    http.expect_oneshot_request("/esummary.fcgi").respond_with_json(
        limit, status=429, headers={"Retry-After": "2", "X-RateLimit-Limit": "3", "X-RateLimit-Remaining": "0"}
    )
    http.expect_request("/esummary.fcgi").respond_with_handler(esummary_handler)
    sleeps: list[float] = []
    with make_client(http, sleeps=sleeps) as client:
        got = client.esummary(["23354568"])
    assert got["23354568"].state is LookupState.FOUND
    assert [resp.status_code for _, resp in http.log] == [429, 200]
    assert waits(sleeps) == [2.0]


def test_500_then_success_backs_off(http: HTTPServer) -> None:
    http.expect_oneshot_request("/esummary.fcgi").respond_with_data("busy", status=500)
    http.expect_oneshot_request("/esummary.fcgi").respond_with_data("busy", status=503)
    http.expect_request("/esummary.fcgi").respond_with_handler(esummary_handler)
    sleeps: list[float] = []
    with make_client(http, sleeps=sleeps) as client:
        got = client.esummary(["23354568"])
    assert got["23354568"].state is LookupState.FOUND
    assert waits(sleeps) == [0.01, 0.02]  # exponential: base, then double
    assert client.requests == 3


def test_persistent_5xx_fails_after_retries_and_the_service_is_not_asked_again(http: HTTPServer) -> None:
    http.expect_request("/esummary.fcgi").respond_with_data("down", status=502)
    with make_client(http, retries=2) as client:
        first = client.esummary(["23354568"])["23354568"]
        second = client.esummary(["24618336"])["24618336"]
    assert first.state is LookupState.FAILED
    assert first.detail == f"PubMed failed at {http.url_for('/esummary.fcgi')}: HTTP 502 (after 3 attempts)"
    assert second.detail == "not asked: PubMed failed earlier in this run"  # not another request's URL
    assert len(http.log) == 3
    assert client.failures == {"PubMed": first.detail}


def test_a_long_retry_after_is_not_waited_for(http: HTTPServer) -> None:
    http.expect_request("/esummary.fcgi").respond_with_data("", status=429, headers={"Retry-After": "3600"})
    sleeps: list[float] = []
    with make_client(http, sleeps=sleeps) as client:
        got = client.esummary(["23354568"])["23354568"]
    assert got.state is LookupState.FAILED
    assert got.detail is not None and got.detail.endswith("HTTP 429, asked to retry after 3600 s")
    assert len(http.log) == 1 and waits(sleeps) == []


def test_timeout_fails_quickly_with_a_clear_message(http: HTTPServer) -> None:
    def slow(request: Request) -> Response:
        time.sleep(0.5)
        return esummary_handler(request)

    http.expect_request("/esummary.fcgi").respond_with_handler(slow)
    start = time.perf_counter()
    with make_client(http, timeout=0.05, connect_timeout=0.05) as client:
        got = client.esummary(["23354568"])["23354568"]
    assert time.perf_counter() - start < 0.5
    assert got.state is LookupState.FAILED
    assert (
        got.detail == f"PubMed could not be reached at {http.url_for('/esummary.fcgi')}: "
        "no answer within 0.05 s (after 2 attempts)"
    )
    # The server's handlers are still sleeping: let them finish, or their late log entries
    # land in the next test's log.
    deadline = time.monotonic() + 5
    while len(http.log) < 2 and time.monotonic() < deadline:
        time.sleep(0.05)


def test_malformed_json_is_a_failure_without_retries(http: HTTPServer) -> None:
    truncated = '{"header": {"type": "esumm'
    http.expect_request("/esummary.fcgi").respond_with_data(truncated, content_type="application/json")
    with make_client(http) as client:
        got = client.esummary(["23354568"])["23354568"]
    assert got.state is LookupState.FAILED
    assert got.detail == "malformed reply from PubMed: not JSON (HTTP 200, /esummary.fcgi)"
    assert len(http.log) == 1


def test_an_error_object_is_a_failure(http: HTTPServer) -> None:
    http.expect_request("/esummary.fcgi").respond_with_json({"error": "API key invalid"})
    with make_client(http) as client:
        got = client.esummary(["23354568"])["23354568"]
    assert (got.state, got.detail) == (LookupState.FAILED, "PubMed answered with an error: API key invalid")


def test_connection_refused_is_retried_once_then_reported() -> None:
    port = closed_port()
    sleeps: list[float] = []
    client = Client(
        Config(eutils_url=f"http://127.0.0.1:{port}/eutils", ncbi_rate=1000, backoff=0.01), sleep=sleeps.append
    )
    with client:
        got = client.esummary(["23354568"])["23354568"]
    assert got.state is LookupState.FAILED
    assert got.detail is not None
    assert got.detail.startswith(f"PubMed could not be reached at http://127.0.0.1:{port}/eutils/esummary.fcgi: ")
    assert got.detail.endswith("(after 2 attempts)")
    assert client.requests == 2 and waits(sleeps) == [0.01]


# --- Crossref and the ID converter ------------------------------------------------------------


def test_crossref_work_with_mailto(http: HTTPServer) -> None:
    http.expect_request("/works/10.1016/S1470-2045(15)70070-7").respond_with_json(crossref_json("pautier2015"))
    with make_client(http, email="me@example.org") as client:
        got = client.crossref("10.1016/S1470-2045(15)70070-7")
    assert got.state is LookupState.FOUND and got.work is not None
    assert got.work.authors[:2] == ("Pautier P", "Floquet A")
    ((request, _),) = http.log
    assert request.args["mailto"] == "me@example.org"
    assert "%28" in request.url or "(" in request.path  # the DOI travels percent-encoded


def test_crossref_404_is_not_found_and_cached(http: HTTPServer, tmp_path: Path) -> None:
    http.expect_request(re.compile(r"^/works/.*")).respond_with_data("Resource not found.", status=404)
    with make_client(http, tmp_path) as client:
        assert client.crossref("10.5555/none").state is LookupState.NOT_FOUND
        assert client.crossref("10.5555/NONE").state is LookupState.NOT_FOUND  # DOIs ignore case
    assert len(http.log) == 1


def test_crossref_429_then_success(http: HTTPServer) -> None:
    http.expect_oneshot_request(re.compile(r"^/works/.*")).respond_with_data(
        "", status=429, headers={"Retry-After": "1"}
    )
    http.expect_request(re.compile(r"^/works/.*")).respond_with_json(crossref_json("hensley2015"))
    sleeps: list[float] = []
    with make_client(http, sleeps=sleeps) as client:
        got = client.crossref("10.1200/JCO.2014.58.3781")
    assert got.state is LookupState.FOUND
    assert waits(sleeps) == [1.0]


def test_idconv_and_works_route_each_identifier(http: HTTPServer) -> None:
    def idconv(request: Request) -> Response:
        records = []
        for i in request.args["ids"].split(","):
            path = SERVICES / "idconv" / f"{i}.json"
            if path.exists():
                records += json.loads(path.read_text())["records"]
            else:
                records.append({"requested-id": i, "status": "error", "errmsg": "invalid article id"})
        return Response(json.dumps({"status": "ok", "records": records}), content_type="application/json")

    http.expect_request("/idconv/").respond_with_handler(idconv)
    http.expect_request("/esummary.fcgi").respond_with_handler(esummary_handler)
    http.expect_request("/works/10.1200/JCO.2014.58.3781").respond_with_json(crossref_json("hensley2015"))
    with make_client(http) as client:
        got = client.works(
            [
                (IdKind.PMCID, "PMC3657306"),
                (IdKind.DOI, "10.1200/JCO.2014.58.3781"),
                (IdKind.PMID, "24618336"),
                (IdKind.PMCID, "PMC1"),
            ]
        )
    assert [(lk.state, lk.service) for lk in got] == [
        (LookupState.FOUND, "PubMed"),
        (LookupState.FOUND, "Crossref"),
        (LookupState.FOUND, "PubMed"),
        (LookupState.NOT_FOUND, "PMC ID converter"),
    ]
    assert got[0].work is not None and got[0].work.pmid == "23354568"
    esummary = [r for r, _ in http.log if r.path == "/esummary.fcgi"]
    assert [r.args["id"] for r in esummary] == ["23354568,24618336"]  # one batch for both PMIDs


# --- cache and offline ----------------------------------------------------------------------


def test_answers_are_cached_and_offline_reads_only_the_cache(http: HTTPServer, tmp_path: Path) -> None:
    http.expect_request("/esummary.fcgi").respond_with_handler(esummary_handler)
    with make_client(http, tmp_path) as client:
        client.esummary(["23354568", "99999999"])
    with make_client(http, tmp_path) as again:
        got = again.esummary(["23354568", "99999999"])
    assert again.requests == 0
    assert got["23354568"].state is LookupState.FOUND and got["99999999"].state is LookupState.NOT_FOUND
    with make_client(http, tmp_path, offline=True) as offline:
        got = offline.esummary(["23354568", "24618336"])
        assert offline.crossref("10.5555/x").state is LookupState.NOT_CACHED
    assert [lk.state for lk in got.values()] == [LookupState.FOUND, LookupState.NOT_CACHED]
    assert offline.requests == 0 and len(http.log) == 1


def test_corrupt_cache_entries_are_refetched(http: HTTPServer, tmp_path: Path) -> None:
    http.expect_request("/esummary.fcgi").respond_with_handler(esummary_handler)
    with make_client(http, tmp_path) as client:
        client.esummary(["23354568"])
    path = client.cache.path("esummary", "23354568")
    assert path is not None and path.is_file()
    for junk in (b"\x00\xffnot json", b"[]", b'{"v": 1, "key": "23354568", "saved": 0, "record": 5}'):
        path.write_bytes(junk)
        with make_client(http, tmp_path) as again:
            assert again.esummary(["23354568"])["23354568"].state is LookupState.FOUND
        assert again.requests == 1
        assert json.loads(path.read_text())["record"]["uid"] == "23354568"  # rewritten


def test_cache_entries_expire_but_offline_still_uses_them(tmp_path: Path) -> None:
    now = [1000.0]
    cache = Cache(tmp_path, ttl=10, ttl_missing=1, clock=lambda: now[0])
    cache.put("crossref", "10.5555/A", {"DOI": "10.5555/a"})
    cache.put("crossref", "10.5555/gone", None)
    assert cache.get("crossref", "10.5555/a") == (True, {"DOI": "10.5555/a"})
    assert cache.get("crossref", "10.5555/gone") == (False, None)
    now[0] += 5
    assert cache.get("crossref", "10.5555/gone") is None  # "not found" lives shorter
    assert cache.get("crossref", "10.5555/a") is not None
    now[0] += 10
    assert cache.get("crossref", "10.5555/a") is None
    assert cache.get("crossref", "10.5555/a", any_age=True) == (True, {"DOI": "10.5555/a"})


def test_refresh_ignores_fresh_entries(http: HTTPServer, tmp_path: Path) -> None:
    http.expect_request("/esummary.fcgi").respond_with_handler(esummary_handler)
    with make_client(http, tmp_path) as client:
        client.esummary(["23354568"])
    with make_client(http, tmp_path, refresh=True) as again:
        again.esummary(["23354568"])
    assert again.requests == 1


def test_unwritable_cache_is_skipped(http: HTTPServer, tmp_path: Path) -> None:
    http.expect_request("/esummary.fcgi").respond_with_handler(esummary_handler)
    blocker = tmp_path / "services"
    blocker.write_text("a file where the cache directory should be")
    with make_client(http, tmp_path) as client:
        assert client.esummary(["23354568"])["23354568"].state is LookupState.FOUND


# --- pacing -------------------------------------------------------------------------------


def test_pacer_spaces_request_starts() -> None:
    now = [0.0]
    starts = []

    def sleep(seconds: float) -> None:
        now[0] += seconds

    pacer = Pacer(3.0, lambda: now[0], sleep)
    for _ in range(7):
        pacer.wait()
        starts.append(now[0])
    assert all(b - a >= 1 / 3 - 1e-9 for a, b in itertools.pairwise(starts))
    assert sum(1 for s in starts if s < 1.0) == 3  # no more than 3 starts in the first second


def test_pace_depends_on_key_and_email() -> None:
    assert (Config().pace_ncbi, Config(api_key="k").pace_ncbi) == (3.0, 10.0)
    assert (Config().pace_crossref, Config(email="a@b.c").pace_crossref) == (5.0, 10.0)


def test_retry_after_parses_seconds_and_dates() -> None:
    assert retry_after("7", now=0) == 7.0
    assert retry_after("Wed, 21 Oct 2015 07:28:00 GMT", now=1445412470.0) == 10.0
    assert retry_after("soon", now=0) is None
    assert retry_after(None, now=0) is None


# --- the bundled base -----------------------------------------------------------------------


def as_esummary(ref: Reference, pmid: str | None = None) -> dict[str, Any]:
    """The ESummary record of ``ref`` (under ``pmid`` for a DOI-only reference)."""
    uid = pmid or ref.pmid
    ids = [{"idtype": "pubmed", "idtypen": 1, "value": uid}]
    if ref.doi:
        ids.append({"idtype": "doi", "idtypen": 3, "value": ref.doi})
    return {
        "uid": uid,
        "pubdate": f"{ref.year} Jan",
        "source": ref.journal,
        "title": ref.title + ".",
        "authors": [{"name": a, "authtype": "Author", "clusterid": ""} for a in ref.named_authors],
        "pubtype": ["Journal Article"],
        "articleids": ids,
        "fulljournalname": ref.journal,
    }


def as_crossref(ref: Reference) -> dict[str, Any]:
    """The Crossref work (the `message` of `/works/{doi}`) of ``ref``."""
    family, _, initials = ref.named_authors[0].rpartition(" ")
    return {
        "DOI": ref.doi,
        "type": "journal-article",
        "title": [ref.title],
        "container-title": [ref.journal],
        "author": [{"given": " ".join(initials), "family": family, "sequence": "first"}],
        "issued": {"date-parts": [[ref.year]]},
    }


@functools.cache
def bundled() -> tuple[Reference, ...]:
    return tuple(load.load([load.bundled_dir()]).references)


def doi_only(refs: tuple[Reference, ...] | list[Reference]) -> list[Reference]:
    return [r for r in refs if r.doi and not r.pmid]


def serve_base(
    http: HTTPServer,
    refs: tuple[Reference, ...] | list[Reference],
    via: dict[str, str],
    works: dict[str, Any] | None = None,
    idconv_status: int = 200,
) -> None:
    """The services for ``refs``: ESummary knows every PMID (the references' own and the PMIDs
    that PMC gives for the DOIs of ``via``), Crossref the DOI-only references (or ``works``)."""
    records = {r.pmid: as_esummary(r) for r in refs if r.pmid}
    records.update({pmid: as_esummary(r, pmid) for r in refs if (pmid := via.get(r.doi or ""))})
    if works is None:
        works = {r.doi: as_crossref(r) for r in doi_only(refs) if r.doi}

    def esummary(request: Request) -> Response:
        return Response(json.dumps(esummary_answer(asked_ids(request), records)), content_type="application/json")

    if idconv_status == 200:
        http.expect_request("/idconv/").respond_with_handler(idconv_handler(via))
    else:
        http.expect_request("/idconv/").respond_with_data("down", status=idconv_status)
    http.expect_request("/esummary.fcgi").respond_with_handler(esummary)
    http.expect_request("/works").respond_with_handler(crossref_list(works))
    http.expect_request(re.compile(r"^/works/.*")).respond_with_handler(crossref_single(works))


def test_bundled_base_is_checked_in_three_requests_and_none_once_cached(http: HTTPServer, tmp_path: Path) -> None:
    refs = bundled()
    dois = doi_only(refs)
    assert (len(refs), sum(1 for r in refs if r.pmid), len(dois)) == (121, 79, 42)
    via = {r.doi: str(38000000 + i) for i, r in enumerate(dois) if r.doi and i % 2 == 0}  # PMC knows every other
    serve_base(http, refs, via)
    steps: list[int] = []
    with make_client(http, tmp_path) as client:
        lookups = client.lookup_references(refs, steps.append)
    assert client.requests == 3
    (idconv, _), (esummary, _), (works, _) = http.log
    assert [idconv.path, esummary.path, works.path] == ["/idconv/", "/esummary.fcgi", "/works"]
    assert idconv.args["ids"].split(",") == [r.doi for r in dois]
    assert asked_ids(esummary) == [r.pmid for r in refs if r.pmid] + list(via.values())
    assert asked_dois(works) == [r.doi for r in dois if r.doi not in via]
    assert sum(steps) == len(refs) and 0 not in steps  # once per reference
    results = [check(r, lookups[r.id]) for r in refs]
    assert {r.reference.id: (r.status, r.mismatches) for r in results if r.status is not Status.VERIFIED} == {}
    assert Counter(r.source for r in results) == {"PubMed": 79 + len(via), "Crossref": 42 - len(via)}
    first, second = dois[:2]
    assert check(first, lookups[first.id]).detail == f"DOI {first.doi} (PMID 38000000 via PMC) matches PubMed"
    assert check(second, lookups[second.id]).detail == f"DOI {second.doi} matches Crossref"
    http.clear()  # the server now answers nothing: a warm cache must not need it
    with make_client(http, tmp_path) as warm, make_client(http, tmp_path, offline=True) as offline:
        assert warm.lookup_references(refs) == lookups
        assert offline.lookup_references(refs) == lookups
    assert warm.requests == offline.requests == 0 and http.log == []


def test_batched_lookups_give_the_results_of_one_request_per_doi(http: HTTPServer) -> None:
    refs = bundled()
    dois = doi_only(refs)
    works = {r.doi: as_crossref(r) for r in dois if r.doi}
    a, b, c, d, e = (r.doi or "" for r in dois[:5])
    works[a] = {**works[a], "title": ["Another title"]}
    works[b] = {**works[b], "updated-by": [{"type": "retraction", "DOI": "10.5555/notice"}]}
    del works[c]  # Crossref does not know it
    works[d] = {**works[d], "author": 5}  # unreadable
    works[e] = {**works[e], "DOI": e.upper()}  # Crossref spells DOIs its own way
    serve_base(http, refs, {}, works)
    with make_client(http) as client:
        batched = client.lookup_references(refs)
    assert [r.path for r, _ in http.log] == ["/idconv/", "/esummary.fcgi", "/works"]
    with make_client(http) as client:
        by_pmid = client.esummary([r.pmid for r in refs if r.pmid])
        one_by_one = {r.id: by_pmid[r.pmid] if r.pmid else client.crossref(r.doi or "") for r in refs}
    assert client.requests == 1 + 42
    got = [check(r, batched[r.id]) for r in refs]
    assert got == [check(r, one_by_one[r.id]) for r in refs]
    assert [r.status for r in got if r.reference in dois[:5]] == [
        Status.MISMATCH,
        Status.RETRACTED,
        Status.NOT_FOUND,
        Status.UNCHECKED,
        Status.VERIFIED,
    ]


def test_the_id_converter_down_sends_every_doi_to_crossref(http: HTTPServer) -> None:
    refs = bundled()
    dois = doi_only(refs)
    serve_base(http, refs, {r.doi: "38000000" for r in dois[:1] if r.doi}, idconv_status=503)
    with make_client(http, retries=1) as client:
        lookups = client.lookup_references(refs)
    assert [r.path for r, _ in http.log] == ["/idconv/", "/idconv/", "/esummary.fcgi", "/works"]
    assert asked_dois(http.log[-1][0]) == [r.doi for r in dois]
    results = [check(r, lookups[r.id]) for r in dois]
    assert {(r.source, r.status) for r in results} == {("Crossref", Status.VERIFIED)}
    assert list(client.failures) == ["PMC ID converter"]


def test_a_pubmed_record_naming_another_doi_is_not_taken_for_a_doi_only_reference(http: HTTPServer) -> None:
    other, bare = doi_only(bundled())[:2]
    assert other.doi and bare.doi
    via = {other.doi: "38000001", bare.doi: "38000002"}
    records = {
        "38000001": {**as_esummary(other, "38000001"), "articleids": [{"idtype": "doi", "value": "10.5555/another"}]},
        "38000002": {**as_esummary(bare, "38000002"), "articleids": []},  # no DOI: the converter's word stands
    }
    http.expect_request("/idconv/").respond_with_handler(idconv_handler(via))
    http.expect_request("/esummary.fcgi").respond_with_json(esummary_answer(["38000001", "38000002"], records))
    http.expect_request("/works").respond_with_handler(crossref_list({other.doi: as_crossref(other)}))
    with make_client(http) as client:
        lookups = client.lookup_references([other, bare])
    assert [(lk.service, lk.state) for lk in lookups.values()] == [
        ("Crossref", LookupState.FOUND),
        ("PubMed", LookupState.FOUND),
    ]
    assert asked_dois(http.log[-1][0]) == [other.doi]
    assert check(bare, lookups[bare.id]).status is Status.VERIFIED  # no PMID of ours: no PMID mismatch


def test_pubmed_down_leaves_doi_only_references_to_crossref(http: HTTPServer) -> None:
    refs = bundled()
    base = [*doi_only(refs)[:2], next(r for r in refs if r.pmid)]
    via = {r.doi or "": str(38000000 + i) for i, r in enumerate(base[:2])}
    http.expect_request("/idconv/").respond_with_handler(idconv_handler(via))
    http.expect_request("/esummary.fcgi").respond_with_data("down", status=502)
    http.expect_request("/works").respond_with_handler(
        crossref_list({d: as_crossref(r) for r in base[:2] if (d := r.doi)})
    )
    steps: list[int] = []
    with make_client(http, retries=0) as client:
        lookups = client.lookup_references(base, steps.append)
    assert [(lk.service, lk.state) for lk in lookups.values()] == [
        ("Crossref", LookupState.FOUND),
        ("Crossref", LookupState.FOUND),
        ("PubMed", LookupState.FAILED),
    ]
    assert sum(steps) == 3


# --- Crossref, many DOIs per request ----------------------------------------------------------


def test_crossref_asks_for_many_dois_with_mailto_and_caches_the_missing_ones(http: HTTPServer, tmp_path: Path) -> None:
    hensley = crossref_json("hensley2015")["message"]
    http.expect_request("/works").respond_with_handler(crossref_list({hensley["DOI"]: hensley}))
    with make_client(http, tmp_path, email="me@example.org") as client:
        got = client.crossref_works(["10.1200/JCO.2014.58.3781", "10.5555/none"])
    assert [lk.state for lk in got.values()] == [LookupState.FOUND, LookupState.NOT_FOUND]
    ((request, _),) = http.log
    assert dict(request.args) == {
        "filter": "doi:10.1200/JCO.2014.58.3781,doi:10.5555/none",
        "rows": "2",
        "mailto": "me@example.org",
    }
    with make_client(http, tmp_path) as again:  # DOIs ignore case, in the cache too
        states = [lk.state for lk in again.crossref_works(["10.5555/NONE", "10.1200/jco.2014.58.3781"]).values()]
    assert states == [LookupState.NOT_FOUND, LookupState.FOUND]
    assert again.requests == 0


def test_crossref_batches_split_at_the_size_and_url_caps(http: HTTPServer) -> None:
    dois = [f"10.5555/lms.batch.{i:03d}" for i in range(7)]
    http.expect_request("/works").respond_with_handler(crossref_list({d: {"DOI": d, "title": [d]} for d in dois}))
    with make_client(http, crossref_batch=3) as client:
        got = client.crossref_works(dois)
    assert {lk.state for lk in got.values()} == {LookupState.FOUND}
    assert [(len(asked_dois(r)), r.args["rows"]) for r, _ in http.log] == [(3, "3"), (3, "3"), (1, "1")]
    root = http.url_for("/").rstrip("/")
    for cap, runs in ((200, None), (10, [1] * 7)):  # a URL too long for one DOI still asks for it alone
        http.clear_log()
        with make_client(http, crossref_max_url=cap) as client:
            assert {lk.state for lk in client.crossref_works(dois).values()} == {LookupState.FOUND}
        assert [d for r, _ in http.log for d in asked_dois(r)] == dois
        if runs is None:
            assert len(http.log) > 1
            assert max(len(root) + len(r.environ["RAW_URI"]) for r, _ in http.log) <= cap
        else:
            assert [len(asked_dois(r)) for r, _ in http.log] == runs


def test_crossref_never_takes_a_record_for_a_doi_not_asked_for(http: HTTPServer, tmp_path: Path) -> None:
    hensley, pautier = crossref_json("hensley2015")["message"], crossref_json("pautier2015")["message"]
    http.expect_request("/works").respond_with_json(
        {"status": "ok", "message": {"total-results": 2, "items": [hensley, pautier]}}
    )
    with make_client(http, tmp_path) as client:
        got = client.crossref_works(["10.1200/jco.2014.58.3781", "10.5555/asked"])
    found, asked = got.values()
    assert (found.state, found.work and found.work.doi) == (LookupState.FOUND, "10.1200/JCO.2014.58.3781")
    assert (asked.state, asked.detail) == (
        LookupState.FAILED,
        f"malformed reply from Crossref: asked for 2 DOIs at {http.url_for('/works')}, "
        "sent the record of DOI 10.1016/S1470-2045(15)70070-7, not asked for",
    )
    assert client.cache.get("crossref", "10.5555/asked") is None  # not cached: asked again next time


def test_crossref_an_incomplete_answer_proves_no_doi_missing(http: HTTPServer) -> None:
    hensley = crossref_json("hensley2015")["message"]
    http.expect_request("/works").respond_with_json(
        {"status": "ok", "message": {"total-results": 2, "items": [hensley]}}
    )
    with make_client(http) as client:
        got = client.crossref_works(["10.1200/JCO.2014.58.3781", "10.5555/left-out"])
    assert got["10.1200/JCO.2014.58.3781"].state is LookupState.FOUND
    assert got["10.5555/left-out"].state is LookupState.FAILED
    assert got["10.5555/left-out"].detail == (
        f"malformed reply from Crossref: asked for 2 DOIs at {http.url_for('/works')}, sent 1 of 2 records"
    )


@pytest.mark.parametrize(
    ("body", "detail"),
    [
        (
            '{"message": {"items": 3}}',
            "malformed reply from Crossref: no 'message' object with an 'items' list ({url})",
        ),
        ("<html>busy</html>", "malformed reply from Crossref: not JSON (HTTP 200, /works)"),
    ],
)
def test_crossref_a_malformed_list_fails_each_doi(http: HTTPServer, body: str, detail: str) -> None:
    http.expect_request("/works").respond_with_data(body, content_type="application/json")
    with make_client(http) as client:
        got = client.crossref_works(["10.5555/a", "10.5555/b"])
    expected = detail.format(url=http.url_for("/works"))
    assert [(lk.state, lk.detail) for lk in got.values()] == [(LookupState.FAILED, expected)] * 2


def test_crossref_a_failed_batch_marks_its_dois_failed_with_the_url(http: HTTPServer) -> None:
    http.expect_request("/works").respond_with_data("down", status=502)
    with make_client(http, retries=1, crossref_batch=2) as client:
        got = client.crossref_works(["10.5555/a", "10.5555/b", "10.5555/c"])
    detail = f"Crossref failed at {http.url_for('/works')}: HTTP 502 (after 2 attempts)"
    assert [(lk.state, lk.detail) for lk in got.values()] == [
        (LookupState.FAILED, detail),
        (LookupState.FAILED, detail),
        (LookupState.FAILED, "not asked: Crossref failed earlier in this run"),
    ]
    assert len(http.log) == 2 and client.failures == {"Crossref": detail}


def test_crossref_a_doi_holding_a_comma_is_asked_alone(http: HTTPServer) -> None:
    works = {d: {"DOI": d, "title": [d]} for d in ("10.5555/a,b", "10.5555/c:d")}
    http.expect_request("/works").respond_with_handler(crossref_list(works))
    http.expect_request(re.compile(r"^/works/.*")).respond_with_handler(crossref_single(works))
    with make_client(http) as client:
        got = client.crossref_works(works)
    assert {lk.state for lk in got.values()} == {LookupState.FOUND}
    assert [r.path for r, _ in http.log] == ["/works/10.5555/a,b", "/works"]
    assert asked_dois(http.log[1][0]) == ["10.5555/c:d"]  # a colon is part of the filter's value


def test_crossref_offline_answers_from_the_cache_only(http: HTTPServer, tmp_path: Path) -> None:
    hensley = crossref_json("hensley2015")["message"]
    http.expect_request("/works").respond_with_handler(crossref_list({hensley["DOI"]: hensley}))
    with make_client(http, tmp_path) as client:
        client.crossref_works(["10.1200/JCO.2014.58.3781"])
    with make_client(http, tmp_path, offline=True) as offline:
        got = offline.crossref_works(["10.1200/JCO.2014.58.3781", "10.5555/x"])
    assert [lk.state for lk in got.values()] == [LookupState.FOUND, LookupState.NOT_CACHED]
    assert offline.requests == 0 and len(http.log) == 1
