"""ctgov: the ClinicalTrials.gov v2 client against a real HTTP server on 127.0.0.1 (no mocks of our code).

Study pages follow the documented reply shape (see the module docstring of
``lms_cli.services.ctgov``): ``{"studies": [{"protocolSection": {...}}], "nextPageToken": ...}``.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from pytest_httpserver import HTTPServer
from werkzeug import Request, Response

from lms_cli.services import ctgov
from lms_cli.services.http import Config, Failure, Http

PATH = "/api/v2/studies"
FIXED = 1_796_112_000.0  # 2026-12-01 08:00 UTC


def study(
    nct: str,
    title: str = "A trial",
    *,
    status: str = "RECRUITING",
    phases: list[str] | None = None,
    updated: str = "2026-11-01",
    countries: list[str] | None = None,
    **modules: Any,
) -> dict[str, Any]:
    """One study as the registry sends it (every module lms reads; ``modules`` replace or drop some)."""
    proto: dict[str, Any] = {
        "identificationModule": {"nctId": nct, "briefTitle": title, "officialTitle": f"Official {title}"},
        "statusModule": {
            "overallStatus": status,
            "startDateStruct": {"date": "2025-03", "type": "ACTUAL"},
            "lastUpdatePostDateStruct": {"date": updated, "type": "ACTUAL"},
        },
        "sponsorCollaboratorsModule": {"leadSponsor": {"name": "Sarcoma Group", "class": "OTHER"}},
        "conditionsModule": {"conditions": ["Leiomyosarcoma", "Soft Tissue Sarcoma"]},
        "designModule": {
            "studyType": "INTERVENTIONAL",
            "phases": ["PHASE2"] if phases is None else phases,
            "enrollmentInfo": {"count": 40, "type": "ESTIMATED"},
        },
        "armsInterventionsModule": {"interventions": [{"type": "DRUG", "name": "Trabectedin"}]},
        "contactsLocationsModule": {
            "locations": [{"facility": "A", "city": "Paris", "country": c} for c in (countries or ["France", "France"])]
        },
    }
    for name, value in modules.items():
        if value is None:
            proto.pop(name, None)
        else:
            proto[name] = value
    return {"protocolSection": proto, "derivedSection": {}, "hasResults": False}


def page(studies: list[dict[str, Any]], token: str | None = None) -> dict[str, Any]:
    body: dict[str, Any] = {"studies": studies}
    if token:
        body["nextPageToken"] = token
    return body


@pytest.fixture
def http(server: HTTPServer) -> Iterator[HTTPServer]:
    server.clear()
    yield server
    server.clear()


def make_http(
    server: HTTPServer, tmp_path: Path | None = None, sleeps: list[float] | None = None, **config: Any
) -> Http:
    settings: dict[str, Any] = {
        "ctgov_url": server.url_for("/"),
        "ctgov_rate": 1000.0,
        "backoff": 0.01,
        "timeout": 2.0,
        "cache_dir": tmp_path / "services" if tmp_path else None,
    }
    settings.update(config)
    return Http(Config(**settings), sleep=(sleeps if sleeps is not None else []).append, wall=lambda: FIXED)


def paged(pages: dict[str | None, dict[str, Any]]) -> Any:
    """A handler answering by the pageToken received (None: the first page)."""

    def handler(request: Request) -> Response:
        body = pages[request.args.get("pageToken")]
        return Response(json.dumps(body), content_type="application/json")

    return handler


def test_first_page_sends_the_documented_parameters(http: HTTPServer) -> None:
    http.expect_request(PATH, method="GET").respond_with_json(page([study("NCT01000001")]))
    query = ctgov.Search(terms="trabectedin OR eribulin", intervention="olaparib", limit=20)
    with make_http(http) as client:
        got = ctgov.search(client, query)
    ((request, _),) = http.log
    assert dict(request.args) == {
        "format": "json",
        "query.cond": "leiomyosarcoma",
        "query.term": "trabectedin OR eribulin",
        "query.intr": "olaparib",
        "filter.overallStatus": "RECRUITING,NOT_YET_RECRUITING",
        "sort": "LastUpdatePostDate:desc",
        "pageSize": "20",
    }
    assert [s.nct for s in got.studies] == ["NCT01000001"]
    assert (got.pages, got.more, got.fetched_at) == (1, False, FIXED)


def test_every_field_is_read(http: HTTPServer) -> None:
    http.expect_request(PATH).respond_with_json(page([study("NCT01000001", "Trabectedin for LMS")]))
    with make_http(http) as client:
        (s,) = ctgov.search(client, ctgov.Search()).studies
    assert s == ctgov.Study(
        nct="NCT01000001",
        title="Trabectedin for LMS",
        status="RECRUITING",
        phases=("PHASE2",),
        conditions=("Leiomyosarcoma", "Soft Tissue Sarcoma"),
        interventions=("Trabectedin",),
        sponsor="Sarcoma Group",
        enrollment=40,
        start="2025-03",
        last_update="2026-11-01",
        countries=("France",),
    )
    assert s.url == "https://clinicaltrials.gov/study/NCT01000001"


@pytest.mark.parametrize(("status", "sent"), [("all", None), ("active", "ACTIVE_NOT_RECRUITING")])
def test_status_filter_is_passed_through(http: HTTPServer, status: str, sent: str | None) -> None:
    http.expect_request(PATH).respond_with_json(page([]))
    with make_http(http) as client:
        got = ctgov.search(client, ctgov.Search(statuses=ctgov.STATUSES[status]))
    assert got.studies == ()
    ((request, _),) = http.log
    assert request.args.get("filter.overallStatus") == sent
    assert "query.term" not in request.args and "query.intr" not in request.args


def test_pages_are_followed_one_request_each_with_the_token(http: HTTPServer) -> None:
    pages = {
        None: page([study("NCT01000001", updated="2026-10-01"), study("NCT01000002", updated="2026-11-20")], "tok-2"),
        "tok-2": page([study("NCT01000003", updated="2026-11-05")], "tok-3"),
        "tok-3": page([study("NCT01000004", updated="2025-01-01")]),
    }
    http.expect_request(PATH).respond_with_handler(paged(pages))
    with make_http(http, ctgov_page_size=2) as client:
        got = ctgov.search(client, ctgov.Search(limit=50))
    sent = [r.args.get("pageToken") for r, _ in http.log]
    assert sent == [None, "tok-2", "tok-3"]
    assert client.requests == 3 and got.pages == 3
    assert {r.args["pageSize"] for r, _ in http.log} == {"2"}
    # Later pages repeat the first page's parameters (the API requires it).
    assert len({tuple(sorted((k, v) for k, v in r.args.items() if k != "pageToken")) for r, _ in http.log}) == 1
    assert [s.nct for s in got.studies] == ["NCT01000002", "NCT01000003", "NCT01000001", "NCT01000004"]
    assert got.more is False


def test_paging_stops_at_the_limit(http: HTTPServer) -> None:
    pages = {
        None: page([study("NCT01000001"), study("NCT01000002")], "tok-2"),
        "tok-2": page([study("NCT01000003"), study("NCT01000004")], "tok-3"),
        "tok-3": page([study("NCT01000005")]),
    }
    http.expect_request(PATH).respond_with_handler(paged(pages))
    with make_http(http) as client:
        got = ctgov.search(client, ctgov.Search(limit=3))
    assert [r.args.get("pageToken") for r, _ in http.log] == [None, "tok-2"]
    assert [r.args["pageSize"] for r, _ in http.log] == ["3", "3"]
    assert len(got.studies) == 3 and got.more is True


def test_missing_optional_modules_are_fine(http: HTTPServer) -> None:
    bare = study(
        "NCT01000009",
        statusModule=None,
        designModule=None,
        conditionsModule=None,
        armsInterventionsModule=None,
        sponsorCollaboratorsModule=None,
        contactsLocationsModule=None,
    )
    http.expect_request(PATH).respond_with_json(page([bare]))
    with make_http(http) as client:
        (s,) = ctgov.search(client, ctgov.Search()).studies
    assert s == ctgov.Study(nct="NCT01000009", title="A trial")


@pytest.mark.parametrize(
    ("body", "where"),
    [
        ([], "the reply is not an object"),
        ({"totalCount": 3}, "'studies' is missing or not a list"),
        ({"studies": {}}, "'studies' is missing or not a list"),
        (page([study("NCT01000001")], "tok") | {"nextPageToken": 7}, "nextPageToken is not text"),
        ({"studies": ["NCT01000001"]}, "studies[0] is not an object"),
        (page([{"hasResults": False}]), "studies[0].protocolSection is missing or not an object"),
        (
            page([study("NCT01000001"), study("12345")]),
            "studies[1].protocolSection.identificationModule.nctId is not an NCT id",
        ),
        (
            page([study("NCT01000001", designModule={"phases": "PHASE2"})]),
            "studies[0].protocolSection.designModule.phases is not a list",
        ),
        (
            page([study("NCT01000001", designModule={"enrollmentInfo": {"count": "40"}})]),
            "studies[0].protocolSection.designModule.enrollmentInfo.count is not a whole number",
        ),
        (
            page([study("NCT01000001", contactsLocationsModule={"locations": [{"country": ["France"]}]})]),
            "studies[0].protocolSection.contactsLocationsModule.locations[0].country is not text",
        ),
        (
            page([study("NCT01000001", statusModule={"overallStatus": 1})]),
            "studies[0].protocolSection.statusModule.overallStatus is not text",
        ),
        (
            page([study("NCT01000001", armsInterventionsModule={"interventions": ["Trabectedin"]})]),
            "studies[0].protocolSection.armsInterventionsModule.interventions[0] is not an object",
        ),
    ],
)
def test_wrong_shapes_fail_with_one_clear_line(http: HTTPServer, tmp_path: Path, body: Any, where: str) -> None:
    http.expect_request(PATH).respond_with_json(body)
    with make_http(http, tmp_path) as client, pytest.raises(Failure) as caught:
        ctgov.search(client, ctgov.Search())
    assert caught.value.detail == f"malformed reply from ClinicalTrials.gov (page 1): {where}"
    assert not (tmp_path / "services" / "ctgov").exists()  # a malformed page is never cached


def test_not_json_and_http_errors_fail(http: HTTPServer) -> None:
    http.expect_oneshot_request(PATH).respond_with_data("<html>", content_type="text/html")
    http.expect_oneshot_request(PATH).respond_with_data("bad query", status=400)
    with make_http(http) as client:
        expected = r"^malformed reply from ClinicalTrials.gov: not JSON \(HTTP 200, /api/v2/studies\)$"
        with pytest.raises(Failure, match=expected):
            ctgov.search(client, ctgov.Search())
        with pytest.raises(Failure, match=r"^ClinicalTrials.gov failed at http://.*/api/v2/studies: HTTP 400$"):
            ctgov.search(client, ctgov.Search())


def test_429_then_success(http: HTTPServer) -> None:
    http.expect_oneshot_request(PATH).respond_with_data("slow down", status=429, headers={"Retry-After": "2"})
    http.expect_request(PATH).respond_with_json(page([study("NCT01000001")]))
    sleeps: list[float] = []
    with make_http(http, sleeps=sleeps) as client:
        got = ctgov.search(client, ctgov.Search())
    assert [resp.status_code for _, resp in http.log] == [429, 200]
    assert [s for s in sleeps if s >= 0.5] == [2.0]
    assert [s.nct for s in got.studies] == ["NCT01000001"]


def test_requests_are_paced_at_the_registry_rate(http: HTTPServer) -> None:
    pages = {None: page([study("NCT01000001")], "t2"), "t2": page([study("NCT01000002")])}
    http.expect_request(PATH).respond_with_handler(paged(pages))
    sleeps: list[float] = []
    # The clock stands still, so the second request waits one full interval.
    with Http(Config(ctgov_url=http.url_for("/"), timeout=2.0), sleep=sleeps.append, clock=lambda: 0.0) as client:
        ctgov.search(client, ctgov.Search())
    assert sleeps == [pytest.approx(60 / 50)]  # about 50 requests a minute, as the registry asks


def test_pages_are_cached_for_a_day_and_offline_reads_any_age(http: HTTPServer, tmp_path: Path) -> None:
    pages = {None: page([study("NCT01000001")], "t2"), "t2": page([study("NCT01000002")])}
    http.expect_request(PATH).respond_with_handler(paged(pages))
    with make_http(http, tmp_path) as client:
        first = ctgov.search(client, ctgov.Search())
    assert len(http.log) == 2
    with make_http(http, tmp_path) as client:
        again = ctgov.search(client, ctgov.Search())
    assert len(http.log) == 2 and again.studies == first.studies and again.from_cache == 2
    # A day later the pages are stale online ...
    later = Http(
        Config(ctgov_url=http.url_for("/"), ctgov_rate=1000.0, cache_dir=tmp_path / "services"),
        sleep=lambda _: None,
        wall=lambda: FIXED + 86_401,
    )
    with later as client:
        fresh = ctgov.search(client, ctgov.Search())
    assert len(http.log) == 4 and fresh.fetched_at == FIXED + 86_401
    # ... and offline they are read whatever their age, with the time they were fetched.
    offline = Http(
        Config(ctgov_url="http://127.0.0.1:9/", cache_dir=tmp_path / "services", offline=True),
        wall=lambda: FIXED + 10 * 86_400,
    )
    with offline as client:
        cached = ctgov.search(client, ctgov.Search())
    assert cached.studies == first.studies and cached.fetched_at == FIXED + 86_401 and cached.complete
    assert offline.requests == 0


def test_refresh_asks_again(http: HTTPServer, tmp_path: Path) -> None:
    http.expect_request(PATH).respond_with_json(page([study("NCT01000001")]))
    with make_http(http, tmp_path) as client:
        ctgov.search(client, ctgov.Search())
    with make_http(http, tmp_path, refresh=True) as client:
        got = ctgov.search(client, ctgov.Search())
    assert len(http.log) == 2 and got.from_cache == 0


def test_offline_without_a_cache_fails_and_a_missing_later_page_is_said(http: HTTPServer, tmp_path: Path) -> None:
    with make_http(http, tmp_path, offline=True) as client, pytest.raises(Failure) as caught:
        ctgov.search(client, ctgov.Search())
    assert caught.value.detail == "offline, and nothing cached from ClinicalTrials.gov for this search"
    assert http.log == []
    pages = {None: page([study("NCT01000001")], "t2"), "t2": page([study("NCT01000002")])}
    http.expect_request(PATH).respond_with_handler(paged(pages))
    with make_http(http, tmp_path) as client:
        ctgov.search(client, ctgov.Search())
    entries = (tmp_path / "services" / "ctgov").glob("*.json")
    second = [p for p in entries if "pagetoken" in json.loads(p.read_text())["key"]]
    second[0].unlink()
    with make_http(http, tmp_path, offline=True) as client:
        partial = ctgov.search(client, ctgov.Search())
    assert [s.nct for s in partial.studies] == ["NCT01000001"] and partial.complete is False
