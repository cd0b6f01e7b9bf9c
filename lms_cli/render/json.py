"""JSON renderer: one top-level object, stable key order, never wrapped."""

from __future__ import annotations

import functools
import json
from collections.abc import Iterator, Sequence
from itertools import chain
from json.encoder import encode_basestring as _encode_str  # the C one, when built
from typing import TYPE_CHECKING, Any

from lms_cli.cite import CitationStyle
from lms_cli.model import (
    CitedClaim,
    Claim,
    Glance,
    Hidden,
    Publication,
    Reference,
    Summary,
    SummarySection,
    Topic,
)
from lms_cli.render import disclaimer
from lms_cli.text import json_safe

if TYPE_CHECKING:
    from lms_cli.browse import Detail, ReferenceRow, TopicRow
    from lms_cli.refs.updates import Updates
    from lms_cli.refs.verify import Result

SCHEMA_VERSION = 1


#: A reference's metadata fields (the model's, authors to note), written when present.
_FIRST, _END = Reference._fields.index("authors"), Reference._fields.index("note") + 1
_METADATA = Reference._fields[_FIRST:_END]


def reference_dict(ref: Reference) -> dict[str, Any]:
    """Every metadata field present on a reference (rank under its own name)."""
    out: dict[str, Any] = {"id": ref.id, "rank": ref.rank._value_}
    for name, value in zip(_METADATA, ref[_FIRST:_END], strict=True):
        if value is not None and value != ():
            out[name] = value  # tuples (authors, findings) too: JSON writes them as lists
    if ref.publication is not Publication.JOURNAL_ARTICLE:
        out["publication"] = ref.publication._value_
    if ref.meeting is not None:
        out["meeting"] = ref.meeting
    if ref.abstract is not None:
        out["abstract"] = ref.abstract
    if ref.nct:
        out["nct"] = list(ref.nct)
    if ref.seen:
        out["seen"] = [s.value for s in ref.seen]
    if ref.checked:
        out["checked"] = ref.checked.isoformat()
    if ref.authors_partial:
        out["authors_partial"] = True
    out["key"] = ref.key
    return out


def glance_dict(glance: Glance) -> dict[str, Any]:
    """Evidence at a glance as JSON."""
    return {
        "total": glance.total,
        "by_rank": {rank.value: n for rank, n in glance.by_rank},
        "first_year": glance.first_year,
        "last_year": glance.last_year,
    }


class Table:
    """A list of objects with the same keys, held by column (claims of an answer).

    ``dumps`` writes it as the list of objects it stands for, one encoder call a column
    instead of building and encoding a dict per row; anything else sees ``records()``.
    """

    __slots__ = ("columns", "keys")

    def __init__(self, keys: tuple[str, ...], columns: tuple[list[Any], ...]) -> None:
        self.keys, self.columns = keys, columns

    def __len__(self) -> int:
        return len(self.columns[0]) if self.columns else 0

    def records(self) -> list[dict[str, Any]]:
        return [dict(zip(self.keys, row, strict=True)) for row in zip(*self.columns, strict=True)]


#: A claim as an answer shows it (citations: its reference numbers).
CLAIM_KEYS = ("id", "statement", "rank", "population", "support", "citations")


def claims_table(claims: Sequence[CitedClaim]) -> Table:
    """The claims of one section, as the answer's JSON shows them."""
    return Table(
        CLAIM_KEYS,
        (
            [c.claim.id for c in claims],
            [c.claim.statement for c in claims],
            [c.rank._value_ for c in claims],  # the enum's value, without its descriptor's cost
            [c.claim.population._value_ for c in claims],
            [c.claim.support._value_ for c in claims],
            [list(c.numbers) for c in claims],
        ),
    )


def sections_list(parts: tuple[SummarySection, ...]) -> list[dict[str, Any]]:
    """Summary sections with their claims (citations as reference numbers); shared with reports."""
    return [section_dict(part) for part in parts]


def section_dict(part: SummarySection) -> dict[str, Any]:
    """One section and its claims."""
    return {
        "name": part.section.value,
        "heading": part.heading,
        **({"topic": part.topic.slug} if part.topic else {}),
        "claims": claims_table(part.claims),
    }


