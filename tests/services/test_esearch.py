"""pubmed.esearch: ESearch against a real HTTP server on 127.0.0.1 (no mocks of our code)."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from pytest_httpserver import HTTPServer
from werkzeug import Request, Response

from lms_cli.services import pubmed
from lms_cli.services.http import Failure
from tests.services.test_client import closed_port, make_client, waits

JAN15, DEC1 = dt.date(2026, 1, 15), dt.date(2026, 12, 1)
QUERY = 'leiomyosarcoma[tiab] AND ("first-line"[tiab] OR "first line"[tiab])'


def esearch_answer(ids: list[str], count: int | None = None) -> dict[str, Any]:
    """An ESearch JSON reply as NCBI documents it (see the comment in services/pubmed.py)."""
    return {
        "header": {"type": "esearch", "version": "0.3"},
        "esearchresult": {
            "count": str(len(ids) if count is None else count),
            "retmax": str(len(ids)),
            "retstart": "0",
            "idlist": ids,
            "translationset": [],
            "querytranslation": "leiomyosarcoma[tiab]",
        },
    }


@pytest.fixture
def http(server: HTTPServer) -> Iterator[HTTPServer]:
    server.clear()
    yield server
    server.clear()


def test_one_get_with_the_documented_parameters(http: HTTPServer) -> None:
    http.expect_request("/esearch.fcgi", method="GET").respond_with_json(esearch_answer(["39990102", "39990101"]))
    with make_client(http, email="me@example.org", api_key="k3y") as client:
        got = pubmed.esearch(client, QUERY, JAN15, DEC1)
    assert got == pubmed.Search(2, ("39990102", "39990101"), "2026/12/01")
    ((request, _),) = http.log
    assert dict(request.args) == {
        "db": "pubmed",
        "term": QUERY,
        "retmode": "json",
        "datetype": "edat",
        "mindate": "2026/01/15",
        "maxdate": "2026/12/01",
        "retmax": str(pubmed.ESEARCH_RETMAX),
        "tool": "lms",
        "email": "me@example.org",
        "api_key": "k3y",
    }


def test_an_empty_result(http: HTTPServer) -> None:
    http.expect_request("/esearch.fcgi").respond_with_json(esearch_answer([]))
    with make_client(http) as client:
        assert pubmed.esearch(client, QUERY, JAN15, DEC1) == pubmed.Search(0, (), "2026/12/01")


def test_count_above_the_ids_listed_is_kept(http: HTTPServer) -> None:
    http.expect_request("/esearch.fcgi").respond_with_json(esearch_answer(["39990101"], count=1500))
    with make_client(http) as client:
        got = pubmed.esearch(client, QUERY, JAN15, DEC1)
    assert got is not None and (got.count, got.pmids) == (1500, ("39990101",))


MALFORMED: list[tuple[Any, str]] = [
    ([], "not a JSON object"),
    ({"header": {}}, "no 'esearchresult' object"),
    ({"esearchresult": []}, "no 'esearchresult' object"),
    ({"esearchresult": {"count": "1"}}, "'idlist' is not a list of PMIDs"),
    ({"esearchresult": {"count": "1", "idlist": "39990101"}}, "'idlist' is not a list of PMIDs"),
    ({"esearchresult": {"count": "1", "idlist": [39990101]}}, "'idlist' is not a list of PMIDs"),
    ({"esearchresult": {"count": "1", "idlist": ["PMC123"]}}, "'idlist' is not a list of PMIDs"),
    ({"esearchresult": {"idlist": ["39990101"]}}, "'count' is not a number"),
    ({"esearchresult": {"count": "many", "idlist": []}}, "'count' is not a number"),
    ({"esearchresult": {"count": True, "idlist": []}}, "'count' is not a number"),
    ({"esearchresult": {"count": "0", "idlist": ["39990101"]}}, "'count' (0) is below the 1 PMIDs listed"),
]


@pytest.mark.parametrize(("body", "why"), MALFORMED)
def test_the_parser_refuses_malformed_replies(body: Any, why: str) -> None:
    with pytest.raises(Failure) as caught:
        pubmed.parse_esearch(body, "URL")
    assert caught.value.detail == f"malformed reply from PubMed ESearch at URL: {why}"


def test_the_parser_accepts_a_number_count_and_drops_repeated_ids() -> None:
    assert pubmed.parse_esearch({"esearchresult": {"count": 3, "idlist": ["1", "2", "1"]}}, "URL") == (3, ("1", "2"))


@pytest.mark.parametrize(
    "body", [{"error": "API key invalid"}, {"esearchresult": {"ERROR": "Invalid query", "idlist": []}}]
)
def test_errors_sent_as_json_name_the_service(body: Any) -> None:
    with pytest.raises(Failure, match=r"^PubMed ESearch answered with an error at URL: (API key invalid|Invalid q)"):
        pubmed.parse_esearch(body, "URL")


def test_a_malformed_reply_from_the_server_fails_with_one_line(http: HTTPServer) -> None:
    http.expect_request("/esearch.fcgi").respond_with_json({"esearchresult": {"count": "1", "idlist": None}})
    with make_client(http) as client, pytest.raises(Failure) as caught:
        pubmed.esearch(client, QUERY, JAN15, DEC1)
    assert caught.value.detail == (
        f"malformed reply from PubMed ESearch at {http.url_for('/esearch.fcgi')}: 'idlist' is not a list of PMIDs"
    )


def test_a_reply_that_is_not_json(http: HTTPServer) -> None:
    http.expect_request("/esearch.fcgi").respond_with_data("<html>busy</html>", content_type="text/html")
    with (
        make_client(http) as client,
        pytest.raises(Failure, match=r"^malformed reply from PubMed: not JSON \(HTTP 200, /esearch.fcgi\)$"),
    ):
        pubmed.esearch(client, QUERY, JAN15, DEC1)


def test_429_then_success(http: HTTPServer) -> None:
    answers = iter(
        [
            Response("slow down", status=429, headers={"Retry-After": "0"}),
            Response(json.dumps(esearch_answer(["39990101"])), content_type="application/json"),
        ]
    )

    def handler(request: Request) -> Response:
        return next(answers)

    http.expect_request("/esearch.fcgi").respond_with_handler(handler)
    sleeps: list[float] = []
    with make_client(http, sleeps=sleeps) as client:
        got = pubmed.esearch(client, QUERY, JAN15, DEC1)
        assert client.requests == 2
    assert got is not None and got.pmids == ("39990101",)
    assert waits(sleeps) == [] and len(http.log) == 2  # Retry-After: 0 is honoured


def test_an_unreachable_service() -> None:
    port = closed_port()
    client = make_client(HTTPServer(port=port), eutils_url=f"http://127.0.0.1:{port}/")
    with client, pytest.raises(Failure, match=r"^PubMed could not be reached at http://127\.0\.0\.1:\d+/esearch\.fcgi"):
        pubmed.esearch(client, QUERY, JAN15, DEC1)


# --- the cache --------------------------------------------------------------------------------


def test_a_search_is_reused_the_same_day_and_asked_again_the_next(http: HTTPServer, tmp_path: Path) -> None:
    http.expect_request("/esearch.fcgi").respond_with_json(esearch_answer(["39990101"]))
    with make_client(http, tmp_path) as client:
        first = pubmed.esearch(client, QUERY, JAN15, DEC1)
        again = pubmed.esearch(client, QUERY, JAN15, DEC1)
        assert client.requests == 1 and again == first
        later = pubmed.esearch(client, QUERY, JAN15, dt.date(2026, 12, 2))
        assert client.requests == 2 and later is not None and later.maxdate == "2026/12/02"
        other_window = pubmed.esearch(client, QUERY, dt.date(2026, 3, 1), dt.date(2026, 12, 2))
        assert client.requests == 3 and other_window is not None


def test_queries_differing_in_case_are_cached_apart(http: HTTPServer, tmp_path: Path) -> None:
    http.expect_request("/esearch.fcgi").respond_with_json(esearch_answer([]))
    with make_client(http, tmp_path) as client:
        pubmed.esearch(client, "a AND b", JAN15, DEC1)
        pubmed.esearch(client, "a and b", JAN15, DEC1)
        assert client.requests == 2


def test_refresh_asks_again(http: HTTPServer, tmp_path: Path) -> None:
    http.expect_request("/esearch.fcgi").respond_with_json(esearch_answer(["39990101"]))
    with make_client(http, tmp_path) as client:
        pubmed.esearch(client, QUERY, JAN15, DEC1)
    with make_client(http, tmp_path, refresh=True) as client:
        pubmed.esearch(client, QUERY, JAN15, DEC1)
        assert client.requests == 1


def test_offline_answers_from_the_cache_at_any_age_or_says_nothing_is_cached(http: HTTPServer, tmp_path: Path) -> None:
    http.expect_request("/esearch.fcgi").respond_with_json(esearch_answer(["39990101"]))
    with make_client(http, tmp_path) as client:
        pubmed.esearch(client, QUERY, JAN15, DEC1)
    http.clear()
    with make_client(http, tmp_path, offline=True) as client:
        # a week later, offline: the search of 1 December, saying so
        cached = pubmed.esearch(client, QUERY, JAN15, dt.date(2026, 12, 8))
        assert cached == pubmed.Search(1, ("39990101",), "2026/12/01")
        assert pubmed.esearch(client, "sarcoma[tiab]", JAN15, DEC1) is None
        assert client.requests == 0
    assert http.log == []


def test_a_corrupt_cache_entry_is_asked_again(http: HTTPServer, tmp_path: Path) -> None:
    http.expect_request("/esearch.fcgi").respond_with_json(esearch_answer(["39990101"]))
    with make_client(http, tmp_path) as client:
        pubmed.esearch(client, QUERY, JAN15, DEC1)
    (entry,) = (tmp_path / "services" / "esearch").glob("*.json")
    data = json.loads(entry.read_text(encoding="utf-8"))
    data["record"]["idlist"] = ["not a pmid"]
    entry.write_text(json.dumps(data), encoding="utf-8")
    with make_client(http, tmp_path) as client:
        got = pubmed.esearch(client, QUERY, JAN15, DEC1)
        assert client.requests == 1 and got is not None and got.pmids == ("39990101",)
