"""`lms refs verify|fetch|add` end to end, against a real HTTP server on 127.0.0.1."""

from __future__ import annotations

import io
import json
import re
import socket
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from pytest_httpserver import HTTPServer

from lms_cli.cli.common import Env
from lms_cli.cli.refs import progress_bar
from lms_cli.errors import ExitCode
from tests.conftest import BASE, Invoke, write
from tests.services.test_client import crossref_json, crossref_list, esummary_handler, idconv_handler

MIXED = """\
references:
  - id: judson2014
    design: rct
    authors: [Judson I, et al.]
    title: "Doxorubicin alone for [bold]sarcoma[/]"
    journal: Lancet Oncol
    year: 2014
    pmid: "24618336"
  - id: doe2025
    design: review
    authors: [Doe JA, Roe R]
    title: "Loss of ATRX and DAXX in uterine leiomyosarcoma & its precursors: a synthetic record"
    journal: Test J Sarcoma
    year: 2025
    doi: 10.5555/lms.test.0001
    pmid: "39990001"
  - id: roe2019
    design: rct
    authors: [Roe R]
    title: "A trial that was withdrawn: a synthetic record"
    journal: Test J Sarcoma
    year: 2019
    pmid: "39990002"
  - id: ghost2020
    design: review
    authors: [Ghost G]
    title: A paper that does not exist
    journal: J Nowhere
    year: 2020
    pmid: "99999999"
  - id: hensley2015
    design: rct
    authors: [Hensley ML, Miller A, et al.]
    title: "Randomized phase III trial of gemcitabine plus docetaxel plus bevacizumab or placebo as
      first-line treatment for metastatic uterine leiomyosarcoma: an NRG Oncology/Gynecologic Oncology
      Group study"
    journal: J Clin Oncol
    year: 2015
    doi: 10.1200/JCO.2014.58.3781
"""


@pytest.fixture
def http(server: HTTPServer) -> Iterator[HTTPServer]:
    server.clear()
    server.expect_request("/esummary.fcgi").respond_with_handler(esummary_handler)
    server.expect_request("/works/10.1200/JCO.2014.58.3781").respond_with_json(crossref_json("hensley2015"))
    hensley = crossref_json("hensley2015")["message"]
    server.expect_request("/works").respond_with_handler(crossref_list({hensley["DOI"]: hensley}))
    server.expect_request("/idconv/").respond_with_json(
        {
            "status": "ok",
            "records": [
                {
                    "requested-id": "PMC3657306",
                    "pmcid": "PMC3657306",
                    "pmid": 23354568,
                    "doi": "10.1245/s10434-013-2876-y",
                }
            ],
        }
    )
    yield server
    server.clear()


def services(http: HTTPServer, email: str | None = "me@example.org") -> dict[str, str | None]:
    return {
        "LMS_EUTILS_URL": http.url_for("/"),
        "LMS_CROSSREF_URL": http.url_for("/"),
        "LMS_IDCONV_URL": http.url_for("/idconv/"),
        "LMS_EMAIL": email,
        "NCBI_API_KEY": None,
    }


@pytest.fixture
def mixed(tmp_path: Path) -> list[str]:
    return ["--no-bundled", "-e", str(write(tmp_path / "ev" / "refs.yaml", MIXED))]


# --- verify ---------------------------------------------------------------------------------


def test_verify_fixture_base_all_verified(invoke: Invoke, fixture_args: list[str], http: HTTPServer) -> None:
    result = invoke("refs", "verify", *fixture_args, env=services(http))
    assert result.exit_code == 0, result.stderr
    assert result.stderr == ""
    assert result.stdout.splitlines() == [
        "# Reference check",
        "",
        "| reference | status | details |",
        "|---|---|---|",
        "| judson2014 | verified | PMID 24618336 matches PubMed |",
        "| pautier2022 | verified | PMID 35835135 matches PubMed |",
        "| gladdy2013 | verified | PMID 23354568 matches PubMed |",
        "| mizoshiri2018 | verified | PMID 29718861 matches PubMed |",
        "",
        "4 references: 4 verified.",
    ]
    assert len(http.log) == 1  # four PMIDs, one ESummary request


