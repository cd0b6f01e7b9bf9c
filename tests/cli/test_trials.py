"""`lms trials` and `lms ask --trials` end to end, against a real HTTP server on 127.0.0.1."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from pytest_httpserver import HTTPServer

from lms_cli.errors import ExitCode
from lms_cli.services import ctgov
from tests.conftest import Invoke, write
from tests.services.test_ctgov import PATH, make_http, page, paged, study

EVIDENCE = """\
topics:
  - slug: later-line
    title: Later-line therapy
    question: What treatments are used after first-line therapy?
    trials: trabectedin OR eribulin
  - slug: detection
    title: Detection
    question: How is spread detected?
references:
  - id: demetri2016
    design: rct
    authors: [Demetri GD, et al.]
    title: Trabectedin versus dacarbazine for liposarcoma or leiomyosarcoma
    journal: J Clin Oncol
    year: 2016
    pmid: "26371143"
    nct: [NCT01000002]
claims:
  - id: ll-answer
    topics: [later-line]
    section: answer
    statement: Trabectedin is one later-line option.
    cites: [demetri2016]
  - id: det-answer
    topics: [detection]
    section: answer
    statement: CT of the chest is the usual test.
    cites: [demetri2016]
"""

STUDIES = [
    study(
        "NCT01000001",
        "Eribulin and [bold]gemcitabine[/] in LMS",
        phases=["PHASE1", "PHASE2"],
        updated="2026-10-02",
        countries=["United States", "Canada"],
    ),
    study("NCT01000002", "Trabectedin after doxorubicin", updated="2026-11-15", countries=["France"]),
    study(
        "NCT01000003",
        "A registry study",
        status="NOT_YET_RECRUITING",
        phases=[],
        updated="2026-09-01",
        designModule=None,
        contactsLocationsModule=None,
        sponsorCollaboratorsModule=None,
        armsInterventionsModule=None,
    ),
]


@pytest.fixture
def http(server: HTTPServer) -> Iterator[HTTPServer]:
    server.clear()
    yield server
    server.clear()


@pytest.fixture
def args(tmp_path: Path) -> list[str]:
    write(tmp_path / "ev" / "base.yaml", EVIDENCE)
    return ["--no-bundled", "--evidence", str(tmp_path / "ev")]


def env(http: HTTPServer) -> dict[str, str | None]:
    return {"LMS_CTGOV_URL": http.url_for("/"), "LMS_EMAIL": None}


def cache_pages(http: HTTPServer, tmp_path: Path, search: ctgov.Search) -> None:
    """Fill the CLI's cache (LMS_CACHE_DIR) with the studies, fetched at FIXED."""
    http.expect_request(PATH).respond_with_json(page(STUDIES))
    with make_http(http, tmp_path / "cache") as client:
        ctgov.search(client, search)
    http.clear()


GOLDEN_MD = """\
# Open clinical trials: What treatments are used after first-line therapy?

ClinicalTrials.gov search: condition leiomyosarcoma; terms trabectedin OR eribulin; status recruiting, \
not yet recruiting. Newest update first.

1. [NCT01000002](https://clinicaltrials.gov/study/NCT01000002): Trabectedin after doxorubicin. \
**Cited by the evidence.**
   - Phase 2; recruiting; 40 participants; start 2025-03; updated 2026-11-15
   - Conditions: Leiomyosarcoma; Soft Tissue Sarcoma
   - Interventions: Trabectedin
   - Sponsor: Sarcoma Group
   - Countries: France
2. [NCT01000001](https://clinicaltrials.gov/study/NCT01000001): Eribulin and \\[bold\\]gemcitabine\\[/\\] in LMS.
   - Phase 1/2; recruiting; 40 participants; start 2025-03; updated 2026-10-02
   - Conditions: Leiomyosarcoma; Soft Tissue Sarcoma
   - Interventions: Trabectedin
   - Sponsor: Sarcoma Group
   - Countries: United States, Canada
3. [NCT01000003](https://clinicaltrials.gov/study/NCT01000003): A registry study.
   - n/a; not yet recruiting; start 2025-03; updated 2026-09-01
   - Conditions: Leiomyosarcoma; Soft Tissue Sarcoma

---

*Registry listing from ClinicalTrials.gov, fetched 2026-12-01 08:00 UTC (from the cache); not medical advice: \
discuss any trial with the treating team.*
"""


