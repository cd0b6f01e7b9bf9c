"""Reference checking and adding: fetched metadata vs the base, YAML entries, atomic appends.

Pure logic over plain data. ``pubmed`` fetches records and turns them into ``Work``
objects with the parsers here; this module compares a ``Reference`` with a ``Work``
(normalised title, year, journal, first author, DOI/PMID cross-match, retraction),
renders the results as Markdown or JSON, writes ready-to-paste YAML entries and
appends them to an evidence file atomically. It never prints, exits or opens sockets.
"""

from __future__ import annotations

import html
import json
import re
import unicodedata
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from enum import Enum
from pathlib import Path
from typing import Any

from lms_cli.atomic import write_atomic
from lms_cli.errors import EvidenceError, OutputError, Problem, UsageError
from lms_cli.load.fields import DOI_RE, PMCID_RE, PMID_RE
from lms_cli.model import EvidenceBase, Rank, Reference

SCHEMA_VERSION = 1

# --- what a service told us -----------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Work:
    """Bibliographic metadata of one paper as a service describes it (text already cleaned)."""

    source: str  # "PubMed" or "Crossref": named in messages
    title: str
    authors: tuple[str, ...] = ()  # "Surname Initials", in order
    journal: str | None = None  # NLM abbreviation (ESummary `source`) or Crossref's short title
    journal_full: str | None = None
    years: tuple[int, ...] = ()  # print year first, then electronic and other years the record gives
    volume: str | None = None
    issue: str | None = None
    pages: str | None = None
    doi: str | None = None
    pmid: str | None = None
    pmcid: str | None = None
    pubtypes: tuple[str, ...] = ()
    retraction: str | None = None  # why the record counts as retracted, or None

    @property
    def year(self) -> int | None:
        return self.years[0] if self.years else None


class LookupState(Enum):
    FOUND = "found"
    NOT_FOUND = "not-found"
    FAILED = "failed"  # the service could not be reached or answered badly (after retries)
    NOT_CACHED = "not-cached"  # offline and no cached answer


@dataclass(frozen=True, slots=True)
class Lookup:
    """The answer for one identifier: a Work, 'no such record', or why there is no answer."""

    state: LookupState
    service: str
    work: Work | None = None
    detail: str | None = None

    @classmethod
    def found(cls, service: str, work: Work) -> Lookup:
        return cls(LookupState.FOUND, service, work)


class MalformedRecord(ValueError):
    """A service record lacks what lms needs (treated like malformed JSON)."""


_TAG = re.compile(r"</?[A-Za-z][A-Za-z0-9:_-]*(?:\s[^<>]*)?/?>")
_ENTITY = re.compile(r"&(?:#\d+|#x[0-9a-fA-F]+|[A-Za-z][A-Za-z0-9]*);")


def clean_text(text: str) -> str:
    """Markup-free text: HTML entities decoded (twice-escaped too), tags like <i> removed."""
    for _ in range(3):  # ESummary escapes markup once (&lt;i&gt;); some records twice
        if not _ENTITY.search(text):
            break
        text = _TAG.sub("", html.unescape(text))
    text = _TAG.sub("", text)
    return " ".join(text.split())


def _str(value: Any) -> str | None:
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return str(value)
    if isinstance(value, str) and value.strip():
        return " ".join(value.split())
    return None


def _year_of(text: Any) -> int | None:
    m = re.search(r"\b(1[89]\d\d|2[01]\d\d)\b", text) if isinstance(text, str) else None
    return int(m.group(1)) if m else None


def _drop_final_stop(title: str) -> str:
    # PubMed ends every title with a full stop; evidence titles carry none.
    return title[:-1].rstrip() if title.endswith(".") and not title.endswith("..") else title