def test_verify_without_email_warns_once(invoke: Invoke, fixture_args: list[str], http: HTTPServer) -> None:
    result = invoke("refs", "verify", *fixture_args, env=services(http, email=None))
    assert result.exit_code == 0
    assert result.stderr == (
        "Warning: LMS_EMAIL is not set; NCBI and Crossref ask for a contact address "
        "(export LMS_EMAIL=you@example.org).\n"
    )
    assert "email" not in http.log[0][0].args


def test_verify_json_reports_each_status(invoke: Invoke, mixed: list[str], http: HTTPServer) -> None:
    result = invoke("refs", "verify", "--format", "json", *mixed, env=services(http))
    assert result.exit_code == ExitCode.NO_RESULTS
    assert result.stderr == ""
    data = json.loads(result.stdout)
    assert data["schema_version"] == 1
    assert data["summary"] == {"verified": 2, "mismatch": 1, "not-found": 1, "retracted": 1, "unchecked": 0}
    statuses = {r["id"]: r["status"] for r in data["results"]}
    assert statuses == {
        "judson2014": "mismatch",
        "doe2025": "verified",
        "roe2019": "retracted",
        "ghost2020": "not-found",
        "hensley2015": "verified",
    }
    judson = data["results"][0]
    assert judson["mismatches"] == [
        {
            "field": "title",
            "ours": "Doxorubicin alone for [bold]sarcoma[/]",
            "theirs": "Doxorubicin alone versus intensified doxorubicin plus ifosfamide for first-line treatment of "
            "advanced or metastatic soft-tissue sarcoma: a randomised controlled phase 3 trial",
        }
    ]
    assert (judson["pmid"], judson["doi"]) == ("24618336", None)
    assert data["results"][3]["detail"] == "PubMed has no record for PMID 99999999"
    assert data["results"][4]["source"] == "Crossref"
    # PMC is asked whether the DOI-only reference has a PMID; it has none, so Crossref is asked
    assert [r.path for r, _ in http.log] == ["/idconv/", "/esummary.fcgi", "/works"]
    assert http.log[2][0].args["filter"] == "doi:10.1200/JCO.2014.58.3781"


NOW = {"Retry-After": "0"}  # retried at once: the real backoff would only slow the tests

DOI_ONLY = """\
references:
  - id: doe2025
    design: review
    authors: [Doe JA, Roe R]
    title: "Loss of ATRX and DAXX in uterine leiomyosarcoma & its precursors: a synthetic record"
    journal: Test J Sarcoma
    year: 2025
    doi: 10.5555/lms.test.0001
  - id: hensley2015
    design: rct
    authors: [Hensley ML, Miller A, et al.]
    title: "Randomized phase III trial of gemcitabine plus docetaxel plus bevacizumab or placebo as
      first-line treatment for metastatic uterine leiomyosarcoma: an NRG Oncology/Gynecologic Oncology
      Group study"
    journal: J Clin Oncol
    year: 2015
    doi: 10.1200/JCO.2014.58.3781
"""


def test_verify_checks_a_doi_that_pmc_knows_against_pubmed(invoke: Invoke, http: HTTPServer, tmp_path: Path) -> None:
    http.clear()
    http.expect_request("/idconv/").respond_with_handler(idconv_handler({"10.5555/lms.test.0001": "39990001"}))
    http.expect_request("/esummary.fcgi").respond_with_handler(esummary_handler)
    hensley = crossref_json("hensley2015")["message"]
    http.expect_request("/works").respond_with_handler(crossref_list({hensley["DOI"]: hensley}))
    base = ["--no-bundled", "-e", str(write(tmp_path / "ev" / "refs.yaml", DOI_ONLY))]
    result = invoke("refs", "verify", "-f", "markdown", *base, env=services(http))
    assert result.exit_code == 0, result.stderr
    assert result.stderr == ""
    assert result.stdout.splitlines()[4:6] == [
        "| doe2025 | verified | DOI 10.5555/lms.test.0001 (PMID 39990001 via PMC) matches PubMed |",
        "| hensley2015 | verified | DOI 10.1200/JCO.2014.58.3781 matches Crossref |",
    ]
    assert [r.path for r, _ in http.log] == ["/idconv/", "/esummary.fcgi", "/works"]
    assert http.log[1][0].args["id"] == "39990001"