def test_golden_markdown_offline_shows_when_the_data_were_fetched(
    invoke: Invoke, http: HTTPServer, tmp_path: Path, args: list[str]
) -> None:
    cache_pages(http, tmp_path, ctgov.Search(terms="trabectedin OR eribulin"))
    result = invoke("trials", "later-line", "--offline", "--format", "markdown", *args, env=env(http))
    assert (result.exit_code, result.stderr) == (0, "")
    assert result.stdout == GOLDEN_MD
    assert http.log == []


GOLDEN_JSON_STUDY = {
    "nct": "NCT01000002",
    "title": "Trabectedin after doxorubicin",
    "phase": ["PHASE2"],
    "status": "RECRUITING",
    "conditions": ["Leiomyosarcoma", "Soft Tissue Sarcoma"],
    "interventions": ["Trabectedin"],
    "sponsor": "Sarcoma Group",
    "enrollment": 40,
    "start": "2025-03",
    "last_update": "2026-11-15",
    "countries": ["France"],
    "url": "https://clinicaltrials.gov/study/NCT01000002",
    "cited": True,
}


def test_golden_json(invoke: Invoke, http: HTTPServer, tmp_path: Path, args: list[str]) -> None:
    cache_pages(http, tmp_path, ctgov.Search(terms="trabectedin OR eribulin"))
    result = invoke("trials", "later-line", "--offline", "--format", "json", *args, env=env(http))
    assert (result.exit_code, result.stderr) == (0, "")
    data = json.loads(result.stdout)
    assert data == {
        "schema_version": 1,
        "query": {
            "topic": "later-line",
            "condition": "leiomyosarcoma",
            "terms": "trabectedin OR eribulin",
            "intervention": None,
            "status": ["RECRUITING", "NOT_YET_RECRUITING"],
            "phase": None,
            "country": None,
            "limit": 50,
        },
        "fetched_at": "2026-12-01T08:00:00Z",
        "from_cache": True,
        "more": False,
        "complete": True,
        "studies": data["studies"],
        "disclaimer": "Registry listing from ClinicalTrials.gov, fetched 2026-12-01 08:00 UTC (from the cache); "
        "not medical advice: discuss any trial with the treating team.",
    }
    assert [s["nct"] for s in data["studies"]] == ["NCT01000002", "NCT01000001", "NCT01000003"]
    assert data["studies"][0] == GOLDEN_JSON_STUDY
    assert data["studies"][2] | {"title": "", "last_update": ""} == {
        "nct": "NCT01000003",
        "title": "",
        "phase": [],
        "status": "NOT_YET_RECRUITING",
        "conditions": ["Leiomyosarcoma", "Soft Tissue Sarcoma"],
        "interventions": [],
        "sponsor": None,
        "enrollment": None,
        "start": "2025-03",
        "last_update": "",
        "countries": [],
        "url": "https://clinicaltrials.gov/study/NCT01000003",
        "cited": False,
    }