def work_from_esummary(record: Mapping[str, Any]) -> Work:
    """One ESummary (db=pubmed, JSON) record -> Work; raise MalformedRecord when unusable."""
    title = record.get("title")
    uid = _str(record.get("uid"))
    if not isinstance(title, str) or not uid:
        raise MalformedRecord("record has no title or uid")
    authors = tuple(
        name for a in record.get("authors") or () if isinstance(a, Mapping) and (name := _str(a.get("name")))
    )
    ids: dict[str, str] = {}
    for item in record.get("articleids") or ():
        if isinstance(item, Mapping) and (kind := _str(item.get("idtype"))) and (value := _str(item.get("value"))):
            ids.setdefault(kind, value)
    doi = ids.get("doi")
    if not doi:
        eloc = _str(record.get("elocationid")) or ""
        m = re.search(r"doi:\s*(10\.\S+)", eloc)
        doi = m.group(1) if m else None
    pmcid = ids.get("pmc")
    pubtypes = tuple(p for p in (_str(t) for t in record.get("pubtype") or ()) if p)
    years = tuple(dict.fromkeys(
        y for y in (_year_of(record.get(k)) for k in ("pubdate", "epubdate", "sortpubdate")) if y
    ))
    return Work(
        source="PubMed",
        title=_drop_final_stop(clean_text(title)),
        authors=authors,
        journal=_str(record.get("source")),
        journal_full=_str(record.get("fulljournalname")),
        years=years,
        volume=_str(record.get("volume")),
        issue=_str(record.get("issue")),
        pages=_str(record.get("pages")),
        doi=doi,
        pmid=uid,
        pmcid=pmcid if pmcid and PMCID_RE.match(pmcid) else None,
        pubtypes=pubtypes,
        retraction="PubMed lists it as a Retracted Publication" if "Retracted Publication" in pubtypes else None,
    )


def _initials(given: str) -> str:
    parts = re.split(r"[\s.\-]+", clean_text(given))
    return "".join(p[0].upper() for p in parts if p and p[0].isalpha())


def _crossref_author(a: Mapping[str, Any]) -> str | None:
    family = _str(a.get("family"))
    if family:
        initials = _initials(_str(a.get("given")) or "")
        return clean_text(f"{family} {initials}" if initials else family)
    name = _str(a.get("name"))  # an organisation
    return clean_text(name) if name else None


def _first_of(value: Any) -> str | None:
    if isinstance(value, list):
        return next((clean_text(s) for v in value if (s := _str(v))), None)
    return clean_text(s) if (s := _str(value)) else None


def _date_year(value: Any) -> int | None:
    try:
        year = value["date-parts"][0][0]
    except (KeyError, IndexError, TypeError):
        return None
    return year if isinstance(year, int) and not isinstance(year, bool) else None


def work_from_crossref(message: Mapping[str, Any]) -> Work:
    """Crossref `/works/{doi}` message -> Work; raise MalformedRecord when unusable."""
    title = _first_of(message.get("title"))
    doi = _str(message.get("DOI"))
    if not title or not doi:
        raise MalformedRecord("work has no title or DOI")
    raw_authors = [a for a in message.get("author") or () if isinstance(a, Mapping)]
    # Crossref marks the first author with sequence "first"; keep the list order otherwise.
    raw_authors.sort(key=lambda a: 0 if a.get("sequence") == "first" else 1)
    authors = tuple(n for a in raw_authors if (n := _crossref_author(a)))
    years = tuple(dict.fromkeys(
        y for y in (_date_year(message.get(k)) for k in ("published-print", "issued", "published-online",
                                                         "published")) if y
    ))
    retraction = None
    for kind, what in (("updated-by", "Crossref records a retraction of it"),
                       ("update-to", "this DOI is a retraction notice")):
        for upd in message.get(kind) or ():
            if isinstance(upd, Mapping) and str(upd.get("type", "")).lower() == "retraction":
                retraction = what
    if retraction is None and re.match(r"(?i)^(retracted|withdrawn)\b", title):
        retraction = f"its title says {title.split(':')[0].strip()!r}"
    return Work(
        source="Crossref",
        title=title,
        authors=authors,
        journal=_first_of(message.get("short-container-title")) or _first_of(message.get("container-title")),
        journal_full=_first_of(message.get("container-title")),
        years=years,
        volume=_str(message.get("volume")),
        issue=_str(message.get("issue")),
        pages=_str(message.get("page")),
        doi=doi,
        retraction=retraction,
    )


# --- comparing ------------------------------------------------------------------------------


