"""Rich renderer for terminals: rank badges, headings; evidence text is never markup.

This is the only module that imports Rich, and only the commands that draw on a
terminal import it.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, TextIO

from rich.console import Group, RenderableType
from rich.padding import Padding
from rich.rule import Rule
from rich.text import Text

from lms_cli.browse import Detail, TopicRow
from lms_cli.cite import CitationStyle, vancouver
from lms_cli.model import CitedClaim, Rank, Section, Summary
from lms_cli.render import LEGEND, disclaimer, filters_line, glance_lines, split_stop
from lms_cli.render import clean as _clean

if TYPE_CHECKING:
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


def print_to(stream: TextIO, renderable: RenderableType) -> None:
    """Print on a console made now, for this stream (NO_COLOR and the width are honoured).

    A width under ``MIN_WIDTH`` (COLUMNS=0, a broken terminal) is taken as ``MIN_WIDTH``.
    """
    from rich.console import Console

    console = Console(file=stream, highlight=False)
    console.width = max(console.width, MIN_WIDTH)
    console.print(renderable)


def badge(rank: Rank) -> Text:
    """A rank as one coloured word (one word, so wrapping never splits it)."""
    return Text(rank.value, style=RANK_STYLE[rank])


def _claim_line(c: CitedClaim, ranks: dict[int, Rank]) -> Text:
    """Badge first, then the statement; each citation number is coloured by its source's rank."""
    body, stop = split_stop(clean(c.claim.statement))
    line = Text()
    line.append_text(badge(c.rank))
    line.append(" " + body + " [")
    for i, number in enumerate(c.numbers):
        if i:
            line.append(", ")
        line.append(str(number), style=RANK_STYLE[ranks[number]])
    line.append("]" + stop)
    return line


def _heading(text: str) -> Rule:
    return Rule(Text(text, style="bold"), align="left", style="dim")


def render(summary: Summary, citations: CitationStyle = CitationStyle.NUMBERS) -> RenderableType:
    """The summary as a Rich renderable (the caller's console prints it)."""
    ranks = {e.number: e.reference.rank for e in summary.references}
    parts: list[RenderableType] = [Text(clean(summary.topic.question), style="bold underline"), Text()]
    for part in summary.sections:
        parts.append(_heading(clean(part.heading)))
        for c in part.claims:
            bullet = Text("" if part.section is Section.ANSWER else "\u2022 ")
            bullet.append_text(_claim_line(c, ranks))
            parts.append(Padding(bullet, (0, 0, 0, 1)))
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
        line = Text()
        line.append(f"{entry.number:>2}. ", style="bold")
        line.append_text(badge(ref.rank))
        line.append(" " + clean(vancouver(ref)))
        if ref.n:
            line.append(f" n={ref.n}", style="dim")
        parts.append(line)
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


def detail(d: Detail) -> str:
    """`lms show` on a terminal: the Markdown text (it reads well as it is)."""
    from lms_cli.render import markdown

    return markdown.detail(d)


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
