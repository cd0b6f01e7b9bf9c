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

from lms_cli.browse import Detail, ReferenceRow, TopicRow
from lms_cli.cite import CitationStyle, vancouver
from lms_cli.model import RANK_HELP, CitedClaim, Claim, Rank, Reference, Section, Summary, Topic
from lms_cli.render import LEGEND, disclaimer, filters_line, glance_lines, provenance, split_stop
from lms_cli.render import clean as _clean
from lms_cli.text import plural

if TYPE_CHECKING:
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


def print_to(stream: TextIO, renderable: RenderableType) -> None:
    """Print on a console made now, for this stream (NO_COLOR and the width are honoured).

    A width under ``MIN_WIDTH`` (COLUMNS=0, a broken terminal) is taken as ``MIN_WIDTH``.
    """
    from rich.console import Console

    console = Console(file=stream, highlight=False)
    console.width = max(console.width, MIN_WIDTH)
    console.print(renderable)


def draw(renderable: RenderableType, width: int | None = None) -> str:
    """The renderable as a terminal would show it (colour codes kept, unless NO_COLOR), for a pager.

    ``width``: the terminal's (what Rich detects) when None; never under ``MIN_WIDTH``.
    """
    import io

    from rich.console import Console

    out = io.StringIO()
    console = Console(file=out, force_terminal=True, highlight=False)
    console.width = max(width or Console().width, MIN_WIDTH)
    console.print(renderable)
    return out.getvalue()


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


def hanging(marker: str, body: Text, indent: int = 1) -> RenderableType:
    """``marker`` then ``body``, wrapped lines starting under the body, not at the margin."""
    from rich.table import Table

    grid = Table.grid(padding=(0, 1, 0, 0))
    grid.add_column(no_wrap=True, justify="right")
    grid.add_column(overflow="fold")
    grid.add_row(Text(marker, style="bold"), body)
    return Padding(grid, (0, 0, 0, indent)) if indent else grid


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
                parts.append(Padding(_claim_line(c, ranks), (0, 0, 0, 1)))
            else:
                parts.append(hanging("\u2022", _claim_line(c, ranks)))
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
        line.append_text(badge(ref.rank))
        line.append(" " + clean(vancouver(ref)))
        if ref.n:
            line.append(f" n={ref.n}", style="dim")
        parts.append(hanging(f"{entry.number:>2}.", line, indent=0))
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
