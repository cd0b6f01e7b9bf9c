"""The table of evidence fields: each field's checker and JSON Schema, and the checkers themselves.

One table (``SCHEMA``) both validates evidence files and generates ``lms schema``, so the two
cannot drift apart."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass
from enum import Enum
from typing import Any

from lms_cli.model import (
    YEAR_MAX,
    YEAR_MIN,
    Population,
    Publication,
    Rank,
    Section,
    Seen,
    Support,
)
from lms_cli.text import Pattern, did_you_mean, kind_of, quote

ID_RE = Pattern(r"^[a-z0-9]+(?:[-_.][a-z0-9]+)*$")


SLUG_RE = Pattern(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")


# A DOI's suffix may hold any printable character (Crossref's advice: `-._;()/` and letters
# and digits; old Wiley DOIs hold `<>`, a few `#` or `%`). Whitespace, control characters
# and `{}"\\` are refused: no registered DOI needs them and they would break out of a
# BibTeX field or a RIS line.
DOI_RE = Pattern(r'^10\.[0-9]{4,9}/[^\s\x00-\x1f\x7f-\x9f{}"\\]+$')


PMID_RE = Pattern(r"^[1-9][0-9]{0,8}$")


PMCID_RE = Pattern(r"^PMC[0-9]+$")


NCT_RE = Pattern(r"^NCT[0-9]{8}$")


class FieldError(Exception):
    """A field value is unusable; the message reads after the field's name."""


def text_field(value: Any) -> str:
    """One line of text: whitespace folded, no lone surrogates, not empty."""
    if not isinstance(value, str) or isinstance(value, bool):
        raise FieldError(f"must be text, not {kind_of(value)}")
    if not value.isascii():
        try:
            value.encode("utf-8")
        except UnicodeEncodeError:
            from lms_cli.load.yamlsafe import join_surrogates

            value, lone = join_surrogates(value)
            if lone is not None:
                raise FieldError(
                    f"holds a lone surrogate U+{ord(value[lone]):04X} (character {lone + 1}), "
                    "which is not text; write the character itself"
                ) from None
    text = " ".join(value.split())
    if not text:
        raise FieldError("must not be empty")
    return text


def _pattern(regex: Pattern, what: str) -> Callable[[Any], str]:
    def check(value: Any) -> str:
        text = text_field(value)
        if not regex.match(text):
            raise FieldError(f"{quote(text)} is not {what}")
        return text

    return check


def _text_or_number(value: Any) -> str:
    if isinstance(value, int) and not isinstance(value, bool):
        return str(value)
    return text_field(value)


def _pmid(value: Any) -> str:
    text = _text_or_number(value)
    if not PMID_RE.match(text):
        raise FieldError(f"{quote(text)} is not a PMID (digits only)")
    return text


def _year(value: Any) -> int:
    if not isinstance(value, int) or isinstance(value, bool):
        raise FieldError(f"must be a year like 2014, not {kind_of(value)}")
    if not YEAR_MIN <= value <= YEAR_MAX:
        raise FieldError(f"{value} is not a plausible publication year")
    return value


def _count(value: Any) -> int:
    if not isinstance(value, int) or isinstance(value, bool) or value < 1:
        shown = value if isinstance(value, int) and not isinstance(value, bool) else None
        raise FieldError(f"must be a positive whole number, not {shown if shown is not None else _shown(value)}")
    return value


def date_field(value: Any) -> dt.date:
    """A calendar date (YAML date or ISO text), without a time."""
    if isinstance(value, dt.datetime):
        raise FieldError("must be a date like 2026-11-27, without a time")
    if isinstance(value, dt.date):
        return value
    if isinstance(value, str):
        try:
            return dt.date.fromisoformat(value.strip())
        except ValueError:
            pass
    raise FieldError(f"must be a date like 2026-11-27, not {_shown(value)}")


def _flag(value: Any) -> bool:
    if isinstance(value, bool):
        return value
    raise FieldError(f"must be true or false, not {kind_of(value)}")


def _choice(enum: type[Enum]) -> Callable[[Any], Any]:
    names = [m.value for m in enum]

    def check(value: Any) -> Any:
        text = text_field(value)
        for member in enum:
            if member.value == text:
                return member
        hint = did_you_mean(text, names)
        raise FieldError(f"{quote(text)} is not one of {', '.join(names)}{hint}")

    return check


def _shown(value: Any) -> str:
    """Text quoted (shortened), anything else by its kind."""
    return quote(value) if isinstance(value, str) else kind_of(value)


_quote = quote  # the parser quotes keys the same way


