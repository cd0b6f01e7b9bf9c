"""HTML renderer: exact structure (parsed with html.parser), links, escaping as properties, determinism, contrast."""

from __future__ import annotations

import datetime as dt
import itertools
import re
from urllib.parse import quote

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from lms_cli import load, render
from lms_cli.cite import vancouver
from lms_cli.compose import compose
from lms_cli.model import (
    RANK_HELP,
    RANK_LEGEND,
    EvidenceBase,
    Filters,
    NumberedReference,
    Population,
    Query,
    Rank,
    Reference,
    Summary,
)
from lms_cli.render import clean, disclaimer, glance_lines, hidden_note, split_stop
from lms_cli.render import html as render_html
from lms_cli.report import Report, compose_report, parse_spec
from lms_cli.select import select
from tests.conftest import BASE, DATA
from tests.render.html_dom import Element, Page, citations_resolve, external_urls, parse
from tests.render.test_hostile_output import ATTACKS, HOSTILE, base_with

CSP = "default-src 'none'; style-src 'unsafe-inline'; img-src data:; base-uri 'none'; form-action 'none'"


NO_FILTERS = Filters()


def summary(slug: str = "first-line", filters: Filters = NO_FILTERS, base: EvidenceBase | None = None) -> Summary:
    base = base or load.load([BASE])
    return compose(Query(slug, filters), select(base, slug, filters))


def fixture_report() -> Report:
    spec = parse_spec((DATA / "report.yaml").read_bytes(), str(DATA / "report.yaml"))
    return compose_report(spec, load.load([BASE]), dt.date(2026, 1, 1))


def texts(page: Page, tag: str) -> list[str]:
    return [el.text() for el in page.root.iter(tag)]


def check_document(page: Page, title: str) -> None:
    """What every page has: doctype, lang, charset, CSP, one h1, landmarks, no fetch, ordered headings."""
    assert page.decl == ["DOCTYPE html"]
    html = page.root.one("html")
    assert html.attrs["lang"] == "en"
    metas = page.root.all("meta")
    assert metas[0].attrs == {"charset": "utf-8"}  # first, so the bytes are read as UTF-8
    csp = [m for m in metas if m.attrs.get("http-equiv") == "Content-Security-Policy"]
    assert [m.attrs["content"] for m in csp] == [CSP]
    assert page.root.one("head").one("title").text() == title
    assert len(page.root.all("style")) == 1
    assert page.root.all("script") == []
    assert external_urls(page) == []
    body = page.root.one("body")
    assert [c.tag for c in body.children if isinstance(c, Element)] in (
        ["header", "main", "footer"],
        ["header", "nav", "main", "footer"],
    )
    assert len(page.root.all("h1")) == 1
    assert page.root.one("h1").parent is page.root.one("header")
    levels = [int(el.tag[1]) for el in page.root.iter() if re.fullmatch(r"h[1-6]", el.tag)]
    assert levels[0] == 1
    assert all(b <= a + 1 for a, b in itertools.pairwise(levels)), levels  # no level skipped
    for svg in page.root.all("svg"):
        assert svg.attrs["role"] == "img"
        labels = svg.attrs["aria-labelledby"].split()
        ids = page.ids()
        assert [ids[i].tag for i in labels] == ["title", "desc"]
        assert ids[labels[0]].parent is svg


# --- an answer --------------------------------------------------------------------------------


def test_answer_structure_exactly() -> None:
    s = summary()
    page = parse(render_html.render(s))
    check_document(page, f"{s.topic.question} \u2014 lms")
    assert page.root.one("h1").text() == s.topic.question
    assert texts(page, "h2") == [p.heading for p in s.sections] + ["Evidence at a glance", "References"]
    assert texts(page, "h3") == ["Ranks"]
    main = page.root.one("main")
    # one badge per claim, before it, explaining its rank
    claim_badges = [b for sec in main.all("section")[: len(s.sections)] for b in sec.all("abbr", "rank")]
    claims = [c for p in s.sections for c in p.claims]
    assert [b.text() for b in claim_badges] == [c.rank.value for c in claims]
    assert [b.attrs["title"] for b in claim_badges] == [RANK_HELP[c.rank] for c in claims]
    # the answer is one paragraph; the other sections are lists with one item per claim
    answer = main.all("section")[0]
    assert [el.tag for el in answer.children if isinstance(el, Element)] == ["h2", "p"]
    for part, sec in zip(s.sections[1:], main.all("section")[1 : len(s.sections)], strict=True):
        assert len(sec.one("ul").all("li")) == len(part.claims)
    # every citation resolves to its entry in the reference list, numbered as composed
    assert citations_resolve(page) == sum(len(c.numbers) for c in claims)
    entries = page.root.one("ol", "refs").all("li")
    assert [li.attrs["id"] for li in entries] == [f"ref-{e.number}" for e in s.references]
    first = s.sections[1].claims[0]
    body, stop = split_stop(first.claim.statement)
    li = main.all("section")[1].one("ul").all("li")[0]
    numbers = ", ".join(str(n) for n in first.numbers)
    assert li.text() == f"{first.rank.value}{body} [{numbers}]{stop}"


