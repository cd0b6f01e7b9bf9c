"""`lms updates` end to end against a real HTTP server on 127.0.0.1: output, exit codes, requests."""

from __future__ import annotations

import io
import json
import math
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from pytest_httpserver import HTTPServer
from werkzeug import Request, Response

from lms_cli import load
from lms_cli.cli.common import Env
from lms_cli.cli.updates import run
from lms_cli.errors import Findings
from lms_cli.render import Format
from tests.conftest import DATA, Invoke
from tests.services.test_client import closed_port
from tests.services.test_esearch import esearch_answer

UPDATES = DATA / "updates"
GOLDEN = DATA / "golden"
RECORDS: dict[str, Any] = json.loads((DATA / "services" / "updates" / "esummary.json").read_text(encoding="utf-8"))
DEC1 = "1796126400"  # 2026-12-01 12:00 UTC, as SOURCE_DATE_EPOCH

#: Bundled-base runs make 17+ requests: an API key lifts the pace from 3 to 10 a second.
FAST = {"NCBI_API_KEY": "test-key"}

#: What the fake ESearch lists per topic query (first-line: one PMID the base holds, one DOI it holds).
FIRST_LINE = ["24618336", "39990104", "39990105", "39990107", "39990102", "39990103", "39990101"]
RECURRENCE = ["39990106", "39990108", "39990102"]


def query(slug: str) -> str:
    topic = load.load([UPDATES]).topic(slug)
    assert topic is not None and topic.pubmed
    return topic.pubmed


def esearch_handler(by_query: dict[str, list[str]]) -> Callable[[Request], Response]:
    def handler(request: Request) -> Response:
        ids = by_query.get(request.args["term"], [])
        return Response(json.dumps(esearch_answer(ids)), content_type="application/json")

    return handler


def record_for(pmid: str) -> dict[str, Any]:
    """The fixture record, or a plain synthetic one (so large batches are all found)."""
    known = RECORDS.get(pmid)
    if known is not None:
        return dict(known)
    rec = dict(RECORDS["39990108"])
    rec.update(uid=pmid, title=f"Synthetic record {pmid}.", articleids=[{"idtype": "pubmed", "value": pmid}])
    return rec


def esummary_handler(request: Request) -> Response:
    source = request.form if request.method == "POST" else request.args
    ids = source["id"].split(",")
    result: dict[str, Any] = {"uids": ids, **{i: record_for(i) for i in ids}}
    return Response(json.dumps({"header": {"type": "esummary", "version": "0.3"}, "result": result}))


@pytest.fixture
def http(server: HTTPServer) -> Iterator[HTTPServer]:
    server.clear()
    yield server
    server.clear()


def serve(http: HTTPServer, by_query: dict[str, list[str]] | None = None) -> None:
    if by_query is None:
        by_query = {query("first-line"): FIRST_LINE, query("recurrence"): RECURRENCE}
    http.expect_request("/esearch.fcgi").respond_with_handler(esearch_handler(by_query))
    http.expect_request("/esummary.fcgi").respond_with_handler(esummary_handler)


def environ(http: HTTPServer, **extra: str) -> dict[str, str]:
    return {"LMS_EUTILS_URL": http.url_for("/"), "LMS_EMAIL": "me@example.org", "SOURCE_DATE_EPOCH": DEC1, **extra}


ARGS = ["--no-bundled", "--evidence", str(UPDATES)]


def calls(http: HTTPServer, path: str) -> list[Request]:
    return [r for r, _ in http.log if r.path == path]


def test_new_items_found_ranked_and_the_base_recognised(invoke: Invoke, http: HTTPServer) -> None:
    serve(http)
    result = invoke("updates", *ARGS, "--format", "json", env=environ(http))
    assert result.exit_code == 1, result.stderr
    assert result.stderr == ""
    data = json.loads(result.stdout)
    first, recurrence = data["topics"]
    assert [(i["pmid"], i["design"], i["flags"]) for i in first["items"]] == [
        ("39990103", "guideline", []),
        ("39990101", "meta-analysis", []),
        ("39990102", "rct", []),
        ("39990107", "clinical-trial", []),
        ("39990104", "other", ["retracted"]),
    ]
    # 24618336 is in the base by PMID; 39990105 by DOI (a DOI-only reference)
    assert first["counts"]["in_base_pmid"] == 1 and first["in_base_doi"] == [
        {"pmid": "39990105", "doi": "10.5555/lms.test.0105", "reference": "doionly2026"}
    ]
    assert [i["pmid"] for i in recurrence["items"]] == ["39990102", "39990106", "39990108"]
    assert data["summary"] == {"topics": 2, "new": 8}
    # one ESearch per topic, one ESummary for the PMIDs the base lacks (39990102 asked once)
    assert len(calls(http, "/esearch.fcgi")) == 2
    (summary,) = calls(http, "/esummary.fcgi")
    assert summary.args["id"].split(",") == [*FIRST_LINE[1:], "39990106", "39990108"]


