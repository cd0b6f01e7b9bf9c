"""HTML renderer: one self-contained, offline page per answer or report, with a picture of the evidence.

The page requests nothing: styles are inline, fonts are the system's, there is no script,
and a Content-Security-Policy meta forbids every fetch. Evidence text is cleaned and
escaped everywhere (text and attributes); the only links are ``#`` anchors within the page
and the DOI, PubMed and PMC addresses lms builds itself from URL-encoded identifiers.
The same Summary (or Report) always gives the same bytes.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from html import escape
from typing import TYPE_CHECKING, NamedTuple
from urllib.parse import quote

from lms_cli.cite import vancouver
from lms_cli.model import RANK_HELP, CitedClaim, NumberedReference, Rank, Reference, Section, Summary, SummarySection
from lms_cli.render import LEGEND, clean, disclaimer, filters_line, glance_lines, hidden_note, split_stop

if TYPE_CHECKING:  # types only: `lms ask --format html` need not import report specs
    from lms_cli.report import Report, ReportSection

#: The only hosts a page links to, each with how an identifier becomes its address.
DOI_URL = "https://doi.org/"
PUBMED_URL = "https://pubmed.ncbi.nlm.nih.gov/"
PMC_URL = "https://pmc.ncbi.nlm.nih.gov/articles/"

#: Nothing may be fetched; inline styles only; no script runs (none is needed).
CSP = "default-src 'none'; style-src 'unsafe-inline'; img-src data:; base-uri 'none'; form-action 'none'"

GLANCE = "Evidence at a glance"
REFERENCES = "References"
CONTENTS = "Contents"


def _e(text: str) -> str:
    """Evidence text as HTML text or attribute value: cleaned to one line, then escaped."""
    return escape(clean(text), quote=True)


# --- colours ----------------------------------------------------------------------------------


class Colours(NamedTuple):
    """One scheme's colours; every text pair is WCAG AA (4.5:1), checked by the tests."""

    bg: str
    text: str
    muted: str
    link: str
    border: str
    tip_bg: str
    tip_text: str
    mark: str  # background of the reference a citation jumped to
    focus: str


LIGHT = Colours("#ffffff", "#1b1b1b", "#545454", "#0b4fb3", "#c4c4c4", "#1f2328", "#ffffff", "#fff1b8", "#b35900")
DARK = Colours("#15171a", "#e8e8e8", "#aeb3ba", "#8cb8ff", "#444a52", "#f2f2f2", "#111111", "#3d3300", "#ffb35c")

#: Badge colours per rank: (light background, light text, dark background, dark text).
RANK_COLOURS: dict[Rank, tuple[str, str, str, str]] = {
    Rank.GUIDELINE: ("#dce6ff", "#173d8a", "#1d2f5c", "#cfdcff"),
    Rank.META_ANALYSIS: ("#d4efde", "#0c5630", "#123d26", "#b9ecc9"),
    Rank.RCT: ("#e2f2cf", "#2e560b", "#27380f", "#d2ecae"),
    Rank.PROSPECTIVE: ("#d2eff2", "#0b5560", "#0f373d", "#b3e6ec"),
    Rank.RETROSPECTIVE: ("#fbedc4", "#664600", "#3d2f05", "#f5dc94"),
    Rank.CASE_SERIES: ("#f6daed", "#7a1c5e", "#46163a", "#f5c2e4"),
    Rank.REVIEW: ("#e8e8e8", "#3b3b3b", "#33363a", "#dedede"),
    Rank.EXPERT_OPINION: ("#e6e0f6", "#45307a", "#2e2550", "#dcd2fa"),
}


def _vars(c: Colours, dark: bool) -> str:
    names = ("bg", "text", "muted", "link", "border", "tip-bg", "tip-text", "mark", "focus")
    out = [f"--{n}:{v};" for n, v in zip(names, c, strict=True)]
    for rank, (lbg, lfg, dbg, dfg) in RANK_COLOURS.items():
        out.append(f"--{rank.value}-bg:{dbg if dark else lbg};--{rank.value}-fg:{dfg if dark else lfg};")
    return "".join(out)


_RANK_CSS = "".join(
    f".r-{r.value}{{background:var(--{r.value}-bg);color:var(--{r.value}-fg);border-color:var(--{r.value}-fg)}}"
    f".m.r-{r.value}{{fill:var(--{r.value}-fg);stroke:var(--{r.value}-fg)}}"
    for r in Rank
)

