"""JSON renderer: the documented object, deterministic."""

from __future__ import annotations

import json
from collections import OrderedDict
from enum import IntEnum, StrEnum
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from lms_cli import load
from lms_cli.compose import compose
from lms_cli.model import Filters, Query, Rank, Summary
from lms_cli.render import json as render_json
from lms_cli.select import select
from lms_cli.text import json_safe
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


# --- dumps writes json.dumps(indent=2)'s text, with the C encoder ------------------------------


class Word(StrEnum):
    """A str subclass, as enum values are."""

    A = "a\u2028\x00"


class Number(IntEnum):
    """An int subclass."""

    N = 7


class Ratio(float):
    """A float subclass."""


class Ordered(OrderedDict[Any, Any]):
    """A dict subclass."""


#: Text a JSON writer must get right: quotes, escapes, controls (the writer's own separators
#: are control characters), its slot mark, brackets and separators as they appear in its text,
#: and format marks (a table's rows are formats).
HOSTILE = st.one_of(
    st.text(),
    st.text(
        st.sampled_from(['"', "\\", "\x00", "\x01", "\n", "\u2028", "}", "{", "[", "]", ",", ":", " ", "%", "\ud800"])
    ),
    st.sampled_from(
        ["\x00lms-slot\x00", '"\\u0000lms-slot\\u0000"', "}\x00{", "]\x00[", "\u202e", "\x85", "é中", "%s", "%(x)s"]
    ),
)
VALUES = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    st.integers(min_value=-(10**30), max_value=10**30),
    st.floats(),  # NaN, infinities, -0.0, subnormals
    HOSTILE,
    st.sampled_from([Word.A, Number.N, Ratio(0.1), Ratio("nan")]),
)
KEYS = st.one_of(HOSTILE, st.integers(), st.floats(), st.booleans(), st.none())


@st.composite
def tables(draw: st.DrawFn, children: st.SearchStrategy[Any]) -> render_json.Table:
    """A Table: string keys, columns of values, of lists of values (some empty) or of anything."""
    keys = draw(st.lists(HOSTILE, min_size=1, max_size=4, unique=True))
    rows = draw(st.integers(0, 4))
    cell = st.one_of(VALUES, st.lists(VALUES, max_size=3), children)
    return render_json.Table(tuple(keys), tuple(draw(st.lists(cell, min_size=rows, max_size=rows)) for _ in keys))


