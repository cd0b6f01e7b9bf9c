"""Hostile text in evidence never changes the structure of any output (issue: output injection).

Property-based: for arbitrary text in a claim and a reference title, every renderer
terminates; Markdown parses back with the text in its place and no extra headings or HTML,
its only links lms's own (a reference's DOI, PMID and PMCID, to doi.org, PubMed and PMC,
even when the identifiers are hostile too); JSON round-trips; Rich prints it literally.
"""

from __future__ import annotations

import io
import json
from urllib.parse import quote

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from markdown_it import MarkdownIt
from markdown_it.token import Token
from rich.console import Console

from lms_cli.cite import vancouver
from lms_cli.compose import compose
from lms_cli.model import Claim, EvidenceBase, Filters, Query, Rank, Reference, Section, Topic
from lms_cli.render import DOI_URL, PMC_URL, PUBMED_URL, clean, markdown, split_stop, terminal
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


NO_IDS: dict[str, str | None] = {}


def base_with(statement: str, title: str, ids: dict[str, str | None] = NO_IDS) -> EvidenceBase:
    """A topic with one answer and one key point stating ``statement``, citing one reference titled ``title``.

    The reference has PMID 24618336 unless ``ids`` (doi, pmid, pmcid) say otherwise.
    """
    ref = Reference(
        id="r1",
        design=Rank.RCT,
        authors=("Judson I", "et al."),
        title=clean(title),
        journal="Lancet Oncol",
        year=2014,
        pmid=ids.get("pmid", "24618336"),
        doi=ids.get("doi"),
        pmcid=ids.get("pmcid"),
    )
    topic = Topic("t", "T", "Q?")
    claims = (
        Claim("a", ("t",), Section.ANSWER, clean(statement), ("r1",)),
        Claim("k", ("t",), Section.KEY_POINT, clean(statement), ("r1",)),
    )
    return EvidenceBase((topic,), (ref,), claims)


def inline_text(token: Token) -> str:
    """An inline's text as a reader sees it: a link is its text; any other structure shows as a space."""
    assert token.children is not None
    return "".join(c.content if c.type == "text" else "" if c.type in LINK_TOKENS else " " for c in token.children)


LINK_TOKENS = ("link_open", "link_close")


def links(tokens: list[Token]) -> list[tuple[str, str]]:
    """Every link of a parsed document as (address, text); each must hold one plain text, nothing else."""
    out = []
    for token in tokens:
        children = token.children or []
        for i, child in enumerate(children):
            if child.type == "link_open":
                assert [c.type for c in children[i + 1 : i + 3]] == ["text", "link_close"], children[i : i + 3]
                out.append((str(child.attrs["href"]), children[i + 1].content))
    return out


def lms_links(ref: Reference) -> list[tuple[str, str]]:
    """The only links lms may make for a reference: each identifier, as its text, to its own address."""
    forms = (
        (ref.doi, DOI_URL, "/", ""),
        (ref.pmid, PUBMED_URL, "", "/"),
        (ref.pmcid, PMC_URL, "", "/"),
    )
    return [(f"{base}{quote(clean(i), safe=safe)}{tail}", clean(i)) for i, base, safe, tail in forms if i and clean(i)]


def check_markdown(statement: str, title: str, ids: dict[str, str | None] = NO_IDS) -> None:
    base = base_with(statement, title, ids)
    ref = base.references[0]
    text = markdown.render(compose(Query("t"), select(base, "t", Filters())))
    tokens = MarkdownIt("commonmark").parse(text)
    kinds = [t.type for t in tokens]
    assert "html_block" not in kinds
    assert kinds.count("heading_open") == 5  # question, answer, glance, references, key points
    assert kinds.count("list_item_open") == 1 + 2 + 1  # the key point, the glance, the reference
    children = [c.type for t in tokens if t.children for c in t.children]
    assert not {"html_inline", "image", "code_inline"} & set(children)
    # the reference's identifiers, and nothing else, are links: whole, each to its own address
    assert links(tokens) == lms_links(ref), text
    inlines = [t for t in tokens if t.type == "inline"]
    body, stop = split_stop(clean(statement))
    expected = f"{body} [1]{stop}".lstrip()
    # the answer paragraph and the key-point bullet both carry the text, literally
    assert sum(inline_text(t) == expected for t in inlines) == 2, (expected, [inline_text(t) for t in inlines])
    (entry,) = [inline_text(t) for t in inlines if inline_text(t).endswith(" Rank: rct.")]
    if ids:  # hostile identifiers: the text before them is intact, each shows as its cleaned self
        head = clean(vancouver(ref._replace(doi=None, pmid=None, pmcid=None)))
        assert entry.startswith(head), (entry, head)
    else:
        assert entry == clean(vancouver(ref)) + " Rank: rct."


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(statement=HOSTILE, title=HOSTILE)
def test_markdown_keeps_hostile_text_literal(statement: str, title: str) -> None:
    check_markdown(statement, title)


def test_known_attacks_in_markdown() -> None:
    for attack in ATTACKS:
        check_markdown(attack, attack)


#: Identifiers that try to end a link early, start another, or escape the address.
ID_ATTACKS = [
    "10.1016/S1470-2045(14)70063-4",  # a real DOI: brackets in a link's address
    "10.1002/(SICI)1097-0142(19990101)85:1<1::AID-CNCR1>3.0.CO;2-X",  # <> and ; in a real one
    "10.1/x](javascript:alert(1))",
    "10.1/x) [y](https://evil.example/",
    "x>\\<y> <https://evil.example> ` ` *e* _u_",
    "10.1/x\n\n# heading\n[a]: https://evil.example",
    "10.1/a b\tc\x1b]8;;http://evil\x07",
    "[@doi:10.1/x] ![i](http://x/i.png) &lt; &#60;",
    "\\",
]


def test_hostile_identifiers_make_only_lms_links() -> None:
    for attack in ID_ATTACKS:
        check_markdown("Plain.", "Plain", {"doi": attack, "pmid": attack, "pmcid": attack})
        check_markdown(attack, attack, {"doi": attack, "pmid": None, "pmcid": "PMC1"})


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(title=HOSTILE, doi=HOSTILE, pmid=HOSTILE | st.none(), pmcid=HOSTILE | st.none())
def test_markdown_links_only_lms_identifiers(title: str, doi: str, pmid: str | None, pmcid: str | None) -> None:
    check_markdown("Plain.", title, {"doi": doi, "pmid": pmid, "pmcid": pmcid})


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
