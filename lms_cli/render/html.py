"""HTML renderer: one self-contained, offline page per answer or report, with a picture of the evidence.

The page requests nothing: styles are inline, fonts are the system's, there is no script,
and a Content-Security-Policy meta forbids every fetch. Evidence text is cleaned and
escaped everywhere (text and attributes); the only links are ``#`` anchors within the page
and the DOI, PubMed and PMC addresses lms builds itself from URL-encoded identifiers.
The same Summary (or Report) always gives the same bytes.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Iterator, Sequence
from html import escape
from typing import TYPE_CHECKING, NamedTuple

from lms_cli.cite import vancouver
from lms_cli.model import RANK_HELP, NumberedReference, Rank, Reference, Section, Summary, SummarySection
from lms_cli.render import (
    LEGEND,
    clean,
    disclaimer,
    doi_url,
    filters_line,
    glance_lines,
    hidden_note,
    pmc_url,
    pubmed_url,
    split_stop,
)

if TYPE_CHECKING:  # types only: `lms ask --format html` need not import report specs
    from lms_cli.report import Report, ReportSection

#: Nothing may be fetched; inline styles only; no script runs (none is needed).
CSP = "default-src 'none'; style-src 'unsafe-inline'; img-src data:; base-uri 'none'; form-action 'none'"

GLANCE = "Evidence at a glance"
REFERENCES = "References"
CONTENTS = "Contents"


def _escaped(text: str) -> str:
    """Clean text as HTML text or attribute value: ``html.escape`` only when it would change something."""
    # most text has none of the five: five substring scans cost a seventh of one regex search
    if "&" in text or "<" in text or ">" in text or '"' in text or "'" in text:
        return escape(text, quote=True)
    return text


def _e(text: str) -> str:
    """Evidence text as HTML text or attribute value: cleaned to one line, then escaped."""
    return _escaped(clean(text))


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
    "abbr.rank{display:inline;white-space:nowrap;text-decoration:none;cursor:help;font-size:.78em;"
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
    "svg.evidence{display:block;width:100%;max-width:36rem;height:auto;font-family:inherit}"
    "svg.evidence text{fill:var(--text);font-size:14px}svg.evidence .axis{stroke:var(--muted)}"
    "svg.evidence .grid{stroke:var(--border);stroke-dasharray:2 3}"
    ".m{fill-opacity:.35;stroke-width:1.5}.m.unknown{fill-opacity:0;stroke-dasharray:2 1.5}"
    "figcaption{font-size:.9rem;margin-bottom:.4rem}"
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


def _badge(rank: Rank) -> str:
    return f'<abbr class="rank r-{rank.value}" title="{escape(RANK_HELP[rank])}">{rank.value}</abbr>'


#: A rank as a badge whose title explains it (text, not colour alone, carries the rank).
BADGE: dict[Rank, str] = {r: _badge(r) for r in Rank}
# The same by the rank's name, for the page's loops: hashing an Enum member runs Python code
# (Enum.__hash__) and ``.value`` is a descriptor, where ``_value_`` is a plain attribute and a
# str's hash is cached.
_BADGE_BY_NAME: dict[str, str] = {r.value: b for r, b in BADGE.items()}

_LEGEND_HTML = (
    f'<h3 id="ranks">Ranks</h3><p>{escape(LEGEND)}</p><dl class="legend">'
    + "".join(f"<dt>{BADGE[r]}</dt><dd>{escape(RANK_HELP[r])}</dd>" for r in Rank)
    + "</dl>"
)


def badge(rank: Rank) -> str:
    """The badge of a rank: its name, coloured, with its explanation as the title."""
    return BADGE[rank]


class Entry(NamedTuple):
    """One reference as a page shows it, worked out once per page."""

    number: int
    reference: Reference
    rank: Rank
    name: str  # the rank's name
    item: str  # its entry in the list: the Vancouver reference, escaped, its identifiers as links
    cite: str  # a citation of it: a link to its entry that shows it on hover and focus


def _identifiers(ref: Reference) -> tuple[str, str]:
    """DOI, PMID and PMCID as Vancouver writes them (escaped), and the same with each identifier a link."""
    # each written out, not looped over: this runs for every reference of every page
    plain = []
    linked = []
    if doi := ref.doi:
        text = _escaped(clean(doi))
        plain.append(f"doi:{text}.")
        linked.append(f'doi:<a href="{doi_url(doi)}">{text}</a>.')  # an encoded URL holds nothing to escape
    if pmid := ref.pmid:
        text = pmid if pmid.isascii() and pmid.isalnum() else _e(pmid)
        plain.append(f"PMID: {text}.")
        linked.append(f'PMID: <a href="{pubmed_url(pmid)}">{text}</a>.')
    if pmcid := ref.pmcid:
        text = pmcid if pmcid.isascii() and pmcid.isalnum() else _e(pmcid)
        plain.append(f"PMCID: {text}.")
        linked.append(f'PMCID: <a href="{pmc_url(pmcid)}">{text}</a>.')
    return " ".join(plain), " ".join(linked)


def entries(refs: Sequence[NumberedReference]) -> dict[int, Entry]:
    """Each reference's list entry and citation link by number; Vancouver formats it, once."""
    out = {}
    for number, ref in refs:
        rank = ref.design
        name: str = rank._value_
        full = _escaped(clean(vancouver(ref)))  # the tooltip, and the list's text but for the links
        plain, linked = _identifiers(ref)
        if full.endswith(plain):  # the identifiers close the reference: make them links
            text = full[: len(full) - len(plain)]
        else:  # written some other way (cleaned text): the reference without them, then the links
            text = _e(vancouver(ref._replace(doi=None, pmid=None, pmcid=None))) + " "
        if n := ref.n:
            tip, size = f"; n={n}.", f" n={n}."
        else:
            tip, size = ".", ""
        out[number] = Entry(
            number,
            ref,
            rank,
            name,
            f'<li id="ref-{number}" value="{number}">{text}{linked} {_BADGE_BY_NAME[name]}{size}</li>',
            f'<a class="cite" href="#ref-{number}" aria-describedby="ref-{number}" data-tip="{full} Rank: {name}{tip}">'
            f"{number}</a>",
        )
    return out