def summary_dict(summary: Summary) -> dict[str, Any]:
    """A composed summary as the JSON object `lms ask --format json` prints."""
    reviewed = summary.reviewed_through.isoformat() if summary.reviewed_through else None
    return {
        "schema_version": SCHEMA_VERSION,
        "query": {
            "topic": summary.query.topic if summary.query.search is None else None,
            **({"asked": summary.query.asked} if summary.query.asked is not None else {}),
            **({"search": summary.query.search} if summary.query.search is not None else {}),
            **summary.query.filters.as_dict(),
        },
        "topic": {
            "slug": summary.topic.slug,
            "title": summary.topic.title,
            "question": summary.topic.question,
        },
        "sections": sections_list(summary.sections),
        "references": [{"number": e.number, **reference_dict(e.reference)} for e in summary.references],
        "glance": glance_dict(summary.glance),
        "hidden": hidden_list(summary.hidden),
        "reviewed_through": reviewed,
        "disclaimer": disclaimer(reviewed),
    }


def hidden_list(hidden: tuple[Hidden, ...]) -> list[dict[str, Any]]:
    """Claims the filters hid: filter, reason (population, no-source, needs-source), count."""
    return [{"filter": h.filter, "reason": h.reason, "claims": h.claims} for h in hidden]


def dumps(data: Any) -> str:
    """Deterministic JSON text ending in a newline.

    The text of ``json.dumps(data, ensure_ascii=False, indent=2)``, written faster: given an
    indent, ``json`` encodes in Python, a generator a level (65 ms for an answer of 2,000
    claims, 20 ms without the indent). Here the C encoder writes the lists and objects,
    many at a time, with the newlines and indents in its separators (``_write``).
    """
    return _safe(_text_at(data, 0)) + "\n"


def _text_at(data: Any, level: int) -> str:
    """``data`` as ``json.dumps(indent=2)`` writes it nested ``level`` deep (its first line not
    indented), before ``json_safe``."""
    try:
        out: list[str] = []
        _write(data, level, out)
        return "".join(out)
    except (TypeError, ValueError, RecursionError, _Collision):  # json.dumps: its own text or error
        text = json.dumps(data, ensure_ascii=False, indent=2, default=_records)
        # its strings hold no raw newline: every one starts a line, indented ``level`` more
        return text.replace("\n", _newline(level)) if level else text


def _safe(text: str) -> str:
    # json_safe escapes only characters outside ASCII: an ASCII text need not be searched.
    return text if text.isascii() else json_safe(text)


INDENT = "  "
_CONTAINERS = (dict, list, tuple, Table)
_CONTAINER_TYPES = frozenset(_CONTAINERS)
_LISTS = frozenset((list, tuple))
_VALUES = frozenset((str, int, float, bool, type(None)))
_EXACT = _VALUES | _CONTAINER_TYPES


class _Slot:
    """Stands, in one C encoding, for a list or object written apart (``_SLOT``)."""


_SLOT = _Slot()
#: What a slot is encoded as. A value that happens to encode the same way adds a mark,
#: which ``_splice`` counts: then the whole text is left to json.dumps.
_MARK = "\x00lms-slot\x00"
_MARKED = _encode_str(_MARK)
#: Separators of ``_RAW``: the C encoder escapes every control character inside strings
#: (as \\u0000), so a raw one in its text is always one of its own separators.
_SEP, _CUT = "\x00", "\x01"


def _default(o: Any) -> Any:
    if o is _SLOT:
        return _MARK
    return _records(o)


def _records(o: Any) -> Any:
    if isinstance(o, Table):
        return o.records()
    raise TypeError(f"Object of type {o.__class__.__name__} is not JSON serializable")


class _Collision(Exception):
    """A value encoded as a slot's mark."""


@functools.cache
def _encoder(level: int) -> json.JSONEncoder:
    """The C encoder writing the items of a list or object of ``level`` one a line."""
    return json.JSONEncoder(
        ensure_ascii=False, check_circular=False, separators=("," + _newline(level + 1), ": "), default=_default
    )


#: The C encoder with a raw separator, for many lists or objects in one call.
_RAW = json.JSONEncoder(ensure_ascii=False, check_circular=False, separators=(_SEP, ": "), default=_default)


@functools.cache
def _newline(level: int) -> str:
    return "\n" + INDENT * level


def _nested(v: Any) -> bool:
    """A list or object with something in it: written apart, as a slot in its parent's text."""
    return bool(v) and isinstance(v, _CONTAINERS)