def containers(children: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
    records = st.lists(st.dictionaries(KEYS, children, min_size=1, max_size=5), min_size=1, max_size=5)
    value_lists = st.lists(st.lists(VALUES, min_size=1, max_size=4), min_size=1, max_size=4)
    same_keys = st.lists(HOSTILE, min_size=1, max_size=3, unique=True).flatmap(
        lambda keys: st.lists(st.tuples(*(st.one_of(VALUES, value_lists) for _ in keys)), min_size=1, max_size=5).map(
            lambda rows: [dict(zip(keys, row, strict=True)) for row in rows]
        )
    )
    return st.one_of(
        tables(children),
        same_keys,  # written by column
        st.lists(children, max_size=5),
        st.lists(children, max_size=4).map(tuple),
        st.dictionaries(KEYS, children, max_size=5),
        st.dictionaries(KEYS, children, max_size=3).map(Ordered),
        records,  # claims, references: a list of objects written at once
        value_lists,  # citations, authors
        st.dictionaries(st.text(max_size=3), value_lists, min_size=1, max_size=3).map(lambda d: [d, d]),
    )


JSON = st.recursive(VALUES, containers, max_leaves=40)


def plain(data: Any) -> Any:
    """``data`` with each Table as the list of objects it stands for."""
    if isinstance(data, render_json.Table):
        return plain(data.records())
    if isinstance(data, dict):
        return type(data)((k, plain(v)) for k, v in data.items())
    if isinstance(data, list | tuple):
        return type(data)(plain(v) for v in data)
    return data


def stdlib(data: Any) -> str:
    return json_safe(json.dumps(plain(data), ensure_ascii=False, indent=2)) + "\n"


@settings(max_examples=1500, deadline=None)
@given(JSON)
def test_dumps_writes_the_text_of_json_dumps(data: Any) -> None:
    assert render_json.dumps(data) == stdlib(data)


def test_dumps_of_values_that_look_like_its_own_marks() -> None:
    for data in (
        [{"a": [1], "b": "\x00lms-slot\x00"}],
        {"k": {"x": 1}, "\x00lms-slot\x00": 2},
        [[1, 2], ["\x00lms-slot\x00", "}\x00{"]],
        [{"a": {}}, {"b": []}, {"c": {}, "d": [{}]}],
    ):
        assert render_json.dumps(data) == stdlib(data)


def test_dumps_refuses_what_json_refuses() -> None:
    for bad, error in (({"a": [{1, 2}]}, TypeError), ([{"a": object()}], TypeError), ({(1, 2): 3}, TypeError)):
        with pytest.raises(error) as ours:
            render_json.dumps(bad)
        with pytest.raises(error) as theirs:
            json.dumps(bad, ensure_ascii=False, indent=2)
        assert str(ours.value) == str(theirs.value)


def test_a_table_is_written_as_its_records() -> None:
    table = render_json.Table(
        ("id", "100%", 'q"k'),
        (["a%s", "b\x00", "%(x)s"], [[1, 2], [], [3]], [None, 1.5, float("nan")]),
    )
    assert len(table) == 3
    assert table.records()[1] == {"id": "b\x00", "100%": [], 'q"k': 1.5}
    for data in (table, {"t": table}, [table, table], {"e": render_json.Table(("a",), ([],))}):
        assert render_json.dumps(data) == stdlib(data)


def test_an_answer_writes_its_claims_by_column(monkeypatch: pytest.MonkeyPatch) -> None:
    """The answer's claims go through the column writer, not a dict per claim."""
    written: list[int] = []
    rows = render_json._table_rows

    def counted(keys: Any, columns: Any, level: int) -> Any:
        out = rows(keys, columns, level)
        if tuple(keys) == render_json.CLAIM_KEYS and out is not None:
            written.append(len(out))
        return out

    monkeypatch.setattr(render_json, "_table_rows", counted)
    base = load.load([load.bundled_dir()])
    summary = compose(Query("spread-to-muscle"), select(base, "spread-to-muscle", Filters()))
    text = render_json.render(summary)
    assert written == [len(part.claims) for part in summary.sections]
    assert text == stdlib(render_json.summary_dict(summary))


def test_a_big_answer_is_the_same_text() -> None:
    claim = {"id": "c", "statement": "s \u2013 [1].", "rank": "rct", "population": "all", "support": "each"}
    data = {
        "sections": [{"name": "key-point", "claims": [{**claim, "citations": [i, i + 1]} for i in range(3000)]}],
        "references": [{"number": i, "authors": ["A B", "et al."], "n": None, "findings": []} for i in range(500)],
    }
    assert render_json.dumps(data) == stdlib(data)


def _with_text(summary: Summary, text: str) -> Summary:
    """``summary`` with ``text`` as its second section's topic (as a search's sections have)
    and as that section's first claim."""
    part = summary.sections[1]
    first = part.claims[0]
    claims = (first._replace(claim=first.claim._replace(statement=text)), *part.claims[1:])
    topic = summary.topic._replace(slug=text)
    sections = (summary.sections[0], part._replace(claims=claims, topic=topic), *summary.sections[2:])
    return summary._replace(sections=sections)


def test_an_answer_is_streamed_a_section_at_a_time_with_the_same_text() -> None:
    base = load.load([load.bundled_dir()])
    for topic in base.topics:
        summary = compose(Query(topic.slug), select(base, topic.slug, Filters()))
        pieces = list(render_json.streamed(summary))
        assert "".join(pieces) == render_json.render(summary) == stdlib(render_json.summary_dict(summary))
        assert len(pieces) == len(summary.sections) + 2
    summary = compose(Query("first-line"), select(base, "first-line", Filters()))
    for hostile in ("\x00lms-slot\x00", 'a "sections": [] b\n  "sections": []', "bidi \u202e and \u2028 é"):
        changed = _with_text(summary, hostile)  # its own mark: that section falls back to json.dumps
        assert "".join(render_json.streamed(changed)) == stdlib(render_json.summary_dict(changed))
