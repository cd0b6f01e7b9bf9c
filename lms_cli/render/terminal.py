"""Rich renderer for terminals: rank badges, headings; evidence text is never markup.

This is the only module that imports Rich, and only the commands that draw on a
terminal import it.
"""

from __future__ import annotations

import functools
import itertools
import re
from collections.abc import Iterator, Sequence
from typing import TYPE_CHECKING, TextIO

from rich.cells import cell_len
from rich.console import Console, ConsoleOptions, Group, RenderableType, RenderResult
from rich.padding import Padding
from rich.rule import Rule
from rich.text import Text

from lms_cli.browse import Detail, ReferenceRow, TopicRow
from lms_cli.cite import CitationStyle, vancouver
from lms_cli.model import RANK_HELP, CitedClaim, Claim, Rank, Reference, Section, Summary, Topic
from lms_cli.render import LEGEND, disclaimer, filters_line, glance_lines, provenance, split_stop
from lms_cli.render import clean as _clean
from lms_cli.text import plural

if TYPE_CHECKING:
    from rich.measure import Measurement
    from rich.style import Style

    from lms_cli.refs.updates import Updates
    from lms_cli.refs.verify import Result

RANK_STYLE: dict[Rank, str] = {
    Rank.GUIDELINE: "bold white on blue",
    Rank.META_ANALYSIS: "bold white on dark_green",
    Rank.RCT: "bold black on green",
    Rank.PROSPECTIVE: "bold black on cyan",
    Rank.RETROSPECTIVE: "bold black on yellow",
    Rank.CASE_SERIES: "bold black on bright_magenta",
    Rank.REVIEW: "bold black on white",
    Rank.EXPERT_OPINION: "bold white on grey37",
}


#: The most characters of one text (a claim, a title) drawn on a terminal: Rich's wrapping
#: took 68 s for a 10 MB claim. 20,000 is ten times the longest bundled claim; Markdown and
#: JSON print the whole text.
MAX_TEXT = 20_000


def clean(text: str) -> str:
    """Text safe to draw (as ``render.clean``), cut at ``MAX_TEXT`` characters."""
    if len(text) <= MAX_TEXT:
        return _clean(text)
    shown = _clean(text[: MAX_TEXT + 1000])[:MAX_TEXT]
    return f"{shown}... [cut at {MAX_TEXT:,} characters; --format markdown shows it all]"


#: The narrowest output drawn: COLUMNS=0 printed nothing, COLUMNS=1 one letter a line.
MIN_WIDTH = 40


def print_to(stream: TextIO, renderable: RenderableType, color: bool | None = None) -> None:
    """Print on a console made now, for this stream (NO_COLOR and the width are honoured).

    A width under ``MIN_WIDTH`` (COLUMNS=0, a broken terminal) is taken as ``MIN_WIDTH``.
    Written as it is drawn, a few dozen claims at a time: the first screen shows at once.
    ``color``: True draws colour and styles even when the stream is no terminal (`| less -R`),
    False never writes an escape code; None lets the stream (and NO_COLOR) decide.
    """
    console = Console(file=stream, highlight=False, force_terminal=color)
    console.width = max(console.width, MIN_WIDTH)
    if console.legacy_windows:  # drawn by Windows calls, not codes: Rich's own business
        console.print(renderable)
        return
    for piece in pieces(console, renderable):
        stream.write(piece)
        stream.flush()


def drawing(renderable: RenderableType, width: int | None = None, color: bool | None = None) -> Iterator[str]:
    """The renderable as a terminal would show it (colour codes kept, unless NO_COLOR; no
    escape code at all when ``color`` is False), in pieces drawn when asked for: a pager quit after one screen stops
    the drawing there.

    ``width``: the terminal's (what Rich detects) when None; never under ``MIN_WIDTH``.
    """
    import io

    console = Console(file=io.StringIO(), force_terminal=color is not False, highlight=False)
    console.width = max(width or Console().width, MIN_WIDTH)
    return pieces(console, renderable)