def _write(o: Any, level: int, out: list[str]) -> None:
    """Append ``o`` as ``json.dumps(o, ensure_ascii=False, indent=2)`` writes it at ``level``.

    A list or object is one call of the C encoder, whose separators hold the newline and
    indent of its items, with a slot for each non-empty list or object inside; those are
    written in turn and spliced in. The many lists of objects and lists of values of an
    answer (claims, references; citations, authors) take one encoder call per level.
    """
    if isinstance(o, dict):
        opening, closing = "{", "}"
        nested = [v for v in o.values() if _nested(v)]
        if nested:
            o = {k: _SLOT if _nested(v) else v for k, v in o.items()}
    elif isinstance(o, list | tuple):
        opening, closing = "[", "]"
        if o and all(type(v) is dict and v for v in o):
            _write_records(o, level, out)
            return
        nested = [v for v in o if _nested(v)]
        if nested:
            o = [_SLOT if _nested(v) else v for v in o]
    elif isinstance(o, Table):
        _write_table(o, level, out)
        return
    else:  # a value
        out.append(_encoder(level).encode(o))
        return
    if not o:
        out.append(opening + closing)
        return
    out.append(opening + _newline(level + 1))
    _splice(_encoder(level).encode(o)[1:-1], nested, level + 1, out)
    out.append(_newline(level) + closing)


def _write_records(records: list[Any] | tuple[Any, ...], level: int, out: list[str]) -> None:
    """A list of objects, none empty: those with the same keys written as a table
    (``_table_rows``), else all in one encoder call (``_encode_records``)."""
    rows = _grouped_rows(records, level)
    if rows is None:
        _encode_records(records, level, out)
        return
    out.append(_list_of(rows, level))


def _list_of(items: list[str], level: int) -> str:
    """A non-empty list at ``level`` whose items are already written."""
    outer = _newline(level + 1)
    return "[" + outer + ("," + outer).join(items) + _newline(level) + "]"


def _grouped_rows(records: list[Any] | tuple[Any, ...], level: int) -> list[str] | None:
    """Each object's text, objects grouped by their keys and each group written by column;
    None when a key is not a string, or a group's column holds lists or objects of objects."""
    groups: dict[tuple[Any, ...], list[int]] = {}
    for i, keys in enumerate(map(tuple, records)):
        groups.setdefault(keys, []).append(i)
    rows = [""] * len(records)
    for keys, where in groups.items():
        if not all(type(k) is str for k in keys):
            return None
        written = _table_rows(keys, list(zip(*(records[i].values() for i in where), strict=True)), level)
        if written is None:
            return None
        for i, row in zip(where, written, strict=True):
            rows[i] = row
    return rows


def _table_rows(keys: Sequence[str], columns: Sequence[Sequence[Any]], level: int) -> list[str] | None:
    """The objects whose keys are ``keys`` and values ``columns`` (one sequence a key, a value
    a row), as the texts of objects at ``level`` + 1: each column in one encoder call (values)
    or one ``_value_lists`` (lists of values), each row a format of them. None when a column
    holds anything else."""
    written: list[list[str]] = []
    for column in columns:
        kinds = set(map(type, column))
        if kinds <= _VALUES:
            written.append(_RAW.encode(column)[1:-1].split(_SEP))
        elif kinds <= _LISTS and (lists := _column_lists(column, level + 2)) is not None:
            written.append(lists)
        else:
            return None
    outer, inner = _newline(level + 1), _newline(level + 2)
    row = "{" + inner + ("," + inner).join(_encode_str(k).replace("%", "%%") + ": %s" for k in keys) + outer + "}"
    return [row % values for values in zip(*written, strict=True)]


def _column_lists(column: Sequence[Any], level: int) -> list[str] | None:
    """Each list of a column written at ``level`` ("[]" when empty); None when some item is not
    a value."""
    full = [v for v in column if v]
    written = _value_lists(full, level) if full else []
    if written is None:
        return None
    if len(full) == len(column):
        return written
    rest = iter(written)
    return [next(rest) if v else "[]" for v in column]


def _write_table(table: Table, level: int, out: list[str]) -> None:
    """A Table as the list of objects it stands for."""
    rows = _table_rows(table.keys, table.columns, level) if table else None
    if rows is None:
        _write(table.records(), level, out)
        return
    out.append(_list_of(rows, level))