def test_citation_tooltip_names_the_reference() -> None:
    s = summary()
    page = parse(render_html.render(s))
    by_number = {e.number: e.reference for e in s.references}
    for a in page.root.iter("a", "cite"):
        ref = by_number[int(a.text())]
        n = f"; n={ref.n}" if ref.n else ""
        assert a.attrs["data-tip"] == f"{vancouver(ref)} Rank: {ref.rank.value}{n}."
        assert ref.authors[0] in a.attrs["data-tip"] and ref.title in a.attrs["data-tip"]


def test_reference_list_links_identifiers() -> None:
    page = parse(render_html.render(summary()))
    entries = page.root.one("ol", "refs").all("li")
    judson = entries[0]
    assert [a.attrs["href"] for a in judson.all("a")] == [
        "https://doi.org/10.1016/S1470-2045%2814%2970063-4",
        "https://pubmed.ncbi.nlm.nih.gov/24618336/",
    ]
    assert [a.text() for a in judson.all("a")] == ["10.1016/S1470-2045(14)70063-4", "24618336"]
    assert judson.one("abbr", "rank").text() == "rct"
    assert judson.text().endswith(" rct n=455.")
    gladdy = entries[3]
    assert gladdy.all("a")[-1].attrs["href"] == "https://pmc.ncbi.nlm.nih.gov/articles/PMC3657306/"
    assert gladdy.text().startswith("Gladdy RA, Qin LX, Moraco N, Agaram NP, Brennan MF, Singer S. Predictors")


def test_glance_legend_and_closing_line() -> None:
    s = summary()
    page = parse(render_html.render(s))
    glance = page.ids()["glance"].parent
    assert glance is not None
    assert [li.text() for li in glance.one("ul").all("li")] == glance_lines(s.glance)
    refs = page.ids()["references"].parent
    assert refs is not None
    assert RANK_LEGEND in refs.text()
    assert [dt.text() for dt in refs.one("dl", "legend").all("dt")] == [r.value for r in Rank]
    assert [dd.text() for dd in refs.one("dl", "legend").all("dd")] == [RANK_HELP[r] for r in Rank]
    reviewed = s.reviewed_through.isoformat() if s.reviewed_through else None
    assert page.root.one("footer").text() == disclaimer(reviewed)


def test_picture_of_the_evidence() -> None:
    s = summary()
    page = parse(render_html.render(s))
    svg = page.root.one("svg")
    title = next(c for c in svg.children if isinstance(c, Element) and c.tag == "title")
    assert title.text() == f"Picture of the evidence: {len(s.references)} sources by publication year and rank"
    marks = svg.all(cls="m")
    assert len(marks) == len(s.references)
    # one mark per source, named by its number, its rank in its class
    assert sorted(int(m.one("title").text()[1:].split("]")[0]) for m in marks) == [e.number for e in s.references]
    ranks = {e.number: e.reference.rank for e in s.references}
    for m in marks:
        number = int(m.one("title").text()[1:].split("]")[0])
        assert f"r-{ranks[number].value}" in m.classes
    # the data as a table for screen readers: one row per source
    rows = page.root.one("table", "sr-only").one("tbody").all("tr")
    assert [[td.text() for td in tr.all("td")] for tr in rows] == [
        [str(e.number), str(e.reference.year), e.reference.rank.value, str(e.reference.n or "not given")]
        for e in s.references
    ]
    # deterministic coordinates: integers or one decimal
    for el in svg.iter():
        for name in ("x", "y", "x1", "x2", "y1", "y2", "cx", "cy", "r"):
            if name in el.attrs:
                assert re.fullmatch(r"-?\d+(\.\d)?", el.attrs[name]), (el.tag, name, el.attrs[name])
        if "d" in el.attrs:
            assert re.fullmatch(r"M-?\d+\.\d,-?\d+\.\d(l-?\d+\.\d,-?\d+\.\d)+z", el.attrs["d"]), el.attrs["d"]
    assert {m.tag for m in marks} <= {"path", "circle"}


