"""`lms refs verify` results as JSON, Markdown or a Rich table: every format returns its output."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from lms_cli.refs.verify import Result, counts, describe

SCHEMA_VERSION = 1


def report_json(results: Sequence[Result]) -> str:
    """`lms refs verify --format json`: one object with the results and a count per status."""
    data = {
        "schema_version": SCHEMA_VERSION,
        "results": [
            {
                "id": r.reference.id,
                "pmid": r.reference.pmid,
                "doi": r.reference.doi,
                "status": r.status.value,
                "source": r.source,
                "mismatches": [{"field": m.field, "ours": m.ours, "theirs": m.theirs} for m in r.mismatches],
                "detail": r.detail,
            }
            for r in results
        ],
        "summary": counts(results),
    }
    from lms_cli.render.json import dumps

    return dumps(data)


def summary_line(results: Sequence[Result]) -> str:
    parts = [f"{n} {status}" for status, n in counts(results).items() if n]
    total = len(results)
    return f"{total} reference{'s' if total != 1 else ''}: " + (", ".join(parts) if parts else "none") + "."


def report_markdown(results: Sequence[Result]) -> str:
    """`lms refs verify --format markdown`: a table with one row per reference, then the counts."""
    from lms_cli.render.markdown import escape

    lines = ["# Reference check", "", "| reference | status | details |", "|---|---|---|"]
    lines += [f"| {escape(r.reference.id)} | {r.status.value} | {escape(describe(r))} |" for r in results]
    lines += ["", summary_line(results), ""]
    return "\n".join(lines)


STATUS_STYLE = {
    "verified": "green",
    "mismatch": "yellow",
    "not-found": "red",
    "retracted": "bold red",
    "unchecked": "dim",
}


def table(results: Sequence[Result]) -> Any:
    """The verify results as a Rich table (service text is never read as markup)."""
    from rich.console import Group
    from rich.table import Table
    from rich.text import Text

    from lms_cli.render import clean

    table = Table(box=None, header_style="bold")
    table.add_column("Reference", no_wrap=True)
    table.add_column("Status", no_wrap=True)
    table.add_column("Details")
    for r in results:
        table.add_row(Text(r.reference.id), Text(r.status.value, style=STATUS_STYLE[r.status.value]),
                      Text(clean(describe(r))))
    return Group(table, Text(), Text(summary_line(results)))