def _encode_records(records: list[Any] | tuple[Any, ...], level: int, out: list[str]) -> None:
    """A list of objects, none empty, in one encoder call: '[{"a": 1<SEP>"b": 2}<SEP>{...}]'.

    Every item of an object starts with its key's quote, and every non-empty list or
    object inside is a slot's mark: so "}<SEP>{" (an object's end, the next one's start)
    only stands between two objects of the list, and every other <SEP> between two items.
    """
    values = list(chain.from_iterable(map(dict.values, records)))
    kinds = set(map(type, values))
    if kinds <= _VALUES:
        nested: list[Any] = []
        shallow = records
    elif kinds <= _EXACT:  # by exact type: one pass, no function call per value
        nested = [v for v in values if v and type(v) in _CONTAINER_TYPES]
        shallow = [{k: _SLOT if v and type(v) in _CONTAINER_TYPES else v for k, v in r.items()} for r in records]
    else:  # subclasses of str, dict...: as isinstance sees them
        nested = [v for v in values if _nested(v)]
        shallow = [{k: _SLOT if _nested(v) else v for k, v in r.items()} for r in records]
    outer, inner = _newline(level + 1), _newline(level + 2)
    text = _RAW.encode(shallow)[2:-2]  # no '[{' and '}]'
    text = text.replace("}" + _SEP + "{", outer + "}," + outer + "{" + inner).replace(_SEP, "," + inner)
    out.append("[" + outer + "{" + inner)
    _splice(text, nested, level + 2, out)
    out.append(outer + "}" + _newline(level) + "]")


def _splice(text: str, nested: list[Any], level: int, out: list[str]) -> None:
    """Append ``text`` with each slot's mark replaced by its value written at ``level``."""
    if not nested:
        out.append(text)
        return
    between = text.split(_MARKED)
    if len(between) != len(nested) + 1:
        raise _Collision
    out.append(between[0])
    written = _value_lists(nested, level)
    if written is not None:
        out += chain.from_iterable(zip(written, between[1:], strict=True))
        return
    for value, after in zip(nested, between[1:], strict=True):
        _write(value, level, out)
        out.append(after)


def _value_lists(lists: list[Any], level: int) -> list[str] | None:
    """Lists of values only (citations, authors) at ``level``, all in one encoder call:
    '[[1<SEP>2]<SEP>[3]]', where "]<SEP>[" always stands between two of them. None when
    some value is a list or object, or of a subclass."""
    if not set(map(type, lists)) <= _LISTS or not set(map(type, chain.from_iterable(lists))) <= _VALUES:
        return None
    inner, close = _newline(level + 1), _newline(level) + "]"
    text = _RAW.encode(lists)[1:-1]
    text = text.replace("]" + _SEP + "[", close + _CUT + "[" + inner).replace(_SEP, "," + inner)
    return ("[" + inner + text[1:-1] + close).split(_CUT)


def render(summary: Summary, citations: CitationStyle = CitationStyle.NUMBERS) -> str:
    """A composed summary as JSON text (citation styles are a Markdown matter)."""
    return dumps(summary_dict(summary))


def streamed(summary: Summary, citations: CitationStyle = CitationStyle.NUMBERS) -> Iterator[str]:
    """``render``'s text a section at a time: a large answer's text, or its claims as JSON
    data, is never held whole."""
    around = _text_at(summary_dict(summary._replace(sections=())), 0).split(_NO_SECTIONS)
    if not summary.sections or len(around) != 2:  # pragma: no cover - an answer always has a section
        yield render(summary, citations)
        return
    head, tail = around
    yield _safe(head + _NO_SECTIONS[:-1])
    for i, part in enumerate(summary.sections):
        yield _safe(("," if i else "") + _newline(2) + _text_at(section_dict(part), 2))
    yield _safe(_newline(1) + "]" + tail) + "\n"


#: The sections of an answer with none, as its text holds them (a key of the top object, on
#: its own line: no string holds a raw newline, so nothing else reads the same).
_NO_SECTIONS = '\n  "sections": []'


def claim_dict(claim: Claim) -> dict[str, Any]:
    """A claim with its fields, as `lms show` prints it."""
    out: dict[str, Any] = {
        "id": claim.id,
        "topics": list(claim.topics),
        "section": claim.section.value,
        "statement": claim.statement,
        "cites": list(claim.cites),
        "population": claim.population.value,
        "support": claim.support.value,
    }
    if claim.reviewed:
        out["reviewed"] = claim.reviewed.isoformat()
    return out


