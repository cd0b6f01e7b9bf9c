"""Positioned, bounded YAML parsing."""

from __future__ import annotations

import datetime as dt

import pytest

from lms_cli import yamlsafe
from lms_cli.yamlsafe import LList, LMap


def parse(text: str, fast: bool = True) -> tuple[object, list[str]]:
    value, problems = yamlsafe.parse(text, "f.yaml", fast=fast)
    return value, [str(p) for p in problems]


def test_values_keep_their_positions() -> None:
    value, problems = parse("a: 1\nb:\n  - x\n  - y\nc: 2026-11-27\n")
    assert problems == []
    assert isinstance(value, LMap)
    assert value == {"a": 1, "b": ["x", "y"], "c": dt.date(2026, 11, 27)}
    assert value.key_pos["b"] == (2, 1)
    assert value.val_pos["a"] == (1, 4)
    assert isinstance(value["b"], LList)
    assert value["b"].item_pos == [(3, 5), (4, 5)]


def test_duplicate_keys_are_reported_and_the_first_is_kept() -> None:
    value, problems = parse("a: 1\nb: 2\na: 3\n")
    assert problems == ["f.yaml:3:1: duplicate key 'a' (first at line 1)"]
    assert value == {"a": 1, "b": 2}


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("a: !!python/object:os.system x\n", "f.yaml:1:4: tag 'tag:yaml.org,2002:python/object:os.system'"),
        ("a: !!python/name:os.system {}\n", "f.yaml:1:4: tag 'tag:yaml.org,2002:python/name:os.system'"),
        ("a: &x [*x]\n", "f.yaml:1:8: alias *x refers to itself"),
        ("a: 1\n---\nb: 2\n", "f.yaml:2:1: only one YAML document is allowed per file"),
        ("<<: {a: 1}\n", "f.yaml:1:1: merge keys (<<) are not supported"),
        ("? [a]\n: 1\n", "f.yaml:1:3: mapping keys must be text, not LList"),
    ],
)
def test_refused_constructs(text: str, expected: str) -> None:
    value, problems = parse(text)
    assert value is None
    assert problems[0].startswith(expected)


def test_alias_bomb_fails_fast() -> None:
    lines = ["a: &a [x, x, x, x, x, x, x, x, x]"]
    for prev, name in zip("abcdefgh", "bcdefghi", strict=True):
        lines.append(f"{name}: &{name} [" + ", ".join([f"*{prev}"] * 9) + "]")
    value, problems = parse("\n".join(lines) + "\n")
    assert value is None
    assert "aliases expand to more than 100000 values" in problems[0]


def test_small_aliases_are_allowed() -> None:
    value, problems = parse("a: &c [x, y]\nb: *c\n")
    assert problems == []
    assert value == {"a": ["x", "y"], "b": ["x", "y"]}


def test_deep_nesting_is_refused() -> None:
    value, problems = parse("[" * 500 + "]" * 500)
    assert value is None
    assert problems == [f"f.yaml:1:{yamlsafe.MAX_DEPTH + 1}: nesting deeper than {yamlsafe.MAX_DEPTH} levels"]


@pytest.mark.parametrize(
    "text",
    ["a: [1, 2\n", "a:\n\t- b\n", "a: b: c\n", "- a\nb: c\n", "a: 'unterminated\n", "key: [a, b]]\n"],
)
def test_syntax_errors_match_between_parsers(text: str) -> None:
    fast = parse(text, fast=True)
    pure = parse(text, fast=False)
    assert fast == pure
    assert fast[0] is None
    assert "YAML syntax error" in fast[1][0]


def test_decode_reports_bad_bytes_with_position() -> None:
    text, problem = yamlsafe.decode(b"a: 1\nb: \xff\n", "f.yaml")
    assert text is None
    assert str(problem) == "f.yaml:2:4: file is not valid UTF-8 (byte 8)"
    text, problem = yamlsafe.decode(b"a: 1\x00\n", "f.yaml")
    assert str(problem) == "f.yaml:1:5: file contains a NUL byte (byte 4)"


def test_decode_strips_a_bom() -> None:
    text, problem = yamlsafe.decode(b"\xef\xbb\xbfa: 1\n", "f.yaml")
    assert problem is None
    assert text == "a: 1\n"
