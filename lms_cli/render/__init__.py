"""Renderers: one module per output format, each fed the same data, and the one dispatch.

Every format module (``json``, ``markdown``, ``terminal``) offers the functions of
``Renderer`` and returns text or a Rich renderable; none prints, filters or exits. An
answer is written from ``streamed``: Markdown gives it a section at a time, so a large one is
never held whole.
``pick`` maps a ``Format`` to its module; a new format is a new module and one line there.
Reports (``report``) have their own two formats.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from enum import StrEnum
from typing import TYPE_CHECKING, Any, Protocol, assert_never

from lms_cli.model import HIDDEN_REASONS, RANK_LEGEND, Glance, Hidden, Reference, Seen, Summary
from lms_cli.text import Pattern, clean, plural

if TYPE_CHECKING:
    from lms_cli.browse import Detail, ReferenceRow, TopicRow
    from lms_cli.cite import CitationStyle
    from lms_cli.refs.updates import Updates
    from lms_cli.refs.verify import Result

__all__ = ["Format", "Renderer", "clean", "disclaimer", "glance_lines", "hidden_note", "pick", "split_stop"]


class Format(StrEnum):
    """Output formats; ``auto`` is rich on a terminal and Markdown when piped."""

    AUTO = "auto"
    RICH = "rich"
    MARKDOWN = "markdown"
    JSON = "json"
    HTML = "html"  # a self-contained page: answers and reports only (see ``page``)


class Renderer(Protocol):
    """What every format module offers: text, or a Rich renderable for ``rich``."""

    def render(self, summary: Summary, citations: CitationStyle = ...) -> Any: ...
    def streamed(self, summary: Summary, citations: CitationStyle = ...) -> Any:
        """``render``'s output to write: its text as an iterator of pieces, or the renderable."""

    def topics(self, rows: list[TopicRow]) -> Any: ...
    def detail(self, d: Detail) -> Any: ...
    def verify(self, results: Sequence[Result]) -> Any: ...
    def references(self, rows: list[ReferenceRow]) -> Any: ...

    def updates(self, result: Updates) -> Any: ...

    def trials(self, result: Trials) -> Any: ...
    def with_trials(self, summary: Summary, result: Trials, citations: CitationStyle = ...) -> Any: ...


def pick(fmt: Format) -> Renderer:
    """The renderer of a resolved format (``auto`` is resolved by the CLI, which knows the terminal)."""
    if fmt is Format.JSON:
        from lms_cli.render import json

        return json
    if fmt is Format.MARKDOWN:
        from lms_cli.render import markdown

        return markdown
    if fmt is Format.RICH:
        from lms_cli.render import terminal  # Rich is imported only here

        return terminal
    if fmt is Format.AUTO:
        raise ValueError("resolve 'auto' to a format first")
    if fmt is Format.HTML:
        raise ValueError("html renders answers and reports only: use render.page")
    assert_never(fmt)


def page(summary: Summary) -> Iterator[str]:
    """An answer as one self-contained HTML page, a section at a time, to be written as it
    comes (the html module renders answers and reports)."""
    from lms_cli.render import html

    return html.streamed(summary)


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


def provenance(ref: Reference) -> str | None:
    """Where a reference's fields were seen, in words: "PubMed record, publisher's page (checked 2026-12-01)"."""
    if not ref.seen:
        return None
    kinds = ", ".join(kind.label for kind in ref.seen)
    out = kinds + (f" (checked {ref.checked.isoformat()})" if ref.checked else "")
    if ref.pmid and not ({Seen.PUBMED, Seen.PMC} & set(ref.seen)):
        out += "; its PMID was not seen on PubMed itself (`lms refs verify` checks it first)"
    return out


#: The only addresses outside a document that lms links to, each with an identifier after it.
DOI_URL = "https://doi.org/"
PUBMED_URL = "https://pubmed.ncbi.nlm.nih.gov/"
PMC_URL = "https://pmc.ncbi.nlm.nih.gov/articles/"

# What quote() leaves as it is, and the brackets it encodes: most DOIs, checked before quote() runs.
_URL_PLAIN = Pattern(r"[A-Za-z0-9._~/()-]+")


def _encoded(ident: str, safe: str) -> str:
    """``quote(clean(ident), safe=safe)``: every character but letters, digits, ``_.-~`` and ``safe`` encoded."""
    if _URL_PLAIN.fullmatch(ident) and (safe or "/" not in ident):  # nothing to encode but brackets
        return ident.replace("(", "%28").replace(")", "%29")
    from urllib.parse import quote  # rarely reached: stored DOIs hold [<>;:] at most

    return quote(clean(ident), safe=safe)


# Each builder tries its commonest form first, before _encoded(): a page links every identifier.


def doi_url(doi: str) -> str:
    """The doi.org address of a DOI, percent-encoded but for its slashes.

    Brackets, spaces and ``<>`` are encoded too, so the address cannot end a Markdown
    link or an HTML attribute early: DOIs such as 10.1016/S1470-2045(14)70063-4 hold them.
    """
    if _URL_PLAIN.fullmatch(doi):
        return DOI_URL + doi.replace("(", "%28").replace(")", "%29")
    return DOI_URL + _encoded(doi, "/")


def pubmed_url(pmid: str) -> str:
    """The PubMed address of a PMID (percent-encoded, a slash included: it is one path segment)."""
    return f"{PUBMED_URL}{pmid if pmid.isascii() and pmid.isalnum() else _encoded(pmid, '')}/"


def pmc_url(pmcid: str) -> str:
    """The PubMed Central address of a PMCID (percent-encoded, a slash included: it is one path segment)."""
    return f"{PMC_URL}{pmcid if pmcid.isascii() and pmcid.isalnum() else _encoded(pmcid, '')}/"


def hidden_note(hidden: tuple[Hidden, ...]) -> str | None:
    """One line saying how many claims the filters hid and why, or None when none was hidden."""
    if not hidden:
        return None
    total = sum(h.claims for h in hidden)
    by_filter: dict[str, list[str]] = {}
    for h in hidden:
        by_filter.setdefault(h.filter, []).append(f"{h.claims} {HIDDEN_REASONS[h.reason]}")
    parts = "; ".join(f"{name}: {', '.join(reasons)}" for name, reasons in by_filter.items())
    return f"Note: the filters hid {plural(total, 'claim')} ({parts})."


LEGEND = RANK_LEGEND


if TYPE_CHECKING:  # the trials functions of Renderer (lms trials, ask --trials)
    from lms_cli.refs.trials import Trials
