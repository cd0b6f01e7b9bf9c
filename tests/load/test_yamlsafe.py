"""Positioned, bounded YAML parsing."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
import yaml

from lms_cli.load import yamlsafe
from lms_cli.load.yamlsafe import LList, LMap
from tests.conftest import BASE


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


# --- libyaml and the pure-Python parser give the same values, positions and problems --------


def _shape(value: object) -> object:
    """A value with every position yamlsafe recorded in it, for exact comparison."""
    if isinstance(value, LMap):
        return ("map", value.pos, [(k, value.key_pos[k], value.val_pos[k], _shape(v)) for k, v in value.items()])
    if isinstance(value, LList):
        return ("list", value.pos, [(at, _shape(v)) for at, v in zip(value.item_pos, value, strict=True)])
    return (type(value).__name__, value)


Parsed = tuple[object, list[str]]


def _both(text: str) -> tuple[Parsed, Parsed]:
    fast, fast_problems = yamlsafe.parse(text, "f.yaml", fast=True)
    pure, pure_problems = yamlsafe.parse(text, "f.yaml", fast=False)
    return ((_shape(fast), [str(p) for p in fast_problems]), (_shape(pure), [str(p) for p in pure_problems]))


def _evidence_files() -> list[Path]:
    from lms_cli.load import bundled_dir, iter_files

    files = [*iter_files(bundled_dir()), *iter_files(BASE)]
    assert len(files) > 10
    return files


def test_libyaml_is_installed() -> None:
    # Without it every comparison below would compare the pure parser with itself.
    assert yaml.__with_libyaml__


def test_both_parsers_agree_on_every_evidence_file(tmp_path: Path) -> None:
    from bench import synth

    files = [*_evidence_files(), *synth.generate(tmp_path, 400)]
    for path in files:
        fast, pure = _both(path.read_text(encoding="utf-8"))
        assert fast == pure, path
        assert fast[1] == [] and fast[0] != ("NoneType", None), path


@pytest.mark.parametrize(
    "text",
    [
        "é: ü\nb: [ä, ö, 😀x]\n😀: z\n",  # columns count characters, not bytes
        "a: 1\r\nb:\r\n  - x\r\n  - y\r\n",  # CRLF
        "a: 1\rb: 2\r",  # CR alone
        "a: x\x85b: y\n",  # NEL
        "a: |\n  line1\n  line2\nb: >\n  folded\n  text\nc: end\n",
        "a: one\n  two\n  three\nb: x\n",  # a multi-line plain scalar
        "# c\na: 1 # x\n# d\nb: [1, # e\n  2]\n",
        "a: &x [1, 2]\nb: *x\nc: &y {k: v}\nd: *y\n",
        "a: !!str 12\nb: !!int '7'\nc: ! 5\n",
        "'a b': 1\n\"c\\td\": 2\n",
        "a:\nb: ~\nc: null\n",
        "{a: [1, {b: c}], d: e}\n",
        "---\na: 1\n...\n",
        "a: 2026-11-27\nb: 2026-13-01\nc: 2001-12-14t21:59:43.10-05:00\n",
        "a: 0123\nb: 0x1f\nc: 1_000\nd: +5\ne: 12\nf: 1:30\ng: 0\n",
        "a: 1.5\nb: .inf\nc: 1e3\nd: yes\ne: No\n",
        "a: " + "x" * 5000 + "\nb: 1\n",
        "a:\n- 1\n- 2\n",
        "%YAML 1.1\n---\na: 1\n",
        "a:\u00a0x\n",
        "",
        "# only a comment\n",
        "just text\n",
    ],
)
def test_both_parsers_agree_on_valid_text(text: str) -> None:
    fast, pure = _both(text)
    assert fast == pure


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("a: 1\nb: 2\na: 3\n", "f.yaml:3:1: duplicate key 'a' (first at line 1)"),
        ("x:\n  a: 1\n  a: 2\n", "f.yaml:3:3: duplicate key 'a' (first at line 2)"),
        ("a: !!python/object:os.system x\n", "f.yaml:1:4: tag 'tag:yaml.org,2002:python/object:os.system'"),
        ("a: !!set {x}\n", "f.yaml:1:4: tag 'tag:yaml.org,2002:set' is not allowed"),
        ("a: !!binary aGk=\n", "f.yaml:1:4: tag 'tag:yaml.org,2002:binary' is not allowed"),
        ("%TAG !e! tag:example.com,2000:\n---\na: !e!foo x\n", "f.yaml:3:4: tag 'tag:example.com,2000:foo'"),
        ("a: &x [*x]\n", "f.yaml:1:8: alias *x refers to itself"),
        ("a: *nope\n", "f.yaml:1:4: unknown alias *nope"),
        ("a: 1\n---\nb: 2\n", "f.yaml:2:1: only one YAML document is allowed per file"),
        ("<<: {a: 1}\n", "f.yaml:1:1: merge keys (<<) are not supported"),
        ("a: &b {x: 1}\nc:\n  <<: *b\n", "f.yaml:3:3: merge keys (<<) are not supported"),
        ("? [a]\n: 1\n", "f.yaml:1:3: mapping keys must be text, not LList"),
        ("1: a\n", "f.yaml:1:1: mapping keys must be text, not int"),
        ("[" * 100 + "]" * 100, f"f.yaml:1:{yamlsafe.MAX_DEPTH + 1}: nesting deeper than"),
        ("a: x\x07y\n", "f.yaml:1:1: YAML syntax error: unacceptable character #x0007"),
        ('a: "\\q"\n', "f.yaml:1:6: YAML syntax error: found unknown escape character 'q'"),
        ("a:\n  b: 1\n c: 2\n", "f.yaml:3:2: YAML syntax error: expected <block end>"),
        ("%YAML 2.0\n---\na: 1\n", "f.yaml:1:1: YAML syntax error: found incompatible YAML document"),
    ],
)
def test_both_parsers_report_each_kind_of_problem_alike(text: str, expected: str) -> None:
    fast, pure = _both(text)
    assert fast == pure
    assert fast[1][-1].startswith(expected)


def test_alias_bombs_are_reported_alike() -> None:
    lines = ["a: &a [x, x, x, x, x, x, x, x, x]"]
    for prev, name in zip("abcdefgh", "bcdefghi", strict=True):
        lines.append(f"{name}: &{name} [" + ", ".join([f"*{prev}"] * 9) + "]")
    fast, pure = _both("\n".join(lines) + "\n")
    assert fast == pure