@dataclass(frozen=True)
class _Field:
    """One evidence field: its checker and the JSON Schema of one value (one table serves both)."""

    check: Callable[[Any], Any]
    schema: dict[str, Any]
    required: bool = False
    many: bool = False  # a non-empty list of `check` values

    def json_schema(self) -> dict[str, Any]:
        return {"type": "array", "items": self.schema, "minItems": 1} if self.many else self.schema


_TEXT: dict[str, Any] = {"type": "string", "minLength": 1}


_TEXT_OR_NUMBER: dict[str, Any] = {"type": ["string", "integer"]}


def _like(regex: Pattern) -> dict[str, Any]:
    return {"type": "string", "pattern": regex.pattern}


def _enum(values: type[Enum]) -> dict[str, Any]:
    return {"enum": [v.value for v in values]}


def _pick(enum: type[Enum]) -> _Field:
    return _Field(_choice(enum), _enum(enum))


_id = _Field(_pattern(ID_RE, "a valid id (lowercase letters, digits, '-', '_', '.')"), _like(ID_RE))


_slug = _Field(_pattern(SLUG_RE, "a kebab-case slug"), _like(SLUG_RE))


_text = _Field(text_field, _TEXT)


_DATE: dict[str, Any] = {"type": "string", "format": "date"}


def _req(field: _Field, *, many: bool = False) -> _Field:
    return _Field(field.check, field.schema, required=True, many=many)


def _many(field: _Field) -> _Field:
    return _Field(field.check, field.schema, many=True)


#: Every field of every kind of item: the validator and ``lms schema`` both read this table.
SCHEMA: dict[str, dict[str, _Field]] = {
    "topics": {
        "slug": _req(_slug),
        "title": _req(_text),
        "question": _req(_text),
        "aliases": _many(_text),
        "pubmed": _text,
        "trials": _text,
    },
    "references": {
        "id": _req(_id),
        "design": _req(_pick(Rank)),
        "authors": _req(_text, many=True),
        "title": _req(_text),
        "journal": _req(_text),
        "year": _Field(_year, {"type": "integer", "minimum": YEAR_MIN, "maximum": YEAR_MAX}, required=True),
        "volume": _Field(_text_or_number, _TEXT_OR_NUMBER),
        "issue": _Field(_text_or_number, _TEXT_OR_NUMBER),
        "pages": _Field(_text_or_number, _TEXT_OR_NUMBER),
        "doi": _Field(_pattern(DOI_RE, "a DOI like 10.1000/xyz (no https://doi.org/)"), _like(DOI_RE)),
        "pmid": _Field(_pmid, {"type": ["string", "integer"], "pattern": PMID_RE.pattern}),
        "pmcid": _Field(_pattern(PMCID_RE, "a PMCID like PMC1234567"), _like(PMCID_RE)),
        "n": _Field(_count, {"type": "integer", "minimum": 1}),
        "findings": _many(_text),
        "note": _text,
        "publication": _pick(Publication),
        "meeting": _text,
        "abstract": _Field(_text_or_number, _TEXT_OR_NUMBER),
        "nct": _Field(_pattern(NCT_RE, "a registry id like NCT01234567"), _like(NCT_RE), many=True),
        "seen": _many(_pick(Seen)),
        "checked": _Field(date_field, _DATE),
        "authors_partial": _Field(_flag, {"type": "boolean"}),
    },
    "claims": {
        "id": _req(_id),
        "topics": _req(_slug, many=True),
        "section": _req(_pick(Section)),
        "statement": _req(_text),
        "cites": _req(_id, many=True),
        "population": _pick(Population),
        "reviewed": _Field(date_field, _DATE),
        "support": _pick(Support),
    },
}


def json_schema() -> dict[str, Any]:
    """JSON Schema (draft 2020-12) of evidence files, generated from ``SCHEMA``, for editors."""
    defs = {}
    for kind, fields in SCHEMA.items():
        item: dict[str, Any] = {
            "type": "object",
            "properties": {name: f.json_schema() for name, f in fields.items()},
            "required": [name for name, f in fields.items() if f.required],
            "additionalProperties": False,
        }
        if kind == "references":
            item["anyOf"] = [{"required": ["doi"]}, {"required": ["pmid"]}]
        defs[kind[:-1]] = item
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": "https://github.com/lms-cli/lms/evidence.schema.json",
        "title": "lms evidence file",
        "type": "object",
        "properties": {kind: {"type": "array", "items": {"$ref": f"#/$defs/{kind[:-1]}"}} for kind in SCHEMA},
        "additionalProperties": False,
        "$defs": defs,
    }