# The page is written as one list of pieces, joined once: a claim carries its citations' tooltips
# (most of the page's text), which would otherwise be copied again by every enclosing element.


def _claims(out: list[str], part: SummarySection, refs: dict[int, Entry]) -> None:
    """Append a section's claims (the answer's as one paragraph, the others' as a list): badge,
    statement, and its citations, links with tooltips, before the closing full stop."""
    answer = part.section is Section.ANSWER
    out.append("<p>" if answer else '<ul class="claims">')
    end = "" if answer else "</li>"
    for i, c in enumerate(part.claims):
        body, stop = split_stop(clean(c.claim.statement))
        text = _escaped(body)
        lead = (" " if i else "") if answer else "<li>"
        badge = _BADGE_BY_NAME[c.rank._value_]
        numbers = c.numbers
        cites = refs[numbers[0]].cite if len(numbers) == 1 else ", ".join([refs[n].cite for n in numbers])
        out.append(f'{lead}{badge}{text}{" " if text else ""}<span class="cites">[')
        out.append(cites)
        out.append(f"]</span>{stop}{end}")
    out.append("</p>" if answer else "</ul>")


def _part(out: list[str], part: SummarySection, ident: str, level: int, refs: dict[int, Entry]) -> None:
    """Append one section: its heading, then its claims."""
    out.append(f'<section aria-labelledby="{ident}"><h{level} id="{ident}">{_e(part.heading)}</h{level}>')
    _claims(out, part, refs)
    out.append("</section>")


def part_html(part: SummarySection, ident: str, level: int, refs: dict[int, Entry]) -> str:
    """One section: the answer as a paragraph, the others as bullet lists."""
    out: list[str] = []
    _part(out, part, ident, level, refs)
    return "".join(out)


def reference_item(entry: Entry | NumberedReference) -> str:
    """One entry of the list, with its identifiers as links to doi.org, PubMed and PMC."""
    if not isinstance(entry, Entry):
        entry = entries([entry])[entry.number]
    return entry.item


def _references(out: list[str], refs: dict[int, Entry]) -> None:
    """Append the numbered reference list and the legend of ranks."""
    out.append(f'<section aria-labelledby="references"><h2 id="references">{REFERENCES}</h2>')
    if refs:
        out.append('<ol class="refs">')
        out.extend([e.item for e in refs.values()])
        out.append("</ol>")
    else:
        out.append("<p>No sources are cited.</p>")
    out.append(_LEGEND_HTML)
    out.append("</section>")