def test_online_pages_are_followed_and_filters_passed_through(
    invoke: Invoke, http: HTTPServer, args: list[str]
) -> None:
    pages = {None: page(STUDIES[:2], "tok-2"), "tok-2": page(STUDIES[2:])}
    http.expect_request(PATH).respond_with_handler(paged(pages))
    result = invoke(
        "trials",
        "after first line treatments",
        "--status",
        "all",
        "--intervention",
        " eribulin  mesylate ",
        "--limit",
        "10",
        "--format",
        "json",
        *args,
        env=env(http),
    )
    assert result.exit_code == 0, result.stderr
    assert result.stderr == "Answering: What treatments are used after first-line therapy? (later-line)\n"
    assert [r.args.get("pageToken") for r, _ in http.log] == [None, "tok-2"]
    first = dict(http.log[0][0].args)
    assert first == {
        "format": "json",
        "query.cond": "leiomyosarcoma",
        "query.term": "trabectedin OR eribulin",
        "query.intr": "eribulin mesylate",
        "sort": "LastUpdatePostDate:desc",
        "pageSize": "10",
    }
    data = json.loads(result.stdout)
    assert len(data["studies"]) == 3 and data["from_cache"] is False


def test_a_fresh_cached_page_is_used_online_and_said(invoke: Invoke, http: HTTPServer, args: list[str]) -> None:
    http.expect_request(PATH).respond_with_json(page(STUDIES))
    first = invoke("trials", "later-line", "--format", "json", *args, env=env(http))
    again = invoke("trials", "later-line", "--format", "json", *args, env=env(http))
    assert (first.exit_code, again.exit_code) == (0, 0)
    assert len(http.log) == 1  # the second run asked nobody
    assert json.loads(first.stdout)["from_cache"] is False
    data = json.loads(again.stdout)
    assert data["from_cache"] is True and data["fetched_at"] == json.loads(first.stdout)["fetched_at"]
    assert "(from the cache)" in data["disclaimer"]
    refreshed = invoke("trials", "later-line", "--refresh", "--format", "json", *args, env=env(http))
    assert refreshed.exit_code == 0 and len(http.log) == 2


def test_phase_and_country_filter_locally(invoke: Invoke, http: HTTPServer, args: list[str]) -> None:
    http.expect_request(PATH).respond_with_json(page(STUDIES))
    result = invoke("trials", "--phase", "1", "--country", "canada", "--format", "json", *args, env=env(http))
    assert result.exit_code == 0, result.stderr
    data = json.loads(result.stdout)
    assert [s["nct"] for s in data["studies"]] == ["NCT01000001"]
    assert data["query"]["phase"] == "PHASE1" and data["query"]["terms"] is None
    assert "query.term" not in http.log[0][0].args  # no TOPIC: every leiomyosarcoma trial


def test_none_found_is_said_plainly_with_exit_0(invoke: Invoke, http: HTTPServer, args: list[str]) -> None:
    http.expect_request(PATH).respond_with_json(page([]))
    result = invoke("trials", "later-line", "--format", "markdown", *args, env=env(http))
    assert result.exit_code == 0, result.stderr
    assert "No trial on ClinicalTrials.gov matches this search.\n" in result.stdout
    assert "discuss any trial with the treating team" in result.stdout


def test_topic_without_registry_words_is_noted(invoke: Invoke, http: HTTPServer, args: list[str]) -> None:
    http.expect_request(PATH).respond_with_json(page([]))
    result = invoke("trials", "detection", "--format", "json", *args, env=env(http))
    assert result.exit_code == 0
    assert result.stderr == (
        "Note: topic detection has no registry words (`trials:`); showing all leiomyosarcoma trials.\n"
    )
    assert "query.term" not in http.log[0][0].args


def test_wrong_shape_exits_4_with_one_line(invoke: Invoke, http: HTTPServer, args: list[str]) -> None:
    http.expect_request(PATH).respond_with_json(page([study("NCT01000001", designModule={"phases": "PHASE2"})]))
    result = invoke("trials", "later-line", *args, env=env(http))
    assert (result.exit_code, result.stdout) == (ExitCode.SERVICE, "")
    assert result.stderr == (
        "Error: malformed reply from ClinicalTrials.gov (page 1): "
        "studies[0].protocolSection.designModule.phases is not a list\n"
        "Hint: check the network (or LMS_CTGOV_URL); --offline answers from the cache\n"
    )


