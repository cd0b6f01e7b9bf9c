"""Ready-to-paste YAML entries for fetched works, and appending them to an evidence file atomically."""

from __future__ import annotations

import json
import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from lms_cli.atomic import locked, target, write_atomic
from lms_cli.errors import EvidenceError, OutputError, Problem, UsageError
from lms_cli.model import EvidenceBase, Rank, Reference
from lms_cli.refs.verify import same_doi, surname
from lms_cli.services.records import Work

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


def make_entries(
    works: Sequence[Work], taken: set[str], design: Rank | None = None, entry_id: str | None = None
) -> list[Entry]:
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
    from lms_cli.text import clean

    return json.dumps(clean(text), ensure_ascii=False)


def entry_yaml(entry: Entry, indent: str = "  ", newline: str = "\n") -> str:
    """One reference entry as a YAML list item in the evidence format."""
    w = entry.work
    pad = indent + "  "
    design = entry.design.value if entry.design else '""'
    lines = [
        f"{indent}- id: {entry.id}",
        f"{pad}design: {design}" + (f"  # {entry.design_comment}" if entry.design_comment else ""),
    ]
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
            clash = (
                ("id", e.id)
                if ref.id == e.id
                else (
                    ("PMID", e.work.pmid)
                    if e.work.pmid and ref.pmid == e.work.pmid
                    else (("DOI", e.work.doi) if e.work.doi and ref.doi and same_doi(ref.doi, e.work.doi) else None)
                )
            )
            if clash:
                problems.append(
                    Problem(*at(ref), 1, f"reference {ref.id!r} already has {clash[0]} {clash[1]}; not adding {e.id!r}")
                )
        if e.id in other_ids:
            problems.append(Problem("<base>", 1, 1, f"id {e.id!r} is already a {other_ids[e.id]}"))
        for prior in seen:
            if (e.work.pmid and prior.work.pmid == e.work.pmid) or (
                e.work.doi and prior.work.doi and same_doi(prior.work.doi, e.work.doi)
            ):
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
        raise UsageError(
            f"{path}: references are written as a [...] list",
            "write them as a block list ('- id: ...' lines) to use lms refs add",
        )
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
    """Append validated entries to ``path`` atomically; a duplicate refuses all (EvidenceError).

    The file goes through the one write policy (``atomic.target``: a link to a regular file
    is written through, special and read-only files are refused), and the read-check-write
    runs under ``atomic.locked``: concurrent adds queue, none is lost.
    """
    real = target(path)
    real.parent.mkdir(parents=True, exist_ok=True)
    with locked(real):
        _add_locked(path, real, entries, base)


def _add_locked(path: Path, real: Path, entries: Sequence[Entry], base: EvidenceBase) -> None:
    from lms_cli.load import MAX_FILE_BYTES, parse_file, read_bytes

    shown = str(path)
    original = None
    if real.exists():  # read as evidence is read: regular files only (a FIFO would hang), size-limited
        original, _, unreadable = read_bytes(real, shown, MAX_FILE_BYTES)
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
        raise EvidenceError(
            [Problem(shown, 1, 1, "the new entries did not land in 'references'")], "nothing was written"
        )
    write_atomic(real, data)
