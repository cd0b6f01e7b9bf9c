"""Reference formatting: Vancouver, AMA, BibTeX, RIS and CSL-JSON, and the citation key they share.

Every export names a reference by ``Reference.key`` (``pmid:N``, else ``doi:...``): the
BibTeX key, the RIS ``ID`` and the CSL-JSON ``id`` are the pandoc citation key, so a
document written with ``--citations pandoc`` resolves against any of the exports.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from enum import StrEnum
from typing import Any

from lms_cli.load.fields import DOI_RE
from lms_cli.model import Reference
from lms_cli.text import Pattern, clean, json_safe

VANCOUVER_MAX_AUTHORS = 6
AMA_MAX_AUTHORS = 6  # AMA 11th: all authors up to six, else the first three and "et al"
AMA_SHOWN_WHEN_MORE = 3


class CitationStyle(StrEnum):
    """How Markdown output cites: reference numbers, or pandoc citation keys."""

    NUMBERS = "numbers"
    PANDOC = "pandoc"


class ExportFormat(StrEnum):
    """Formats of `lms cite`."""

    VANCOUVER = "vancouver"
    AMA = "ama"
    BIBTEX = "bibtex"
    RIS = "ris"
    CSL_JSON = "csl-json"


def _sentence(text: str) -> str:
    """End a title-like string with exactly one full stop (keep ? and !)."""
    text = text.rstrip()
    return text if text.endswith((".", "?", "!")) else text + "."


# --- Vancouver (NLM/ICMJE) -------------------------------------------------------------------


def vancouver_authors(ref: Reference) -> str:
    """First six authors, then 'et al.' (also when the known list is incomplete)."""
    names = ref.named_authors
    shown = names[:VANCOUVER_MAX_AUTHORS]
    more = len(names) > VANCOUVER_MAX_AUTHORS or ref.authors_incomplete
    return ", ".join(shown) + (", et al." if more else ".") if shown else ("et al." if more else "")


def vancouver_source(ref: Reference, pages: str | None = None) -> str:
    """'Journal. Year;Vol(Issue):pages.' with the parts that are known (AMA shares it)."""
    out = f"{_sentence(ref.journal)} {ref.year}"
    if ref.volume:
        out += f";{ref.volume}"
        if ref.issue:
            out += f"({ref.issue})"
    if pages := pages or ref.pages:
        out += f":{pages}"
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


# --- shared pieces: pages and names -----------------------------------------------------------

_PAGE_RANGE = Pattern(r"^([A-Za-z]*)(\d+)\s*[-\u2013]\s*([A-Za-z]*)(\d+)$")


def page_range(pages: str) -> tuple[str, str | None]:
    """First and last page, with NLM-elided last pages written out ('415-23' -> 415, 423)."""
    m = _PAGE_RANGE.match(pages.strip())
    if not m:
        return pages.strip(), None
    prefix, first, last_prefix, last = m.groups()
    if len(last) < len(first):
        last = first[: len(first) - len(last)] + last
    return prefix + first, (last_prefix or prefix) + last


def full_pages(pages: str) -> str:
    """A page range with elided end pages written out (1044-54 -> 1044-1054)."""
    first, last = page_range(pages)
    return f"{first}-{last}" if last else first


# "Surname AB" as Vancouver lists write names; a suffix (Jr, 2nd) may follow the initials.
_NAME = Pattern(r"^(?P<family>\S.*?) (?P<initials>[A-Z]{1,4})(?: (?P<suffix>Jr|Sr|2nd|3rd|4th))?$")


def split_name(name: str) -> dict[str, str]:
    """A Vancouver-style name as CSL name parts; a group or unusual name becomes a literal."""
    m = _NAME.match(clean(name))
    if not m:
        return {"literal": clean(name)}
    parts = {"family": m["family"], "given": " ".join(f"{c}." for c in m["initials"])}
    if m["suffix"]:
        parts["suffix"] = m["suffix"]
    return parts


# --- AMA 11th ---------------------------------------------------------------------------------


def ama_authors(ref: Reference) -> str:
    """All authors when six or fewer are known to exist, else the first three and 'et al'."""
    names = ref.named_authors
    more = len(names) > AMA_MAX_AUTHORS or ref.authors_incomplete
    shown = names[:AMA_SHOWN_WHEN_MORE] if more else names
    if not shown:
        return "et al." if more else ""
    return ", ".join(shown) + (", et al." if more else ".")


def ama(ref: Reference) -> str:
    """One reference in AMA style (11th edition): full page ranges, DOI last without a full stop."""
    source = vancouver_source(ref, full_pages(ref.pages) if ref.pages else None)
    parts = [ama_authors(ref), _sentence(ref.title), source]
    if ref.doi:
        parts.append(f"doi:{ref.doi}")
    elif ref.pmid:
        parts.append(f"PMID: {ref.pmid}")
    return " ".join(p for p in parts if p)


# --- BibTeX -----------------------------------------------------------------------------------

_TEX_SPECIALS = {
    "\\": r"\textbackslash{}",
    "{": r"\{",
    "}": r"\}",
    "&": r"\&",
    "%": r"\%",
    "$": r"\$",
    "#": r"\#",
    "_": r"\_",
    "~": r"\textasciitilde{}",
    "^": r"\textasciicircum{}",
}
_TEX_RE = Pattern(r"[\\{}&%$#_~^]")


def tex(text: str) -> str:
    """Text made literal in a BibTeX field: TeX specials escaped, braces balanced."""
    return _TEX_RE.sub(lambda m: _TEX_SPECIALS[m[0]], clean(text))


def _protect(word: str) -> str:
    # A brace group that starts with a backslash is a "special character" to BibTeX,
    # whose letters it would still re-case: double braces keep those literal too.
    return "{{" + word + "}}" if word.startswith("\\") else "{" + word + "}"


def bibtex_title(title: str) -> str:
    """The title with every word holding a capital letter braced, so styles cannot re-case it."""
    return " ".join(_protect(w) if any(c.isupper() for c in w) else w for w in tex(title).split(" "))


_AND = Pattern(r"(?i)(?:^|\s)and(?:\s|$)")


def bibtex_name(name: str) -> str:
    """An author as BibTeX wants it: 'Surname, Initials' (a name that is not personal, in braces)."""
    parts = split_name(name)
    if "literal" in parts:
        return "{" + tex(parts["literal"]) + "}"
    family = tex(parts["family"])
    if _AND.search(family):  # "Smith and Jones": braced, or BibTeX reads two authors
        family = "{" + family + "}"
    out = f"{family}, "
    if "suffix" in parts:
        out += f"{parts['suffix']}, "
    return out + tex(parts["given"])


def bibtex_entry(ref: Reference) -> str:
    """One @article entry keyed by the citation key; an incomplete author list ends 'and others'."""
    authors = [bibtex_name(a) for a in ref.named_authors]
    if ref.authors_incomplete:
        authors.append("others")
    fields: list[tuple[str, str]] = []
    if authors:
        fields.append(("author", " and ".join(authors)))
    fields += [("title", bibtex_title(ref.title)), ("journal", tex(ref.journal)), ("year", str(ref.year))]
    if ref.volume:
        fields.append(("volume", tex(ref.volume)))
    if ref.issue:
        fields.append(("number", tex(ref.issue)))
    if ref.pages:
        first, last = page_range(ref.pages)
        fields.append(("pages", tex(f"{first}--{last}" if last else first)))
    if ref.doi:
        # Verbatim in biblatex: the loader's DOI_RE keeps `{}"\\` and spaces out; a Reference
        # built by hand with one gets them escaped.
        fields.append(("doi", ref.doi if DOI_RE.match(ref.doi) else tex(ref.doi)))
    if ref.pmid:
        fields += [("eprint", ref.pmid), ("eprinttype", "pubmed")]
    if ref.pmcid:
        fields.append(("pmcid", ref.pmcid))
    fields = [(name, clean(value)) for name, value in fields]  # one line each, no control characters
    body = ",\n".join(f"  {name} = {{{value}}}" for name, value in fields)
    return f"@article{{{ref.key},\n{body}\n}}\n"


def bibtex(refs: Sequence[Reference]) -> str:
    """References as BibTeX @article entries, keyed by citation key."""
    return "\n".join(bibtex_entry(r) for r in refs)


# --- RIS --------------------------------------------------------------------------------------

RIS_EOL = "\r\n"


def ris_record(ref: Reference) -> str:
    """One RIS record: TY first, ER last, one AU per named author, lines ending CRLF.

    An incomplete author list is not marked: reference managers would file "et al."
    as an author (CSL-JSON and BibTeX do mark it, in the forms their tools read).
    """
    tags: list[tuple[str, str]] = [("TY", "JOUR"), ("ID", ref.key)]
    for name in ref.named_authors:
        parts = split_name(name)
        if "literal" in parts:
            tags.append(("AU", parts["literal"]))
        else:
            given = parts["given"] + (f", {parts['suffix']}" if "suffix" in parts else "")
            tags.append(("AU", f"{parts['family']}, {given}"))
    tags += [("TI", ref.title), ("T2", ref.journal), ("JO", ref.journal), ("PY", str(ref.year))]
    if ref.volume:
        tags.append(("VL", ref.volume))
    if ref.issue:
        tags.append(("IS", ref.issue))
    if ref.pages:
        first, last = page_range(ref.pages)
        tags.append(("SP", first))
        if last:
            tags.append(("EP", last))
    if ref.doi:
        tags += [("DO", ref.doi), ("UR", f"https://doi.org/{ref.doi}")]
    if ref.pmid:
        tags.append(("AN", ref.pmid))
        if not ref.doi:
            tags.append(("UR", f"https://pubmed.ncbi.nlm.nih.gov/{ref.pmid}/"))
    tags.append(("N1", f"Rank: {ref.rank.value}" + (f"; n={ref.n}" if ref.n else "") + "."))
    lines = [f"{tag}  - {clean(value)}" for tag, value in tags] + ["ER  - "]
    return RIS_EOL.join(lines) + RIS_EOL


def ris(refs: Sequence[Reference]) -> str:
    """References as RIS records (CRLF line ends)."""
    return RIS_EOL.join(ris_record(r) for r in refs)


# --- CSL-JSON ---------------------------------------------------------------------------------


def csl_item(ref: Reference) -> dict[str, Any]:
    """One CSL-JSON item (CSL 1.0.2 data schema); lms's own fields go under `custom`.

    An incomplete author list ends with the literal name "others", as pandoc writes
    BibTeX's "and others": pandoc's citeproc prints it as "et al.".
    """
    item: dict[str, Any] = {"id": ref.key, "type": "article-journal", "title": clean(ref.title)}
    authors = [split_name(a) for a in ref.named_authors]
    if ref.authors_incomplete:
        authors.append({"literal": "others"})
    if authors:
        item["author"] = authors
    journal = clean(ref.journal)
    item["container-title"] = journal
    item["container-title-short"] = journal  # lms stores NLM abbreviations
    item["issued"] = {"date-parts": [[ref.year]]}
    for name, value in (("volume", ref.volume), ("issue", ref.issue)):
        if value:
            item[name] = clean(value)
    if ref.pages:
        item["page"] = clean(full_pages(ref.pages))
    if ref.doi:
        item["DOI"] = ref.doi
    if ref.pmid:
        item["PMID"] = ref.pmid
    if ref.pmcid:
        item["PMCID"] = ref.pmcid
    if ref.pmid and not ref.doi:
        item["URL"] = f"https://pubmed.ncbi.nlm.nih.gov/{ref.pmid}/"
    custom: dict[str, Any] = {"lms_id": ref.id, "rank": ref.rank.value}
    if ref.n is not None:
        custom["n"] = ref.n
    item["custom"] = custom
    return item


def csl_json(refs: Sequence[Reference]) -> str:
    """References as CSL-JSON items (lms's own fields under `custom`)."""
    import json  # only `lms cite` needs it: `lms ask` starts faster without

    return json_safe(json.dumps([csl_item(r) for r in refs], ensure_ascii=False, indent=2)) + "\n"


# --- one entry point for `lms cite` -----------------------------------------------------------


def _numbered(style: Callable[[Reference], str]) -> Callable[[Sequence[Reference]], str]:
    def run(refs: Sequence[Reference]) -> str:
        return "".join(f"{i}. {clean(style(r))}\n" for i, r in enumerate(refs, 1))

    return run


EXPORTERS: dict[ExportFormat, Callable[[Sequence[Reference]], str]] = {
    ExportFormat.VANCOUVER: _numbered(vancouver),
    ExportFormat.AMA: _numbered(ama),
    ExportFormat.BIBTEX: bibtex,
    ExportFormat.RIS: ris,
    ExportFormat.CSL_JSON: csl_json,
}


def export(refs: Sequence[Reference], fmt: ExportFormat) -> str:
    """The references in one export format, in the order given."""
    return EXPORTERS[fmt](refs)