def test_the_window_is_taken_from_the_review_dates(invoke: Invoke, http: HTTPServer) -> None:
    serve(http, {})
    assert invoke("updates", *ARGS, env=environ(http)).exit_code == 0
    asked = {r.args["term"]: (r.args["mindate"], r.args["maxdate"], r.args["datetype"]) for r, _ in http.log}
    assert asked == {
        query("first-line"): ("2026/01/15", "2026/12/01", "edat"),  # the older of its two reviews
        query("recurrence"): ("2026/03/10", "2026/12/01", "edat"),
    }


def test_since_and_topic_arguments(invoke: Invoke, http: HTTPServer) -> None:
    serve(http, {})
    result = invoke("updates", "recurrence", "--since", "2020-02-29", *ARGS, env=environ(http))
    assert result.exit_code == 0, result.stderr
    ((request, _),) = http.log
    assert (request.args["term"], request.args["mindate"]) == (query("recurrence"), "2020/02/29")


def test_empty_results_exit_0(invoke: Invoke, http: HTTPServer) -> None:
    serve(http, {})
    result = invoke("updates", *ARGS, env=environ(http))
    assert (result.exit_code, result.stderr) == (0, "")
    assert result.stdout.endswith("Nothing new in 2 topics.\n")
    assert calls(http, "/esummary.fcgi") == []  # nothing to summarise: no request


def test_only_papers_already_in_the_base_exit_0(invoke: Invoke, http: HTTPServer) -> None:
    serve(http, {query("first-line"): ["24618336", "39990105"]})
    result = invoke("updates", "first-line", *ARGS, "--format", "json", env=environ(http))
    assert result.exit_code == 0, result.stderr
    (topic,) = json.loads(result.stdout)["topics"]
    assert topic["items"] == [] and (topic["counts"]["in_base_pmid"], topic["counts"]["in_base_doi"]) == (1, 1)
    (summary,) = calls(http, "/esummary.fcgi")
    assert summary.args["id"] == "39990105"  # the PMID already in the base is not asked for


@pytest.mark.parametrize("count", [201, 450])
def test_batching_above_200(invoke: Invoke, http: HTTPServer, count: int) -> None:
    many = [str(38000000 + i) for i in range(count)]
    serve(http, {query("first-line"): many})
    result = invoke("updates", "first-line", *ARGS, "--format", "json", env=environ(http))
    assert result.exit_code == 1, result.stderr
    assert json.loads(result.stdout)["summary"]["new"] == count
    # as `refs verify` does: GET up to 200 ids, above that POST in batches of 500
    assert [(r.method, len(r.form["id"].split(","))) for r in calls(http, "/esummary.fcgi")] == [("POST", count)]


def test_malformed_esearch_reply_exit_4_with_one_line(invoke: Invoke, http: HTTPServer) -> None:
    http.expect_request("/esearch.fcgi").respond_with_json({"esearchresult": {"count": "2", "idlist": "39990101"}})
    result = invoke("updates", *ARGS, env=environ(http))
    assert result.exit_code == 4
    assert result.stdout == ""
    assert result.stderr == (
        f"Error: malformed reply from PubMed ESearch at {http.url_for('/esearch.fcgi')}: "
        "'idlist' is not a list of PMIDs\n"
    )
    assert len(http.log) == 1  # the first bad answer stops the run


def test_unreachable_exit_4(invoke: Invoke) -> None:
    url = f"http://127.0.0.1:{closed_port()}/"
    result = invoke("updates", *ARGS, env={"LMS_EUTILS_URL": url, "SOURCE_DATE_EPOCH": DEC1})
    assert result.exit_code == 4
    assert result.stdout == ""
    lines = result.stderr.splitlines()
    assert lines[0].startswith("Warning: LMS_EMAIL is not set")  # said before any work
    assert lines[1].startswith(f"Error: PubMed could not be reached at {url}esearch.fcgi: ")
    assert lines[2:] == ["Hint: check the network (or LMS_EUTILS_URL); --offline answers from the cache"]