def draw(renderable: RenderableType, width: int | None = None) -> str:
    """All of ``drawing(renderable, width)`` as one text."""
    return "".join(drawing(renderable, width))


def badge(rank: Rank) -> Text:
    """A rank as one coloured word (one word, so wrapping never splits it)."""
    return Text(rank.value, style=RANK_STYLE[rank])


#: Text and its style (None: plain), the pieces of a ``Hanging`` body.
Styled = list[tuple[str, str | None]]


def _claim_line(c: CitedClaim, ranks: dict[int, Rank]) -> Styled:
    """Badge first, then the statement; each citation number is coloured by its source's rank."""
    body, stop = split_stop(clean(c.claim.statement))
    line: Styled = [(c.rank.value, RANK_STYLE[c.rank]), (" " + body + " [", None)]
    for i, number in enumerate(c.numbers):
        if i:
            line.append((", ", None))
        line.append((str(number), RANK_STYLE[ranks[number]]))
    line.append(("]" + stop, None))
    return line


# --- drawing long answers ----------------------------------------------------------------------
#
# A topic of 2,000 claims took 4.6 s to draw through Rich's layout (a table per bullet,
# measured and wrapped several times, then every segment split and measured again by
# ``Console.print``) against 0.03 s for the same answer in Markdown. The bullets and
# references are ``Hanging`` parts that lay out their own lines, as Rich would, character
# for character, and ``pieces`` writes them without ``Console.print``; whatever else is in
# the answer (headings, the glance) is printed by Rich itself.

#: How many bullets or references go into one piece of output.
PIECE = 64

#: A style's codes before and after a text: ``(prefix, suffix)``.
Codes = tuple[str, str]


class Painter:
    """A console's codes for the styles of ``Hanging`` parts, each worked out once.

    The same codes ``Console.print`` writes: a style's ANSI codes in the console's colour
    system, colours removed under NO_COLOR, nothing at all without a colour system.
    """

    def __init__(self, console: Console) -> None:
        from rich.console import COLOR_SYSTEMS
        from rich.style import Style

        self.console = console
        self.system = COLOR_SYSTEMS.get(console.color_system or "")
        self.no_color = console.no_color and self.system is not None
        self._null = Style.null()
        self._codes: dict[object, Codes | None] = {}

    def style(self, name: str | Style) -> Style:
        """The style a Text span of ``name`` draws with (as ``Text.render`` combines it)."""
        return self._null + self.console.get_style(name, default=self._null)

    def codes(self, name: str | Style) -> Codes | None:
        """``name``'s codes, or None for a style they cannot stand for (a link)."""
        if name not in self._codes:
            style = self.style(name)
            if self.no_color:
                style = style.without_color
            if style.link:
                self._codes[name] = None
            else:
                prefix, _, suffix = style.render("\0", color_system=self.system).partition("\0")
                self._codes[name] = (prefix, suffix)
        return self._codes[name]


def pieces(console: Console, renderable: RenderableType) -> Iterator[str]:
    """What ``console.print(renderable)`` writes, the same characters, in pieces drawn in turn.

    A ``Group``'s parts are drawn in order (each ends its last line, so drawing them apart
    changes nothing); ``Hanging`` parts paint themselves, the others are printed by Rich.
    """
    parts = renderable.renderables if isinstance(renderable, Group) else [renderable]
    # Legacy Windows consoles and notebooks are not written with codes: leave them to Rich.
    painter = None if console.legacy_windows or console.is_jupyter else Painter(console)
    width = console.options.max_width
    waiting: list[RenderableType] = []
    drawn: list[str] = []
    for part in parts:
        painted = part.paint(painter, width) if painter and isinstance(part, Hanging) else None
        if painted is None:
            if drawn:
                yield "".join(drawn)
                drawn.clear()
            waiting.append(part)
            continue
        if waiting:
            yield _printed(console, waiting)
            waiting.clear()
        drawn.append(painted)
        if len(drawn) >= PIECE:
            yield "".join(drawn)
            drawn.clear()
    if drawn:
        yield "".join(drawn)
    if waiting:
        yield _printed(console, waiting)