def test_429_then_success(invoke: Invoke, http: HTTPServer, args: list[str]) -> None:
    http.expect_oneshot_request(PATH).respond_with_data("slow down", status=429, headers={"Retry-After": "0"})
    http.expect_request(PATH).respond_with_json(page(STUDIES[:1]))
    result = invoke("trials", "later-line", "--format", "json", *args, env=env(http))
    assert result.exit_code == 0, result.stderr
    assert [resp.status_code for _, resp in http.log] == [429, 200]
    assert [s["nct"] for s in json.loads(result.stdout)["studies"]] == ["NCT01000001"]


def test_offline_without_a_cache_exits_4(invoke: Invoke, http: HTTPServer, args: list[str]) -> None:
    result = invoke("trials", "later-line", "--offline", *args, env=env(http))
    assert (result.exit_code, result.stdout) == (ExitCode.SERVICE, "")
    assert result.stderr == (
        "Error: offline, and nothing cached from ClinicalTrials.gov for this search\nHint: run without --offline\n"
    )
    assert http.log == []


def test_unreachable_registry_exits_4(invoke: Invoke, args: list[str]) -> None:
    result = invoke("trials", "later-line", *args, env={"LMS_CTGOV_URL": "http://127.0.0.1:9/"})
    assert (result.exit_code, result.stdout) == (ExitCode.SERVICE, "")
    assert result.stderr.startswith(
        "Error: ClinicalTrials.gov could not be reached at http://127.0.0.1:9/api/v2/studies"
    )


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        (["--phase", "7"], "Error: --phase '7' is not a trial phase\n"),
        (["--limit", "501"], "Invalid value for '--limit'"),
        (["--status", "closed"], "Invalid value for '--status'"),
    ],
)
def test_usage_errors_exit_2(invoke: Invoke, args: list[str], extra: list[str], message: str) -> None:
    result = invoke("trials", "later-line", *extra, *args, env={"LMS_CTGOV_URL": "http://127.0.0.1:9/"})
    assert result.exit_code == ExitCode.USAGE
    assert message in result.stderr


def test_bad_url_exits_2(invoke: Invoke, args: list[str]) -> None:
    result = invoke("trials", *args, env={"LMS_CTGOV_URL": "ftp://example.org"})
    assert result.exit_code == ExitCode.USAGE
    assert result.stderr == "Error: LMS_CTGOV_URL must be an http:// or https:// URL, not 'ftp://example.org'\n"


def test_rich_table_escapes_registry_text(invoke: Invoke, http: HTTPServer, args: list[str]) -> None:
    http.expect_request(PATH).respond_with_json(page(STUDIES))
    result = invoke("trials", "later-line", "--format", "rich", *args, env=env(http))
    assert result.exit_code == 0, result.stderr
    out = result.stdout
    assert "NCT01000002 *" in out and "[bold]gemcitabine[/]" in out  # markup shown as text, not applied
    assert "* cited by the evidence" in out
    assert "discuss any trial with the treating team" in " ".join(out.split())


# --- ask --trials ----------------------------------------------------------------------------------


ASK_MD_TAIL = """\
## Open trials

Trials on ClinicalTrials.gov for this question (recruiting, not yet recruiting), newest update first; \
fetched 2026-12-01 08:00 UTC from the cache. Discuss any trial with the treating team.

- [NCT01000002](https://clinicaltrials.gov/study/NCT01000002): Trabectedin after doxorubicin. \
Phase 2; recruiting; 40 participants; start 2025-03; updated 2026-11-15. Cited by this answer.
- [NCT01000001](https://clinicaltrials.gov/study/NCT01000001): Eribulin and \\[bold\\]gemcitabine\\[/\\] in LMS. \
Phase 1/2; recruiting; 40 participants; start 2025-03; updated 2026-10-02.
- [NCT01000003](https://clinicaltrials.gov/study/NCT01000003): A registry study. \
n/a; not yet recruiting; start 2025-03; updated 2026-09-01.

---

*Summary of published evidence, not medical advice.*
"""