def test_429_then_success(invoke: Invoke, http: HTTPServer) -> None:
    answers = iter([Response("busy", status=429, headers={"Retry-After": "0"})])

    def handler(request: Request) -> Response:
        reply = next(answers, None)
        return reply or esearch_handler({query("recurrence"): ["39990106"]})(request)

    http.expect_request("/esearch.fcgi").respond_with_handler(handler)
    http.expect_request("/esummary.fcgi").respond_with_handler(esummary_handler)
    result = invoke("updates", "recurrence", *ARGS, "--format", "json", env=environ(http))
    assert result.exit_code == 1, result.stderr
    assert [i["pmid"] for i in json.loads(result.stdout)["topics"][0]["items"]] == ["39990106"]
    assert [r.path for r, _ in http.log] == ["/esearch.fcgi", "/esearch.fcgi", "/esummary.fcgi"]


def test_offline_with_a_cache_answers_the_same_without_a_request(invoke: Invoke, http: HTTPServer) -> None:
    serve(http)
    online = invoke("updates", *ARGS, "--format", "json", env=environ(http))
    http.clear()
    # a week later, offline: the searches of 1 December, saying so in the window
    offline = invoke(
        "updates", *ARGS, "--offline", "--format", "json", env=environ(http, SOURCE_DATE_EPOCH="1796731200")
    )
    assert (offline.exit_code, offline.stderr) == (1, "")
    assert offline.stdout == online.stdout
    assert http.log == []


def test_offline_without_a_cache_says_what_is_missing(invoke: Invoke, http: HTTPServer) -> None:
    result = invoke("updates", *ARGS, "--offline", env=environ(http))
    assert result.exit_code == 4
    assert result.stdout == ""
    assert result.stderr == (
        "Error: offline, and nothing cached for the search of 2 topics (first-line, recurrence)\n"
        "Hint: run without --offline\n"
    )
    assert http.log == []


def test_offline_with_a_search_cached_but_not_its_records(invoke: Invoke, http: HTTPServer, tmp_path: Path) -> None:
    serve(http, {query("recurrence"): ["39990106"]})
    assert invoke("updates", "recurrence", *ARGS, env=environ(http)).exit_code == 1
    for entry in (tmp_path / "cache" / "services" / "esummary").glob("*.json"):
        entry.unlink()
    http.clear()
    result = invoke("updates", *ARGS, "--offline", env=environ(http))
    assert result.exit_code == 4
    assert "## Recurrence (recurrence)" in result.stdout  # what was cached is shown
    assert result.stderr == (
        "Error: offline, and nothing cached for the search of 1 topic (first-line) and 1 record (PMID 39990106)\n"
        "Hint: run without --offline\n"
    )


def test_the_email_warning_as_refs_verify_gives_it(invoke: Invoke, http: HTTPServer) -> None:
    serve(http, {})
    env = environ(http)
    del env["LMS_EMAIL"]
    result = invoke("updates", *ARGS, env={**env, "LMS_EMAIL": ""})
    assert result.exit_code == 0
    assert result.stderr == (
        "Warning: LMS_EMAIL is not set; NCBI and Crossref ask for a contact address "
        "(export LMS_EMAIL=you@example.org).\n"
    )


def test_more_found_than_listed_warns(invoke: Invoke, http: HTTPServer) -> None:
    def handler(request: Request) -> Response:
        return Response(json.dumps(esearch_answer(["39990106"], count=1200)), content_type="application/json")

    http.expect_request("/esearch.fcgi").respond_with_handler(handler)
    http.expect_request("/esummary.fcgi").respond_with_handler(esummary_handler)
    result = invoke("updates", "recurrence", *ARGS, env=environ(http))
    assert result.exit_code == 1
    assert result.stderr == (
        "Warning: recurrence: PubMed found 1200, lms lists the first 1; narrow the window with --since.\n"
    )
    assert "1199 more not listed" in result.stdout


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--since", "2026-13-01"], "Error: --since takes a date as YYYY-MM-DD, not '2026-13-01'\n"),
        (["--since", "2027-01-01"], "Error: --since 2027-01-01 is after today (2026-12-01)\n"),
    ],
)
def test_bad_since_exit_2(invoke: Invoke, http: HTTPServer, args: list[str], message: str) -> None:
    result = invoke("updates", *ARGS, *args, env=environ(http))
    assert (result.exit_code, result.stdout, result.stderr) == (2, "", message)
    assert http.log == []