def _fold(text: str) -> str:
    """Case-, accent- and punctuation-blind form of a text (for comparisons only)."""
    text = unicodedata.normalize("NFKD", clean_text(text))
    text = "".join(ch for ch in text if not unicodedata.combining(ch)).casefold()
    return " ".join(re.sub(r"[\W_]+", " ", text).split())


def same_title(ours: str, theirs: str) -> bool:
    return _fold(ours) == _fold(theirs)


_JOURNAL_STOPWORDS = {"the", "of", "and", "for", "in", "on", "la", "le", "de", "der", "des", "di"}


def _abbreviates(abbrev: str, full: str) -> bool:
    """True when each word of an NLM-style abbreviation starts the next word of the full title."""
    short = _fold(re.sub(r"\([^)]*\)", " ", abbrev)).split()  # "Cancers (Basel)": the place is not in the title
    words = [w for w in _fold(full).split() if w not in _JOURNAL_STOPWORDS]
    return bool(short) and len(short) == len(words) and all(w.startswith(s) for s, w in zip(short, words, strict=True))


def same_journal(ours: str, work: Work) -> bool:
    names = [n for n in (work.journal, work.journal_full) if n]
    return any(_fold(ours) == _fold(n) or _abbreviates(ours, n) for n in names)


_INITIALS = re.compile(r"^[A-Z]{1,4}$")


def surname(name: str) -> str:
    """The folded surname of 'Surname Initials' (an organisation's name stays whole)."""
    parts = clean_text(name).split()
    if len(parts) > 1 and _INITIALS.match(parts[-1]):
        parts = parts[:-1]
    return _fold(" ".join(parts)).replace(" ", "")


def same_doi(a: str, b: str) -> bool:
    return a.strip().casefold() == b.strip().casefold()


class Status(Enum):
    """The outcome for one reference, in the order results are summarised."""

    VERIFIED = "verified"
    MISMATCH = "mismatch"
    NOT_FOUND = "not-found"
    RETRACTED = "retracted"
    UNCHECKED = "unchecked"


@dataclass(frozen=True, slots=True)
class Mismatch:
    field: str
    ours: str
    theirs: str


@dataclass(frozen=True, slots=True)
class Result:
    """How one reference compares with what a service says about it."""

    reference: Reference
    status: Status
    source: str
    mismatches: tuple[Mismatch, ...] = ()
    detail: str | None = None
    unreachable: bool = False  # the service failed: the command exits 4


def compare(ref: Reference, work: Work) -> tuple[Mismatch, ...]:
    """The fields where the base and the service disagree (fields a side lacks are skipped)."""
    out: list[Mismatch] = []
    if not same_title(ref.title, work.title):
        out.append(Mismatch("title", ref.title, work.title))
    if work.years and ref.year not in work.years:
        out.append(Mismatch("year", str(ref.year), str(work.years[0])))
    if (work.journal or work.journal_full) and not same_journal(ref.journal, work):
        out.append(Mismatch("journal", ref.journal, work.journal or work.journal_full or ""))
    if ref.named_authors and work.authors and surname(ref.named_authors[0]) != surname(work.authors[0]):
        out.append(Mismatch("first author", ref.named_authors[0], work.authors[0]))
    if ref.doi and work.doi and not same_doi(ref.doi, work.doi):
        out.append(Mismatch("doi", ref.doi, work.doi))
    if ref.pmid and work.pmid and ref.pmid != work.pmid:
        out.append(Mismatch("pmid", ref.pmid, work.pmid))
    return tuple(out)


def check(ref: Reference, lookup: Lookup) -> Result:
    """One reference's status from the service's answer about it."""
    asked = f"PMID {ref.pmid}" if lookup.service == "PubMed" else f"DOI {ref.doi}"
    if lookup.state is LookupState.NOT_FOUND:
        return Result(ref, Status.NOT_FOUND, lookup.service, detail=f"{lookup.service} has no record for {asked}")
    if lookup.state is LookupState.NOT_CACHED:
        return Result(ref, Status.UNCHECKED, lookup.service, detail=f"offline and {asked} is not cached")
    if lookup.state is LookupState.FAILED or lookup.work is None:
        return Result(ref, Status.UNCHECKED, lookup.service, detail=lookup.detail or f"{lookup.service} failed",
                      unreachable=True)
    work = lookup.work
    mismatches = compare(ref, work)
    if work.retraction:
        return Result(ref, Status.RETRACTED, lookup.service, mismatches, detail=work.retraction)
    if mismatches:
        return Result(ref, Status.MISMATCH, lookup.service, mismatches)
    return Result(ref, Status.VERIFIED, lookup.service, detail=f"{asked} matches {lookup.service}")