def _printed(console: Console, parts: list[RenderableType]) -> str:
    with console.capture() as captured:
        console.print(Group(*parts))
    return captured.get()


#: A space and the word after it: where a run of spaces ends.
_WORD = re.compile(r"[^ ]")


def breaks(text: str, width: int) -> list[int] | None:
    """Where Rich's word wrap breaks ``text`` into lines of ``width`` cells, or None.

    For text of one-cell characters whose only blank is the space and which starts with a
    word, the offsets ``rich._wrap.divide_line`` returns, found with a few string searches
    a line instead of measuring every word. None when a word is wider than a line (Rich
    folds it).
    """
    found: list[int] = []
    end = len(text)
    start = 0
    while True:
        limit = start + width  # a word fits on this line if it ends by here
        if limit >= end:
            return found
        if text[limit] == " ":
            after = _WORD.search(text, limit)
            if after is None:  # only spaces are left: they end this line
                return found
            word = after.start()
        else:
            word = text.rfind(" ", start, limit) + 1
            if word <= start:  # the line's first word is wider than the line
                return None
        word_end = text.find(" ", word)
        if (word_end if word_end >= 0 else end) - word > width:
            return None
        found.append(word)
        start = word


def _simple(text: str) -> bool:
    """Text whose every character takes one cell, whose only blank is the space, starting with a word."""
    if not text or text[0] == " " or not text.isprintable():
        return False
    return text.isascii() or all(cell_len(c) == 1 for c in set(text))


@functools.cache
def _simple_marker(marker: str) -> bool:
    """``_simple`` for a marker, worked out once (every bullet has the same)."""
    return _simple(marker)


#: A piece of a Text with its style: start, end, style.
Piece = tuple[int, int, "str | Style"]