def test_a_topic_without_a_query_exit_2(invoke: Invoke, http: HTTPServer) -> None:
    result = invoke("updates", "first-line", "--no-bundled", "--evidence", str(DATA / "base"), env=environ(http))
    assert result.exit_code == 2
    assert result.stderr == "Error: first-line: no pubmed: query\nHint: add a `pubmed:` query to the topic\n"


def test_an_unknown_topic_exit_2(invoke: Invoke, http: HTTPServer) -> None:
    result = invoke("updates", "zzzz-nothing", *ARGS, env=environ(http))
    assert result.exit_code == 2 and result.stderr.startswith("Error: ")
    assert http.log == []


# --- golden output ----------------------------------------------------------------------------


@pytest.mark.parametrize(("fmt", "golden"), [("markdown", "updates.md"), ("json", "updates.json")])
def test_golden_output(invoke: Invoke, http: HTTPServer, fmt: str, golden: str) -> None:
    serve(http)
    result = invoke("updates", *ARGS, "--format", fmt, env=environ(http))
    assert result.exit_code == 1, result.stderr
    assert result.stdout == (GOLDEN / golden).read_text(encoding="utf-8")


def test_rich_output_is_a_table_per_topic(invoke: Invoke, http: HTTPServer) -> None:
    serve(http)
    result = invoke("updates", *ARGS, "--format", "rich", env=environ(http, COLUMNS="300"))
    assert result.exit_code == 1, result.stderr
    out = result.stdout
    assert out.index("First-line therapy (first-line)") < out.index("Recurrence (recurrence)")
    assert "Design" in out and "guideline" in out and "retracted" in out
    # markup in a fetched title is text, never Rich markup
    assert "<i>" not in out and "practice guideline with first-line advice | 2026 update" in out


# --- progress and request counts --------------------------------------------------------------


class Tty(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_progress_on_a_terminal(http: HTTPServer, tmp_path: Path) -> None:
    by_query = {topic.pubmed: [str(38100000 + i)] for i, topic in enumerate(load.load([load.bundled_dir()]).topics)}
    serve(http, {q: ids for q, ids in by_query.items() if q})
    err = Tty()
    env = Env(io.StringIO(), err, {**environ(http, **FAST), "LMS_CACHE_DIR": str(tmp_path / "c")})
    with pytest.raises(Findings):
        run(env, [], None, False, False, Format.JSON, None, False, True)
    assert "Searching PubMed" in err.getvalue() and "Fetching records" in err.getvalue()
    piped = io.StringIO()
    with pytest.raises(Findings):
        run(
            Env(io.StringIO(), piped, {**environ(http, **FAST), "LMS_CACHE_DIR": str(tmp_path / "d")}),
            [],
            None,
            False,
            False,
            Format.JSON,
            None,
            False,
            True,
        )
    assert piped.getvalue() == ""


@pytest.mark.parametrize("new_per_topic", [0, 3, 30])
def test_request_count_for_the_bundled_base(invoke: Invoke, http: HTTPServer, new_per_topic: int) -> None:
    base = load.load([load.bundled_dir()])
    assert len(base.topics) == 17 and all(t.pubmed for t in base.topics)
    known = [r.pmid for r in base.references if r.pmid][:2]  # every topic also finds two the base holds
    by_query = {
        t.pubmed: known + [str(38200000 + 100 * i + k) for k in range(new_per_topic)]
        for i, t in enumerate(base.topics)
        if t.pubmed
    }
    serve(http, by_query)
    result = invoke("updates", "--format", "json", env=environ(http, **FAST))
    assert result.exit_code == (1 if new_per_topic else 0), result.stderr
    new = 17 * new_per_topic
    esummary = 0 if new == 0 else 1 if new <= 200 else math.ceil(new / 500)
    assert len(calls(http, "/esearch.fcgi")) == 17
    assert len(calls(http, "/esummary.fcgi")) == esummary <= math.ceil(new / 200)
    assert json.loads(result.stdout)["summary"] == {"topics": 17, "new": new}
    again = invoke("updates", "--format", "json", env=environ(http, **FAST))  # the same day: all from the cache
    assert again.stdout == result.stdout and len(http.log) == 17 + esummary
