"""The command-line interface: exit codes, stdout and stderr, formats, environment."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import jsonschema
import pytest
import typer
import yaml

from lms_cli import __version__
from lms_cli.cli.common import boundary
from lms_cli.errors import ExitCode, UsageError
from tests.conftest import BASE, DATA, Invoke, write


def test_ask_pipes_markdown_by_default(invoke: Invoke, fixture_args: list[str]) -> None:
    result = invoke("ask", "first-line", *fixture_args)
    assert result.exit_code == 0
    assert result.stderr == ""
    assert result.stdout == (DATA / "golden" / "first-line.md").read_text(encoding="utf-8")


def test_output_is_deterministic(invoke: Invoke, fixture_args: list[str]) -> None:
    runs = {invoke("ask", "first-line", "-f", "json", *fixture_args).stdout for _ in range(3)}
    assert len(runs) == 1


def test_rich_format_shows_badges(invoke: Invoke, fixture_args: list[str]) -> None:
    result = invoke("ask", "first-line", "--format", "rich", *fixture_args)
    assert result.exit_code == 0
    assert "• rct Adding trabectedin to doxorubicin" in result.stdout
    assert "\x1b[" not in result.stdout  # NO_COLOR is set by conftest


def test_json_with_long_claims_is_never_wrapped(invoke: Invoke, tmp_path: Path) -> None:
    long = "word " * 400 + "end."
    write(
        tmp_path / "e.yaml",
        (BASE / "references.yaml").read_text()
        + (
            "topics:\n  - {slug: t, title: T, question: Q?}\n"
            f"claims:\n  - id: c\n    topics: [t]\n    section: answer\n    statement: {long}\n"
            "    cites: [judson2014]\n"
        ),
    )
    result = invoke("ask", "t", "--format", "json", "--no-bundled", "-e", str(tmp_path))
    assert result.exit_code == 0
    data = json.loads(result.stdout)
    assert data["sections"][0]["claims"][0]["statement"] == long.strip()


def test_unknown_topic_is_a_usage_error_with_suggestions(invoke: Invoke, fixture_args: list[str]) -> None:
    result = invoke("ask", "zebra crossing", *fixture_args)
    assert result.exit_code == ExitCode.USAGE
    assert result.stdout == ""
    assert result.stderr == (
        "Error: not covered: the base has nothing on: zebra, crossing\n"
        "Hint: run `lms topics` to see what it covers; to find any passing mention, try `lms search zebra crossing`\n"
    )
    near = invoke("ask", "recurence of metastatic lms", *fixture_args)
    assert near.exit_code == 0
    assert near.stderr == "Answering: How often does LMS recur, and where? (recurrence)\n"


def test_plain_words_choose_a_topic(invoke: Invoke) -> None:
    result = invoke("ask", "can leiomyosarcoma spread to muscle?", "--format", "json")
    assert result.exit_code == 0
    assert result.stderr == "Answering: Can leiomyosarcoma spread to skeletal muscle? (spread-to-muscle)\n"
    assert json.loads(result.stdout)["topic"]["slug"] == "spread-to-muscle"


def test_close_topics_are_listed_or_best_answers(invoke: Invoke) -> None:
    result = invoke("ask", "chemotherapy")
    assert result.exit_code == ExitCode.USAGE
    assert result.stdout == ""
    assert result.stderr.splitlines()[:4] == [
        "Error: 'chemotherapy' matches several topics:",
        "  adjuvant-therapy   Does radiotherapy or chemotherapy after complete resection of localised LMS (uterine or"
        " other) improve outcome?",
        "  first-line         What is first-line systemic therapy for advanced or metastatic LMS?",
        "  later-line         What works after first-line therapy for advanced LMS?",
    ]
    best = invoke("ask", "chemotherapy", "--best", "--format", "json")
    assert best.exit_code == 0
    assert json.loads(best.stdout)["topic"]["slug"] == "adjuvant-therapy"


def test_completion_offers_topic_slugs() -> None:
    env = {"_LMS_COMPLETE": "complete_bash", "COMP_WORDS": "lms ask spread", "COMP_CWORD": "2"}
    lms = str(Path(sys.executable).with_name("lms"))  # the console script: completion keys on its name
    proc = subprocess.run([lms], capture_output=True, text=True, check=False, env={**os.environ, **env})
    assert set(proc.stdout.split()) == {"spread-to-muscle", "spread-routes"}


def test_filters_that_leave_nothing_exit_1(invoke: Invoke, fixture_args: list[str]) -> None:
    result = invoke("ask", "recurrence", "--min-rank", "rct", *fixture_args)
    assert result.exit_code == ExitCode.NO_RESULTS
    assert result.stdout == ""
    assert result.stderr.startswith("Error: no claims left for 'recurrence': --min-rank rct removed the last 2 claims")


def test_filters_apply(invoke: Invoke, fixture_args: list[str]) -> None:
    result = invoke("ask", "first-line", "--since", "2022", "--population", "uterine", "-f", "json", *fixture_args)
    data = json.loads(result.stdout)
    assert [r["id"] for r in data["references"]] == ["pautier2022"]
    assert data["query"] == {
        "topic": "first-line",
        "asked": "first-line",
        "min_rank": None,
        "since": 2022,
        "population": "uterine",
    }
    assert (
        "- Filters: since 2022; population uterine"
        in invoke("ask", "first-line", "--since", "2022", "--population", "uterine", *fixture_args).stdout
    )


def test_invalid_evidence_exits_3_with_positions(invoke: Invoke, tmp_path: Path) -> None:
    write(tmp_path / "bad.yaml", "claims:\n  - id: c\n    topics: [x]\n")
    result = invoke("ask", "x", "--no-bundled", "-e", str(tmp_path))
    assert result.exit_code == ExitCode.INVALID_EVIDENCE
    assert result.stdout == ""
    assert f"{tmp_path}/bad.yaml:2:5: claim is missing required field 'cites'" in result.stderr
    assert f"{tmp_path}/bad.yaml:3:14: unknown topic 'x'" in result.stderr
    assert "Traceback" not in result.stderr


def test_debug_shows_the_traceback(invoke: Invoke, fixture_args: list[str]) -> None:
    result = invoke("ask", "nope", *fixture_args, "--debug")
    assert result.exit_code == ExitCode.USAGE
    assert "Traceback" in result.stderr
    assert "Error: not covered: the base has nothing on: nope" in result.stderr


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["ask", "x", "--min-rank", "best"], "Invalid value for '--min-rank'"),
        (["ask", "x", "--since", "nineteen"], "Invalid value for '--since'"),
        (["ask", "x", "--format", "pdf"], "Invalid value for '--format'"),
        (["ask", "x", "--colour"], "No such option: --colour"),
        (["ask"], "Missing argument 'TOPIC'"),
    ],
)
def test_bad_options_are_usage_errors(invoke: Invoke, args: list[str], message: str) -> None:
    result = invoke(*args)
    assert result.exit_code == ExitCode.USAGE
    assert message in result.stderr
    assert "Traceback" not in result.stderr


def test_no_bundled_needs_a_directory(invoke: Invoke) -> None:
    result = invoke("ask", "x", "--no-bundled")
    assert result.exit_code == ExitCode.USAGE
    assert result.stderr.startswith("Error: --no-bundled needs at least one --evidence PATH")


def test_lms_evidence_adds_directories(invoke: Invoke, tmp_path: Path) -> None:
    other = write(tmp_path / "extra" / "t.yaml", "topics:\n  - {slug: extra-topic, title: E, question: E?}\n").parent
    result = invoke("topics", "--no-bundled", "-f", "json", env={"LMS_EVIDENCE": f"{BASE}:{other}"})
    assert result.exit_code == 0
    assert [t["slug"] for t in json.loads(result.stdout)["topics"]] == ["first-line", "recurrence", "extra-topic"]


def test_topics_lists_counts(invoke: Invoke, fixture_args: list[str]) -> None:
    result = invoke("topics", *fixture_args)
    assert result.stdout.splitlines() == [
        "| Topic | Question | Claims | References |",
        "|---|---|---:|---:|",
        "| first-line | What is first-line therapy for metastatic LMS? | 5 | 4 |",
        "| recurrence | How often does LMS recur, and where? | 2 | 2 |",
    ]


def test_show_reference_prints_findings_and_citers(invoke: Invoke, fixture_args: list[str]) -> None:
    result = invoke("show", "pautier2022", *fixture_args)
    assert result.exit_code == 0
    out = result.stdout
    assert "- Rank: rct" in out
    assert "## Findings\n\n- Median PFS 12.2 vs 6.2 months; adjusted HR 0.41." in out
    assert "**fl-kp-pfs** (key-point; first-line)" in out
    assert "**fl-uterine**" in out


def test_show_claim_and_topic(invoke: Invoke, fixture_args: list[str]) -> None:
    claim = invoke("show", "rec-liver", "-f", "json", *fixture_args)
    data = json.loads(claim.stdout)
    assert data["claim"]["topics"] == ["recurrence", "first-line"]
    assert [r["id"] for r in data["references"]] == ["mizoshiri2018", "gladdy2013"]
    topic = invoke("show", "recurrence", *fixture_args)
    assert "**rec-answer** (answer; recurrence)" in topic.stdout


def test_show_unknown_id(invoke: Invoke, fixture_args: list[str]) -> None:
    result = invoke("show", "judson2015", *fixture_args)
    assert result.exit_code == ExitCode.USAGE
    assert result.stderr == (
        "Error: no topic, reference or claim with id 'judson2015'\nHint: did you mean: judson2014?\n"
    )


def test_validate_paths(invoke: Invoke, tmp_path: Path) -> None:
    ok = invoke("validate", str(BASE))
    assert (ok.exit_code, ok.stdout) == (0, "OK: 2 topics, 4 references, 6 claims\n")
    write(tmp_path / "a.yaml", "topics:\n  - slug: Bad Slug\n")
    bad = invoke("validate", str(tmp_path))
    assert bad.exit_code == ExitCode.INVALID_EVIDENCE
    assert bad.stderr.splitlines() == [
        "Error: 3 problems in the evidence:",
        f"{tmp_path}/a.yaml:2:5: topic is missing required field 'question'",
        f"{tmp_path}/a.yaml:2:5: topic is missing required field 'title'",
        f"{tmp_path}/a.yaml:2:11: field 'slug' 'Bad Slug' is not a kebab-case slug",
    ]
    missing = invoke("validate", str(tmp_path / "nope"))
    assert missing.exit_code == ExitCode.USAGE


def test_validate_checks_the_bundled_base(invoke: Invoke) -> None:
    result = invoke("validate")
    assert result.exit_code == 0, result.stderr
    assert result.stdout.startswith("OK: ")


def test_schema_accepts_the_fixture_and_rejects_typos(invoke: Invoke) -> None:
    schema = json.loads(invoke("schema").stdout)
    jsonschema.Draft202012Validator.check_schema(schema)
    validator = jsonschema.Draft202012Validator(schema)
    for name in ("topics.yaml", "references.yaml"):
        validator.validate(yaml.safe_load((BASE / name).read_text()))
    with pytest.raises(jsonschema.ValidationError):
        validator.validate({"references": [{"id": "x", "design": "rtc"}]})


def test_version(invoke: Invoke) -> None:
    result = invoke("--version")
    assert (result.exit_code, result.stdout) == (0, f"lms {__version__}\n")


def test_help_explains_ranks(invoke: Invoke) -> None:
    result = invoke("--help")
    assert result.exit_code == 0
    assert "case-series     case series or case report (CEBM 4)" in result.stdout
    for command in ("ask", "topics", "show", "validate", "schema"):
        assert command in result.stdout


def test_boundary_maps_interrupts_to_130() -> None:
    with pytest.raises(typer.Exit) as info, boundary(debug=False):
        raise KeyboardInterrupt
    assert info.value.exit_code == ExitCode.INTERRUPTED
    with pytest.raises(typer.Exit) as info, boundary(debug=False):
        raise UsageError("x")
    assert info.value.exit_code == ExitCode.USAGE


def run_lms(*args: str, stdin: int | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "lms_cli", *args], capture_output=True, text=True, check=False)


def test_closed_pipe_ends_quietly() -> None:
    cmd = f"{sys.executable} -m lms_cli ask first-line --no-bundled -e {BASE} | head -1"
    proc = subprocess.run(["bash", "-o", "pipefail", "-c", cmd], capture_output=True, text=True, check=False)
    assert proc.stdout == "# What is first-line therapy for metastatic LMS?\n"
    assert proc.stderr == ""


def test_ask_imports_neither_httpx_nor_rich_when_piped() -> None:
    code = (
        "import sys\n"
        "from lms_cli.cli.app import app\n"
        f"try:\n    app(['ask', 'first-line', '--no-bundled', '-e', {str(BASE)!r}, '-f', 'markdown'])\n"
        "except SystemExit:\n    pass\n"
        "sys.stderr.write(' '.join(m for m in ('httpx', 'rich') if m in sys.modules))\n"
    )
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=False)
    assert proc.stdout.startswith("# What is first-line therapy")
    assert proc.stderr == ""


def test_search_groups_matches_by_topic(invoke: Invoke) -> None:
    result = invoke("search", "eribulin", "--format", "json")
    assert result.exit_code == 0, result.stderr
    data = json.loads(result.stdout)
    assert data["query"]["search"] == "eribulin"
    assert data["query"]["topic"] is None
    assert [s["topic"] for s in data["sections"]] == ["later-line"]
    statements = [c["statement"] for s in data["sections"] for c in s["claims"]]
    assert statements and all("ribulin" in s for s in statements)
    numbers = {n for s in data["sections"] for c in s["claims"] for n in c["citations"]}
    assert numbers == {r["number"] for r in data["references"]}  # the list is complete, nothing extra


def test_search_markdown_and_misses(invoke: Invoke, fixture_args: list[str]) -> None:
    result = invoke("search", "trabectedin", *fixture_args)
    assert result.exit_code == 0
    assert result.stdout.startswith("# Claims matching: trabectedin\n\n## First-line therapy (first-line)\n\n- Adding")
    none = invoke("search", "zebra", *fixture_args)
    assert none.exit_code == ExitCode.USAGE  # as `ask` for what the base does not cover
    assert none.stderr.startswith("Error: not covered: no claim matches 'zebra'")
    filtered = invoke("search", "liver", "--min-rank", "rct", *fixture_args)
    assert filtered.exit_code == ExitCode.NO_RESULTS
    assert filtered.stderr.startswith("Error: no claims left for 'liver': --min-rank rct removed the last 1 claim\n")


def test_ask_and_search_write_an_html_page(invoke: Invoke, fixture_args: list[str]) -> None:
    page = invoke("ask", "first-line", "--format", "html", *fixture_args)
    assert page.exit_code == 0, page.stderr
    assert page.stdout.startswith("<!DOCTYPE html>") and page.stdout.rstrip().endswith("</html>")
    assert 'http-equiv="Content-Security-Policy"' in page.stdout
    found = invoke("search", "trabectedin", "--format", "html", *fixture_args)
    assert found.exit_code == 0 and found.stdout.startswith("<!DOCTYPE html>")
    plain = invoke("topics", "--format", "html", *fixture_args)
    assert plain.exit_code == ExitCode.USAGE and "'html' is not one of" in plain.stderr


@pytest.mark.parametrize(
    ("shell", "start"), [("bash", "_lms_completion()"), ("zsh", "#compdef lms"), ("fish", "complete")]
)
def test_completion_scripts_for_each_shell(invoke: Invoke, shell: str, start: str) -> None:
    result = invoke("completion", shell)
    assert result.exit_code == 0
    assert result.stdout.startswith(start) and "_LMS_COMPLETE" in result.stdout


def test_completion_offers_ids_for_show() -> None:
    env = {"_LMS_COMPLETE": "complete_bash", "COMP_WORDS": "lms show pautier20", "COMP_CWORD": "2"}
    lms = str(Path(sys.executable).with_name("lms"))
    proc = subprocess.run([lms], capture_output=True, text=True, check=False, env={**os.environ, **env})
    assert set(proc.stdout.split()) == {"pautier2012", "pautier2015", "pautier2020", "pautier2022", "pautier2024"}


def test_json_query_keeps_what_was_typed(invoke: Invoke) -> None:
    result = invoke("ask", "  can lms spread to muscle? ", "--format", "json")
    assert result.exit_code == 0, result.stderr
    query = json.loads(result.stdout)["query"]
    assert (query["topic"], query["asked"]) == ("spread-to-muscle", "can lms spread to muscle?")
    search = json.loads(invoke("search", "trabectedin", "--format", "json").stdout)["query"]
    assert search["topic"] is None and search["search"] == "trabectedin" and "asked" not in search
