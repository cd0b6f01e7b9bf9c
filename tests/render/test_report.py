"""Report renderers (golden Markdown and JSON over the fixture base), heading ids, pandoc citations."""

from __future__ import annotations

import datetime as dt
import json

import pytest
from markdown_it import MarkdownIt

from lms_cli import load
from lms_cli.cite import CitationStyle
from lms_cli.compose import compose
from lms_cli.model import EvidenceBase, Filters, Query, Topic
from lms_cli.render import markdown
from lms_cli.render import report as render_report
from lms_cli.report import Report, compose_report, parse_spec
from lms_cli.select import select
from tests.conftest import BASE, DATA
from tests.render.test_hostile_output import lms_links

GOLDEN = DATA / "golden"


def fixture_report() -> Report:
    spec = parse_spec((DATA / "report.yaml").read_bytes(), "report.yaml")
    return compose_report(spec, load.load([BASE]), dt.date(2030, 1, 1))


def test_golden_markdown() -> None:
    assert render_report.markdown(fixture_report()) == (GOLDEN / "report.md").read_text(encoding="utf-8")


def test_golden_markdown_with_pandoc_citations() -> None:
    text = render_report.markdown(fixture_report(), CitationStyle.PANDOC)
    assert text == (GOLDEN / "report-pandoc.md").read_text(encoding="utf-8")
    assert "[@pmid:24618336; @pmid:35835135]" in text
    assert "::: {#refs}\n:::" in text
    assert "\n1. Judson" not in text  # citeproc writes the list


def test_golden_json_and_shape() -> None:
    text = render_report.json(fixture_report())
    assert text == (GOLDEN / "report.json").read_text(encoding="utf-8")
    data = json.loads(text)
    assert list(data) == [
        "schema_version",
        "report",
        "sections",
        "references",
        "glance",
        "reviewed_through",
        "disclaimer",
    ]
    assert data["report"] == {
        "title": "LMS fixture report: first-line therapy and recurrence",
        "subtitle": "A small report for the golden-file tests",
        "author": ["A. Writer", "B. Reviewer"],
        "date": "2026-03-01",
    }
    assert [s["empty"] for s in data["sections"]] == [
        None,
        None,
        "No claims left after the filters: min-rank rct removed the last 2 claims.",
        None,
    ]
    assert data["sections"][2]["sections"] == []
    assert data["sections"][1]["sections"][0]["claims"][0]["citations"] == [4]  # shared number
    assert [r["key"] for r in data["references"]] == [
        "pmid:24618336",
        "pmid:35835135",
        "pmid:29718861",
        "pmid:23354568",
    ]


def test_markdown_structure_contents_and_one_reference_list() -> None:
    text = render_report.markdown(fixture_report())
    tokens = MarkdownIt("commonmark").parse(text)
    headings = [(t.tag, tokens[i + 1].content) for i, t in enumerate(tokens) if t.type == "heading_open"]
    assert [h for h in headings if h[0] in ("h1", "h2")] == [
        ("h1", "LMS fixture report: first-line therapy and recurrence"),
        ("h2", "Contents"),
        ("h2", "First-line therapy"),
        ("h2", "How often LMS recurs"),
        ("h2", "Recurrence, randomised evidence only"),
        ("h2", "Uterine LMS since 2022"),
        ("h2", "Evidence at a glance"),
        ("h2", "References"),
    ]
    assert text.count("## References") == 1
    assert "- [Recurrence, randomised evidence only](#recurrence-randomised-evidence-only)" in text
    assert "*No claims left after the filters: min-rank rct removed the last 2 claims.*" in text
    assert "A. Writer, B. Reviewer \u00b7 2026-03-01" in text


@pytest.mark.parametrize(
    ("text", "ident"),
    [
        ("First-line therapy", "first-line-therapy"),
        ("Recurrence, randomised evidence only", "recurrence-randomised-evidence-only"),
        ("2. Treatment after 2015 (v1.2)", "treatment-after-2015-v1.2"),
        ("Spread \u2014 blood or lymph?", "spread-blood-or-lymph"),
        ("Qualité de vie", "qualité-de-vie"),
        ("!!!", "section"),
    ],
)
def test_heading_ids_follow_pandoc(text: str, ident: str) -> None:
    assert render_report.heading_id(text) == ident


