"""Renderers: one module per output format, each fed the same Summary.

Every renderer returns text or a Rich renderable; none prints, filters or exits.
"""

from __future__ import annotations

import re

from lms_cli.model import HIDDEN_REASONS, RANK_LEGEND, Glance, Hidden, Summary

#: C0/C1 control characters (ESC starts terminal sequences); tab and newline are folded elsewhere.
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")


def clean(text: str) -> str:
    """Evidence text made safe for a terminal or document: no control characters, one line."""
    if text.isprintable():  # the common case, checked in C: no control or line-break characters
        return text.strip()
    return " ".join(_CONTROL.sub("", text).split())


def split_stop(statement: str) -> tuple[str, str]:
    """Split a sentence's closing full stop off, so a citation can go before it."""
    return (statement[:-1], ".") if statement.endswith(".") and not statement.endswith("..") else (statement, "")


def disclaimer(summary_reviewed: str | None) -> str:
    """The closing line every summary ends with."""
    line = "Summary of published evidence, not medical advice."
    if summary_reviewed:
        line += f" Evidence reviewed through {summary_reviewed}."
    return line


def glance_lines(glance: Glance) -> list[str]:
    """Evidence at a glance, as plain sentences."""
    ranks = ", ".join(f"{n} {rank.value}" for rank, n in glance.by_rank)
    lines = [f"Sources: {glance.total} ({ranks})"]
    if glance.first_year is not None:
        span = (
            str(glance.first_year)
            if glance.first_year == glance.last_year
            else f"{glance.first_year}\u2013{glance.last_year}"
        )
        lines.append(f"Published: {span}")
    return lines


def filters_line(summary: Summary) -> str | None:
    """The filters the user gave, or None."""
    given = [f"{k.replace('_', '-')} {v}" for k, v in summary.query.filters.as_dict().items() if v is not None]
    return ("Filters: " + "; ".join(given)) if given else None


def hidden_note(hidden: tuple[Hidden, ...]) -> str | None:
    """One line saying how many claims the filters hid and why, or None when none was hidden."""
    if not hidden:
        return None
    total = sum(h.claims for h in hidden)
    by_filter: dict[str, list[str]] = {}
    for h in hidden:
        by_filter.setdefault(h.filter, []).append(f"{h.claims} {HIDDEN_REASONS[h.reason]}")
    parts = "; ".join(f"{name}: {', '.join(reasons)}" for name, reasons in by_filter.items())
    return f"Note: the filters hid {total} claim{'s' if total != 1 else ''} ({parts})."


LEGEND = RANK_LEGEND