def references_html(refs: dict[int, Entry]) -> str:
    """The numbered reference list and the legend of ranks."""
    out: list[str] = []
    _references(out, refs)
    return "".join(out)


# --- the picture of the evidence --------------------------------------------------------------

WIDTH, LEFT, RIGHT, TOP, ROW, BOTTOM = 540, 124, 14, 14, 30, 48
HEIGHT = TOP + ROW * len(Rank) + BOTTOM
PLOT_BOTTOM = TOP + ROW * len(Rank)
#: Study size in bins by order of magnitude (1-9, 10-99, ... 10,000 and more): a reader compares
#: a few sizes at a glance, and each (rank, bin) mark is worked out once, here.
SIZE_RADII = (4.0, 5.6, 7.2, 8.8, 10.4, 12.0)
R_UNKNOWN = 4.5  # drawn hollow and dashed
SPREAD = 11.0  # horizontal step between sources of the same year and rank


def size_bin(n: int | None) -> int | None:
    """Which size bin a study falls in (0 for 1-9 participants ...), or None when unknown."""
    if not n or n < 1:
        return None
    return min(len(str(n)), len(SIZE_RADII)) - 1


def radius(n: int | None) -> float:
    """Marker radius: one per order of magnitude of the study size; a fixed small one when unknown."""
    k = size_bin(n)
    return R_UNKNOWN if k is None else SIZE_RADII[k]


def _unit(sides: int, turn: float, scale: float, inner: float = 0.0) -> tuple[tuple[float, float], ...]:
    """Vertices of a regular polygon (or, with ``inner``, a star) of radius ``scale``; 0 degrees = east."""
    count = sides * (2 if inner else 1)
    out = []
    for i in range(count):
        a = math.radians(turn + 360.0 * i / count)
        rr = scale * inner if inner and i % 2 else scale
        out.append((rr * math.cos(a), rr * math.sin(a)))
    return tuple(out)


#: A different shape per rank, so the picture reads without colour (the rows are labelled too);
#: retrospective studies, the commonest, are circles (no vertices).
SHAPES: dict[Rank, tuple[tuple[float, float], ...]] = {
    Rank.GUIDELINE: _unit(5, -90, 1.25, inner=0.5),
    Rank.META_ANALYSIS: _unit(4, -90, 1.2),
    Rank.RCT: _unit(4, 45, 1.25),
    Rank.PROSPECTIVE: _unit(3, -90, 1.3),
    Rank.RETROSPECTIVE: (),
    Rank.CASE_SERIES: _unit(3, 90, 1.3),
    Rank.REVIEW: _unit(6, 0, 1.1),
    Rank.EXPERT_OPINION: _unit(4, 0, 1.2, inner=0.45),
}


def _outline(unit: tuple[tuple[float, float], ...], r: float) -> tuple[float, float, str]:
    """A shape of radius r as the offset of its first vertex and the rest as relative path steps."""
    pts = [(round(dx * r, 1), round(dy * r, 1)) for dx, dy in unit]
    steps = "".join(f"l{bx - ax:.1f},{by - ay:.1f}" for (ax, ay), (bx, by) in itertools.pairwise(pts))
    return pts[0][0], pts[0][1], steps + "z"


#: Per rank and radius: where a mark's path starts relative to its centre, and its steps.
OUTLINES: dict[tuple[str, float], tuple[float, float, str]] = {
    (rank.value, r): _outline(unit, r) for rank, unit in SHAPES.items() if unit for r in (*SIZE_RADII, R_UNKNOWN)
}


#: Row centre per rank, strongest on top.
ROW_Y: dict[str, float] = {r.value: TOP + ROW * i + ROW / 2 for i, r in enumerate(Rank)}


def _mark_text(name: str, r: float, cls: str) -> tuple[str, float, str, str]:
    """A mark on its rank's row, less its place across and its title: (text before x, x's offset, text after x,
    text after the title)."""
    cy = ROW_Y[name]
    outline = OUTLINES.get((name, r))
    if outline is None:
        return f'<circle class="{cls}" cx="', 0.0, f'" cy="{cy:.1f}" r="{r:.1f}"><title>', "</title></circle>"
    ox, oy, steps = outline
    return f'<path class="{cls}" d="M', ox, f',{cy + oy:.1f}{steps}"><title>', "</title></path>"


