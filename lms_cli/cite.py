"""Reference formatting: Vancouver (NLM/ICMJE) for reference lists."""

from __future__ import annotations

from lms_cli.model import Reference

VANCOUVER_MAX_AUTHORS = 6


def _sentence(text: str) -> str:
    """End a title-like string with exactly one full stop (keep ? and !)."""
    text = text.rstrip()
    return text if text.endswith((".", "?", "!")) else text + "."


def vancouver_authors(ref: Reference) -> str:
    """First six authors, then 'et al.' (also when the known list is incomplete)."""
    names = ref.named_authors
    shown = names[:VANCOUVER_MAX_AUTHORS]
    more = len(names) > VANCOUVER_MAX_AUTHORS or ref.authors_incomplete
    return ", ".join(shown) + (", et al." if more else ".") if shown else ("et al." if more else "")


def vancouver_source(ref: Reference) -> str:
    """'Journal. Year;Vol(Issue):pages.' with the parts that are known."""
    out = f"{_sentence(ref.journal)} {ref.year}"
    if ref.volume:
        out += f";{ref.volume}"
        if ref.issue:
            out += f"({ref.issue})"
    if ref.pages:
        out += f":{ref.pages}"
    return out + "."


def vancouver(ref: Reference) -> str:
    """One reference in Vancouver style, with DOI and PMID when known."""
    parts = [vancouver_authors(ref), _sentence(ref.title), vancouver_source(ref)]
    if ref.doi:
        parts.append(f"doi:{ref.doi}.")
    if ref.pmid:
        parts.append(f"PMID: {ref.pmid}.")
    if ref.pmcid:
        parts.append(f"PMCID: {ref.pmcid}.")
    return " ".join(p for p in parts if p)