def test_verify_a_converter_down_is_no_error_when_crossref_answers(
    invoke: Invoke, http: HTTPServer, tmp_path: Path
) -> None:
    http.clear()
    http.expect_request("/idconv/").respond_with_data("down", status=503, headers=NOW)
    hensley = crossref_json("hensley2015")["message"]
    doe: dict[str, Any] = {
        "DOI": "10.5555/lms.test.0001",
        "title": ["Loss of ATRX and DAXX in uterine leiomyosarcoma &amp; its precursors: a synthetic record"],
        "container-title": ["Test J Sarcoma"],
        "author": [{"family": "Doe", "given": "J A", "sequence": "first"}],
        "issued": {"date-parts": [[2025]]},
    }
    http.expect_request("/works").respond_with_handler(crossref_list({hensley["DOI"]: hensley, doe["DOI"]: doe}))
    base = ["--no-bundled", "-e", str(write(tmp_path / "ev" / "refs.yaml", DOI_ONLY))]
    result = invoke("refs", "verify", *base, env=services(http))
    assert (result.exit_code, result.stderr) == (0, "")
    assert "| doe2025 | verified | DOI 10.5555/lms.test.0001 matches Crossref |" in result.stdout


def test_verify_crossref_down_names_its_url_once(invoke: Invoke, http: HTTPServer, tmp_path: Path) -> None:
    http.clear()
    http.expect_request("/idconv/").respond_with_data("down", status=503, headers=NOW)
    http.expect_request("/works").respond_with_data("down", status=502, headers=NOW)
    base = ["--no-bundled", "-e", str(write(tmp_path / "ev" / "refs.yaml", DOI_ONLY))]
    result = invoke("refs", "verify", *base, env=services(http))
    assert result.exit_code == ExitCode.SERVICE
    assert result.stderr.splitlines()[0] == (
        f"Error: 2 references could not be checked: Crossref failed at {http.url_for('/works')}: "
        "HTTP 502 (after 4 attempts)"
    )
    assert "PMC ID converter" not in result.stderr  # it failed too, but Crossref was the one these needed


def test_verify_rich_never_reads_text_as_markup(invoke: Invoke, mixed: list[str], http: HTTPServer) -> None:
    result = invoke("refs", "verify", "--format", "rich", *mixed, env=services(http))
    assert result.exit_code == ExitCode.NO_RESULTS
    assert 'title: ours "Doxorubicin alone for [bold]sarcoma[/]"' in " ".join(result.stdout.split())
    assert "5 references: 2 verified, 1 mismatch, 1 not-found, 1 retracted." in result.stdout
    assert "\x1b[" not in result.stdout


def test_verify_offline_reads_the_cache_and_names_what_is_missing(
    invoke: Invoke, fixture_args: list[str], http: HTTPServer, tmp_path: Path
) -> None:
    offline = invoke("refs", "verify", "--offline", *fixture_args, env=services(http))
    assert offline.exit_code == ExitCode.NO_RESULTS
    assert offline.stderr == (
        "Warning: offline, and nothing cached for 4 references: judson2014, pautier2022, "
        "gladdy2013, mizoshiri2018; run without --offline to check them.\n"
    )
    assert "| judson2014 | unchecked | offline and PMID 24618336 is not cached |" in offline.stdout
    assert http.log == []
    assert invoke("refs", "verify", *fixture_args, env=services(http)).exit_code == 0
    http.clear()  # the server now answers nothing: offline must not need it
    again = invoke("refs", "verify", "--offline", *fixture_args, env=services(http))
    assert (again.exit_code, again.stderr) == (0, "")
    assert http.log == []
    assert any((tmp_path / "cache" / "services" / "esummary").iterdir())


def test_verify_connection_refused_exits_4(invoke: Invoke, fixture_args: list[str]) -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    url = f"http://127.0.0.1:{port}/"
    result = invoke(
        "refs",
        "verify",
        *fixture_args,
        env={"LMS_EUTILS_URL": url, "LMS_CROSSREF_URL": url, "LMS_EMAIL": "me@example.org"},
    )
    assert result.exit_code == ExitCode.SERVICE
    lines = result.stderr.splitlines()
    assert re.fullmatch(
        rf"Error: 4 references could not be checked: PubMed could not be reached at "
        rf"{url}esummary.fcgi: .*\(after 2 attempts\)",
        lines[0],
    )
    assert lines[1].startswith("Hint: check the network")
    assert len(lines) == 2
    assert "| judson2014 | unchecked | PubMed could not be reached" in result.stdout