#: Per rank name, then by size bin (then, last, for a size unknown), a mark's text but for its
#: place across and its title: worked out here once, not once per source per picture.
MARKS: dict[str, list[tuple[str, float, str, str]]] = {
    rank.value: [_mark_text(rank.value, r, f"m r-{rank.value}") for r in SIZE_RADII]
    + [_mark_text(rank.value, R_UNKNOWN, f"m r-{rank.value} unknown")]
    for rank in Rank
}


_LARGEST = len(SIZE_RADII) - 1  # the size bin of 10^5 participants and more


def mark(e: Entry, cx: float) -> str:
    """The mark of a source on its rank's row, centred across on ``cx``, sized by its study, named by
    its number, year, rank and size (no evidence text: nothing to clean or escape)."""
    name, year, n = e.name, e.reference.year, e.reference.n
    if n and n > 0:  # size_bin(), spelt out: this runs once per source per picture
        size = len(str(n)) - 1
        head, dx, tail, end = MARKS[name][size if size < _LARGEST else _LARGEST]
        return f"{head}{cx + dx:.1f}{tail}[{e.number}] {year}, {name}, n={n}{end}"
    head, dx, tail, end = MARKS[name][-1]
    size_given = f", n={n}" if n else ""  # a negative size is drawn as unknown, yet named
    return f"{head}{cx + dx:.1f}{tail}[{e.number}] {year}, {name}{size_given}{end}"


_ROWS = "".join(
    f'<line class="grid" x1="{LEFT}" y1="{y:.1f}" x2="{WIDTH - RIGHT}" y2="{y:.1f}"/>'
    f'<text x="{LEFT - 8}" y="{y + 4.5:.1f}" text-anchor="end">{r}</text>'
    for r, y in ROW_Y.items()
) + (
    f'<line class="axis" x1="{LEFT}" y1="{PLOT_BOTTOM}" x2="{WIDTH - RIGHT}" y2="{PLOT_BOTTOM}"/>'
    f'<text x="{(LEFT + WIDTH - RIGHT) / 2:.1f}" y="{HEIGHT - 6}" text-anchor="middle">Year of publication</text>'
)

_CAPTION = (
    "<strong>Picture of the evidence.</strong> Each mark is a source: across by year of publication, "
    "down by rank (strongest on top), one shape per rank. Bigger marks are bigger studies (one size "
    "per tenfold: 1\u20139, 10\u201399, 100\u2013999 participants and so on); hollow dashed marks "
    "did not report a size."
)
_TABLE_HEAD = (
    '<table class="sr-only"><caption>Sources in the picture</caption><thead><tr><th scope="col">Reference'
    '</th><th scope="col">Year</th><th scope="col">Rank</th><th scope="col">Participants</th></tr></thead><tbody>'
)