STYLE = (
    ":root{color-scheme:light dark;" + _vars(LIGHT, False) + "}"
    "@media (prefers-color-scheme:dark){:root{" + _vars(DARK, True) + "}}"
    "*,*::before,*::after{box-sizing:border-box}"
    "html{-webkit-text-size-adjust:100%;text-size-adjust:100%}"
    "body{margin:0 auto;max-width:50rem;padding:1rem 1.25rem 2rem;background:var(--bg);color:var(--text);"
    "font:1rem/1.55 system-ui,-apple-system,'Segoe UI',Roboto,'Helvetica Neue',Arial,sans-serif;"
    "overflow-wrap:break-word}"
    "h1{font-size:1.6rem;line-height:1.25;margin:.2rem 0 .6rem}"
    "h2{font-size:1.25rem;line-height:1.3;margin:1.8rem 0 .5rem;padding-bottom:.2rem;"
    "border-bottom:1px solid var(--border)}"
    "h3{font-size:1.05rem;margin:1.3rem 0 .4rem}"
    "a{color:var(--link)}"
    "a:focus-visible{outline:2px solid var(--focus);outline-offset:2px;border-radius:2px}"
    ".kicker,.byline,.muted,figcaption{color:var(--muted)}"
    ".kicker{margin:0;font-size:.9rem;text-transform:uppercase;letter-spacing:.04em}"
    ".note{border-left:4px solid var(--focus);padding:.3rem .7rem;margin:.8rem 0}"
    "ul.claims{padding-left:1.2rem}ul.claims li{margin:.35rem 0}"
    "abbr.rank{display:inline-block;white-space:nowrap;text-decoration:none;cursor:help;font-size:.78em;"
    "font-weight:600;line-height:1.35;padding:0 .4em;margin-right:.3em;border:1px solid;border-radius:.3em;"
    "vertical-align:.08em;-webkit-print-color-adjust:exact;print-color-adjust:exact}"
    + _RANK_CSS
    + ".cites{white-space:nowrap}"
    ".cite{position:relative;text-decoration-thickness:1px;text-underline-offset:2px;padding:0 .05em}"
    ".cite:hover::after,.cite:focus::after{content:attr(data-tip);content:attr(data-tip)/'';position:absolute;"
    "z-index:10;left:-.5rem;top:calc(100% + .35rem);width:max-content;max-width:min(26rem,calc(100vw - 2rem));"
    "padding:.45rem .6rem;border-radius:.35rem;background:var(--tip-bg);color:var(--tip-text);font-size:.85rem;"
    "font-weight:400;line-height:1.4;white-space:normal;text-align:left;box-shadow:0 2px 8px rgb(0 0 0/.3);"
    "pointer-events:none}"
    "@media (max-width:60rem){.cite:hover::after,.cite:focus::after{position:fixed;left:.5rem;right:.5rem;"
    "top:auto;bottom:.5rem;width:auto;max-width:none}}"
    "ol.refs{padding-left:2.2rem}ol.refs li{margin:.45rem 0;padding:.1rem .3rem;border-radius:.3rem}"
    "ol.refs li:target{background:var(--mark)}"
    "ol.refs a{overflow-wrap:anywhere}"
    "dl.legend{display:grid;grid-template-columns:max-content 1fr;gap:.25rem .6rem;margin:.5rem 0}"
    "dl.legend dd{margin:0}"
    "figure{margin:1rem 0}.chart{overflow-x:auto}"
    "svg.evidence{display:block;width:100%;max-width:44rem;height:auto;font-family:inherit}"
    "svg.evidence text{fill:var(--text);font-size:14px}svg.evidence .axis{stroke:var(--muted)}"
    "svg.evidence .grid{stroke:var(--border);stroke-dasharray:2 3}"
    ".m{fill-opacity:.35;stroke-width:1.5}.m.unknown{fill-opacity:0;stroke-dasharray:2 1.5}"
    "figcaption{font-size:.9rem}"
    "nav ol{padding-left:1.4rem}"
    "footer{margin-top:2rem;padding-top:.6rem;border-top:1px solid var(--border);font-style:italic}"
    ".sr-only{position:absolute;width:1px;height:1px;padding:0;margin:-1px;overflow:hidden;"
    "clip:rect(0 0 0 0);white-space:nowrap;border:0}"
    "@media (max-width:30rem){body{padding:.75rem .8rem 1.5rem}h1{font-size:1.35rem}h2{font-size:1.15rem}"
    "ol.refs{padding-left:1.7rem}}"
    "@page{margin:16mm 15mm}"
    "@media print{:root{color-scheme:light;" + _vars(LIGHT, False) + "}"
    "body{max-width:none;padding:0;font-size:10.5pt}"
    ".cite::after,.cite:hover::after,.cite:focus::after{content:none!important;display:none!important}"
    "a{color:inherit}ol.refs a::after{content:' <' attr(href) '>';overflow-wrap:anywhere}"
    "h2,h3{break-after:avoid}figure,li,abbr.rank{break-inside:avoid}.chart{overflow:visible}"
    "}"
)