def counts(results: Iterable[Result]) -> dict[str, int]:
    """How many references have each status (every status named, zeros included)."""
    out = {s.value: 0 for s in Status}
    for r in results:
        out[r.status.value] += 1
    return out


def describe(result: Result) -> str:
    """One line on why a reference has its status."""
    if result.mismatches:
        text = "; ".join(f'{m.field}: ours "{m.ours}", {result.source} "{m.theirs}"' for m in result.mismatches)
        return f"{result.detail}; {text}" if result.detail else text
    return result.detail or ""


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


# --- identifiers the user types ---------------------------------------------------------------


class IdKind(Enum):
    PMID = "PMID"
    DOI = "DOI"
    PMCID = "PMCID"


def parse_identifier(text: str) -> tuple[IdKind, str]:
    """A PMID, DOI or PMCID as typed (prefixes like 'PMID:' or https://doi.org/ allowed)."""
    raw = text.strip()
    value = re.sub(r"(?i)^(?:pmid:?\s*)", "", raw)
    if PMID_RE.match(value):
        return IdKind.PMID, value
    if re.match(r"(?i)^pmc\d+$", raw):
        return IdKind.PMCID, raw.upper()
    doi = re.sub(r"(?i)^(?:https?://(?:dx\.)?doi\.org/|doi:\s*)", "", raw)
    if DOI_RE.match(doi):
        return IdKind.DOI, doi
    raise UsageError(f"{text!r} is not a PMID, DOI or PMCID",
                     "give digits (35835135), a DOI (10.1016/...) or a PMCID (PMC1234567)")


# --- new entries ------------------------------------------------------------------------------

_DESIGN_HINTS: tuple[tuple[Rank, tuple[str, ...]], ...] = (
    (Rank.GUIDELINE, ("Practice Guideline", "Guideline", "Consensus Development Conference")),
    (Rank.META_ANALYSIS, ("Meta-Analysis", "Systematic Review")),
    (Rank.RCT, ("Randomized Controlled Trial",)),
    (Rank.PROSPECTIVE, ("Clinical Trial, Phase II", "Clinical Trial, Phase I", "Clinical Trial")),
    (Rank.CASE_SERIES, ("Case Reports",)),
    (Rank.REVIEW, ("Review",)),
    (Rank.EXPERT_OPINION, ("Editorial", "Comment", "Letter")),
)


def guess_design(work: Work) -> tuple[Rank, str] | None:
    """A rank suggested by PubMed publication types, with the type that suggested it."""
    for rank, types in _DESIGN_HINTS:
        for t in types:
            if t in work.pubtypes:
                return rank, t
    return None


@dataclass(frozen=True, slots=True)
class Entry:
    """A reference entry to print or append: metadata plus the id and design chosen for it."""

    id: str
    work: Work
    design: Rank | None
    design_comment: str | None = None


def base_id(work: Work) -> str:
    """'surname' + year, lowercase ASCII (e.g. vandergraaf2012), as the bundled base names them."""
    first = surname(work.authors[0]) if work.authors else ""
    ascii_name = unicodedata.normalize("NFKD", first).encode("ascii", "ignore").decode()
    stem = re.sub(r"[^a-z0-9]", "", ascii_name.lower())[:30] or "ref"
    return f"{stem}{work.year or ''}"


