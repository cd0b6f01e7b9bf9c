"""JSON Schema (draft 2020-12) of evidence files, for editors that validate YAML as it is typed."""

from __future__ import annotations

from typing import Any

from lms_cli.load import SCHEMA


def json_schema() -> dict[str, Any]:
    """The schema, generated from the loader's own table of fields."""
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
