"""Markdown renderer: exact output for the fixture base; evidence text stays literal."""

from __future__ import annotations

from pathlib import Path

import pytest
from markdown_it import MarkdownIt

from lms_cli import load
from lms_cli.browse import detail
from lms_cli.cite import vancouver
from lms_cli.compose import compose
from lms_cli.model import Filters, NumberedReference, Query
from lms_cli.render import clean, markdown
from lms_cli.select import select
from tests.conftest import BASE, DATA, write
from tests.render.test_hostile_output import inline_text, links, lms_links


def test_golden_first_line() -> None:
    base = load.load([BASE])
    text = markdown.render(compose(Query("first-line"), select(base, "first-line", Filters())))
    assert text == (DATA / "golden" / "first-line.md").read_text(encoding="utf-8")


HOSTILE = [
    "[/] closes markup",
    "[bold]not bold[/bold]",
    "*stars* and _under_ and `code`",
    "a | b | c",
    "<script>alert(1)</script>",
    "[x](javascript:alert(1))",
    "# not a heading",
    "1. not a list",
    "- not a list",
    "&amp; &lt;b&gt; entities",
    "$x$ ^sup^ ~sub~ @pmid:1 citation",
    "\x1b[31mred\x1b[0m escape",
]


@pytest.mark.parametrize("text", HOSTILE)
def test_escape_round_trips_as_literal_text(text: str) -> None:
    escaped = markdown.escape(text)
    tokens = MarkdownIt("commonmark").parse(escaped)
    assert [t.type for t in tokens] == ["paragraph_open", "inline", "paragraph_close"]
    inline = tokens[1]
    assert inline.children is not None
    assert [c.type for c in inline.children] == ["text"]
    assert inline.children[0].content == text.replace("\x1b", "")


def test_hostile_claim_is_literal_in_a_bullet(tmp_path: Path) -> None:
    write(
        tmp_path / "e.yaml",
        (BASE / "references.yaml").read_text()
        + (
            "topics:\n  - {slug: t, title: T, question: 'Q [x](y) <b>?'}\n"
            "claims:\n  - id: c\n    topics: [t]\n    section: key-point\n"
            "    statement: '<script>x</script> | [bold]*hi*[/] # end.'\n    cites: [judson2014]\n"
            "  - id: a\n    topics: [t]\n    section: answer\n    statement: 'Plain answer.'\n    cites: [gladdy2013]\n"
        ),
    )
    base = load.load([tmp_path])
    text = markdown.render(compose(Query("t"), select(base, "t", Filters())))
    tokens = MarkdownIt("commonmark").parse(text)
    assert not [t for t in tokens if t.type == "html_block"]
    inline_types = {c.type for t in tokens if t.children for c in t.children}
    assert "html_inline" not in inline_types
    # the only links are lms's own: the cited references' identifiers, in list order (the answer's first)
    refs = base.reference_map()
    assert links(tokens) == lms_links(refs["gladdy2013"]) + lms_links(refs["judson2014"])
    headings = [
        "".join(c.content for c in tokens[i + 1].children or [])
        for i, t in enumerate(tokens)
        if t.type == "heading_open"
    ]
    assert headings[0] == "Q [x](y) <b>?"
    assert "- \\<script\\>x\\</script\\> \\| \\[bold\\]\\*hi\\*\\[/\\] \\# end [2]." in text


def test_every_bundled_reference_links_its_identifiers() -> None:
    # real DOIs hold brackets, <> and ; : each must stay one whole link to its own address
    base = load.load([load.bundled_dir()])
    for number, ref in enumerate(base.references, 1):
        tokens = MarkdownIt("commonmark").parse(markdown.reference_line(NumberedReference(number, ref)))
        assert [t.type for t in tokens][:3] == ["ordered_list_open", "list_item_open", "paragraph_open"]
        assert links(tokens) == lms_links(ref) != [], ref.id
        n = f"; n={ref.n}" if ref.n else ""
        assert inline_text(tokens[3]) == f"{clean(vancouver(ref))} Rank: {ref.rank.value}{n}.", ref.id


def test_show_links_a_reference_and_a_claims_references() -> None:
    base = load.load([BASE])
    for item_id, cited in (("gladdy2013", ["gladdy2013"]), ("rec-liver", ["mizoshiri2018", "gladdy2013"])):
        tokens = MarkdownIt("commonmark").parse(markdown.detail(detail(base, item_id)))
        refs = base.reference_map()
        assert links(tokens) == [link for r in cited for link in lms_links(refs[r])]