def test_ask_trials_markdown_puts_open_trials_before_the_closing_line(
    invoke: Invoke, http: HTTPServer, tmp_path: Path, args: list[str]
) -> None:
    cache_pages(http, tmp_path, ctgov.Search(terms="trabectedin OR eribulin"))
    plain = invoke("ask", "later-line", "--format", "markdown", *args)
    result = invoke("ask", "later-line", "--trials", "--offline", "--format", "markdown", *args, env=env(http))
    assert (result.exit_code, result.stderr) == (0, "")
    head, closing, metadata = plain.stdout.rpartition("---\n\n*Summary of published evidence, not medical advice.*\n")
    assert closing and metadata.startswith("\n---\ntitle: ")  # the pandoc metadata stays last
    assert result.stdout == head + ASK_MD_TAIL + metadata


def test_ask_trials_json_has_a_trials_key_only_when_asked(
    invoke: Invoke, http: HTTPServer, tmp_path: Path, args: list[str]
) -> None:
    cache_pages(http, tmp_path, ctgov.Search(terms="trabectedin OR eribulin"))
    plain = json.loads(invoke("ask", "later-line", "--format", "json", *args).stdout)
    assert "trials" not in plain
    result = invoke("ask", "later-line", "--trials", "--offline", "--format", "json", *args, env=env(http))
    assert result.exit_code == 0, result.stderr
    data: dict[str, Any] = json.loads(result.stdout)
    trials = data.pop("trials")
    assert data == plain
    assert trials["studies"][0] == GOLDEN_JSON_STUDY and trials["fetched_at"] == "2026-12-01T08:00:00Z"


def test_ask_trials_rich_adds_the_section(invoke: Invoke, http: HTTPServer, tmp_path: Path, args: list[str]) -> None:
    cache_pages(http, tmp_path, ctgov.Search(terms="trabectedin OR eribulin"))
    result = invoke("ask", "later-line", "--trials", "--offline", "--format", "rich", *args, env=env(http))
    assert result.exit_code == 0, result.stderr
    out = result.stdout
    assert out.index("Open trials") < out.index("Summary of published evidence, not medical advice.")
    assert "fetched 2026-12-01 08:00 UTC from the cache" in out and "NCT01000002 *" in out


def test_ask_trials_failure_exits_4_and_offline_needs_trials(invoke: Invoke, args: list[str]) -> None:
    down = invoke("ask", "later-line", "--trials", *args, env={"LMS_CTGOV_URL": "http://127.0.0.1:9/"})
    assert (down.exit_code, down.stdout) == (ExitCode.SERVICE, "")
    assert down.stderr.startswith("Error: ClinicalTrials.gov could not be reached")
    alone = invoke("ask", "later-line", "--offline", *args)
    assert alone.exit_code == ExitCode.USAGE
    assert alone.stderr == "Error: --offline applies to --trials\nHint: add --trials, or drop --offline\n"


def test_ask_trials_imports_httpx_only_with_the_flag(tmp_path: Path, args: list[str]) -> None:
    code = (
        "import sys\n"
        "from lms_cli.cli.app import app\n"
        "try:\n"
        "    app(sys.argv[1:])\n"
        "except SystemExit:\n"
        "    pass\n"
        "sys.stderr.write('HTTPX' if 'httpx' in sys.modules else 'none')\n"
    )
    base = [sys.executable, "-c", code, "ask", "later-line", "--format", "markdown", *args]
    envs = {"LMS_CACHE_DIR": str(tmp_path / "c"), "PATH": "", "LMS_CTGOV_URL": "http://127.0.0.1:9/"}
    without = subprocess.run(base, capture_output=True, text=True, env=envs, check=False)
    assert without.stderr.endswith("none"), without.stderr
    with_flag = subprocess.run([*base, "--trials"], capture_output=True, text=True, env=envs, check=False)
    assert with_flag.stderr.endswith("HTTPX"), with_flag.stderr