class Hanging:
    """``marker`` then ``body``, wrapped lines starting under the body, not at the margin.

    Without a marker, ``body`` only indented. Drawn as ``rich()`` (a Rich grid in a
    ``Padding``) draws it, the same segments, but laid out here; text that this cannot lay
    out exactly (wide or zero-width characters, a word wider than the line, tabs) is left
    to that grid. ``body`` is a Text, or (text, style) pieces (cheaper than a Text).
    """

    def __init__(self, marker: str | None, body: Text | Styled, indent: int = 1) -> None:
        self.marker = marker
        self.indent = indent
        self.spans: list[Piece] = []
        if isinstance(body, Text):
            self._body: Text | None = body
            self.plain = body.plain
            self.spans = [(s.start, s.end, s.style) for s in body.spans if s.start < s.end]
            simple = not (body.justify or body.overflow or body.no_wrap is not None or body.style) and all(
                a[1] <= b[0]
                for a, b in itertools.pairwise(self.spans)  # overlapping styles: Rich combines them
            )
        else:  # pieces follow each other: their styles never overlap
            self._body = None
            self.plain = "".join(text for text, _ in body)
            at = 0
            for text, style in body:
                if style and text:
                    self.spans.append((at, at + len(text), style))
                at += len(text)
            simple = True
        self._simple = simple and _simple(self.plain) and (marker is None or _simple_marker(marker))

    @property
    def body(self) -> Text:
        """The body as one Text."""
        if self._body is None:
            from rich.text import Span

            self._body = Text(self.plain, spans=[Span(*s) for s in self.spans])
        return self._body

    def rich(self) -> RenderableType:
        """The same drawing made by Rich's own layout: what this part must draw."""
        if self.marker is None:
            return Padding(self.body, (0, 0, 0, self.indent))
        from rich.table import Table

        grid = Table.grid(padding=(0, 1, 0, 0))
        grid.add_column(no_wrap=True, justify="right")
        grid.add_column(overflow="fold")
        grid.add_row(Text(self.marker, style="bold"), self.body)
        return Padding(grid, (0, 0, 0, self.indent)) if self.indent else grid

    def rows(self, width: int) -> list[tuple[int, int, int]] | None:
        """Each line at ``width`` cells: where its text starts and ends, and the spaces after
        it; None when only ``rich()`` can lay the text out."""
        if not self._simple:
            return None
        cell = 0 if self.marker is None else len(self.marker) + 1  # the marker and a space
        room = width - self.indent - cell
        if room < 1:
            return None
        text = self.plain
        length = len(text)
        if length <= room:
            # One line. A grid is as wide as its text; a Padding pads it to the full width.
            padded = self.indent or self.marker is None
            return [(0, length, room - length if padded else 0)]
        offsets = breaks(text, room)
        if offsets is None:
            return None
        rows = []
        cuts = [0, *offsets, length]
        for a, cut in itertools.pairwise(cuts):
            b = cut
            if b - a > room:  # only spaces go past the line: Rich cuts them back to it
                b = max(len(text[a:b].rstrip(" ")) + a, a + room)
            rows.append((a, b, room - (b - a)))
        return rows

    def _heads(self) -> tuple[str, str]:
        """What precedes the first line before the marker, and every other line."""
        cell = 0 if self.marker is None else len(self.marker) + 1
        return " " * self.indent, " " * (self.indent + cell)

    def paint(self, painter: Painter, width: int) -> str | None:
        """The lines as ``console.print`` writes them, or None when Rich must draw them."""
        rows = self.rows(width)
        if rows is None:
            return None
        codes = []
        for _, _, style in self.spans:
            got = painter.codes(style)
            if got is None:
                return None
            codes.append(got)
        text = self.plain
        first, other = self._heads()
        if self.marker is not None:
            bold = painter.codes("bold")
            if bold is None:
                return None
            first += bold[0] + self.marker + bold[1] + " "
        out: list[str] = []
        append = out.append
        spans = self.spans
        count = len(spans)
        k = 0
        for row, (a, b, pad) in enumerate(rows):
            append(other if row else first)
            while k < count and spans[k][1] <= a:
                k += 1
            pos = a
            while k < count and spans[k][0] < b:
                start, end, _ = spans[k]
                if start > pos:
                    append(text[pos:start])
                    pos = start
                stop = end if end < b else b
                prefix, suffix = codes[k]
                append(prefix + text[pos:stop] + suffix)
                pos = stop
                if end > b:  # the span goes on on the next line
                    break
                k += 1
            if pos < b:
                append(text[pos:b])
            append(" " * pad + "\n")
        return "".join(out)

    def __rich_measure__(self, console: Console, options: ConsoleOptions) -> Measurement:
        from rich.measure import Measurement

        return Measurement.get(console, options, self.rich())

    def __rich_console__(self, console: Console, options: ConsoleOptions) -> RenderResult:
        rows = None
        if options.justify is None and options.overflow is None and not options.no_wrap:
            rows = self.rows(options.max_width)
        if rows is None:
            yield self.rich()
            return
        from rich.segment import Segment

        painter = Painter(console)
        styles = [painter.style(style) for _, _, style in self.spans]
        first, other = self._heads()
        text = self.plain
        k = 0
        for row, (a, b, pad) in enumerate(rows):
            if row or self.marker is None:
                yield Segment(first if not row else other)
            else:
                yield Segment(first)
                yield Segment(self.marker, painter.style("bold"))
                yield Segment(" ")
            while k < len(self.spans) and self.spans[k][1] <= a:
                k += 1
            pos = a
            while k < len(self.spans) and self.spans[k][0] < b:
                start, end, _ = self.spans[k]
                if start > pos:
                    yield Segment(text[pos:start])
                    pos = start
                stop = min(end, b)
                yield Segment(text[pos:stop], styles[k])
                pos = stop
                if end > b:
                    break
                k += 1
            if pos < b:
                yield Segment(text[pos:b])
            yield Segment(" " * pad + "\n")


def hanging(marker: str, body: Text | Styled, indent: int = 1) -> RenderableType:
    """``marker`` then ``body``, wrapped lines starting under the body, not at the margin."""
    return Hanging(marker, body, indent)


def _heading(text: str) -> Rule:
    return Rule(Text(text, style="bold"), align="left", style="dim")