def test_repeated_headings_get_numbered_ids() -> None:
    assert render_report.unique_ids(["Key points", "A", "Key points", "Key points"]) == [
        "key-points",
        "a",
        "key-points-1",
        "key-points-2",
    ]


def test_untrusted_spec_text_is_escaped() -> None:
    spec = parse_spec(
        b"title: '# [x](javascript:alert(1)) <b>'\nsubtitle: '*bold* @pmid:1'\nauthor: '<i>me</i>'\n"
        b"sections:\n  - topic: first-line\n    heading: '[link](http://x) | pipe'\n    intro: '- not a list'\n",
        "s.yaml",
    )
    report = compose_report(spec, load.load([BASE]), dt.date(2030, 1, 1))
    text = render_report.markdown(report)
    tokens = MarkdownIt("commonmark").parse(text)
    inline = {c.type for t in tokens if t.children for c in t.children}
    assert "link_open" in inline  # the contents links and the references' identifiers, and only those:
    links = [c.attrs["href"] for t in tokens if t.children for c in t.children if c.type == "link_open"]
    identifiers = [url for e in report.references for url, _ in lms_links(e.reference)]
    assert links == ["#linkhttpx-pipe", "#evidence-at-a-glance", "#references", *identifiers]
    assert "html_inline" not in inline
    assert not [t for t in tokens if t.type == "html_block"]
    assert "\\- not a list" in text
    assert "\\@pmid:1" in text


def test_empty_report_says_no_sources() -> None:
    base = load.load([BASE])
    lonely = EvidenceBase((*base.topics, Topic("lonely", "Lonely", "Nothing?")), base.references, base.claims)
    spec = parse_spec(b"title: T\nsections:\n  - topic: lonely\n", "s.yaml")
    text = render_report.markdown(compose_report(spec, lonely, dt.date(2030, 1, 1)))
    assert "- Sources: 0\n" in text
    assert "## References\n\nNo sources are cited.\n" in text
    assert "*No claims on this topic in the evidence base.*" in text
    assert "2030-01-01" in text  # no date in the spec: the day passed in


# --- pandoc citations in `ask` Markdown (render/markdown.py) ----------------------------------


@pytest.mark.parametrize(
    ("key", "written"),
    [
        ("pmid:35835135", "@pmid:35835135"),
        ("doi:10.1245/s10434-013-2876-y", "@doi:10.1245/s10434-013-2876-y"),
        ("doi:10.1016/S1470-2045(14)70063-4", "@{doi:10.1016/S1470-2045(14)70063-4}"),
        (
            "doi:10.1002/1097-0142(20010515)91:10<1914::aid-cncr1214>3.0.co;2-3",
            "@{doi:10.1002/1097-0142(20010515)91:10<1914::aid-cncr1214>3.0.co;2-3}",
        ),
        ("doi:10.1000/ends.", "@{doi:10.1000/ends.}"),  # pandoc would stop before a final '.'
    ],
)
def test_pandoc_key_is_bare_only_when_pandoc_reads_it_whole(key: str, written: str) -> None:
    assert markdown.pandoc_key(key) == written


def test_ask_markdown_with_pandoc_citations() -> None:
    base = load.load([BASE])
    summary = compose(Query("first-line"), select(base, "first-line", Filters()))
    numbered = markdown.render(summary)
    keyed = markdown.render(summary, CitationStyle.PANDOC)
    assert numbered == markdown.render(summary, CitationStyle.NUMBERS)
    assert "treatment [@pmid:24618336; @pmid:35835135].\n" in keyed
    assert "case reports [@pmid:29718861; @pmid:23354568].\n" in keyed
    assert "## References\n\n::: {#refs}\n:::\n" in keyed
    # only the citation marks and the reference list differ
    changed = [(a, b) for a, b in zip(numbered.splitlines(), keyed.splitlines(), strict=False) if a != b]
    assert all("[" in a and "[@" in b for a, b in changed[:5])