# --- pieces -----------------------------------------------------------------------------------


def badge(rank: Rank) -> str:
    """A rank as a badge whose title explains it (text, not colour alone, carries the rank)."""
    return f'<abbr class="rank r-{rank.value}" title="{escape(RANK_HELP[rank])}">{rank.value}</abbr>'


def _plain(ref: Reference) -> str:
    """Authors, title, journal and year in Vancouver style, without identifiers (they become links)."""
    return vancouver(ref._replace(doi=None, pmid=None, pmcid=None))


def _extra(ref: Reference) -> str:
    return f"Rank: {ref.rank.value}" + (f"; n={ref.n}" if ref.n else "") + "."


def _tips(refs: Sequence[NumberedReference]) -> dict[int, str]:
    """What a citation number shows on hover and focus, escaped for an attribute, per number."""
    return {e.number: _e(f"{_plain(e.reference)} {_extra(e.reference)}") for e in refs}


def citations(numbers: tuple[int, ...], tips: dict[int, str]) -> str:
    links = ", ".join(
        f'<a class="cite" href="#ref-{n}" aria-describedby="ref-{n}" data-tip="{tips[n]}">{n}</a>' for n in numbers
    )
    return f'<span class="cites">[{links}]</span>'


def claim(c: CitedClaim, tips: dict[int, str]) -> str:
    """Badge, statement and its citations before the closing full stop."""
    body, stop = split_stop(clean(c.claim.statement))
    text = escape(body, quote=True)
    return f"{badge(c.rank)}{text}{' ' if text else ''}{citations(c.numbers, tips)}{stop}"


def part_html(part: SummarySection, ident: str, level: int, tips: dict[int, str]) -> str:
    """One section: the answer as a paragraph, the others as bullet lists."""
    head = f'<h{level} id="{ident}">{_e(part.heading)}</h{level}>'
    if part.section is Section.ANSWER:
        body = "<p>" + " ".join(claim(c, tips) for c in part.claims) + "</p>"
    else:
        body = '<ul class="claims">' + "".join(f"<li>{claim(c, tips)}</li>" for c in part.claims) + "</ul>"
    return f'<section aria-labelledby="{ident}">{head}{body}</section>'


def _link(url: str, label: str) -> str:
    return f'<a href="{escape(url, quote=True)}">{escape(label, quote=True)}</a>'


def reference_item(entry: NumberedReference) -> str:
    """One entry of the list, with its identifiers as links to doi.org, PubMed and PMC."""
    ref = entry.reference
    parts = [_e(_plain(ref))]
    if ref.doi:
        doi = clean(ref.doi)
        parts.append(f"doi:{_link(DOI_URL + quote(doi, safe='/'), doi)}.")
    if ref.pmid:
        pmid = clean(ref.pmid)
        parts.append(f"PMID: {_link(PUBMED_URL + quote(pmid, safe='') + '/', pmid)}.")
    if ref.pmcid:
        pmcid = clean(ref.pmcid)
        parts.append(f"PMCID: {_link(PMC_URL + quote(pmcid, safe='') + '/', pmcid)}.")
    size = f" n={ref.n}." if ref.n else ""
    return f'<li id="ref-{entry.number}" value="{entry.number}">{" ".join(parts)} {badge(ref.rank)}{size}</li>'