def render(summary: Summary, citations: CitationStyle = CitationStyle.NUMBERS) -> RenderableType:
    """The summary as a Rich renderable (the caller's console prints it)."""
    ranks = {e.number: e.reference.rank for e in summary.references}
    parts: list[RenderableType] = [Text(clean(summary.topic.question), style="bold underline"), Text()]
    for part in summary.sections:
        parts.append(_heading(clean(part.heading)))
        for c in part.claims:
            if part.section is Section.ANSWER:
                parts.append(Hanging(None, _claim_line(c, ranks)))
            else:
                parts.append(Hanging("\u2022", _claim_line(c, ranks)))
        parts.append(Text())
    parts.append(_heading("Evidence at a glance"))
    glance = Text()
    for rank, n in summary.glance.by_rank:
        glance.append_text(badge(rank))
        glance.append(f" {n}   ")
    parts.append(glance)
    for extra in glance_lines(summary.glance)[1:] + ([f] if (f := filters_line(summary)) else []):
        parts.append(Text(extra))
    parts.append(Text())
    parts.append(_heading("References"))
    for entry in summary.references:
        ref = entry.reference
        line: Styled = [(ref.rank.value, RANK_STYLE[ref.rank]), (" " + clean(vancouver(ref)), None)]
        if ref.n:
            line.append((f" n={ref.n}", "dim"))
        parts.append(Hanging(f"{entry.number:>2}.", line, indent=0))
    parts.append(Text(LEGEND, style="dim italic"))
    parts.append(Text())
    reviewed = summary.reviewed_through.isoformat() if summary.reviewed_through else None
    parts.append(Text(disclaimer(reviewed), style="italic"))
    return Group(*parts)


def topics(rows: list[TopicRow]) -> RenderableType:
    """`lms topics` as a table."""
    from rich.table import Table

    table = Table(box=None, header_style="bold")
    table.add_column("Topic", style="cyan", no_wrap=True)
    table.add_column("Question")
    table.add_column("Claims", justify="right")
    table.add_column("Refs", justify="right")
    for r in rows:
        table.add_row(Text(clean(r.slug)), Text(clean(r.question)), str(r.claims), str(r.references))
    return table


def detail(d: Detail) -> RenderableType:
    """`lms show ID` on a terminal: headings, wrapped text with hanging indents, rank badges."""
    item = d.item
    parts: list[RenderableType] = []
    if isinstance(item, Topic):
        parts += [Text(f"{clean(item.title)} ({item.slug})", style="bold underline"), Text(clean(item.question))]
        if item.aliases:
            parts.append(Text("Aliases: " + ", ".join(clean(a) for a in item.aliases), style="dim"))
        parts += [Text(), _heading("Claims")]
        parts += [_claim_item(c) for c in d.claims]
    elif isinstance(item, Reference):
        head = Text()
        head.append_text(badge(item.rank))
        head.append(" " + item.id, style="bold")
        parts += [head, Text(clean(vancouver(item)))]
        facts = [("Rank", f"{item.rank.value}: {RANK_HELP[item.rank]}"), ("Citation key", item.key)]
        if item.n:
            facts.append(("Participants", str(item.n)))
        if (seen := provenance(item)) is not None:
            facts.append(("Provenance", seen))
        if item.note:
            facts.append(("Note", clean(item.note)))
        parts += [_facts(facts)]
        if item.findings:
            parts += [Text(), _heading("Findings")]
            parts += [hanging("\u2022", Text(clean(f))) for f in item.findings]
        parts += [Text(), _heading("Cited by")]
        parts += [_claim_item(c) for c in d.claims] or [Text(" (no claim)")]
    else:
        parts += [Text(item.id, style="bold"), Text(clean(item.statement))]
        facts = [
            ("Section", item.section.value),
            ("Topics", ", ".join(item.topics)),
            ("Population", item.population.value),
            ("Support", item.support.value),
        ]
        if item.reviewed:
            facts.append(("Reviewed", item.reviewed.isoformat()))
        parts += [_facts(facts), Text(), _heading("References")]
        for i, r in enumerate(d.references, 1):
            line = Text()
            line.append_text(badge(r.rank))
            line.append(" " + clean(vancouver(r)))
            parts.append(hanging(f"{i}.", line, indent=0))
    return Group(*parts)