def topics(rows: list[TopicRow]) -> str:
    """`lms topics --format json`."""
    return dumps({"schema_version": SCHEMA_VERSION, "topics": [r._asdict() for r in rows]})


def detail(d: Detail) -> str:
    """`lms show ID --format json`."""
    item = d.item
    data: dict[str, Any] = {"schema_version": SCHEMA_VERSION}
    if isinstance(item, Topic):
        data["topic"] = {
            "slug": item.slug,
            "title": item.title,
            "question": item.question,
            "aliases": list(item.aliases),
        }
        data["claims"] = [claim_dict(c) for c in d.claims]
    elif isinstance(item, Reference):
        data["reference"] = reference_dict(item)
        data["cited_by"] = [claim_dict(c) for c in d.claims]
    else:
        data["claim"] = claim_dict(item)
        data["references"] = [reference_dict(r) for r in d.references]
    return dumps(data)


def verify(results: Sequence[Result]) -> str:
    """`lms refs verify --format json`: one object with the results and a count per status."""
    from lms_cli.refs.verify import counts

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
    return dumps(data)


def references(rows: list[ReferenceRow]) -> str:
    """`lms refs list --format json`."""
    return dumps(
        {
            "schema_version": SCHEMA_VERSION,
            "references": [{**r._asdict(), "topics": list(r.topics), "missing": list(r.missing)} for r in rows],
        }
    )


def updates(result: Updates) -> str:
    """`lms updates --format json`: per topic its query, window, counts and ranked new items."""
    data = {
        "schema_version": SCHEMA_VERSION,
        "topics": [
            {
                "slug": t.plan.topic.slug,
                "query": t.plan.query,
                "window": {"from": t.plan.window.start.isoformat(), "to": t.searched_to.isoformat()},
                "counts": t.counts,
                "items": [
                    {
                        "pmid": i.pmid,
                        "doi": i.doi,
                        "title": i.title,
                        "journal": i.journal,
                        "date": i.date,
                        "design": i.design.value,
                        "flags": list(i.flags),
                    }
                    for i in t.items
                ],
                "in_base_doi": [{"pmid": p.pmid, "doi": p.doi, "reference": p.reference} for p in t.present],
            }
            for t in result.topics
        ],
        "skipped": [{"slug": s.slug, "reason": s.reason} for s in result.skipped],
        "summary": {"topics": len(result.topics), "new": result.new},
    }
    return dumps(data)


# --- trials (lms trials, ask --trials) ---------------------------------------------------------

if TYPE_CHECKING:
    from lms_cli.refs.trials import Trials


def trials_dict(result: Trials) -> dict[str, Any]:
    """The registry search and its studies as JSON (a `trials` key of `ask --trials`)."""
    import datetime as dt

    from lms_cli.refs.trials import disclaimer as trials_disclaimer

    q = result.query
    return {
        "schema_version": SCHEMA_VERSION,
        "query": {
            "topic": q.topic,
            "condition": q.condition,
            "terms": q.terms,
            "intervention": q.intervention,
            "status": list(q.statuses) if q.statuses else None,
            "phase": q.phase,
            "country": q.country,
            "limit": q.limit,
        },
        "fetched_at": result.fetched_at.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "from_cache": result.from_cache,
        "more": result.more,
        "complete": result.complete,
        "studies": [
            {
                "nct": r.study.nct,
                "title": r.study.title,
                "phase": list(r.study.phases),
                "status": r.study.status,
                "conditions": list(r.study.conditions),
                "interventions": list(r.study.interventions),
                "sponsor": r.study.sponsor,
                "enrollment": r.study.enrollment,
                "start": r.study.start,
                "last_update": r.study.last_update,
                "countries": list(r.study.countries),
                "url": r.study.url,
                "cited": r.cited,
            }
            for r in result.rows
        ],
        "disclaimer": trials_disclaimer(result),
    }


def trials(result: Trials) -> str:
    """`lms trials --format json`."""
    return dumps(trials_dict(result))


def with_trials(summary: Summary, result: Trials, citations: CitationStyle = CitationStyle.NUMBERS) -> str:
    """`lms ask --trials --format json`: the summary object with a `trials` key."""
    data = summary_dict(summary)
    data["trials"] = trials_dict(result)
    return dumps(data)