def _centre(shape: Element) -> tuple[float, float]:
    if shape.tag == "circle":
        return float(shape.attrs["cx"]), float(shape.attrs["cy"])
    x, y = map(float, shape.attrs["d"][1:].split("l")[0].split(","))
    pts = [(x, y)]
    for step in shape.attrs["d"].rstrip("z").split("l")[1:]:
        dx, dy = map(float, step.split(","))
        x, y = x + dx, y + dy
        pts.append((x, y))
    return sum(p[0] for p in pts) / len(pts), sum(p[1] for p in pts) / len(pts)


def test_picture_places_sources_by_year_and_rank() -> None:
    s = summary()
    page = parse(render_html.evidence_svg(list(render_html.entries(s.references).values()), "f"))
    labels = {t.text(): float(t.attrs["y"]) for t in page.root.iter("text") if t.text() in {r.value for r in Rank}}
    assert list(labels) == [r.value for r in Rank]  # strongest on top
    assert list(labels.values()) == sorted(labels.values())
    refs = {e.number: e.reference for e in s.references}
    placed = []
    for m in page.root.all(cls="m"):
        placed.append((refs[int(m.one("title").text()[1:].split("]")[0])], *_centre(m)))
    shapes: dict[Rank, set[str]] = {}
    for ref, x, y in placed:
        assert abs(y - (labels[ref.rank.value] - 4.5)) < 0.2, (ref.id, y)  # on its rank's row
        shapes.setdefault(ref.rank, set()).add(ref.id)
        for other, ox, _ in placed:
            if other.rank is ref.rank and other.year < ref.year:
                assert ox < x, (other.id, ref.id)  # later years further right
    assert len(shapes) > 2


def test_marker_size_grows_with_study_size() -> None:
    assert render_html.radius(None) == render_html.R_UNKNOWN
    assert render_html.radius(0) == render_html.R_UNKNOWN
    sizes = [render_html.radius(n) for n in (1, 9, 10, 99, 100, 1000, 10_000, 10**6)]
    assert sizes == [4.0, 4.0, 5.6, 5.6, 7.2, 8.8, 10.4, 12.0]


def test_hidden_note_when_filters_hide_claims() -> None:
    filters = Filters(since=2022, population=Population.UTERINE)
    s = summary(filters=filters)
    assert s.hidden
    page = parse(render_html.render(s))
    notes = page.root.all("p", "note")
    assert [n.text() for n in notes] == [hidden_note(s.hidden)]
    assert notes[0].parent is page.root.one("header")
    assert "Filters: since 2022; population uterine" in page.root.one("header").text()
    assert parse(render_html.render(summary())).root.all("p", "note") == []


def test_search_summary_renders() -> None:
    from lms_cli.compose import compose_search

    base = load.load([BASE])
    kept = [(c, tuple(base.reference_map()[r] for r in c.cites)) for c in base.claims[:3]]
    s = compose_search(Query("", search="doxorubicin"), base.topics, kept)
    page = parse(render_html.render(s))
    check_document(page, "Claims matching: doxorubicin \u2014 lms")
    assert citations_resolve(page) > 0


# --- a report ---------------------------------------------------------------------------------


def test_report_structure_exactly() -> None:
    r = fixture_report()
    page = parse(render_html.report(r))
    check_document(page, r.title)
    assert page.root.one("h1").text() == r.title
    nav = page.root.one("nav")
    links = [(a.text(), a.attrs["href"]) for a in nav.all("a")]
    assert [t for t, _ in links] == [s.heading for s in r.sections] + ["Evidence at a glance", "References"]
    ids = page.ids()
    for _, href in links:
        assert ids[href[1:]].tag == "h2"
    assert texts(page, "h2") == ["Contents"] + [s.heading for s in r.sections] + [
        "Evidence at a glance",
        "References",
    ]
    assert texts(page, "h3") == [p.section.heading for s in r.sections for p in s.parts] + ["Ranks"]
    assert citations_resolve(page) == sum(len(c.numbers) for s in r.sections for p in s.parts for c in p.claims)
    assert len(page.root.one("ol", "refs").all("li")) == len(r.references)
    # a picture per section with sources, and one for the whole report
    with_sources = [s for s in r.sections if s.parts]
    assert len(page.root.all("svg")) == len(with_sources) + 1
    notes = [n.text() for n in page.root.all("p", "note")]
    expected = [n for s in r.sections for n in (hidden_note(s.hidden), s.empty) if n]
    assert notes == expected and notes
    assert page.root.one("p", "byline").text() == "A. Writer, B. Reviewer \u00b7 2026-03-01"


