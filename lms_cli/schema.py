"""JSON Schema (draft 2020-12) of evidence files, for editors that validate YAML as it is typed."""

from __future__ import annotations

from typing import Any

from lms_cli.load import DOI_RE, ID_RE, PMCID_RE, PMID_RE, SCHEMA, SLUG_RE
from lms_cli.model import Population, Rank, Section

_TEXT: dict[str, Any] = {"type": "string", "minLength": 1}
_TEXT_OR_NUMBER: dict[str, Any] = {"type": ["string", "integer"]}


def _list(item: dict[str, Any]) -> dict[str, Any]:
    return {"type": "array", "items": item, "minItems": 1}


def _enum(values: type[Rank] | type[Section] | type[Population]) -> dict[str, Any]:
    return {"enum": [v.value for v in values]}


_PROPERTIES: dict[str, dict[str, dict[str, Any]]] = {
    "topics": {
        "slug": {"type": "string", "pattern": SLUG_RE.pattern},
        "title": _TEXT,
        "question": _TEXT,
        "aliases": _list(_TEXT),
    },
    "references": {
        "id": {"type": "string", "pattern": ID_RE.pattern},
        "design": _enum(Rank),
        "authors": _list(_TEXT),
        "title": _TEXT,
        "journal": _TEXT,
        "year": {"type": "integer", "minimum": 1800, "maximum": 2100},
        "volume": _TEXT_OR_NUMBER,
        "issue": _TEXT_OR_NUMBER,
        "pages": _TEXT_OR_NUMBER,
        "doi": {"type": "string", "pattern": DOI_RE.pattern},
        "pmid": {"type": ["string", "integer"], "pattern": PMID_RE.pattern},
        "pmcid": {"type": "string", "pattern": PMCID_RE.pattern},
        "n": {"type": "integer", "minimum": 1},
        "findings": _list(_TEXT),
        "note": _TEXT,
    },
    "claims": {
        "id": {"type": "string", "pattern": ID_RE.pattern},
        "topics": _list({"type": "string", "pattern": SLUG_RE.pattern}),
        "section": _enum(Section),
        "statement": _TEXT,
        "cites": _list({"type": "string", "pattern": ID_RE.pattern}),
        "population": _enum(Population),
        "reviewed": {"type": "string", "format": "date"},
    },
}


def json_schema() -> dict[str, Any]:
    """The schema; field names and required fields come from the loader's own table."""
    defs = {}
    for kind, fields in SCHEMA.items():
        item: dict[str, Any] = {
            "type": "object",
            "properties": _PROPERTIES[kind],
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
