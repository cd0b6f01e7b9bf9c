"""`lms report`, `lms cite` and `ask --citations`: exit codes, output, atomic files, real pandoc runs."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from lms_cli.errors import ExitCode
from tests.conftest import DATA, Invoke, write

SPEC = DATA / "report.yaml"
GOLDEN = DATA / "golden"
ROOT = Path(__file__).parent.parent.parent


def golden(name: str) -> str:
    return (GOLDEN / name).read_text(encoding="utf-8")


def leftovers(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir() if p.name.startswith("."))


# --- lms report ---------------------------------------------------------------------------------


def test_report_golden_markdown_json_and_pandoc(invoke: Invoke, fixture_args: list[str]) -> None:
    for extra, name in (
        ([], "report.md"),
        (["--format", "json"], "report.json"),
        (["--citations", "pandoc"], "report-pandoc.md"),
    ):
        result = invoke("report", str(SPEC), *extra, *fixture_args)
        assert (result.exit_code, result.stderr) == (0, ""), result.stderr
        assert result.stdout == golden(name)


def test_report_output_file_is_written_whole(invoke: Invoke, fixture_args: list[str], tmp_path: Path) -> None:
    out = tmp_path / "report.md"
    result = invoke("report", str(SPEC), "-o", str(out), *fixture_args)
    assert (result.exit_code, result.stdout, result.stderr) == (0, "", "")
    assert out.read_text(encoding="utf-8") == golden("report.md")
    assert leftovers(tmp_path) == []
    umask = os.umask(0)
    os.umask(umask)
    assert out.stat().st_mode & 0o777 == 0o666 & ~umask  # not the 0600 of a temporary file


def test_report_replaces_an_old_file_keeping_its_mode(invoke: Invoke, fixture_args: list[str], tmp_path: Path) -> None:
    out = write(tmp_path / "report.md", "old\n")
    out.chmod(0o640)
    assert invoke("report", str(SPEC), "-o", str(out), *fixture_args).exit_code == 0
    assert out.read_text(encoding="utf-8") == golden("report.md")
    assert out.stat().st_mode & 0o777 == 0o640


def test_failed_report_leaves_the_old_file_intact(invoke: Invoke, fixture_args: list[str], tmp_path: Path) -> None:
    out = write(tmp_path / "report.md", "old\n")
    bad = write(tmp_path / "spec.yaml", "title: T\nsections:\n  - topic: first-lines\n")
    result = invoke("report", str(bad), "-o", str(out), *fixture_args)
    assert result.exit_code == ExitCode.INVALID_EVIDENCE
    assert result.stdout == ""
    assert result.stderr == (
        "Error: 1 problem in the report spec:\n"
        f"{bad}:3:12: unknown topic 'first-lines' (did you mean 'first-line'?)\n"
        "Hint: run `lms topics` to list them\n"
    )
    assert out.read_text(encoding="utf-8") == "old\n"
    assert leftovers(tmp_path) == []


def test_unwritable_output_exits_5_and_leaves_nothing(invoke: Invoke, fixture_args: list[str], tmp_path: Path) -> None:
    missing = tmp_path / "no-such-folder" / "report.md"
    result = invoke("report", str(SPEC), "-o", str(missing), *fixture_args)
    assert result.exit_code == ExitCode.OUTPUT
    assert result.stdout == ""
    assert result.stderr == (
        f"Error: cannot write {missing}: No such file or directory\n"
        "Hint: check that the folder exists and is writable; any old file is unchanged\n"
    )
    assert not missing.parent.exists()


def test_a_failed_rename_removes_the_temporary_file(invoke: Invoke, fixture_args: list[str], tmp_path: Path) -> None:
    target = tmp_path / "taken"
    write(target / "keep.txt", "mine\n")  # a directory cannot be replaced by a file
    result = invoke("report", str(SPEC), "-o", str(target), *fixture_args)
    assert result.exit_code == ExitCode.OUTPUT
    assert result.stderr.startswith(f"Error: cannot write {target}: ")
    assert (target / "keep.txt").read_text(encoding="utf-8") == "mine\n"
    assert leftovers(tmp_path) == []


def test_report_date_from_source_date_epoch(invoke: Invoke, fixture_args: list[str], tmp_path: Path) -> None:
    spec = write(tmp_path / "s.yaml", "title: T\nsections:\n  - topic: recurrence\n")
    result = invoke("report", str(spec), *fixture_args, env={"SOURCE_DATE_EPOCH": "1767225600"})
    assert result.exit_code == 0
    assert "\n2026-01-01\n" in result.stdout  # 2026-01-01T00:00:00Z
    bad = invoke("report", str(spec), *fixture_args, env={"SOURCE_DATE_EPOCH": "yesterday"})
    assert bad.exit_code == ExitCode.USAGE
    assert bad.stderr == "Error: SOURCE_DATE_EPOCH must be whole seconds since 1970-01-01, not 'yesterday'\n"
    dated = invoke("report", str(SPEC), *fixture_args, env={"SOURCE_DATE_EPOCH": "1767225600"})
    assert dated.stdout == golden("report.md")  # the spec's date wins


def test_report_spec_problems_exit_3_with_positions(invoke: Invoke, fixture_args: list[str], tmp_path: Path) -> None:
    spec = write(tmp_path / "s.yaml", "title: T\nsection:\n  - topic: first-line\n")
    result = invoke("report", str(spec), *fixture_args)
    assert result.exit_code == ExitCode.INVALID_EVIDENCE
    assert result.stdout == ""
    assert result.stderr.splitlines() == [
        "Error: 2 problems in the report spec:",
        f"{spec}:1:1: the report spec is missing required field 'sections'",
        f"{spec}:2:1: unknown field 'section' in the report spec (did you mean 'sections'?)",
    ]


def test_report_usage_errors(invoke: Invoke, fixture_args: list[str], tmp_path: Path) -> None:
    missing = invoke("report", str(tmp_path / "nope.yaml"), *fixture_args)
    assert missing.exit_code == ExitCode.USAGE
    assert missing.stderr == f"Error: cannot read report spec {tmp_path / 'nope.yaml'}: No such file or directory\n"
    mixed = invoke("report", str(SPEC), "--format", "json", "--citations", "pandoc", *fixture_args)
    assert mixed.exit_code == ExitCode.USAGE
    assert mixed.stderr == "Error: --citations pandoc needs Markdown output, not --format json\n"


def test_report_empty_section_still_exits_0(invoke: Invoke, fixture_args: list[str], tmp_path: Path) -> None:
    spec = write(tmp_path / "s.yaml", "title: T\nsections:\n  - topic: recurrence\n    min_rank: guideline\n")
    result = invoke("report", str(spec), *fixture_args)
    assert result.exit_code == 0
    assert "*No claims left after the filters: min-rank guideline removed the last 2 claims.*" in result.stdout


def test_example_spec_runs_on_the_bundled_base(invoke: Invoke) -> None:
    result = invoke("report", str(ROOT / "examples" / "report.yaml"))
    assert result.exit_code == 0, result.stderr
    assert result.stdout.startswith("# Metastatic leiomyosarcoma: spread and treatment\n")
    assert "No claims" not in result.stdout  # every example section has something to show


# --- lms cite -----------------------------------------------------------------------------------


def test_cite_topic_in_citation_order(invoke: Invoke, fixture_args: list[str]) -> None:
    result = invoke("cite", "recurrence", *fixture_args)
    assert result.exit_code == 0
    assert result.stderr == ""
    assert result.stdout == (
        "1. Gladdy RA, Qin LX, Moraco N, Agaram NP, Brennan MF, Singer S. Predictors of Survival and Recurrence "
        "in Primary Leiomyosarcoma. Ann Surg Oncol. 2013;20(6):1851-1857. doi:10.1245/s10434-013-2876-y. "
        "PMID: 23354568. PMCID: PMC3657306.\n"
        "2. Mizoshiri N, Shirai T, Terauchi R, et al. Hepatic metastases from primary extremity "
        "leiomyosarcomas: Two case reports. Medicine (Baltimore). 2018;97(18):e0598. "
        "doi:10.1097/MD.0000000000010598. PMID: 29718861.\n"
    )


@pytest.mark.parametrize("fmt", ["vancouver", "ama", "bibtex", "ris", "csl-json"])
def test_cite_every_format_keys_by_pmid(invoke: Invoke, fixture_args: list[str], fmt: str) -> None:
    result = invoke("cite", "first-line", "--since", "2020", "--format", fmt, *fixture_args)
    assert result.exit_code == 0
    if fmt in ("bibtex", "ris", "csl-json"):
        assert "pmid:35835135" in result.stdout
        assert "pmid:24618336" not in result.stdout  # 2014: removed by --since
    else:
        assert result.stdout.startswith("1. Pautier P, Italiano A")
        assert result.stdout.count("\n") == 1


def test_cite_all_and_filters(invoke: Invoke, fixture_args: list[str]) -> None:
    everything = json.loads(invoke("cite", "--all", "-f", "csl-json", *fixture_args).stdout)
    assert [i["custom"]["lms_id"] for i in everything] == ["judson2014", "pautier2022", "gladdy2013", "mizoshiri2018"]
    rct = json.loads(invoke("cite", "--all", "--min-rank", "rct", "-f", "csl-json", *fixture_args).stdout)
    assert [i["id"] for i in rct] == ["pmid:24618336", "pmid:35835135"]
    ris = invoke("cite", "--all", "-f", "ris", *fixture_args).stdout_bytes
    assert ris.startswith(b"TY  - JOUR\r\nID  - pmid:24618336\r\n")
    assert ris.endswith(b"ER  - \r\n")
    assert ris.count(b"\n") == ris.count(b"\r\n")


@pytest.mark.parametrize(
    ("args", "code", "stderr"),
    [
        ([], ExitCode.USAGE, "Error: give a TOPIC or --all\nHint: run `lms topics` to list topics\n"),
        (
            ["first-line", "--all"],
            ExitCode.USAGE,
            "Error: give a TOPIC or --all, not both\nHint: run `lms topics` to list topics\n",
        ),
        (
            ["--all", "--population", "uterine"],
            ExitCode.USAGE,
            "Error: --population selects claims: use it with a TOPIC, not --all\n",
        ),
        (
            ["--all", "--since", "2100"],
            ExitCode.NO_RESULTS,
            "Error: no references left after the filters\nHint: relax --min-rank or --since\n",
        ),
        (
            ["recurrence", "--min-rank", "rct"],
            ExitCode.NO_RESULTS,
            "Error: no claims left for 'recurrence': --min-rank rct removed the last 2 claims\n"
            "Hint: relax that filter\n",
        ),
        (
            ["zebra"],
            ExitCode.USAGE,
            "Error: not covered: the base has nothing on: zebra\n"
            "Hint: run `lms topics` to see what it covers; to find any passing mention, try `lms search zebra`\n",
        ),
    ],
)
def test_cite_errors(invoke: Invoke, fixture_args: list[str], args: list[str], code: ExitCode, stderr: str) -> None:
    result = invoke("cite", *args, *fixture_args)
    assert (result.exit_code, result.stdout, result.stderr) == (code, "", stderr)


def test_cite_rejects_an_unknown_format(invoke: Invoke, fixture_args: list[str]) -> None:
    result = invoke("cite", "first-line", "--format", "mla", *fixture_args)
    assert result.exit_code == ExitCode.USAGE
    assert "'mla' is not one of" in result.stderr


# --- lms ask --citations ------------------------------------------------------------------------


def test_ask_citations_pandoc(invoke: Invoke, fixture_args: list[str]) -> None:
    result = invoke("ask", "first-line", "--citations", "pandoc", *fixture_args)
    assert (result.exit_code, result.stderr) == (0, "")
    assert (
        "- Adding trabectedin to doxorubicin lengthened median PFS from 6.2 to 12.2 months in LMS-04 "
        "[@pmid:35835135].\n" in result.stdout
    )
    assert "::: {#refs}" in result.stdout
    numbers = invoke("ask", "first-line", "--citations", "numbers", *fixture_args)
    assert numbers.stdout == golden("first-line.md")
    rich = invoke("ask", "first-line", "--citations", "pandoc", "--format", "rich", *fixture_args)
    assert rich.exit_code == ExitCode.USAGE
    assert rich.stderr == "Error: --citations pandoc needs Markdown output, not --format rich\n"


# --- real pandoc runs ---------------------------------------------------------------------------


def pandoc() -> str:
    """The pandoc executable; under CI its absence is a failure, elsewhere a skip."""
    found = shutil.which("pandoc")
    if found:
        return found
    if os.environ.get("CI", "").strip().lower() not in ("", "0", "false", "no"):
        pytest.fail("pandoc is required under CI (.ci/run installs it); the citation round trip cannot skip")
    pytest.skip("pandoc is not installed (CI installs it)")


def citeproc(tmp_path: Path, markdown: str, bibliography: str, suffix: str = "json") -> str:
    """pandoc --citeproc to plain text; fails on any unresolved citation."""
    (tmp_path / "doc.md").write_text(markdown, encoding="utf-8")
    bib = tmp_path / f"refs.{suffix}"
    bib.write_text(bibliography, encoding="utf-8")
    done = subprocess.run(
        [pandoc(), str(tmp_path / "doc.md"), "--citeproc", "--bibliography", str(bib), "-t", "plain", "--wrap=none"],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert "not found" not in done.stderr, done.stderr
    assert "[@" not in done.stdout
    return done.stdout


def test_pandoc_resolves_every_key_of_ask(invoke: Invoke, fixture_args: list[str], tmp_path: Path) -> None:
    brief = invoke("ask", "first-line", "--citations", "pandoc", *fixture_args).stdout
    refs = invoke("cite", "first-line", "--format", "csl-json", *fixture_args).stdout
    text = citeproc(tmp_path, brief, refs)
    assert (
        "Adding trabectedin to doxorubicin lengthened median PFS from 6.2 to 12.2 months in LMS-04 "
        "(Pautier et al. 2022)." in text
    )
    # the bibliography citeproc wrote, one entry per source, where lms put the refs div
    references = text.split("References\n")[1].split("Ranks, strongest first")[0]
    for name in (
        "Judson, I., J. Verweij, H. Gelderblom, et al. 2014.",
        "Pautier, P.",
        "Mizoshiri, N.",
        "Gladdy, R. A., L. X. Qin",
    ):
        assert name in references
    bib = invoke("cite", "first-line", "--format", "bibtex", *fixture_args).stdout
    assert "(Pautier et al. 2022)" in citeproc(tmp_path, brief, bib, "bib")


def test_pandoc_resolves_every_key_of_a_report_over_the_bundled_base(invoke: Invoke, tmp_path: Path) -> None:
    topics = [t["slug"] for t in json.loads(invoke("topics", "--format", "json").stdout)["topics"]]
    spec = write(
        tmp_path / "all.yaml", "title: Everything\nsections:\n" + "".join(f"  - topic: {slug}\n" for slug in topics)
    )
    report = invoke("report", str(spec), "--citations", "pandoc")
    assert report.exit_code == 0, report.stderr
    keys = set(re.findall(r"@\{?(pmid:\d+|doi:[^;\]}]+)", report.stdout))
    assert any(k.startswith("doi:") for k in keys)  # DOI-only sources, some in @{...} form
    refs = invoke("cite", "--all", "--format", "csl-json")
    citeproc(tmp_path, report.stdout, refs.stdout)
    html = subprocess.run(
        [pandoc(), "-t", "html"], input=report.stdout, capture_output=True, text=True, timeout=60, check=True
    ).stdout
    ids = set(re.findall(r'\sid="([^"]+)"', html))
    links = re.findall(r'\shref="#([^"]+)"', html)  # pandoc may wrap before href
    assert len(links) == len(topics) + 2
    assert set(links) <= ids  # every contents link lands on a heading


def test_readme_document_commands_work(tmp_path: Path) -> None:
    """The shell blocks of README "Writing documents" run as written and give .docx files."""
    tool = pandoc()
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    section = readme.split("<!-- section:documents -->")[1].split("<!-- /section:documents -->")[0]
    blocks = re.findall(r"```sh\n(.*?)```", section, flags=re.S)
    assert len(blocks) == 3
    shutil.copytree(ROOT / "examples", tmp_path / "examples")
    env = dict(os.environ, PATH=f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}")
    for block in blocks:
        done = subprocess.run(
            ["bash", "-euo", "pipefail", "-c", block],
            cwd=tmp_path,
            env=env,
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
        assert done.returncode == 0, f"{block}\n{done.stderr}"
        assert "not found" not in done.stderr, done.stderr
    for name in ("brief.docx", "report.docx"):
        assert zipfile.is_zipfile(tmp_path / name)
        text = subprocess.run(
            [tool, str(tmp_path / name), "-t", "plain"], capture_output=True, text=True, timeout=60, check=True
        ).stdout
        assert "[@" not in text
        assert "et al." in text


def test_readme_spec_example_is_a_valid_spec(invoke: Invoke, tmp_path: Path) -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    section = readme.split("<!-- section:documents -->")[1].split("<!-- /section:documents -->")[0]
    (block,) = re.findall(r"```yaml\n(.*?)```", section, flags=re.S)
    result = invoke("report", str(write(tmp_path / "readme.yaml", block)))
    assert result.exit_code == 0, result.stderr
    assert "## Where LMS spreads" in result.stdout


def test_spec_that_is_not_a_regular_file_or_not_text(invoke: Invoke, fixture_args: list[str], tmp_path: Path) -> None:
    fifo = tmp_path / "spec.yaml"
    os.mkfifo(fifo)  # reading it would wait for a writer forever
    result = invoke("report", str(fifo), *fixture_args)
    assert result.exit_code == ExitCode.USAGE
    assert result.stderr == f"Error: cannot read report spec {fifo}: not a regular file\n"
    surrogate = write(tmp_path / "s.yaml", 'title: "\\ud800"\nsections:\n  - topic: first-line\n')
    result = invoke("report", str(surrogate), *fixture_args)
    assert result.exit_code == ExitCode.INVALID_EVIDENCE
    assert f"{surrogate}:1:8: field 'title' holds a lone surrogate U+D800" in result.stderr


def test_report_html_from_the_option_or_the_suffix(invoke: Invoke, fixture_args: list[str], tmp_path: Path) -> None:
    spec = str(DATA / "report.yaml")
    out = tmp_path / "board.html"
    result = invoke("report", spec, "-o", str(out), *fixture_args)
    assert result.exit_code == 0, result.stderr
    html = out.read_text(encoding="utf-8")
    assert html.startswith("<!DOCTYPE html>") and "<svg" in html
    assert invoke("report", spec, "--format", "html", *fixture_args).stdout == html
    as_json = tmp_path / "r.json"
    assert invoke("report", spec, "-o", str(as_json), *fixture_args).exit_code == 0
    assert as_json.read_text(encoding="utf-8").startswith("{")
    refused = invoke("report", spec, "--format", "html", "--citations", "pandoc", *fixture_args)
    assert refused.exit_code == ExitCode.USAGE and "needs Markdown output, not --format html" in refused.stderr


@pytest.mark.parametrize("citations", ["numbers", "pandoc"])
def test_pandoc_standalone_documents_are_titled_without_warnings(
    invoke: Invoke, fixture_args: list[str], citations: str
) -> None:
    documents = {
        "ask": invoke("ask", "first-line", "--citations", citations, *fixture_args).stdout,
        "report": invoke("report", str(DATA / "report.yaml"), "--citations", citations, *fixture_args).stdout,
    }
    for name, markdown in documents.items():
        done = subprocess.run(
            [pandoc(), "-s", "-t", "html"], input=markdown, capture_output=True, text=True, timeout=60, check=False
        )
        assert done.returncode == 0 and done.stderr == "", (name, done.stderr)
        assert re.search(r"<title>\S[^<]*</title>", done.stdout), name
    report_html = subprocess.run(
        [pandoc(), "-s", "-t", "html"],
        input=documents["report"],
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    ).stdout
    assert '<p class="subtitle">A small report for the golden-file tests</p>' in report_html
    assert '<p class="author">A. Writer</p>' in report_html and '<p class="date">2026-03-01</p>' in report_html


def test_an_unknown_topic_is_reported_with_the_other_spec_problems(
    invoke: Invoke, fixture_args: list[str], tmp_path: Path
) -> None:
    spec = write(tmp_path / "s.yaml", "title: T\ncolour: red\nsections:\n  - topic: frist-line\n    since: soon\n")
    result = invoke("report", str(spec), *fixture_args)
    assert result.exit_code == ExitCode.INVALID_EVIDENCE
    lines = result.stderr.splitlines()
    assert lines[0] == "Error: 3 problems in the report spec:"
    assert any("unknown field 'colour'" in line for line in lines)
    assert any("unknown topic 'frist-line' (did you mean 'first-line'?)" in line for line in lines)
    assert any("field 'since'" in line for line in lines)