def test_verify_malformed_json_exits_4(invoke: Invoke, fixture_args: list[str], server: HTTPServer) -> None:
    server.clear()
    server.expect_request("/esummary.fcgi").respond_with_data("<html>proxy login</html>", content_type="text/html")
    result = invoke("refs", "verify", "-f", "json", *fixture_args, env=services(server))
    server.clear()
    assert result.exit_code == ExitCode.SERVICE
    assert result.stderr.startswith("Error: 4 references could not be checked: malformed reply from PubMed: not JSON")
    assert json.loads(result.stdout)["summary"]["unchecked"] == 4


@pytest.mark.parametrize("url", ["ftp://mirror", "http://", "https://[::1"])
def test_bad_service_url_is_a_usage_error(invoke: Invoke, fixture_args: list[str], url: str) -> None:
    result = invoke("refs", "verify", *fixture_args, env={"LMS_CROSSREF_URL": url})
    assert result.exit_code == ExitCode.USAGE
    assert result.stderr == f"Error: LMS_CROSSREF_URL must be an http:// or https:// URL, not {url!r}\n"


# --- fetch ----------------------------------------------------------------------------------


def test_fetch_prints_entries_with_free_ids(invoke: Invoke, fixture_args: list[str], http: HTTPServer) -> None:
    result = invoke("refs", "fetch", "35835135", "PMC3657306", *fixture_args, env=services(http))
    assert result.exit_code == 0, result.stderr
    assert result.stderr == (
        "Warning: the metadata does not tell the design of gladdy2013b: set it by hand (or pass --design RANK).\n"
    )
    lines = result.stdout.splitlines()
    assert lines[:4] == [
        "  - id: pautier2022b",  # pautier2022 is taken in the base
        "    design: rct  # guessed from the PubMed publication type 'Randomized Controlled Trial': check it",
        '    authors: ["Pautier P", "Italiano A", "Piperno-Neumann S", "Chevreau C", "Penel N", "Duffaud F"]',
        '    title: "Doxorubicin alone versus doxorubicin with trabectedin followed by trabectedin alone as '
        "first-line therapy for metastatic or unresectable leiomyosarcoma (LMS-04): a randomised, multicentre, "
        'open-label phase 3 trial"',
    ]
    assert '    journal: "Lancet Oncol"' in lines
    assert '    doi: "10.1016/S1470-2045(22)00380-1"' in lines
    assert "  - id: gladdy2013b" in lines  # the PMCID went through the ID converter to PubMed
    assert '    pmcid: "PMC3657306"' in lines


def test_fetch_doi_from_crossref_warns_about_design(invoke: Invoke, http: HTTPServer) -> None:
    result = invoke("refs", "fetch", "https://doi.org/10.1200/JCO.2014.58.3781", env=services(http))
    assert result.exit_code == 0
    assert result.stdout.splitlines()[:2] == [
        "  - id: hensley2015b",  # the bundled base has hensley2015
        '    design: ""  # set one rank: guideline, meta-analysis, rct, prospective, retrospective, case-series, '
        "review, expert-opinion",
    ]
    assert '    journal: "JCO"  # from Crossref: check it is the NLM abbreviation' in result.stdout
    assert result.stderr == (
        "Warning: the metadata does not tell the design of hensley2015b: set it by hand (or pass --design RANK).\n"
    )


def test_fetch_unknown_or_malformed_ids(invoke: Invoke, fixture_args: list[str], http: HTTPServer) -> None:
    unknown = invoke("refs", "fetch", "99999999", *fixture_args, env=services(http))
    assert (unknown.exit_code, unknown.stdout) == (ExitCode.USAGE, "")
    assert unknown.stderr == "Error: no record for PMID 99999999 (PubMed)\nHint: check the identifier\n"
    bad = invoke("refs", "fetch", "pautier", *fixture_args, env=services(http))
    assert bad.exit_code == ExitCode.USAGE
    assert bad.stderr.startswith("Error: 'pautier' is not a PMID, DOI or PMCID\n")


def test_fetch_offline_without_cache_exits_4(invoke: Invoke, fixture_args: list[str], http: HTTPServer) -> None:
    result = invoke("refs", "fetch", "--offline", "35835135", *fixture_args, env=services(http))
    assert result.exit_code == ExitCode.SERVICE
    assert result.stderr == "Error: offline, and nothing cached for PMID 35835135\nHint: run without --offline\n"


# --- add ------------------------------------------------------------------------------------


