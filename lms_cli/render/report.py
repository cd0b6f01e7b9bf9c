"""Report renderers: a Markdown document with a table of contents, and one JSON object."""

from __future__ import annotations

from typing import Any

from lms_cli.cite import CitationStyle
from lms_cli.model import Filters, Glance
from lms_cli.render import clean, disclaimer, glance_lines, hidden_note
from lms_cli.render import json as render_json
from lms_cli.render import markdown as md
from lms_cli.report import Report, ReportSection

CONTENTS = "Contents"
GLANCE = "Evidence at a glance"
REFERENCES = "References"


def heading_id(text: str) -> str:
    """The identifier pandoc gives a heading (auto_identifiers), so contents links resolve.

    Lower case; keep letters, digits, '_', '-', '.' and spaces; words joined by '-';
    drop everything before the first letter; 'section' when nothing is left.
    """
    kept = "".join(c for c in clean(text).lower() if c.isalnum() or c in "_-." or c.isspace())
    ident = "-".join(kept.split())
    start = next((i for i, c in enumerate(ident) if c.isalpha()), len(ident))
    return ident[start:] or "section"


def unique_ids(texts: list[str], used: set[str] | None = None) -> list[str]:
    """Identifiers for headings in document order; repeats get -1, -2 ... as pandoc does.

    Linear: each base id remembers the last suffix it gave, so 10,000 equal headings
    cost ~10,000 probes of ``used``, not 50 million (a report of 10,000 sections took 64 s).
    """
    used = set() if used is None else used
    last: dict[str, int] = {}
    out = []
    for text in texts:
        base = ident = heading_id(text)
        n = last.get(base, 0)
        if n:
            ident = f"{base}-{n}"
        while ident in used:
            n += 1
            ident = f"{base}-{n}"
        last[base] = n
        used.add(ident)
        out.append(ident)
    return out


def _filters(filters: Filters) -> str | None:
    given = [f"{k.replace('_', '-')} {v}" for k, v in filters.as_dict().items() if v is not None]
    return ("Filters: " + "; ".join(given) + ".") if given else None


def _glance(glance: Glance) -> list[str]:
    return glance_lines(glance) if glance.total else ["Sources: 0"]


def _section_lines(section: ReportSection, mark: md.Mark) -> list[str]:
    lines = [f"## {md.escape(section.heading)}", ""]
    if section.intro:
        lines += [md.escape(section.intro), ""]
    lines += [f"*{md.escape(section.topic.question)}*", ""]
    if (filters := _filters(section.filters)) is not None:
        lines += [filters, ""]
    if (note := hidden_note(section.hidden)) is not None:  # in the document: a reader must see it
        lines += [f"*{md.escape(note)}*", ""]
    if section.empty:
        lines += [f"*{md.escape(section.empty)}*", ""]
    for part in section.parts:
        lines.extend(md.section_lines(part, level=3, mark=mark))
    return lines


def markdown(report: Report, citations: CitationStyle = CitationStyle.NUMBERS) -> str:
    """The report as one Markdown document ending in a newline."""
    headings = [report.title, CONTENTS]
    for s in report.sections:
        headings.append(s.heading)
        headings.extend(p.section.heading for p in s.parts)
    headings += [GLANCE, REFERENCES]
    ids = dict(enumerate(unique_ids(headings)))
    # positions of the headings the contents list links to, in the same order as `headings`
    linked, i = [], 2
    for s in report.sections:
        linked.append((s.heading, ids[i]))
        i += 1 + len(s.parts)
    linked += [(GLANCE, ids[i]), (REFERENCES, ids[i + 1])]

    lines = [f"# {md.escape(report.title)}", ""]
    if report.subtitle:
        lines += [f"*{md.escape(report.subtitle)}*", ""]
    byline = ", ".join(md.escape(a) for a in report.author)
    lines += [(f"{byline} \u00b7 " if byline else "") + report.date.isoformat(), ""]
    lines += [f"## {CONTENTS}", ""]
    lines += [f"- [{md.escape(text)}](#{ident})" for text, ident in linked]
    lines.append("")
    mark = md.marker(report.references, citations)
    for section in report.sections:
        lines.extend(_section_lines(section, mark))
    lines += [f"## {GLANCE}", ""]
    lines.extend(f"- {line}" for line in _glance(report.glance))
    lines.append("")
    if report.references or citations is CitationStyle.PANDOC:
        lines.extend(md.reference_lines(report.references, style=citations))
    else:
        lines += [f"## {REFERENCES}", "", "No sources are cited.", ""]
    reviewed = report.reviewed_through.isoformat() if report.reviewed_through else None
    lines += ["---", "", f"*{disclaimer(reviewed)}*", ""]
    lines += md.metadata(
        [
            ("title", report.title),
            ("subtitle", report.subtitle),
            ("author", report.author),
            ("date", report.date.isoformat()),
        ]
    )
    return "\n".join(lines)


def report_dict(report: Report) -> dict[str, Any]:
    """A report as the JSON object `lms report --format json` prints."""
    reviewed = report.reviewed_through.isoformat() if report.reviewed_through else None
    return {
        "schema_version": render_json.SCHEMA_VERSION,
        "report": {
            "title": report.title,
            "subtitle": report.subtitle,
            "author": list(report.author),
            "date": report.date.isoformat(),
        },
        "sections": [
            {
                "topic": {"slug": s.topic.slug, "title": s.topic.title, "question": s.topic.question},
                "heading": s.heading,
                "intro": s.intro,
                "filters": s.filters.as_dict(),
                "empty": s.empty,
                "hidden": render_json.hidden_list(s.hidden),
                "sections": render_json.sections_list(s.parts),
            }
            for s in report.sections
        ],
        "references": [{"number": e.number, **render_json.reference_dict(e.reference)} for e in report.references],
        "glance": render_json.glance_dict(report.glance),
        "reviewed_through": reviewed,
        "disclaimer": disclaimer(reviewed),
    }


def json(report: Report) -> str:
    """The report as one JSON object (the same claim and reference shapes as `lms ask`)."""
    return render_json.dumps(report_dict(report))
