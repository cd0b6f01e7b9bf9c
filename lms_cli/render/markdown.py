"""Markdown renderer: CommonMark (and pandoc) text; evidence text is escaped, never structure.

The only links are lms's own: a reference's DOI, PMID and PMCID, to the addresses
``render`` builds from them (percent-encoded), and a report's contents.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator, Sequence
from typing import TYPE_CHECKING

from lms_cli.cite import CitationStyle, vancouver
from lms_cli.model import Claim, NumberedReference, Reference, Section, Summary, SummarySection, Topic
from lms_cli.render import (
    LEGEND,
    clean,
    disclaimer,
    doi_url,
    filters_line,
    glance_lines,
    pmc_url,
    provenance,
    pubmed_url,
    split_stop,
)
from lms_cli.text import plural

if TYPE_CHECKING:  # types only: `lms ask` need not import the browsing module
    from lms_cli.browse import Detail, ReferenceRow, TopicRow
    from lms_cli.refs.updates import Updates
    from lms_cli.refs.verify import Result

# Characters that start inline structure in CommonMark or pandoc's Markdown
# (emphasis, links, HTML, entities, tables, math, super/subscript, citations).
_INLINE = re.compile(r"[\\`*_\[\]<>&|~#$^@]")
# Text that would start a block (list item, heading underline, ordered list) at line start.
_BLOCK_START = re.compile(r"^(?:([-+=])|(\d+)([.)]))")


def escape(text: str) -> str:
    """Make evidence text literal: a Markdown parser sees plain text in the same place."""
    return _escape_clean(clean(text))


def _escape_inline(text: str) -> str:
    """Clean text made literal inside a line (a link's text, say): inline structure escaped."""
    if _INLINE.search(text):  # most text has none: a C-speed scan first
        text = _INLINE.sub(lambda m: "\\" + m[0], text)
    return text


def _escape_clean(text: str) -> str:
    if _INLINE.search(text):  # _escape_inline(), spelt out: this runs for every claim and reference
        text = _INLINE.sub(lambda m: "\\" + m[0], text)
    if text[:1] in ("-", "+", "=") or text[:1].isdigit():
        return _BLOCK_START.sub(lambda m: f"\\{m[1]}" if m[1] else f"{m[2]}\\{m[3]}", text)
    return text


def citation(numbers: tuple[int, ...]) -> str:
    """Citation numbers as Markdown: [1, 2]."""
    return "[" + ", ".join(str(n) for n in numbers) + "]"


# pandoc's bare citation key (simpleCiteIdentifier): a word character, then word characters
# with single punctuation marks between them; any other key is written @{key}. ASCII only,
# so non-ASCII keys take the braced form, which pandoc always accepts.
_BARE_KEY = re.compile(r"[A-Za-z0-9_](?:[A-Za-z0-9_]|[:.#$%&\-+?<>~/](?=[A-Za-z0-9_])|[:/](?=/))*")


def pandoc_key(key: str) -> str:
    """`@key` as pandoc reads it: bare when pandoc would read the whole key, else `@{key}`."""
    return f"@{key}" if _BARE_KEY.fullmatch(key) else f"@{{{key}}}"


def pandoc_citation(keys: tuple[str, ...]) -> str:
    """Citation keys as a pandoc citation: [@pmid:1; @doi:x]."""
    return "[" + "; ".join(pandoc_key(k) for k in keys) + "]"


Mark = Callable[[tuple[int, ...]], str]


def marker(refs: tuple[NumberedReference, ...], style: CitationStyle) -> Mark:
    """How citations are written: `[1, 2]`, or `[@pmid:1; @doi:...]` for pandoc --citeproc."""
    if style is CitationStyle.NUMBERS:
        return citation
    keys = {e.number: e.reference.key for e in refs}
    return lambda numbers: pandoc_citation(tuple(keys[n] for n in numbers))


def cited(statement: str, mark: str) -> str:
    """The escaped statement with its citation mark before the closing full stop."""
    body, stop = split_stop(clean(statement))
    return f"{_escape_clean(body)} {mark}{stop}" if body else f"{mark}{stop}"


def section_lines(part: SummarySection, level: int = 2, mark: Mark = citation) -> list[str]:
    """One section: the answer as a paragraph, the others as bullet lists."""
    lines = ["#" * level + " " + escape(part.heading), ""]
    items = [cited(c.claim.statement, mark(c.numbers)) for c in part.claims]
    if part.section is Section.ANSWER:
        lines.append(" ".join(items))
    else:
        lines.extend(f"- {item}" for item in items)
    lines.append("")
    return lines


def linked_reference(ref: Reference) -> str:
    """The reference in Vancouver style, escaped, its DOI, PMID and PMCID links to doi.org, PubMed and PMC.

    Only lms's own addresses become links, built from the identifiers by ``render``'s
    builders (percent-encoded: a DOI's brackets cannot end the link); the identifiers'
    text, like all evidence text, is escaped, so it cannot close the link or start another.
    """
    full = vancouver(ref)
    # each written out, not looped over: this runs for every reference (a PMID or PMCID, being
    # alphanumeric, holds nothing to clean or escape; an identifier that cleans to nothing,
    # which only a hand-built one can, is not linked)
    plain = []
    links = []
    if doi := ref.doi:
        plain.append(f"doi:{doi}.")
        text = _escape_inline(clean(doi))
        links.append(f"doi:[{text}]({doi_url(doi)})." if text else "doi:.")
    if pmid := ref.pmid:
        plain.append(f"PMID: {pmid}.")
        text = pmid if pmid.isalnum() else _escape_inline(clean(pmid))
        links.append(f"PMID: [{text}]({pubmed_url(pmid)})." if text else "PMID: .")
    if pmcid := ref.pmcid:
        plain.append(f"PMCID: {pmcid}.")
        text = pmcid if pmcid.isalnum() else _escape_inline(clean(pmcid))
        links.append(f"PMCID: [{text}]({pmc_url(pmcid)})." if text else "PMCID: .")
    if not links:
        return escape(full)
    tail = " ".join(plain)
    if full.endswith(tail):  # the identifiers close the reference (cleaned: the space before them goes)
        head = full[: len(full) - len(tail)]
    else:  # pragma: no cover - written some other way: the reference without them, then the links
        head = vancouver(ref._replace(doi=None, pmid=None, pmcid=None))
    return f"{escape(head)} {' '.join(links)}"


def reference_line(entry: NumberedReference) -> str:
    """One numbered reference as a Markdown list item, its identifiers as links."""
    ref = entry.reference
    extra = f"Rank: {ref.rank.value}" + (f"; n={ref.n}" if ref.n else "") + "."
    return f"{entry.number}. {linked_reference(ref)} {extra}"


def reference_lines(
    refs: tuple[NumberedReference, ...], level: int = 2, style: CitationStyle = CitationStyle.NUMBERS
) -> list[str]:
    """The numbered reference list; for pandoc, the div where --citeproc puts its bibliography."""
    lines = ["#" * level + " References", ""]
    if style is CitationStyle.PANDOC:
        lines += ["::: {#refs}", ":::"]
    else:
        lines.extend(reference_line(e) for e in refs)
    lines += ["", f"*{LEGEND}*", ""]
    return lines


def _yaml_text(text: str) -> str:
    # pandoc reads metadata values as Markdown: escaped as in the body, then a YAML single-quoted
    # scalar, which keeps backslashes as they are (so other Markdown readers see the same escapes)
    return "'" + escape(clean(text)).replace("'", "''") + "'"


def metadata(fields: list[tuple[str, str | tuple[str, ...] | None]]) -> list[str]:
    """A pandoc metadata block (title, date, ...) for `pandoc -s`; at the end, so the text starts as before.

    Pandoc reads a YAML block anywhere in the document; ``...`` closes it, so other
    Markdown readers show a short paragraph instead of a heading.
    """
    lines = ["---"]
    for name, value in fields:
        if isinstance(value, tuple):
            if value:
                lines.append(f"{name}:")
                lines.extend(f"- {_yaml_text(v)}" for v in value)
        elif value:
            lines.append(f"{name}: {_yaml_text(value)}")
    return [*lines, "...", ""]


def render(summary: Summary, citations: CitationStyle = CitationStyle.NUMBERS) -> str:
    """The whole summary as a Markdown document ending in a newline."""
    return "".join(streamed(summary, citations))


def streamed(summary: Summary, citations: CitationStyle = CitationStyle.NUMBERS) -> Iterator[str]:
    """``render``'s text a section at a time, to be written as it comes: an answer of 27,000
    claims is never held whole, nor its lines."""
    mark = marker(summary.references, citations)
    yield f"# {escape(summary.topic.question)}\n\n"
    for part in summary.sections:
        yield "\n".join(section_lines(part, mark=mark)) + "\n"
    lines = ["## Evidence at a glance", ""]
    lines.extend(f"- {line}" for line in glance_lines(summary.glance))
    if (filters := filters_line(summary)) is not None:
        lines.append(f"- {filters}")
    lines.append("")
    lines.extend(reference_lines(summary.references, style=citations))
    reviewed = summary.reviewed_through.isoformat() if summary.reviewed_through else None
    lines += ["---", "", f"*{disclaimer(reviewed)}*", ""]
    lines += metadata([("title", summary.topic.question), ("date", reviewed)])
    yield "\n".join(lines)


def topics(rows: list[TopicRow]) -> str:
    """`lms topics` as a Markdown table."""
    lines = ["| Topic | Question | Claims | References |", "|---|---|---:|---:|"]
    lines += [f"| {escape(r.slug)} | {escape(r.question)} | {r.claims} | {r.references} |" for r in rows]
    return "\n".join(lines) + "\n"


def _claim_item(claim: Claim) -> str:
    return f"- **{escape(claim.id)}** ({claim.section.value}; {', '.join(claim.topics)}): {escape(claim.statement)}"


def detail(d: Detail) -> str:
    """`lms show ID` as Markdown."""
    item = d.item
    if isinstance(item, Topic):
        lines = [f"# {escape(item.title)} ({escape(item.slug)})", "", escape(item.question), ""]
        if item.aliases:
            lines += ["Aliases: " + ", ".join(escape(a) for a in item.aliases), ""]
        lines += ["## Claims", ""] + [_claim_item(c) for c in d.claims]
    elif isinstance(item, Reference):
        lines = [f"# {escape(item.id)}", "", linked_reference(item), "", f"- Rank: {item.rank.value}"]
        if item.n:
            lines.append(f"- Participants: {item.n}")
        lines.append(f"- Citation key: {escape(item.key)}")
        if item.publication.value != "journal-article":
            lines.append(
                f"- Publication: {item.publication.value}"
                + (f", {escape(item.meeting)}" if item.meeting else "")
                + (f", abstract {escape(item.abstract)}" if item.abstract else "")
            )
        if item.nct:
            lines.append("- Registry: " + ", ".join(escape(n) for n in item.nct))
        if (seen := provenance(item)) is not None:
            lines.append(f"- Provenance: {escape(seen)}")
        if item.note:
            lines.append(f"- Note: {escape(item.note)}")
        if item.findings:
            lines += ["", "## Findings", ""] + [f"- {escape(f)}" for f in item.findings]
        lines += ["", "## Cited by", ""] + ([_claim_item(c) for c in d.claims] or ["- (no claim)"])
    else:
        lines = [
            f"# {escape(item.id)}",
            "",
            escape(item.statement),
            "",
            f"- Section: {item.section.value}",
            f"- Topics: {', '.join(item.topics)}",
            f"- Population: {item.population.value}",
            f"- Support: {item.support.value}",
        ]
        if item.reviewed:
            lines.append(f"- Reviewed: {item.reviewed.isoformat()}")
        lines += ["", "## References", ""]
        lines += [f"{i}. {linked_reference(r)} Rank: {r.rank.value}." for i, r in enumerate(d.references, 1)]
    return "\n".join(lines) + "\n"


def verify(results: Sequence[Result]) -> str:
    """`lms refs verify --format markdown`: a table with one row per reference, then the counts."""
    from lms_cli.refs.verify import describe, summary_line

    lines = ["# Reference check", "", "| reference | status | details |", "|---|---|---|"]
    lines += [f"| {escape(r.reference.id)} | {r.status.value} | {escape(describe(r))} |" for r in results]
    lines += ["", summary_line(results), ""]
    return "\n".join(lines)


def references(rows: list[ReferenceRow]) -> str:
    """`lms refs list` as a Markdown table (ids work with `lms show`)."""
    lines = [
        "| Reference | Rank | Year | First author | Journal | PMID | DOI | Claims |",
        "|---|---|---:|---|---|---|---|---:|",
    ]
    lines += [
        f"| {escape(r.id)} | {r.rank} | {r.year} | {escape(r.first_author)} | {escape(r.journal)} | "
        f"{r.pmid or ''} | {escape(r.doi or '')} | {r.claims} |"
        for r in rows
    ]
    lines += ["", plural(len(rows), "reference") + "."]
    return "\n".join(lines) + "\n"


def updates(result: Updates) -> str:
    """`lms updates --format markdown`: per topic the window, the counts and a table, strongest first."""
    from lms_cli.refs.updates import counts_line, summary_line

    lines = ["# Published since review", ""]
    for t in result.topics:
        topic = t.plan.topic
        lines += [
            f"## {escape(topic.title)} ({escape(topic.slug)})",
            "",
            f"- Query: {escape(t.plan.query)}",
            f"- Entry dates: {t.plan.window.start.isoformat()} to {t.searched_to.isoformat()}",
            f"- {escape(counts_line(t))}",
        ]
        lines += [f"- In the base as {escape(p.reference)} by DOI: PMID {p.pmid}" for p in t.present]
        lines.append("")
        if t.items:
            lines += [
                "| # | design | date | title | journal | PMID | DOI | flags |",
                "|---:|---|---|---|---|---|---|---|",
            ]
            lines += [
                f"| {n} | {i.design.value} | {i.date or ''} | {escape(i.title)} | {escape(i.journal or '')} "
                f"| {i.pmid} | {escape(i.doi or '')} | {', '.join(i.flags)} |"
                for n, i in enumerate(t.items, 1)
            ]
            lines.append("")
    for s in result.skipped:
        lines += [f"Skipped {escape(s.slug)}: {escape(s.reason)}.", ""]
    lines += [summary_line(result), ""]
    return "\n".join(lines)


# --- trials (lms trials, ask --trials) ---------------------------------------------------------

if TYPE_CHECKING:
    from lms_cli.refs.trials import TrialRow, Trials


def _trial_facts(row: TrialRow) -> str:
    from lms_cli.refs.trials import phase_label, status_label

    s = row.study
    facts = [phase_label(s.phases), status_label(s.status)]
    if s.enrollment is not None:
        facts.append(f"{s.enrollment} participants")
    if s.start:
        facts.append(f"start {s.start}")
    if s.last_update:
        facts.append(f"updated {s.last_update}")
    return "; ".join(facts)


def _trial_link(row: TrialRow) -> str:
    # NCT ids are checked against NCT\d{8} by the parser: safe inside a link.
    return f"[{row.study.nct}]({row.study.url})"


def trials(result: Trials) -> str:
    """`lms trials` as Markdown: one numbered item per study, the search and fetch time said."""
    from lms_cli.refs.trials import describe_query, disclaimer, limit_note, none_found

    q = result.query
    head = f"Open clinical trials: {q.question}" if q.question else "Open clinical trials for leiomyosarcoma"
    lines = [f"# {escape(head)}", "", escape(describe_query(q)), ""]
    if not result.rows:
        lines += [none_found(result), ""]
    for i, row in enumerate(result.rows, 1):
        s = row.study
        mark = " **Cited by the evidence.**" if row.cited else ""
        lines.append(f"{i}. {_trial_link(row)}: {escape(s.title)}.{mark}")
        lines.append(f"   - {escape(_trial_facts(row))}")
        if s.conditions:
            lines.append(f"   - Conditions: {escape('; '.join(s.conditions))}")
        if s.interventions:
            lines.append(f"   - Interventions: {escape('; '.join(s.interventions))}")
        if s.sponsor:
            lines.append(f"   - Sponsor: {escape(s.sponsor)}")
        if s.countries:
            lines.append(f"   - Countries: {escape(', '.join(s.countries))}")
    if result.rows:
        lines.append("")
    if note := limit_note(result):
        lines += [escape(note), ""]
    lines += ["---", "", f"*{escape(disclaimer(result))}*", ""]
    return "\n".join(lines)


def trials_section(result: Trials, level: int = 2) -> list[str]:
    """The short "Open trials" section `ask --trials` adds: up to ASK_SHOWN trials, one line each."""
    from lms_cli.refs.trials import ASK_SHOWN, fetched_text, status_label

    q = result.query
    wanted = ", ".join(status_label(s) for s in q.statuses) if q.statuses else "any status"
    lines = [
        "#" * level + " Open trials",
        "",
        f"Trials on ClinicalTrials.gov for this question ({escape(wanted)}), newest update first; "
        f"fetched {fetched_text(result.fetched_at)}{' from the cache' if result.from_cache else ''}. "
        "Discuss any trial with the treating team.",
        "",
    ]
    shown = result.rows[:ASK_SHOWN]
    if not shown:
        lines.append("No trial on ClinicalTrials.gov matches this question.")
    for row in shown:
        mark = " Cited by this answer." if row.cited else ""
        lines.append(f"- {_trial_link(row)}: {escape(row.study.title)}. {escape(_trial_facts(row))}.{mark}")
    rest = len(result.rows) - len(shown)
    if rest > 0 or result.more:
        more = f"{rest} more" if rest > 0 else "More"
        topic = f" {q.topic}" if q.topic else ""
        lines.append(f"- {more}: `lms trials{topic}`.")
    lines.append("")
    return lines  # the answer's own closing line follows


def with_trials(summary: Summary, result: Trials, citations: CitationStyle = CitationStyle.NUMBERS) -> str:
    """`ask --trials` in Markdown: the answer with "## Open trials" after the references, before the closing line."""
    text = render(summary, citations)
    reviewed = summary.reviewed_through.isoformat() if summary.reviewed_through else None
    closing = f"---\n\n*{disclaimer(reviewed)}*\n"
    section = "\n".join(trials_section(result)) + "\n"
    head, found, metadata_block = text.rpartition(closing)
    if found:
        return head + section + closing + metadata_block
    return text + "\n" + section  # pragma: no cover - render always holds the closing line