def _ticks(first: int, last: int) -> list[int]:
    span = last - first
    step = next((s for s in (1, 2, 5, 10, 20, 25, 50, 100) if span / s <= 6), 100)
    return list(range(-(-first // step) * step, last + 1, step))


def evidence_svg(refs: Sequence[Entry], ident: str) -> str:
    """Sources by publication year (across) and rank (down, strongest on top); size by n.

    A figure with the SVG (role img, with a title and a description), a visible caption
    saying how to read it, and the same data as a visually hidden table.
    """
    out: list[str] = []
    _evidence_svg(out, refs, ident)
    return "".join(out)


def _evidence_svg(out: list[str], refs: Sequence[Entry], ident: str) -> None:
    """Append the picture of ``refs`` (nothing when there are none): see ``evidence_svg``."""
    if not refs:
        return
    # one pass: the year range, counts, and the table (which follows the picture, in citation order)
    counts = dict.fromkeys(ROW_Y, 0)
    groups: dict[tuple[float, int], list[Entry]] = {}
    rows = []
    low = high = refs[0].reference.year
    sized = 0
    for e in refs:
        ref = e.reference
        name, year, n = e.name, ref.year, ref.n
        counts[name] += 1
        if n:
            sized += 1
        if year < low:
            low = year
        elif year > high:
            high = year
        # sources of the same rank and year sit side by side, in citation order, centred on the year
        groups.setdefault((ROW_Y[name], year), []).append(e)
        rows.append(f"<tr><td>{e.number}</td><td>{year}</td><td>{name}</td><td>{n or 'not given'}</td></tr>")
    first, last = (low - 1, high + 1) if low == high else (low, high)
    slot = (WIDTH - LEFT - RIGHT) / (last - first + 1)
    x0 = LEFT + (0.5 - first) * slot  # x of year 0: x = x0 + year * slot
    span = f"{low}\u2013{high}" if low != high else str(low)
    by_rank = ", ".join([f"{n} {name}" for name, n in counts.items() if n])
    total = len(refs)
    out.append(
        f'<figure aria-labelledby="{ident}-cap"><figcaption id="{ident}-cap">{_CAPTION}</figcaption><div class="chart">'
        f'<svg class="evidence" viewBox="0 0 {WIDTH} {HEIGHT}" width="{WIDTH}" height="{HEIGHT}" role="img" '
        f'aria-labelledby="{ident}-t {ident}-d">'
        f'<title id="{ident}-t">Picture of the evidence: {total} source{"s" if total != 1 else ""} by publication '
        f'year and rank</title><desc id="{ident}-d">Published {span}; {by_rank}; study size known for {sized} of '
        f"{total}.</desc>{_ROWS}"
    )
    for year in _ticks(first, last):
        tick = f"{x0 + year * slot:.1f}"
        out.append(
            f'<line class="axis" x1="{tick}" y1="{PLOT_BOTTOM}" x2="{tick}" y2="{PLOT_BOTTOM + 5}"/>'
            f'<text x="{tick}" y="{PLOT_BOTTOM + 19}" text-anchor="middle">{year}</text>'
        )
    for (_, year), group in sorted(groups.items()):
        start = x0 + year * slot - (len(group) - 1) / 2 * SPREAD
        for k, e in enumerate(group):
            out.append(mark(e, start + k * SPREAD))
    out.append(f"</svg></div>{_TABLE_HEAD}")
    out.extend(rows)
    out.append("</tbody></table></figure>")


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


def _glance(out: list[str], lines: list[str], refs: Sequence[Entry]) -> None:
    """Append evidence at a glance: its lines, then the picture of ``refs``."""
    items = "".join([f"<li>{escape(line)}</li>" for line in lines])
    out.append(f'<section aria-labelledby="glance"><h2 id="glance">{GLANCE}</h2><ul>{items}</ul>')
    _evidence_svg(out, refs, "fig")
    out.append("</section>\n")


def _footer(reviewed: str | None) -> str:
    return f"<footer><p>{escape(disclaimer(reviewed))}</p></footer>\n</body>\n</html>\n"


def render(summary: Summary) -> str:
    """The summary as one self-contained HTML5 document (UTF-8 text ending in a newline)."""
    return "".join(streamed(summary))


def streamed(summary: Summary) -> Iterator[str]:
    """``render``'s text a section at a time, to be written as it comes."""
    refs = entries(summary.references)
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
    yield "".join(out)
    for i, part in enumerate(summary.sections):
        ident = f"s-{part.section.value}" if part.topic is None else f"s-{i + 1}"
        out = []
        _part(out, part, ident, 2, refs)
        out.append("\n")
        yield "".join(out)
    out = []
    _glance(out, glance_lines(summary.glance), list(refs.values()))
    _references(out, refs)
    out.append("\n</main>\n")
    out.append(_footer(summary.reviewed_through.isoformat() if summary.reviewed_through else None))
    yield "".join(out)


def _section(out: list[str], section: ReportSection, ident: str, k: int, refs: dict[int, Entry]) -> None:
    """Append one section of a report: heading, intro, question, notes, its parts and its picture."""
    from lms_cli.render.report import _filters

    out.append(f'<section aria-labelledby="{ident}"><h2 id="{ident}">{_e(section.heading)}</h2>')
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
        _part(out, part, f"p-{k}-{j + 1}", 3, refs)
    cited = sorted({n for p in section.parts for c in p.claims for n in c.numbers})
    _evidence_svg(out, [refs[n] for n in cited], f"fig-{k}")
    out.append("</section>\n")


def report(report: Report) -> str:
    """The report as one self-contained HTML5 document, with contents, one picture per section."""
    from lms_cli.render.report import unique_ids

    refs = entries(report.references)
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
        _section(out, section, ident, k, refs)
    lines = glance_lines(report.glance) if report.glance.total else ["Sources: 0"]
    _glance(out, lines, list(refs.values()))
    _references(out, refs)
    out.append("\n</main>\n")
    out.append(_footer(report.reviewed_through.isoformat() if report.reviewed_through else None))
    return "".join(out)