def references_html(refs: Sequence[NumberedReference]) -> str:
    """The numbered reference list and the legend of ranks."""
    out = [f'<section aria-labelledby="references"><h2 id="references">{REFERENCES}</h2>']
    if refs:
        out.append('<ol class="refs">' + "".join(reference_item(e) for e in refs) + "</ol>")
    else:
        out.append("<p>No sources are cited.</p>")
    out.append(f'<h3 id="ranks">Ranks</h3><p>{escape(LEGEND)}</p><dl class="legend">')
    out.extend(f"<dt>{badge(r)}</dt><dd>{escape(RANK_HELP[r])}</dd>" for r in Rank)
    out.append("</dl></section>")
    return "".join(out)


# --- the picture of the evidence --------------------------------------------------------------

WIDTH, LEFT, RIGHT, TOP, ROW, BOTTOM = 540, 124, 14, 14, 30, 48
HEIGHT = TOP + ROW * len(Rank) + BOTTOM
R_UNKNOWN, R_MIN, R_MAX = 4.5, 4.0, 14.0
SPREAD = 7.0  # horizontal step between sources of the same year and rank


def _f(x: float) -> str:
    """A coordinate with one fixed decimal at most: deterministic and short."""
    s = f"{x:.1f}"
    return s[:-2] if s.endswith(".0") else s


def radius(n: int | None) -> float:
    """Marker radius from study size: grows with log10(n), capped; a fixed small one when unknown."""
    if not n or n < 1:
        return R_UNKNOWN
    return min(R_MAX, R_MIN + 2.2 * math.log10(n))


def _polygon(cx: float, cy: float, r: float, sides: int, turn: float, inner: float = 0.0) -> str:
    """A regular polygon (or, with ``inner``, a star) as points; angles in degrees, 0 = east."""
    count = sides * (2 if inner else 1)
    pts = []
    for i in range(count):
        a = math.radians(turn + 360.0 * i / count)
        rr = r * inner if inner and i % 2 else r
        pts.append(f"{_f(cx + rr * math.cos(a))},{_f(cy + rr * math.sin(a))}")
    return f'<polygon points="{" ".join(pts)}"/>'


def shape(rank: Rank, cx: float, cy: float, r: float) -> str:
    """A different shape per rank, so the picture reads without colour (rows are labelled too)."""
    if rank is Rank.GUIDELINE:
        return _polygon(cx, cy, r * 1.25, 5, -90, inner=0.5)
    if rank is Rank.META_ANALYSIS:
        return _polygon(cx, cy, r * 1.2, 4, -90)
    if rank is Rank.RCT:
        return _polygon(cx, cy, r * 1.25, 4, 45)
    if rank is Rank.PROSPECTIVE:
        return _polygon(cx, cy, r * 1.3, 3, -90)
    if rank is Rank.CASE_SERIES:
        return _polygon(cx, cy, r * 1.3, 3, 90)
    if rank is Rank.REVIEW:
        return _polygon(cx, cy, r * 1.1, 6, 0)
    if rank is Rank.EXPERT_OPINION:
        return _polygon(cx, cy, r * 1.2, 4, 0, inner=0.45)
    return f'<circle cx="{_f(cx)}" cy="{_f(cy)}" r="{_f(r)}"/>'