def test_add_appends_and_refuses_a_second_time(
    invoke: Invoke, fixture_args: list[str], http: HTTPServer, tmp_path: Path
) -> None:
    target = write(tmp_path / "mine.yaml", "# my additions\ntopics:\n  - {slug: extra, title: E, question: E?}\n")
    first = invoke("refs", "add", "39990001", "--to", str(target), *fixture_args, env=services(http))
    assert first.exit_code == 0, first.stderr
    assert first.stdout == f"Added doe2025 (PMID 39990001) to {target}\n"
    text = target.read_text()
    assert text.startswith(
        "# my additions\ntopics:\n  - {slug: extra, title: E, question: E?}\n\nreferences:\n"
        "  - id: doe2025\n    design: review  # guessed"
    )
    assert '"Loss of ATRX and DAXX in uterine leiomyosarcoma & its precursors: a synthetic record"' in text
    valid = invoke("validate", *fixture_args, "-e", str(target))
    assert valid.exit_code == 0 and valid.stdout.startswith("OK: 3 topics, 5 references")
    again = invoke("refs", "add", "39990001", "--to", str(target), *fixture_args, env=services(http))
    assert again.exit_code == ExitCode.INVALID_EVIDENCE
    assert f"{target}:6:1: reference 'doe2025' already has PMID 39990001; not adding 'doe2025b'" in again.stderr
    assert "Hint: nothing was written" in again.stderr
    assert target.read_text() == text


def test_add_refuses_papers_and_ids_already_in_the_base(
    invoke: Invoke, fixture_args: list[str], http: HTTPServer, tmp_path: Path
) -> None:
    target = tmp_path / "new.yaml"
    same_paper = invoke("refs", "add", "PMC3657306", "--to", str(target), *fixture_args, env=services(http))
    assert same_paper.exit_code == ExitCode.INVALID_EVIDENCE
    assert "reference 'gladdy2013' already has PMID 23354568" in same_paper.stderr
    same_id = invoke(
        "refs", "add", "39990001", "--id", "gladdy2013", "--to", str(target), *fixture_args, env=services(http)
    )
    assert same_id.exit_code == ExitCode.INVALID_EVIDENCE
    assert "reference 'gladdy2013' already has id gladdy2013" in same_id.stderr
    assert not target.exists()


def test_add_with_design_and_id(invoke: Invoke, http: HTTPServer, tmp_path: Path) -> None:
    target = tmp_path / "new.yaml"
    no_design = invoke(
        "refs",
        "add",
        "10.1200/JCO.2014.58.3781",
        "--to",
        str(target),
        "--no-bundled",
        "-e",
        str(BASE),
        env=services(http),
    )
    assert no_design.exit_code == ExitCode.USAGE
    assert no_design.stderr == (
        "Error: the design of hensley2015 cannot be told from its metadata\nHint: give it with --design RANK\n"
    )
    ok = invoke(
        "refs",
        "add",
        "10.1200/JCO.2014.58.3781",
        "--design",
        "rct",
        "--id",
        "gog0250",
        "--to",
        str(target),
        "--no-bundled",
        "-e",
        str(BASE),
        env=services(http),
    )
    assert ok.exit_code == 0, ok.stderr
    assert target.read_text().startswith("references:\n  - id: gog0250\n    design: rct\n")
    two = invoke("refs", "add", "1", "2", "--id", "x", "--to", str(target), env=services(http))
    assert two.exit_code == ExitCode.USAGE
    assert two.stderr == "Error: --id names one reference: give exactly one ID with it\n"


# --- progress -------------------------------------------------------------------------------


class Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_progress_bar_only_on_a_terminal_with_enough_references() -> None:
    tty = Terminal()
    with progress_bar(Env(io.StringIO(), tty, {}), 10, "Checking references") as advance:
        assert advance is not None
        advance(10)
    assert "Checking references" in tty.getvalue()
    quiet = Terminal()
    with progress_bar(Env(io.StringIO(), quiet, {}), 5, "Checking references") as advance:
        assert advance is None
    piped = io.StringIO()
    with progress_bar(Env(io.StringIO(), piped, {}), 100, "Checking references") as advance:
        assert advance is None
    assert quiet.getvalue() == piped.getvalue() == ""


def test_refs_help_lists_the_commands(invoke: Invoke) -> None:
    result = invoke("refs", "--help")
    assert result.exit_code == 0
    assert re.findall(r"^  (verify|fetch|add) ", result.stdout, flags=re.M) == ["verify", "fetch", "add"]
