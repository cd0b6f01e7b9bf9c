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
from lms_cli.render import LEGEND, clean, disclaimer, filters_line, glance_lines, split_stop

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


def print_to(stream: TextIO, renderable: RenderableType) -> None:
    """Print on a console made now, for this stream (NO_COLOR and the width are honoured)."""
    from rich.console import Console

    Console(file=stream, highlight=False).print(renderable)


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
    from lms_cli.render import clean

    table = Table(box=None, header_style="bold")
    table.add_column("Reference", no_wrap=True)
    table.add_column("Status", no_wrap=True)
    table.add_column("Details")
    for r in results:
        table.add_row(
            Text(r.reference.id), Text(r.status.value, style=STATUS_STYLE[r.status.value]), Text(clean(describe(r)))
        )
    return Group(table, Text(), Text(summary_line(results)))


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