def _ticks(first: int, last: int) -> list[int]:
    span = last - first
    step = next((s for s in (1, 2, 5, 10, 20, 25, 50, 100) if span / s <= 6), 100)
    return list(range(-(-first // step) * step, last + 1, step))


def evidence_svg(refs: Sequence[NumberedReference], ident: str) -> str:
    """Sources by publication year (across) and rank (down, strongest on top); size by n.

    A figure with the SVG (role img, with a title and a description), a visible caption
    saying how to read it, and the same data as a visually hidden table.
    """
    if not refs:
        return ""
    years = [e.reference.year for e in refs]
    first, last = min(years), max(years)
    if first == last:
        first, last = first - 1, last + 1
    plot_w = WIDTH - LEFT - RIGHT
    slot = plot_w / (last - first + 1)

    def x_of(year: int) -> float:
        return LEFT + (year - first + 0.5) * slot

    out = [
        f'<figure aria-labelledby="{ident}-cap"><div class="chart">'
        f'<svg class="evidence" viewBox="0 0 {WIDTH} {HEIGHT}" width="{WIDTH}" height="{HEIGHT}" role="img" '
        f'aria-labelledby="{ident}-t {ident}-d">'
        f'<title id="{ident}-t">Picture of the evidence: {len(refs)} source{"s" if len(refs) != 1 else ""} '
        f"by publication year and rank</title>"
    ]
    counts = {r: sum(1 for e in refs if e.reference.rank is r) for r in Rank}
    sized = sum(1 for e in refs if e.reference.n)
    desc = f"Published {min(years)}\u2013{max(years)}" if min(years) != max(years) else f"Published {min(years)}"
    desc += "; " + ", ".join(f"{n} {r.value}" for r, n in counts.items() if n)
    desc += f"; study size known for {sized} of {len(refs)}."
    out.append(f'<desc id="{ident}-d">{escape(desc)}</desc>')
    bottom = TOP + ROW * len(Rank)
    for i, rank in enumerate(Rank):
        y = TOP + ROW * i + ROW / 2
        out.append(
            f'<line class="grid" x1="{LEFT}" y1="{_f(y)}" x2="{WIDTH - RIGHT}" y2="{_f(y)}"/>'
            f'<text x="{LEFT - 8}" y="{_f(y + 4.5)}" text-anchor="end">{rank.value}</text>'
        )
    out.append(f'<line class="axis" x1="{LEFT}" y1="{bottom}" x2="{WIDTH - RIGHT}" y2="{bottom}"/>')
    for year in _ticks(first, last):
        tick = _f(x_of(year))
        out.append(
            f'<line class="axis" x1="{tick}" y1="{bottom}" x2="{tick}" y2="{bottom + 5}"/>'
            f'<text x="{tick}" y="{bottom + 19}" text-anchor="middle">{year}</text>'
        )
    out.append(f'<text x="{_f(LEFT + plot_w / 2)}" y="{HEIGHT - 6}" text-anchor="middle">Year of publication</text>')
    # sources of the same rank and year sit side by side, in citation order, centred on the year
    groups: dict[tuple[int, int], list[NumberedReference]] = {}
    for e in refs:
        groups.setdefault((e.reference.rank.strength, e.reference.year), []).append(e)
    for (strength, year), group in sorted(groups.items()):
        y = TOP + ROW * strength + ROW / 2
        for k, e in enumerate(group):
            ref = e.reference
            x = x_of(year) + (k - (len(group) - 1) / 2) * SPREAD
            size = f", n={ref.n}" if ref.n else ", size not given"
            label = _e(f"[{e.number}] {ref.authors[0] if ref.authors else ''} {ref.year}, {ref.rank.value}{size}")
            out.append(
                f'<g class="m r-{ref.rank.value}{"" if ref.n else " unknown"}"><title>{label}</title>'
                f"{shape(ref.rank, x, y, radius(ref.n))}</g>"
            )
    out.append("</svg></div>")
    out.append(
        f'<figcaption id="{ident}-cap">Each mark is a source: across by year of publication, down by rank '
        "(strongest on top), one shape per rank. Bigger marks are bigger studies; hollow dashed marks "
        "did not report a size.</figcaption>"
    )
    out.append(
        '<table class="sr-only"><caption>Sources in the picture</caption><thead><tr><th scope="col">Reference'
        '</th><th scope="col">Year</th><th scope="col">Rank</th><th scope="col">Participants</th></tr></thead>'
        "<tbody>"
    )
    out.extend(
        f"<tr><td>{e.number}</td><td>{e.reference.year}</td><td>{e.reference.rank.value}</td>"
        f"<td>{e.reference.n if e.reference.n else 'not given'}</td></tr>"
        for e in refs
    )
    out.append("</tbody></table></figure>")
    return "".join(out)


# --- documents --------------------------------------------------------------------------------


def _head(title: str) -> str:
    return (
        '<!DOCTYPE html>\n<html lang="en">\n<head>\n<meta charset="utf-8">\n'
        f'<meta http-equiv="Content-Security-Policy" content="{CSP}">\n'
        '<meta name="referrer" content="no-referrer">\n'
        '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
        '<meta name="color-scheme" content="light dark">\n'
        '<meta name="generator" content="lms">\n'
        f"<title>{title}</title>\n<style>{STYLE}</style>\n</head>\n<body>\n"
    )


def _glance_html(lines: list[str], figure: str) -> str:
    items = "".join(f"<li>{escape(line)}</li>" for line in lines)
    return f'<section aria-labelledby="glance"><h2 id="glance">{GLANCE}</h2><ul>{items}</ul>{figure}</section>\n'


def _footer(reviewed: str | None) -> str:
    return f"<footer><p>{escape(disclaimer(reviewed))}</p></footer>\n</body>\n</html>\n"


def render(summary: Summary) -> str:
    """The summary as one self-contained HTML5 document (UTF-8 text ending in a newline)."""
    tips = _tips(summary.references)
    question = _e(summary.topic.question)
    out = [
        _head(f"{question} \u2014 lms"),
        f'<header><p class="kicker">{_e(summary.topic.title)}</p><h1>{question}</h1>',
    ]
    if (filters := filters_line(summary)) is not None:
        out.append(f'<p class="muted">{_e(filters)}</p>')
    if (note := hidden_note(summary.hidden)) is not None:
        out.append(f'<p class="note" role="note">{_e(note)}</p>')
    out.append('</header>\n<main id="main">\n')
    for i, part in enumerate(summary.sections):
        ident = f"s-{part.section.value}" if part.topic is None else f"s-{i + 1}"
        out.append(part_html(part, ident, 2, tips) + "\n")
    out.append(_glance_html(glance_lines(summary.glance), evidence_svg(summary.references, "fig")))
    out.append(references_html(summary.references) + "\n</main>\n")
    out.append(_footer(summary.reviewed_through.isoformat() if summary.reviewed_through else None))
    return "".join(out)


def _section_html(
    section: ReportSection, ident: str, k: int, numbered: dict[int, NumberedReference], tips: dict[int, str]
) -> str:
    from lms_cli.render.report import _filters

    out = [f'<section aria-labelledby="{ident}"><h2 id="{ident}">{_e(section.heading)}</h2>']
    if section.intro:
        out.append(f"<p>{_e(section.intro)}</p>")
    out.append(f'<p class="muted"><em>{_e(section.topic.question)}</em></p>')
    if (filters := _filters(section.filters)) is not None:
        out.append(f'<p class="muted">{_e(filters)}</p>')
    if (note := hidden_note(section.hidden)) is not None:
        out.append(f'<p class="note" role="note">{_e(note)}</p>')
    if section.empty:
        out.append(f'<p class="note" role="note">{_e(section.empty)}</p>')
    for j, part in enumerate(section.parts):
        out.append(part_html(part, f"p-{k}-{j + 1}", 3, tips))
    cited = sorted({n for p in section.parts for c in p.claims for n in c.numbers})
    out.append(evidence_svg([numbered[n] for n in cited], f"fig-{k}"))
    out.append("</section>\n")
    return "".join(out)


def report(report: Report) -> str:
    """The report as one self-contained HTML5 document, with contents, one picture per section."""
    from lms_cli.render.report import unique_ids

    tips = _tips(report.references)
    numbered = {e.number: e for e in report.references}
    # ids from the headings, as the Markdown report has them, prefixed so none can clash with
    # the page's own ids (ref-N, fig-N, glance, references)
    ids = ["sec-" + i for i in unique_ids([s.heading for s in report.sections])]
    title = _e(report.title)
    out = [_head(title), f"<header><h1>{title}</h1>"]
    if report.subtitle:
        out.append(f'<p class="muted">{_e(report.subtitle)}</p>')
    byline = ", ".join(_e(a) for a in report.author)
    out.append(f'<p class="byline">{byline}{" &middot; " if byline else ""}{report.date.isoformat()}</p></header>\n')
    out.append(f'<nav aria-labelledby="contents"><h2 id="contents">{CONTENTS}</h2><ol>')
    out.extend(
        f'<li><a href="#{ident}">{_e(s.heading)}</a></li>' for s, ident in zip(report.sections, ids, strict=True)
    )
    out.append(f'<li><a href="#glance">{GLANCE}</a></li><li><a href="#references">{REFERENCES}</a></li></ol></nav>\n')
    out.append('<main id="main">\n')
    for k, (section, ident) in enumerate(zip(report.sections, ids, strict=True), 1):
        out.append(_section_html(section, ident, k, numbered, tips))
    lines = glance_lines(report.glance) if report.glance.total else ["Sources: 0"]
    out.append(_glance_html(lines, evidence_svg(report.references, "fig")))
    out.append(references_html(report.references) + "\n</main>\n")
    out.append(_footer(report.reviewed_through.isoformat() if report.reviewed_through else None))
    return "".join(out)