def test_report_section_picture_shows_only_its_sources() -> None:
    r = fixture_report()
    page = parse(render_html.report(r))
    main = page.root.one("main")
    sections = [s for s in main.children if isinstance(s, Element) and s.tag == "section"][: len(r.sections)]
    for spec, sec in zip(r.sections, sections, strict=True):
        cited = sorted({n for p in spec.parts for c in p.claims for n in c.numbers})
        marks = [int(m.one("title").text()[1:].split("]")[0]) for m in sec.all(cls="m")]
        assert sorted(marks) == cited


def test_report_duplicate_headings_get_distinct_ids() -> None:
    r = fixture_report()
    twice = Report(
        r.title, r.subtitle, r.author, r.date, r.sections + r.sections, r.references, r.glance, r.reviewed_through
    )
    page = parse(render_html.report(twice))  # parse() asserts ids are unique
    check_document(page, r.title)
    assert citations_resolve(page) > 0


# --- hostile text -----------------------------------------------------------------------------


def _claim_items(page: Page) -> list[str]:
    sections = page.root.one("main").all("section")
    return [sections[0].one("p").text()] + [li.text() for li in sections[1].one("ul").all("li")]


def check_hostile(statement: str, title: str) -> None:
    base = base_with(statement, title)
    page = parse(render_html.render(compose(Query("t"), select(base, "t", Filters()))))
    plain = parse(render_html.render(compose(Query("t"), select(base_with("x", "x"), "t", Filters()))))
    # the same elements with the same attributes, in the same order: text made nothing
    assert page.skeleton == plain.skeleton
    body, stop = split_stop(clean(statement))
    expected = f"rct{body} [1]{stop}" if body else f"rct[1]{stop}"
    assert _claim_items(page) == [expected, expected]
    tip = page.root.all("a", "cite")[0].attrs["data-tip"]
    assert clean(title) in tip
    assert clean(title) in page.root.one("ol", "refs").text()
    assert external_urls(page) == []


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(statement=HOSTILE, title=HOSTILE)
def test_hostile_text_never_makes_an_element_or_attribute(statement: str, title: str) -> None:
    check_hostile(statement, title)


@pytest.mark.parametrize("attack", ATTACKS)
def test_known_attacks_stay_literal(attack: str) -> None:
    check_hostile(attack, attack)


def test_hostile_identifiers_are_encoded_into_lms_urls() -> None:
    ref = Reference(
        id="r1",
        design=Rank.RCT,
        authors=("A B",),
        title="T",
        journal="J",
        year=2020,
        doi='10.1/x"><script>alert(1)</script>#?&',
        pmid="javascript:alert(1)",
        pmcid="PMC1/../../x",
    )
    entry = render_html.reference_item(NumberedReference(1, ref))
    page = parse(f"<ol class='refs'>{entry}</ol>")
    assert page.root.all("script") == []
    hrefs = [a.attrs["href"] for a in page.root.all("a")]
    assert hrefs == [
        "https://doi.org/10.1/x%22%3E%3Cscript%3Ealert%281%29%3C/script%3E%23%3F%26",
        "https://pubmed.ncbi.nlm.nih.gov/javascript%3Aalert%281%29/",
        "https://pmc.ncbi.nlm.nih.gov/articles/PMC1%2F..%2F..%2Fx/",
    ]
    assert [a.text() for a in page.root.all("a")] == [ref.doi, ref.pmid, ref.pmcid]


def test_urls_in_evidence_text_never_become_links() -> None:
    for url in ("javascript:alert(1)", "https://evil.example/", "data:text/html,<b>x</b>", "//evil.example"):
        base = base_with(f"See {url} now.", url)
        page = parse(render_html.render(compose(Query("t"), select(base, "t", Filters()))))
        hrefs = [a.attrs["href"] for a in page.root.iter("a")]
        assert all(h.startswith(("#", "https://pubmed.ncbi.nlm.nih.gov/")) for h in hrefs), hrefs


# --- determinism ------------------------------------------------------------------------------


def test_golden_answer_and_report() -> None:
    # the whole page, byte for byte: the renderer may be made faster, never different by accident
    golden = DATA / "golden"
    assert render_html.render(summary()) == (golden / "first-line.html").read_text(encoding="utf-8")
    assert render_html.report(fixture_report()) == (golden / "report.html").read_text(encoding="utf-8")