def make_entries(works: Sequence[Work], taken: set[str], design: Rank | None = None,
                 entry_id: str | None = None) -> list[Entry]:
    """Entries with ids free of ``taken`` (a letter is added: pautier2022b) and a design each."""
    used = set(taken)
    out = []
    for work in works:
        if entry_id is not None:
            new_id = entry_id
        else:
            stem = new_id = base_id(work)
            letters = iter("bcdefghijklmnopqrstuvwxyz")
            while new_id in used:
                new_id = stem + next(letters, "")
                if new_id == stem:
                    raise UsageError(f"no free id left for {stem}", "give one with --id")
        used.add(new_id)
        if design is not None:
            out.append(Entry(new_id, work, design))
        elif guessed := guess_design(work):
            rank, why = guessed
            out.append(Entry(new_id, work, rank, f"guessed from the {work.source} publication type {why!r}: check it"))
        else:
            out.append(Entry(new_id, work, None, "set one rank: " + ", ".join(r.value for r in Rank)))
    return out


def _q(text: str) -> str:
    """A YAML double-quoted scalar (JSON string syntax is valid YAML)."""
    from lms_cli.render import clean

    return json.dumps(clean(text), ensure_ascii=False)


def entry_yaml(entry: Entry, indent: str = "  ", newline: str = "\n") -> str:
    """One reference entry as a YAML list item in the evidence format."""
    w = entry.work
    pad = indent + "  "
    design = entry.design.value if entry.design else '""'
    lines = [f"{indent}- id: {entry.id}", f"{pad}design: {design}" + (
        f"  # {entry.design_comment}" if entry.design_comment else "")]
    if w.authors:
        lines.append(f"{pad}authors: [" + ", ".join(_q(a) for a in w.authors) + "]")
    lines.append(f"{pad}title: {_q(w.title)}")
    journal_note = "  # from Crossref: check it is the NLM abbreviation" if w.source == "Crossref" else ""
    lines.append(f"{pad}journal: {_q(w.journal or w.journal_full or '')}{journal_note}")
    if w.year:
        lines.append(f"{pad}year: {w.year}")
    for name in ("volume", "issue", "pages", "doi", "pmid", "pmcid"):
        value = getattr(w, name)
        if value:
            lines.append(f"{pad}{name}: {_q(value)}")
    asked = f"PMID {w.pmid}" if w.pmid else f"DOI {w.doi}"
    lines.append(f"{pad}note: {_q(f'Metadata from {w.source} ({asked}); add findings from the paper.')}")
    return newline.join(lines) + newline


def entries_yaml(entries: Sequence[Entry]) -> str:
    """What `lms refs fetch` prints: list items to paste under a `references:` key."""
    return "\n".join(entry_yaml(e) for e in entries)


# --- adding to a file -------------------------------------------------------------------------


def duplicates(entries: Sequence[Entry], base: EvidenceBase, file_refs: Sequence[Reference] = ()) -> list[Problem]:
    """Problems for entries whose id, PMID or DOI is already in the base or the target file."""
    refs = list(base.references) + [r for r in file_refs if r not in base.references]
    other_ids: dict[str, str] = {t.slug: "topic" for t in base.topics}
    other_ids.update({c.id: "claim" for c in base.claims})
    problems: list[Problem] = []

    def at(ref: Reference) -> tuple[str, int]:
        return (ref.where.path, ref.where.line) if ref.where else ("<base>", 1)

    seen: list[Entry] = []
    for e in entries:
        for ref in refs:
            clash = ("id", e.id) if ref.id == e.id else (
                ("PMID", e.work.pmid) if e.work.pmid and ref.pmid == e.work.pmid else (
                    ("DOI", e.work.doi) if e.work.doi and ref.doi and same_doi(ref.doi, e.work.doi) else None))
            if clash:
                problems.append(Problem(*at(ref), 1, f"reference {ref.id!r} already has {clash[0]} {clash[1]}; "
                                                     f"not adding {e.id!r}"))
        if e.id in other_ids:
            problems.append(Problem("<base>", 1, 1, f"id {e.id!r} is already a {other_ids[e.id]}"))
        for prior in seen:
            if (e.work.pmid and prior.work.pmid == e.work.pmid) or (
                    e.work.doi and prior.work.doi and same_doi(prior.work.doi, e.work.doi)):
                problems.append(Problem("<arguments>", 1, 1, f"{e.id!r} is the same paper as {prior.id!r}"))
        seen.append(e)
    return problems


