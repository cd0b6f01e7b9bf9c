"""Hostile text in evidence never changes the structure of any output (issue: output injection).

Property-based: for arbitrary text in a claim and a reference title, every renderer
terminates; Markdown parses back with the text in its place and no extra headings, links
or HTML; JSON round-trips; Rich prints it literally.
"""

from __future__ import annotations

import io
import json

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from markdown_it import MarkdownIt
from markdown_it.token import Token
from rich.console import Console

from lms_cli.cite import vancouver
from lms_cli.compose import compose
from lms_cli.model import Claim, EvidenceBase, Filters, Query, Rank, Reference, Section, Topic
from lms_cli.render import clean, markdown, split_stop, terminal
from lms_cli.render import json as render_json
from lms_cli.select import select

ATTACKS = [
    "[bold]x[/bold] [/] [link=http://e.x]y[/link]",
    "\x1b[31mred\x1b[0m \x1b]8;;http://evil\x07click\x1b]8;;\x07 \x1b[2J",
    "# heading\n===\n| a | b |\n|---|---|",
    "*em* _em_ `code` ~~del~~ [x](javascript:alert(1)) ![i](http://x/i.png) <script>alert(1)</script>",
    "&amp; &lt;b&gt; &#60;script&#62; $x$ ^sup^ @pmid:1 [@doi:10.1/x] \\ trailing\\",
    "1. ordered\n- bullet\n> quote\n    code",
    "\u202eevil-bidi\u202c \u0000nul \u0085nel \u2028ls",
]

HOSTILE = st.one_of(st.sampled_from(ATTACKS), st.text(min_size=1, max_size=200)).filter(lambda s: clean(s) != "")


def base_with(statement: str, title: str) -> EvidenceBase:
    ref = Reference(
        id="r1",
        design=Rank.RCT,
        authors=("Judson I", "et al."),
        title=clean(title),
        journal="Lancet Oncol",
        year=2014,
        pmid="24618336",
    )
    topic = Topic("t", "T", "Q?")
    claims = (
        Claim("a", ("t",), Section.ANSWER, clean(statement), ("r1",)),
        Claim("k", ("t",), Section.KEY_POINT, clean(statement), ("r1",)),
    )
    return EvidenceBase((topic,), (ref,), claims)


def inline_text(token: Token) -> str:
    assert token.children is not None
    return "".join(c.content if c.type == "text" else " " for c in token.children)


def check_markdown(statement: str, title: str) -> None:
    base = base_with(statement, title)
    text = markdown.render(compose(Query("t"), select(base, "t", Filters())))
    tokens = MarkdownIt("commonmark").parse(text)
    kinds = [t.type for t in tokens]
    assert "html_block" not in kinds
    assert kinds.count("heading_open") == 5  # question, answer, glance, references, key points
    children = [c.type for t in tokens if t.children for c in t.children]
    assert not {"html_inline", "link_open", "image", "code_inline"} & set(children)
    inlines = [t for t in tokens if t.type == "inline"]
    body, stop = split_stop(clean(statement))
    expected = f"{body} [1]{stop}".lstrip()
    # the answer paragraph and the key-point bullet both carry the text, literally
    assert sum(inline_text(t) == expected for t in inlines) == 2, (expected, [inline_text(t) for t in inlines])
    assert any(inline_text(t).startswith(clean(vancouver(base.references[0]))) for t in inlines)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(statement=HOSTILE, title=HOSTILE)
def test_markdown_keeps_hostile_text_literal(statement: str, title: str) -> None:
    check_markdown(statement, title)


def test_known_attacks_in_markdown() -> None:
    for attack in ATTACKS:
        check_markdown(attack, attack)


@settings(max_examples=40, deadline=None)
@given(statement=HOSTILE, title=HOSTILE)
def test_json_round_trips(statement: str, title: str) -> None:
    base = base_with(statement, title)
    data = json.loads(render_json.render(compose(Query("t"), select(base, "t", Filters()))))
    assert data["sections"][0]["claims"][0]["statement"] == clean(statement)
    assert data["references"][0]["title"] == clean(title)


@settings(max_examples=40, deadline=None)
@given(statement=HOSTILE, title=HOSTILE)
def test_rich_prints_literally_without_control_sequences(statement: str, title: str) -> None:
    base = base_with(statement, title)
    out = io.StringIO()
    Console(file=out, width=5000, force_terminal=False, no_color=True, highlight=False).print(
        terminal.render(compose(Query("t"), select(base, "t", Filters())))
    )
    text = out.getvalue()
    assert "\x1b" not in text
    body, _ = split_stop(clean(statement))
    assert body in text
