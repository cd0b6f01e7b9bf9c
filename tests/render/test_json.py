"""JSON renderer: the documented object, deterministic."""

from __future__ import annotations

import json

from lms_cli import load
from lms_cli.compose import compose
from lms_cli.model import Filters, Query, Rank
from lms_cli.render import json as render_json
from lms_cli.select import select
from tests.conftest import BASE, DATA


def test_golden_and_shape() -> None:
    base = load.load([BASE])
    summary = compose(Query("first-line", Filters(min_rank=None)), select(base, "first-line", Filters()))
    text = render_json.render(summary)
    assert text == (DATA / "golden" / "first-line.json").read_text(encoding="utf-8")
    data = json.loads(text)
    assert list(data) == [
        "schema_version",
        "query",
        "topic",
        "sections",
        "references",
        "glance",
        "hidden",
        "reviewed_through",
        "disclaimer",
    ]
    assert data["hidden"] == []
    assert data["schema_version"] == 1
    assert data["query"] == {"topic": "first-line", "min_rank": None, "since": None, "population": None}
    assert [s["name"] for s in data["sections"]] == ["answer", "key-point", "advance", "implication"]
    first = data["references"][0]
    assert first["number"] == 1
    assert first["id"] == "judson2014"
    assert first["rank"] == "rct"
    assert first["authors"] == ["Judson I", "Verweij J", "Gelderblom H", "et al."]
    assert first["pmid"] == "24618336"
    assert "pmcid" not in first  # only fields that are present
    assert data["glance"]["by_rank"] == {"rct": 2, "retrospective": 1, "case-series": 1}
    assert data["reviewed_through"] == "2026-02-01"


def test_query_echoes_filters() -> None:
    base = load.load([BASE])
    filters = Filters(min_rank=Rank.RCT, since=2014)
    data = json.loads(render_json.render(compose(Query("first-line", filters), select(base, "first-line", filters))))
    assert data["query"] == {"topic": "first-line", "min_rank": "rct", "since": 2014, "population": None}


def test_bidi_and_c1_controls_are_escaped_and_nothing_else() -> None:
    hostile = "a\u202eb\u2066c\u200fd\u0085e\u009bf\u2028g é ü 中 \u00a0"
    text = render_json.dumps({"x": hostile})
    assert text == '{\n  "x": "a\\u202eb\\u2066c\\u200fd\\u0085e\\u009bf\\u2028g é ü 中 \u00a0"\n}\n'
    assert json.loads(text) == {"x": hostile}