def test_same_input_same_bytes() -> None:
    a = render_html.render(summary())
    b = render_html.render(summary())  # composed again from a freshly loaded base
    assert a == b
    assert a.encode("utf-8") == b.encode("utf-8")
    assert render_html.report(fixture_report()) == render_html.report(fixture_report())
    assert a.endswith("</html>\n")


def test_bundled_topics_render() -> None:
    base = load.load([load.bundled_dir()])
    for topic in base.topics:
        s = summary(topic.slug, base=base)
        page = parse(render_html.render(s))
        check_document(page, f"{s.topic.question} \u2014 lms")
        assert citations_resolve(page) == sum(len(c.numbers) for p in s.sections for c in p.claims)


# --- colours ----------------------------------------------------------------------------------


def _luminance(colour: str) -> float:
    channels = [int(colour[i : i + 2], 16) / 255 for i in (1, 3, 5)]
    lin = [c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4 for c in channels]
    return 0.2126 * lin[0] + 0.7152 * lin[1] + 0.0722 * lin[2]


def contrast(a: str, b: str) -> float:
    la, lb = sorted((_luminance(a), _luminance(b)), reverse=True)
    return (la + 0.05) / (lb + 0.05)


def test_contrast_meets_wcag_aa() -> None:
    for c in (render_html.LIGHT, render_html.DARK):
        for fg in (c.text, c.muted, c.link, c.focus):
            assert contrast(fg, c.bg) >= 4.5, (fg, c.bg)
        assert contrast(c.link, c.mark) >= 4.5 and contrast(c.text, c.mark) >= 4.5  # a reference jumped to
        assert contrast(c.tip_text, c.tip_bg) >= 4.5
    for rank, (lbg, lfg, dbg, dfg) in render_html.RANK_COLOURS.items():
        assert contrast(lfg, lbg) >= 4.5, rank
        assert contrast(dfg, dbg) >= 4.5, rank
        # the picture's marks are drawn in the badge's text colour on the page: 3:1 for graphics
        assert contrast(lfg, render_html.LIGHT.bg) >= 3 and contrast(dfg, render_html.DARK.bg) >= 3, rank
    assert contrast("#777777", "#ffffff") < 4.5  # the check can fail


def test_style_has_both_schemes_print_and_no_fetch() -> None:
    style = render_html.STYLE
    assert "@media (prefers-color-scheme:dark)" in style
    assert "@media print" in style and "@page" in style
    assert "content:' <' attr(href) '>'" in style
    assert ".cite:hover::after,.cite:focus::after{content:attr(data-tip)" in style  # hover and keyboard
    assert "url(" not in style and "@import" not in style and "@font-face" not in style


@settings(max_examples=300, deadline=None)
@given(ident=st.text(alphabet="abcXYZ019._~/()-<>;:", min_size=1, max_size=30) | st.text(min_size=1, max_size=30))
def test_identifier_addresses_encode_as_quote_does(ident: str) -> None:
    # the fast paths (alphanumeric, brackets only) must give what quote() gives; a slash stays
    # only in a DOI, and a PMID in non-ASCII digits is encoded, not written raw
    assert render.doi_url(ident) == render.DOI_URL + quote(clean(ident), safe="/")
    assert render.pubmed_url(ident) == render.PUBMED_URL + quote(clean(ident), safe="") + "/"
    assert render.pmc_url(ident) == render.PMC_URL + quote(clean(ident), safe="") + "/"
    for url in (render.doi_url(ident), render.pubmed_url(ident), render.pmc_url(ident)):
        assert re.fullmatch(r"https://[a-z.]+/[A-Za-z0-9%._~/-]*", url), url  # nothing to escape, no bracket


def test_identifier_addresses_of_known_forms() -> None:
    assert render.doi_url("10.1016/S1470-2045(14)70063-4") == "https://doi.org/10.1016/S1470-2045%2814%2970063-4"
    assert render.pubmed_url("24618336") == "https://pubmed.ncbi.nlm.nih.gov/24618336/"
    assert render.pubmed_url("1\u0662\u0663") == "https://pubmed.ncbi.nlm.nih.gov/1%D9%A2%D9%A3/"
    assert render.pmc_url("PMC3657306") == "https://pmc.ncbi.nlm.nih.gov/articles/PMC3657306/"


def test_an_answer_page_is_streamed_a_section_at_a_time_with_the_same_text() -> None:
    base = load.load([load.bundled_dir()])
    for topic in base.topics:
        summary = compose(Query(topic.slug), select(base, topic.slug, Filters()))
        pieces = list(render.page(summary))
        assert "".join(pieces) == render_html.render(summary)
        assert len(pieces) == len(summary.sections) + 2