def _insertion(text: str, path: str) -> tuple[int, str | None, str]:
    """Where new entries go: (line index, header to add or None, item indent)."""
    from lms_cli.load import yamlsafe

    root, problems = yamlsafe.parse(text, path) if text.strip() else (None, [])
    if problems:
        raise EvidenceError(problems)
    lines = text.splitlines()
    if root is None:
        return len(lines), "references:", "  "
    if not isinstance(root, yamlsafe.LMap):
        raise EvidenceError([Problem(path, 1, 1, "file must be a mapping with topics, references or claims")])
    if "references" not in root:
        return len(lines), "references:", "  "
    items = root["references"]
    key_line = root.key_pos["references"][0]
    if isinstance(items, yamlsafe.LList) and items.pos[0] == key_line and "[" in lines[key_line - 1].split(":", 1)[1]:
        raise UsageError(f"{path}: references are written as a [...] list",
                         "write them as a block list ('- id: ...' lines) to use lms refs add")
    indent = "  "
    if isinstance(items, yamlsafe.LList) and items:
        m = re.match(r"^(\s*)-\s", lines[items.item_pos[0][0] - 1])
        indent = m.group(1) if m else indent
    later = [pos[0] for pos in root.key_pos.values() if pos[0] > key_line]
    if not later:
        return len(lines), None, indent
    at = min(later) - 1
    # Comments and blank lines just above the next key belong to it: insert before them.
    while at > key_line and (not lines[at - 1].strip() or lines[at - 1].lstrip().startswith("#")):
        at -= 1
    return at, None, indent


def appended(original: bytes | None, path: str, entries: Sequence[Entry]) -> bytes:
    """The file's new bytes: its text unchanged, the entries at the end of its references list."""
    from lms_cli.load import yamlsafe

    bom = b""
    text = ""
    if original is not None:
        bom = b"\xef\xbb\xbf" if original.startswith(b"\xef\xbb\xbf") else b""
        decoded, problem = yamlsafe.decode(original, path)
        if problem:
            raise EvidenceError([problem])
        assert decoded is not None
        text = decoded
    newline = "\r\n" if "\r\n" in text else "\n"
    at, header, indent = _insertion(text, path)
    lines = text.splitlines(keepends=True)
    if lines and not lines[-1].endswith(("\n", "\r")):
        lines[-1] += newline
    block = ([header + newline] if header else []) + [entry_yaml(e, indent, newline) for e in entries]
    if header and lines and lines[-1].strip():
        block.insert(0, newline)
    return bom + "".join(lines[:at] + block + lines[at:]).encode("utf-8")


def add_to_file(path: Path, entries: Sequence[Entry], base: EvidenceBase) -> None:
    """Append validated entries to ``path`` atomically; a duplicate refuses all (EvidenceError)."""
    from lms_cli.load import MAX_FILE_BYTES, parse_file, read_bytes

    target = path.resolve() if path.is_symlink() else path
    shown = str(path)
    original = None
    if target.exists():  # read as evidence is read: regular files only (a FIFO would hang), size-limited
        original, _, unreadable = read_bytes(target, shown, MAX_FILE_BYTES)
        if unreadable is not None:
            why = unreadable.problems[0].message.removeprefix("cannot read file: ")
            raise OutputError(f"cannot add to {path}: {why}")
    before = parse_file(original, shown) if original is not None else None
    problems = duplicates(entries, base, before.references if before else ())
    if problems:
        raise EvidenceError(problems, "nothing was written")
    if any(e.design is None for e in entries):
        missing = ", ".join(e.id for e in entries if e.design is None)
        raise UsageError(f"the design of {missing} cannot be told from its metadata", "give it with --design RANK")
    data = appended(original, shown, entries)
    after = parse_file(data, shown)
    if after.problems:
        # Problems the file had before are shown where the user sees them; an empty file or an
        # empty `references:` is not one of them, since the new entries fill it.
        raise EvidenceError((before.problems if before else []) or after.problems, "nothing was written")
    added = {r.id for r in after.references} - {r.id for r in (before.references if before else ())}
    if added != {e.id for e in entries}:
        raise EvidenceError([Problem(shown, 1, 1, "the new entries did not land in 'references'")],
                            "nothing was written")
    target.parent.mkdir(parents=True, exist_ok=True)
    write_atomic(target, data)