def _facts(rows: list[tuple[str, str]]) -> RenderableType:
    from rich.table import Table

    grid = Table.grid(padding=(0, 1, 0, 0))
    grid.add_column(style="bold", no_wrap=True)
    grid.add_column(overflow="fold")
    for name, value in rows:
        grid.add_row(name + ":", Text(value))
    return grid


def _claim_item(claim: Claim) -> RenderableType:
    body = Text()
    body.append(claim.id, style="bold")
    body.append(f" ({claim.section.value}; {', '.join(claim.topics)}) ", style="dim")
    body.append(clean(claim.statement))
    return hanging("\u2022", body)


STATUS_STYLE = {
    "verified": "green",
    "mismatch": "yellow",
    "not-found": "red",
    "retracted": "bold red",
    "unchecked": "dim",
}


def verify(results: Sequence[Result]) -> RenderableType:
    """The verify results as a Rich table (service text is never read as markup)."""
    from rich.console import Group
    from rich.table import Table
    from rich.text import Text

    from lms_cli.refs.verify import describe, summary_line

    table = Table(box=None, header_style="bold")
    table.add_column("Reference", no_wrap=True)
    table.add_column("Status", no_wrap=True)
    table.add_column("Details")
    for r in results:
        table.add_row(
            Text(r.reference.id), Text(r.status.value, style=STATUS_STYLE[r.status.value]), Text(clean(describe(r)))
        )
    return Group(table, Text(), Text(summary_line(results)))


def references(rows: list[ReferenceRow]) -> RenderableType:
    """`lms refs list` as a table with rank badges (ids work with `lms show`)."""
    from rich.table import Table

    table = Table(box=None, header_style="bold")
    table.add_column("Reference", style="cyan", no_wrap=True)
    table.add_column("Rank", no_wrap=True)
    table.add_column("Year", justify="right")
    table.add_column("Author", no_wrap=True)
    table.add_column("Journal")
    table.add_column("PMID", no_wrap=True)
    table.add_column("Claims", justify="right")
    for r in rows:
        table.add_row(
            Text(r.id),
            badge(Rank(r.rank)),
            str(r.year),
            Text(clean(r.first_author)),
            Text(clean(r.journal)),
            r.pmid or "",
            str(r.claims),
        )
    return Group(table, Text(plural(len(rows), "reference") + "."))


DESIGN_STYLE = {
    "guideline": RANK_STYLE[Rank.GUIDELINE],
    "meta-analysis": RANK_STYLE[Rank.META_ANALYSIS],
    "rct": RANK_STYLE[Rank.RCT],
    "clinical-trial": RANK_STYLE[Rank.PROSPECTIVE],
    "other": "",
}


def updates(result: Updates) -> RenderableType:
    """`lms updates` on a terminal: per topic a heading, the counts and a table (text never markup)."""
    from rich.table import Table

    from lms_cli.refs.updates import counts_line, summary_line

    parts: list[RenderableType] = []
    for t in result.topics:
        topic = t.plan.topic
        parts.append(_heading(f"{clean(topic.title)} ({topic.slug})"))
        parts.append(Text(f"Query: {clean(t.plan.query)}", style="dim"))
        parts.append(
            Text(f"Entry dates {t.plan.window.start.isoformat()} to {t.searched_to.isoformat()}. {counts_line(t)}")
        )
        for p in t.present:
            parts.append(Text(f"In the base as {p.reference} by DOI: PMID {p.pmid}", style="dim"))
        if t.items:
            table = Table(box=None, header_style="bold", pad_edge=False)
            table.add_column("Design", no_wrap=True)
            table.add_column("Date", no_wrap=True)
            table.add_column("Title")
            table.add_column("Journal")
            table.add_column("PMID", no_wrap=True)
            table.add_column("Flags", no_wrap=True, style="bold red")
            for i in t.items:
                table.add_row(
                    Text(i.design.value, style=DESIGN_STYLE[i.design.value]),
                    Text(i.date or ""),
                    Text(clean(i.title)),
                    Text(clean(i.journal or "")),
                    Text(i.pmid),
                    Text(", ".join(i.flags)),
                )
            parts.append(table)
        parts.append(Text())
    for s in result.skipped:
        parts.append(Text(f"Skipped {s.slug}: {s.reason}.", style="dim"))
    parts.append(Text(summary_line(result)))
    return Group(*parts)


# --- trials (lms trials, ask --trials) ---------------------------------------------------------

if TYPE_CHECKING:
    from lms_cli.refs.trials import Trials


def _trials_table(result: Trials, shown: int | None = None) -> RenderableType:
    from rich.table import Table

    from lms_cli.refs.trials import phase_label, status_label

    # The title gets most of the width, with the sponsor and countries under it (dim).
    table = Table(box=None, header_style="bold", expand=True)
    table.add_column("Trial", no_wrap=True)
    table.add_column("Title", ratio=1, overflow="fold")
    table.add_column("Phase", no_wrap=True)
    table.add_column("Status", min_width=10)
    table.add_column("Updated", no_wrap=True)
    for row in result.rows[:shown]:
        s = row.study
        nct = Text(s.nct, style=f"link {s.url}")
        if row.cited:
            nct.append(" *", style="bold")
        title = Text(clean(s.title))
        where = "; ".join(x for x in (clean(s.sponsor or ""), clean(", ".join(s.countries))) if x)
        if shown is None and where:
            title.append("\n" + where, style="dim")
        table.add_row(nct, title, Text(phase_label(s.phases)), Text(status_label(s.status)), Text(s.last_update or ""))
    return table


def trials(result: Trials) -> RenderableType:
    """`lms trials` on a terminal: a table (NCT ids link to the record), then the search and the note."""
    from lms_cli.refs.trials import describe_query, disclaimer, limit_note, none_found

    q = result.query
    head = f"Open clinical trials: {q.question}" if q.question else "Open clinical trials for leiomyosarcoma"
    parts: list[RenderableType] = [Text(clean(head), style="bold underline"), Text(describe_query(q), style="dim")]
    parts.append(Text())
    if result.rows:
        parts.append(_trials_table(result))
        if any(r.cited for r in result.rows):
            parts.append(Text("* cited by the evidence", style="dim"))
    else:
        parts.append(Text(none_found(result)))
    if note := limit_note(result):
        parts.append(Text(note))
    parts += [Text(), Text(disclaimer(result), style="italic")]
    return Group(*parts)


#: What Env.emit draws (Rich lays the renderable out as it is drawn).
streamed = render


def with_trials(summary: Summary, result: Trials, citations: CitationStyle = CitationStyle.NUMBERS) -> RenderableType:
    """`ask --trials` on a terminal: the answer, then "Open trials" before the closing line."""
    from lms_cli.refs.trials import ASK_SHOWN, fetched_text

    answer = render(summary, citations)
    assert isinstance(answer, Group)
    *body, closing = answer.renderables
    cached = " from the cache" if result.from_cache else ""
    section: list[RenderableType] = [_heading("Open trials")]
    fetched = f"ClinicalTrials.gov, fetched {fetched_text(result.fetched_at)}{cached}."
    section.append(Text(fetched + " Discuss any trial with the treating team."))
    if result.rows:
        section.append(_trials_table(result, ASK_SHOWN))
        rest = len(result.rows) - ASK_SHOWN
        if rest > 0 or result.more:
            topic = f" {result.query.topic}" if result.query.topic else ""
            section.append(Text(f"More: lms trials{topic}", style="dim"))
        if any(r.cited for r in result.rows[:ASK_SHOWN]):
            section.append(Text("* cited by this answer", style="dim"))
    else:
        section.append(Text("No trial on ClinicalTrials.gov matches this question."))
    return Group(*body, *section, Text(), closing)
