"""Hostile and broken evidence files (issue 7, YAML): a located message, exit 3, nothing written.

Every case goes through the CLI twice -- `lms validate DIR` (no cache) and `lms ask` (the
parsed-evidence cache) -- and must give the same `FILE:LINE:COL: message` lines on stderr,
exit 3, no traceback, nothing on stdout, and leave every evidence file as it was. The bombs
are also run in a child process whose peak memory and time are measured.
"""

from __future__ import annotations

import itertools
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from lms_cli import load
from lms_cli.errors import EvidenceError, ExitCode
from lms_cli.load import yamlsafe
from tests.conftest import BASE, DATA, Invoke

TOPIC = "topics:\n  - slug: t\n    title: T\n    question: Q?\n"
REF = "references:\n  - {id: r, design: rct, authors: [A B], title: T, journal: J, year: 2020, pmid: '1'}\n"


def tree(root: Path) -> dict[str, object]:
    """What is under ``root``: file bytes, symlink targets and other kinds, without reading FIFOs."""
    found: dict[str, object] = {}
    for path in sorted(root.rglob("*")) if root.is_dir() else [root]:
        st_mode = path.lstat().st_mode
        if path.is_symlink():
            found[str(path)] = ("link", os.readlink(path))
        elif path.is_file() and not path.is_fifo():
            found[str(path)] = path.read_bytes()
        else:
            found[str(path)] = ("other", st_mode)
    return found


def put(directory: Path, files: dict[str, str | bytes]) -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    for name, content in files.items():
        (directory / name).write_bytes(content.encode("utf-8") if isinstance(content, str) else content)
    return directory


#: What a command that offers --skip-invalid adds to an evidence error.
SKIP_HINT = "Hint: fix them (`lms validate` lists them all), or add --skip-invalid to use the other files\n"
#: The commands that offer it (validate, refs fetch and refs add do not: they check or write the base).
SKIPPING = {"ask", "search", "topics", "show", "cite", "report", "trials"}  # and refs verify, refs list


def refused(invoke: Invoke, directory: Path, expected: list[str], env: dict[str, str] | None = None) -> None:
    """Both ways of loading ``directory`` fail with exactly ``expected`` (paths relative to it)."""
    before = tree(directory)
    count = len(expected)
    message = f"Error: {count} problem{'s' if count != 1 else ''} in the evidence:\n"
    message += "".join(f"{directory}{'' if line.startswith(':') else '/'}{line}\n" for line in expected)
    hint = SKIP_HINT
    for args, after in (
        (["validate", str(directory)], ""),
        (["ask", "first-line", "--no-bundled", "-e", str(directory)], hint),  # ask offers --skip-invalid
    ):
        result = invoke(*args, env=env)
        assert result.exit_code == ExitCode.INVALID_EVIDENCE, (args, result.stderr)
        assert result.stdout == ""
        assert result.stderr == message + after, args
    assert tree(directory) == before


def loads(invoke: Invoke, directory: Path, summary: str) -> None:
    before = tree(directory)
    for args in (["validate", str(directory)], ["validate", "--no-bundled", "-e", str(directory)]):
        result = invoke(*args)
        assert result.exit_code == 0, result.stderr
        assert (result.stdout, result.stderr) == (f"OK: {summary}\n", "")
    assert tree(directory) == before


# --- YAML syntax, tabs -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            "claims: [\n",
            "2:1: YAML syntax error: expected the node content, but found '<stream end>' (while parsing a flow node)",
        ),
        ("topics:\n  - slug: a: b\n", "2:12: YAML syntax error: mapping values are not allowed here"),
        (
            "topics:\n  - slug: 'open\n",
            "3:1: YAML syntax error: found unexpected end of stream (while scanning a quoted scalar)",
        ),
        (
            "topics:\n  - slug: a\n   title: b\n",
            "3:4: YAML syntax error: expected <block end>, but found "
            "'<block mapping start>' (while parsing a block collection)",
        ),
        (
            "topics:\n\t- slug: a\n",
            "2:1: YAML syntax error: found character '\\t' that cannot start any token "
            "(while scanning for the next token)",
        ),
        (
            'topics:\n  - {slug: a, title: "x\\U00110000"}\n',
            "2:26: YAML syntax error: found invalid Unicode character escape code (while parsing a quoted scalar)",
        ),
        (
            "%YAML 1." + "9" * 5000 + "\n---\na: 1\n",
            "1:18: YAML syntax error: found extremely long version number (while scanning a %YAML directive)",
        ),
    ],
    ids=[
        "unclosed-flow",
        "mapping-in-plain",
        "unclosed-quote",
        "bad-indent",
        "tab-indent",
        "escape-past-unicode",
        "huge-directive",
    ],
)
def test_syntax_errors(invoke: Invoke, tmp_path: Path, text: str, expected: str) -> None:
    refused(invoke, put(tmp_path / "ev", {"e.yaml": text}), [f"e.yaml:{expected}"])


def test_pure_parser_errors_that_crashed_pyyaml_are_problems() -> None:
    # PyYAML's pure scanner passes "\U00110000" to chr() and 5000 digits to int(): ValueError, not YAMLError
    for text, at in (('a: "x\\U00110000"\n', (1, 8)), ("%YAML 1." + "9" * 5000 + "\n---\na: 1\n", (1, 9))):
        value, problems = yamlsafe.parse(text, "f.yaml", fast=False)
        assert value is None
        assert [(p.line, p.column) for p in problems] == [at]
        assert problems[0].message.startswith("YAML syntax error: cannot read this value (")


# --- wrong types, empty files, wrong shapes, unknown and duplicate keys -------------------------------------

WRONG_TYPES = """\
topics:
  - slug: {a: 1}
    title: [x]
    question: 12
    aliases: yes
references:
  - id: 2014
    design: [rct]
    authors: Judson I
    title: null
    journal: 2026-01-01
    year: "2014"
    volume: {v: 1}
    issue: [1]
    pages: true
    doi: 10
    pmid: 1.5
    pmcid: [PMC1]
    n: "353"
    findings: {a: b}
    note: [a]
claims:
  - id: [c]
    topics: t
    section: 3
    statement: {s: 1}
    cites: r
    population: [all]
    reviewed: [2026-01-01]
  - id: c2
    topics: [1, null]
    section: answer
    statement: ""
    cites: [[r]]
    reviewed: 2026-01-01 10:00:00
"""


def test_wrong_types_in_every_field(invoke: Invoke, tmp_path: Path) -> None:
    refused(
        invoke,
        put(tmp_path / "ev", {"w.yaml": WRONG_TYPES}),
        [
            "w.yaml:2:11: field 'slug' must be text, not a mapping",
            "w.yaml:3:12: field 'title' must be text, not a list",
            "w.yaml:4:15: field 'question' must be text, not the number 12",
            "w.yaml:5:14: field 'aliases' must be a list, not true/false",
            "w.yaml:7:9: field 'id' must be text, not the number 2014",
            "w.yaml:8:13: field 'design' must be text, not a list",
            "w.yaml:9:14: field 'authors' must be a list, not text",
            "w.yaml:10:12: field 'title' must be text, not empty",
            "w.yaml:11:14: field 'journal' must be text, not a date",
            "w.yaml:12:11: field 'year' must be a year like 2014, not text",
            "w.yaml:13:13: field 'volume' must be text, not a mapping",
            "w.yaml:14:12: field 'issue' must be text, not a list",
            "w.yaml:15:12: field 'pages' must be text, not true/false",
            "w.yaml:16:10: field 'doi' must be text, not the number 10",
            "w.yaml:17:11: field 'pmid' must be text, not the number 1.5",
            "w.yaml:18:12: field 'pmcid' must be text, not a list",
            "w.yaml:19:8: field 'n' must be a positive whole number, not '353'",
            "w.yaml:20:15: field 'findings' must be a list, not a mapping",
            "w.yaml:21:11: field 'note' must be text, not a list",
            "w.yaml:23:9: field 'id' must be text, not a list",
            "w.yaml:24:13: field 'topics' must be a list, not text",
            "w.yaml:25:14: field 'section' must be text, not the number 3",
            "w.yaml:26:16: field 'statement' must be text, not a mapping",
            "w.yaml:27:12: field 'cites' must be a list, not text",
            "w.yaml:28:17: field 'population' must be text, not a list",
            "w.yaml:29:15: field 'reviewed' must be a date like 2026-11-27, not a list",
            "w.yaml:31:14: topics[1] must be text, not the number 1",
            "w.yaml:31:17: topics[2] must be text, not empty",
            "w.yaml:33:16: field 'statement' must not be empty",
            "w.yaml:34:13: cites[1] must be text, not a list",
            "w.yaml:35:15: field 'reviewed' must be a date like 2026-11-27, without a time",
        ],
    )


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("", "1:1: file is empty: expected topics, references or claims"),
        ("  \n\n", "1:1: file is empty: expected topics, references or claims"),
        ("# nothing yet\n", "1:1: file is empty: expected topics, references or claims"),
        ("---\n", "1:1: file is empty: expected topics, references or claims"),
        ("~\n", "1:1: file is empty: expected topics, references or claims"),
        ("- topics\n- claims\n", "1:1: file must be a mapping with topics, references or claims, not a list"),
        ("hello\n", "1:1: file must be a mapping with topics, references or claims, not text"),
        ("42\n", "1:1: file must be a mapping with topics, references or claims, not the number 42"),
        ("2026-01-01\n", "1:1: file must be a mapping with topics, references or claims, not a date"),
        ("topics: {slug: a}\n", "1:9: 'topics' must be a list, not a mapping"),
        ("claims: [x]\n", "1:10: each of claims must be a mapping of fields, not text"),
        (
            "topic: []\n",
            "1:1: unknown top-level key 'topic' (did you mean 'topics'?); expected topics, references or claims",
        ),
        (
            "notes: " + "x" * 10_000 + "\n" + TOPIC,
            "1:1: unknown top-level key 'notes'; expected topics, references or claims",
        ),
        (
            TOPIC + "\ufeffclaims: []\n",
            "5:1: unknown top-level key '\\ufeffclaims' (did you mean 'claims'?); "
            "expected topics, references or claims",
        ),
        (TOPIC + "    titel: U\n", "5:5: unknown field 'titel' in topic (did you mean 'title'?)"),
        (TOPIC + "    " + "k" * 1000 + ": 1\n", "5:5: unknown field '" + "k" * 60 + "…' in topic"),
        (TOPIC + "    title: U\n", "5:5: duplicate key 'title' (first at line 3)"),
        (TOPIC + "topics: []\n", "5:1: duplicate key 'topics' (first at line 1)"),
    ],
    ids=[
        "empty",
        "blank",
        "comment",
        "document-start",
        "null",
        "list",
        "scalar",
        "number",
        "date",
        "kind-mapping",
        "item-scalar",
        "unknown-top-key",
        "long-unknown-top-key",
        "mid-file-bom",
        "unknown-field",
        "long-field",
        "duplicate-field",
        "duplicate-top-key",
    ],
)
def test_file_shapes_and_keys(invoke: Invoke, tmp_path: Path, text: str, expected: str) -> None:
    refused(invoke, put(tmp_path / "ev", {"e.yaml": text}), [f"e.yaml:{expected}"])


def test_duplicate_ids_across_files_and_missing_citations(invoke: Invoke, tmp_path: Path) -> None:
    directory = put(
        tmp_path / "ev",
        {
            "a.yaml": TOPIC + REF,
            "b.yaml": "topics:\n  - {slug: r, title: R, question: R?}\n"
            "claims:\n  - {id: c, topics: [t, nowhere], section: answer, statement: S., cites: [r, nope]}\n"
            "  - {id: c, topics: [t], section: answer, statement: S., cites: [rr]}\n",
        },
    )
    refused(
        invoke,
        directory,
        [
            f"b.yaml:2:1: duplicate id 'r' (topic); first defined at {directory}/a.yaml:6",
            "b.yaml:4:25: unknown topic 'nowhere'",
            "b.yaml:4:78: unknown reference 'nope'",
            f"b.yaml:5:1: duplicate id 'c' (claim); first defined at {directory}/b.yaml:4",
            "b.yaml:5:66: unknown reference 'rr' (did you mean 'r'?)",
        ],
    )


# --- aliases, anchors, tags --------------------------------------------------------------------------


def laughs(levels: int = 9) -> str:
    lines = ["a: &a [x, x, x, x, x, x, x, x, x]"]
    names = "abcdefghijklmnopqrstuvwxyz"
    for prev, name in itertools.pairwise(names[:levels]):
        lines.append(f"{name}: &{name} [" + ", ".join([f"*{prev}"] * 9) + "]")
    return "\n".join(lines) + "\n"


def long_text_bomb(repeats: int = 2000, size: int = 1000) -> str:
    return f"a: &s {'x' * size}\nb: [" + ", ".join(["*s"] * repeats) + "]\n"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("topics: &x [*x]\n", "1:13: alias *x refers to itself"),
        ("topics:\n  - &x {slug: a, title: *x}\n", "2:25: alias *x refers to itself"),
        ("topics: *nope\n", "1:9: unknown alias *nope"),
        (laughs(), "6:8: aliases expand to more than 100000 values"),  # 9**6 values in f's first *e
        (long_text_bomb(), f"2:{5 + 4 * 1000}: aliases repeat more than 1000000 characters of text"),
        (
            "topics: !!python/object/apply:os.system ['echo pwned']\n",
            "1:9: tag 'tag:yaml.org,2002:python/object/apply:os.system' is not allowed in evidence files",
        ),
        (
            "topics:\n  - slug: !!python/name:os.system ''\n",
            "2:11: tag 'tag:yaml.org,2002:python/name:os.system' is not allowed in evidence files",
        ),
        (
            "topics: !!python/object:__main__.X {a: 1}\n",
            "1:9: tag 'tag:yaml.org,2002:python/object:__main__.X' is not allowed in evidence files",
        ),
        ("topics: !!binary aGk=\n", "1:9: tag 'tag:yaml.org,2002:binary' is not allowed in evidence files"),
        ("topics: !evil [x]\n", "1:9: tag '!evil' is not allowed in evidence files"),
        ("<<: {topics: []}\n", "1:1: merge keys (<<) are not supported"),
        ("a: 1\n---\nb: 2\n", "2:1: only one YAML document is allowed per file"),
    ],
    ids=[
        "self-list",
        "self-mapping",
        "unknown-alias",
        "billion-laughs",
        "long-text-aliases",
        "python-apply",
        "python-name",
        "python-object",
        "binary",
        "custom-tag",
        "merge-key",
        "two-documents",
    ],
)
def test_aliases_and_tags(invoke: Invoke, tmp_path: Path, text: str, expected: str) -> None:
    refused(invoke, put(tmp_path / "ev", {"e.yaml": text}), [f"e.yaml:{expected}"])


def test_nothing_in_a_file_is_executed(invoke: Invoke, tmp_path: Path) -> None:
    marker = tmp_path / "pwned"
    text = f"topics: !!python/object/apply:os.system ['touch {marker}']\n"
    refused(
        invoke,
        put(tmp_path / "ev", {"e.yaml": text}),
        ["e.yaml:1:9: tag 'tag:yaml.org,2002:python/object/apply:os.system' is not allowed in evidence files"],
    )
    assert not marker.exists()


# --- nesting, size, counts ------------------------------------------------------------------------------


# Where the collection that makes MAX_DEPTH + 1 levels (the top mapping is the first) starts.
DEPTH = yamlsafe.MAX_DEPTH


@pytest.mark.parametrize(
    ("text", "at"),
    [
        ("claims: " + "[" * 100_000, f"1:{9 + DEPTH - 1}"),
        ("claims: " + "{" * 100_000, f"1:{9 + DEPTH - 1}"),
        ("claims: " + "[{a: " * 50_000, f"1:{9 + 5 * (DEPTH // 2 - 1) + 1}"),
        ("claims:\n" + "- " * 100_000, f"2:{1 + 2 * (DEPTH - 1)}"),
    ],
    ids=["lists", "mappings", "mixed", "block"],
)
def test_very_deep_nesting(invoke: Invoke, tmp_path: Path, text: str, at: str) -> None:
    refused(invoke, put(tmp_path / "ev", {"e.yaml": text}), [f"e.yaml:{at}: nesting deeper than {DEPTH} levels"])


def test_file_over_the_size_limit(invoke: Invoke, tmp_path: Path) -> None:
    directory = put(tmp_path / "ev", {"big.yaml": TOPIC + "#" * 200 + "\n"})
    size = (directory / "big.yaml").stat().st_size
    refused(
        invoke,
        directory,
        [f"big.yaml:1:1: file is {size} bytes, over the limit of 100 (set LMS_MAX_FILE_BYTES to raise it)"],
        env={"LMS_MAX_FILE_BYTES": "100"},
    )
    assert invoke("validate", str(directory), env={"LMS_MAX_FILE_BYTES": str(size)}).exit_code == 0


def test_default_size_limit_is_checked_before_reading(invoke: Invoke, tmp_path: Path) -> None:
    directory = tmp_path / "ev"
    directory.mkdir()
    with open(directory / "huge.yaml", "wb") as handle:  # sparse: nothing is written to disk
        handle.truncate(load.MAX_FILE_BYTES + 1)
    refused(
        invoke,
        directory,
        [
            f"huge.yaml:1:1: file is {load.MAX_FILE_BYTES + 1} bytes, over the limit of "
            f"{load.MAX_FILE_BYTES} (set LMS_MAX_FILE_BYTES to raise it)"
        ],
    )


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("abc", "Error: LMS_MAX_FILE_BYTES must be a whole number of bytes, not 'abc'\n"),
        ("0", "Error: LMS_MAX_FILE_BYTES must be positive, not '0'\n"),
    ],
)
def test_size_limit_setting_must_be_a_number(invoke: Invoke, value: str, message: str) -> None:
    result = invoke("validate", "--no-bundled", "-e", str(BASE), env={"LMS_MAX_FILE_BYTES": value})
    assert (result.exit_code, result.stdout, result.stderr) == (ExitCode.USAGE, "", message)


def test_too_many_values_in_one_file(invoke: Invoke, tmp_path: Path) -> None:
    # the mapping, its key and the list count too: the 999,998th x is value 1,000,001
    text = "claims: [" + "x," * (yamlsafe.MAX_VALUES + 5) + "]\n"
    directory = put(tmp_path / "ev", {"e.yaml": text})
    result = invoke("validate", str(directory))  # once: a million values take a second to read
    assert (result.exit_code, result.stdout) == (ExitCode.INVALID_EVIDENCE, "")
    column = 10 + 2 * (yamlsafe.MAX_VALUES - 3)
    assert result.stderr == (
        f"Error: 1 problem in the evidence:\n{directory}/e.yaml:1:{column}: "
        f"more than {yamlsafe.MAX_VALUES} values in one file; split it into smaller files\n"
    )


def test_problems_per_file_are_capped(invoke: Invoke, tmp_path: Path) -> None:
    directory = put(
        tmp_path / "ev",
        {
            "items.yaml": "claims:\n" + "  - {}\n" * 1000,  # five missing fields each
            "ids.yaml": TOPIC
            + "claims:\n"
            + "".join(
                f"  - {{id: c{i}, topics: [t], section: answer, statement: S., cites: [nope]}}\n" for i in range(1000)
            ),
        },
    )
    result = invoke("validate", str(directory))
    assert result.exit_code == ExitCode.INVALID_EVIDENCE
    lines = result.stderr.splitlines()
    assert lines[0] == f"Error: {2 * (load.MAX_PROBLEMS + 1)} problems in the evidence:"
    assert f"{directory}/items.yaml:42:5: stopped after {load.MAX_PROBLEMS} problems in this file" in lines
    assert f"{directory}/ids.yaml:206:69: stopped after {load.MAX_PROBLEMS} problems with ids in this file" in lines


# --- bytes and characters ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        (b"topics:\n  - slug: caf\xe9\n", "2:14: file is not valid UTF-8 (byte 21)"),
        (b"\xff\xfet\x00o\x00", "1:1: file is not valid UTF-8 (byte 0)"),  # UTF-16 is refused, not guessed
        (b"topics:\n  - {slug: a,\x00 title: A}\n", "2:14: file contains a NUL byte (byte 21)"),
        (
            'topics:\n  - title: "caf\u00e9"\n    question: Q\x1b[2J?\n'.encode(),
            "3:16: file contains U+001B, a control character YAML does not allow",
        ),
        (
            "topics:\r\n  - title: \u0091x\n".encode(),
            "2:12: file contains U+0091, a control character YAML does not allow",
        ),
        (
            "topics:\n  - title: \ufffe\n".encode(),
            "2:12: file contains U+FFFE, a control character YAML does not allow",
        ),
    ],
    ids=["latin-1", "utf-16", "nul", "escape-sequence", "c1-control", "non-character"],
)
def test_bytes_yaml_refuses(invoke: Invoke, tmp_path: Path, data: bytes, expected: str) -> None:
    refused(invoke, put(tmp_path / "ev", {"e.yaml": data}), [f"e.yaml:{expected}"])


def test_a_bom_and_unicode_line_breaks_are_fine(invoke: Invoke, tmp_path: Path) -> None:
    directory = put(
        tmp_path / "ev",
        {
            "a.yaml": b"\xef\xbb\xbf" + TOPIC.encode(),
            "b.yaml": "references:\r\n  - id: r\r\n    design: rct\r\n    authors: [M\u00fcller A]\u2028    title: "
            "T\x85    journal: J\n    year: 2020\n    pmid: '1'\n".encode(),
        },
    )
    loads(invoke, directory, "1 topics, 1 references, 0 claims")


@pytest.mark.parametrize(
    ("statement", "expected"),
    [
        (
            '"caf\\u00e9 \\ud800 x"',
            "3:16: field 'statement' holds a lone surrogate U+D800 (character 6), which is "
            "not text; write the character itself",
        ),
        (
            '"x \\udc00\\ud83d"',
            "3:16: field 'statement' holds a lone surrogate U+DC00 (character 3), which is not "
            "text; write the character itself",
        ),
        (
            '"\\U0000D800"',
            "3:16: field 'statement' holds a lone surrogate U+D800 (character 1), which is not text; "
            "write the character itself",
        ),
    ],
)
def test_lone_surrogates_are_refused_where_they_are(
    invoke: Invoke, tmp_path: Path, statement: str, expected: str
) -> None:
    text = (
        f"claims:\n  - id: c\n    statement: {statement}\n    topics: [first-line]\n    section: answer\n"
        "    cites: [judson2014]\n"
    )
    directory = put(tmp_path / "ev", {"e.yaml": text})
    before = tree(directory)
    for args in (
        ["validate", "--no-bundled", "-e", str(BASE), "-e", str(directory)],
        ["ask", "first-line", "--no-bundled", "-e", str(BASE), "-e", str(directory)],
    ):
        result = invoke(*args)
        assert result.exit_code == ExitCode.INVALID_EVIDENCE
        assert (result.stdout, result.stderr) == (
            "",
            f"Error: 1 problem in the evidence:\n{directory}/e.yaml:{expected}\n"
            + (SKIP_HINT if args[0] == "ask" else ""),
        )
    assert tree(directory) == before


def test_escaped_surrogate_pairs_join_into_one_character(invoke: Invoke, tmp_path: Path) -> None:
    text = (
        'claims:\n  - {id: c, statement: "Emoji \\ud83d\\ude00 and \\U0001F600.", topics: [first-line], '
        "section: key-point, cites: [judson2014]}\n"
    )
    directory = put(tmp_path / "ev", {"e.yaml": text})
    result = invoke("ask", "first-line", "--format", "json", "--no-bundled", "-e", str(BASE), "-e", str(directory))
    assert result.exit_code == 0, result.stderr
    statements = [c["statement"] for s in json.loads(result.stdout)["sections"] for c in s["claims"]]
    assert "Emoji \U0001f600 and \U0001f600." in statements


@pytest.mark.parametrize(
    ("year", "expected"),
    [
        ("0x" + "f" * 3000, "must be a year like 2014, not text"),
        ("9" * 5000, "must be a year like 2014, not text"),  # over Python's int-string limit
        ("99999999999999999999", "99999999999999999999 is not a plausible publication year"),
    ],
    ids=["hex", "decimal-over-int-limit", "long-decimal"],
)
def test_huge_numbers_are_refused_not_crashed_on(invoke: Invoke, tmp_path: Path, year: str, expected: str) -> None:
    text = f"references:\n  - id: r\n    design: rct\n    authors: [A]\n    title: T\n    journal: J\n    year: {year}"
    directory = put(tmp_path / "ev", {"e.yaml": text + "\n    pmid: '1'\n"})
    refused(invoke, directory, [f"e.yaml:7:11: field 'year' {expected}"])


def test_explicit_tags_on_text_they_cannot_read(invoke: Invoke, tmp_path: Path) -> None:
    # PyYAML's own constructors crash on these (IndexError, KeyError, AttributeError): kept as text
    text = (
        "references:\n  - id: r\n    design: rct\n    authors: [A]\n    title: !!bool maybe\n"
        "    journal: !!float\n    year: !!int\n    pmid: '1'\n"
        "claims:\n  - {id: c, topics: [t], section: answer, statement: S., cites: [r], reviewed: !!timestamp x}\n"
    )
    refused(
        invoke,
        put(tmp_path / "ev", {"e.yaml": TOPIC + text}),
        [
            "e.yaml:10:14: field 'journal' must not be empty",
            "e.yaml:11:11: field 'year' must be a year like 2014, not text",
            "e.yaml:14:66: reference 'r' has problems of its own (listed), so it cannot be cited",
            "e.yaml:14:80: field 'reviewed' must be a date like 2026-11-27, not 'x'",
        ],
    )


# --- directories, unreadable files, links ------------------------------------------------------------


def test_directory_without_evidence(invoke: Invoke, tmp_path: Path) -> None:
    directory = put(tmp_path / "ev", {"notes.txt": "not evidence", ".hidden.yaml": TOPIC})
    refused(invoke, directory, [": no .yaml or .yml evidence files here"])
    missing = invoke("ask", "first-line", "--no-bundled", "-e", str(tmp_path / "nope"))
    assert (missing.exit_code, missing.stderr) == (ExitCode.USAGE, f"Error: evidence path not found: {tmp_path}/nope\n")


def test_special_files_and_dangling_links(invoke: Invoke, tmp_path: Path) -> None:
    directory = put(tmp_path / "ev", {"ok.yaml": TOPIC})
    os.mkfifo(directory / "fifo.yaml")  # opening it to read would wait for a writer forever
    (directory / "zero.yaml").symlink_to("/dev/zero")  # reading it would never end
    (directory / "gone.yaml").symlink_to(tmp_path / "deleted.yaml")
    (directory / "self.yaml").symlink_to("self.yaml")
    refused(
        invoke,
        directory,
        [
            "fifo.yaml:1:1: cannot read file: not a regular file",
            "gone.yaml:1:1: cannot read file: No such file or directory",
            "self.yaml:1:1: cannot read file: Too many levels of symbolic links",
            "zero.yaml:1:1: cannot read file: not a regular file",
        ],
    )


@pytest.mark.skipif(os.geteuid() == 0, reason="root reads files whatever their mode")
def test_unreadable_file(invoke: Invoke, tmp_path: Path) -> None:
    directory = put(tmp_path / "ev", {"locked.yaml": TOPIC})
    (directory / "locked.yaml").chmod(0)
    try:
        refused(invoke, directory, ["locked.yaml:1:1: cannot read file: Permission denied"])
    finally:
        (directory / "locked.yaml").chmod(0o644)


def test_symlink_loop_in_a_directory_is_followed_once(invoke: Invoke, tmp_path: Path) -> None:
    directory = put(tmp_path / "ev" / "sub", {"a.yaml": TOPIC}).parent
    (directory / "sub" / "up").symlink_to(directory)
    (directory / "loop").symlink_to(directory / "loop2")
    (directory / "loop2").symlink_to(directory / "loop")
    loads(invoke, directory, "1 topics, 0 references, 0 claims")


# --- every command that reads evidence refuses it the same way --------------------------------------------


@pytest.mark.parametrize(
    "args",
    [
        ["ask", "first-line"],
        ["ask", "how is lms treated first"],
        ["search", "doxorubicin"],
        ["topics"],
        ["show", "judson2014"],
        ["validate"],
        ["cite", "--all"],
        ["report", str(DATA / "report.yaml")],
        ["refs", "verify", "--offline"],
        ["refs", "fetch", "--offline", "24618336"],
        ["refs", "add", "--offline", "24618336", "--to", "TARGET"],
    ],
    ids=lambda a: "-".join(a[:2]),
)
def test_every_command_refuses_broken_evidence(invoke: Invoke, tmp_path: Path, args: list[str]) -> None:
    directory = put(tmp_path / "ev", {"bad.yaml": "claims: [\n"})
    target = tmp_path / "mine.yaml"
    target.write_text(TOPIC)
    args = [str(target) if a == "TARGET" else a for a in args]
    before = tree(tmp_path / "ev") | tree(target)
    result = invoke(*args, "--no-bundled", "-e", str(BASE), "-e", str(directory))
    assert result.exit_code == ExitCode.INVALID_EVIDENCE
    assert result.stdout == ""
    assert result.stderr == (
        f"Error: 1 problem in the evidence:\n{directory}/bad.yaml:2:1: YAML syntax error: "
        "expected the node content, but found '<stream end>' (while parsing a flow node)\n"
        + (SKIP_HINT if args[0] in SKIPPING or args[:2] == ["refs", "verify"] else "")
    )
    assert tree(tmp_path / "ev") | tree(target) == before


def test_schema_reads_no_evidence(invoke: Invoke, tmp_path: Path) -> None:
    directory = put(tmp_path / "ev", {"bad.yaml": "claims: [\n"})
    result = invoke("schema", env={"LMS_EVIDENCE": str(directory)})
    assert result.exit_code == 0 and result.stderr == ""
    assert json.loads(result.stdout)["type"] == "object"


def test_debug_shows_the_traceback_only_when_asked(invoke: Invoke, tmp_path: Path) -> None:
    directory = put(tmp_path / "ev", {"bad.yaml": "a: &x [*x]\n"})
    quiet = invoke("validate", str(directory))
    loud = invoke("validate", str(directory), "--debug")
    assert "Traceback" not in quiet.stderr
    assert "Traceback" in loud.stderr and loud.exit_code == ExitCode.INVALID_EVIDENCE
    assert loud.stderr.endswith(quiet.stderr)


# --- bounded time and memory, measured in a child process ---------------------------------------------

# The parse runs in a process forked from a fresh interpreter and reports its own ru_maxrss:
# a process started by exec keeps its parent's peak as its own (under pytest that reads
# 100+ MiB for a tiny child), while a fork starts from the forking process's size.
MEASURE = """
import json, os, resource, sys, time
from pathlib import Path
from lms_cli.load import parse_file
parse_file(b"topics: []\\n", "warm.yaml")  # imports and caches, before the fork
data = Path(sys.argv[1]).read_bytes()
if os.fork() == 0:
    start = time.perf_counter()
    items = parse_file(data, "bomb.yaml")
    elapsed = time.perf_counter() - start
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    print(json.dumps({"seconds": elapsed, "peak_kib": peak, "problems": [str(p) for p in items.problems]}))
    sys.stdout.flush()
    os._exit(0)
os.wait()
"""


def measured(path: Path) -> dict[str, object]:
    """Parse the file at ``path`` in a child process: its time, peak memory (KiB) and problems."""
    proc = subprocess.run([sys.executable, "-c", MEASURE, str(path)], capture_output=True, check=True, timeout=60)
    result: dict[str, object] = json.loads(proc.stdout)
    return result


@pytest.fixture(scope="module")
def baseline_kib(tmp_path_factory: pytest.TempPathFactory) -> int:
    """The peak memory of the same child reading a small valid file."""
    small = tmp_path_factory.mktemp("baseline") / "small.yaml"
    small.write_text(TOPIC + REF)
    peak = measured(small)["peak_kib"]
    assert isinstance(peak, int)
    return peak


@pytest.mark.parametrize(
    ("data", "expected", "max_mib"),
    [
        (laughs(12).encode(), "aliases expand to more than 100000 values", 20),
        (long_text_bomb(100_000, 100_000).encode(), "aliases repeat more than 1000000 characters of text", 20),
        (("claims: " + "[" * 100_000).encode(), "nesting deeper than 64 levels", 20),
        (("claims: " + "{" * 100_000).encode(), "nesting deeper than 64 levels", 20),
        (("claims: [" + "x," * 4_000_000 + "]").encode(), "more than 1000000 values in one file", 250),
        (("claims:\n" + "  - [1]\n" * 100_000).encode(), "stopped after 200 problems in this file", 150),
        (("{" + "a: 1, " * 500_000 + "}").encode(), "more than 200 duplicate keys; stopped here", 20),
    ],
    ids=[
        "billion-laughs",
        "long-text-aliases",
        "deep-lists",
        "deep-mappings",
        "many-values",
        "many-problems",
        "many-duplicates",
    ],
)
@pytest.mark.skipif(sys.platform != "linux", reason="ru_maxrss is in KiB on Linux")
def test_bombs_fail_fast_with_bounded_memory(
    tmp_path: Path, baseline_kib: int, data: bytes, expected: str, max_mib: int
) -> None:
    bomb = tmp_path / "bomb.yaml"
    bomb.write_bytes(data)
    result = measured(bomb)
    problems = result["problems"]
    assert isinstance(problems, list) and expected in problems[-1]
    assert len(problems) <= load.MAX_PROBLEMS + 1
    seconds, peak = result["seconds"], result["peak_kib"]
    assert isinstance(seconds, float) and isinstance(peak, int)
    assert seconds < 10  # generous for CI noise: each takes at most about a second here
    grown = peak - baseline_kib  # includes the file's bytes and its decoded text
    assert grown < max_mib * 1024, f"peak memory grew by {grown // 1024} MiB"


# --- arbitrary bytes: the loader loads them or raises its own error -----------------------------------------

FRAGMENTS = [
    "topics:",
    "references:",
    "claims:",
    "\n",
    "  - ",
    "- ",
    "    ",
    "slug: ",
    "id: ",
    "title: ",
    "cites: ",
    "{",
    "}",
    "[",
    "]",
    ", ",
    ": ",
    "&a ",
    "*a",
    "!!python/object:os.system ",
    "!!str ",
    "!!int ",
    "! ",
    "? ",
    "|",
    ">-",
    "#",
    "'",
    '"',
    "\\ud800",
    "\\U00110000",
    "\\x85",
    "\\",
    "\t",
    "\ufeff",
    "\x85",
    "\u2028",
    "\r",
    "---",
    "...",
    "%YAML 1.1\n",
    "%TAG ! tag:x,2000:\n",
    "0x" + "f" * 30,
    "9" * 30,
    "2026-13-01",
    "2026-01-01",
    "<<: ",
    "~",
    "null",
    "yes",
    ".inf",
    "1e3",
    "x" * 50,
    "\x00",
    "\x1b",
    "é",
    "😀",
]
EVIDENCE_BYTES = st.one_of(
    st.binary(max_size=300),
    st.lists(st.one_of(st.sampled_from(FRAGMENTS), st.text(max_size=4)), max_size=40).map(
        lambda parts: "".join(parts).encode("utf-8", "surrogatepass")
    ),
    st.builds(
        lambda head, noise: head + noise,
        st.sampled_from([(TOPIC + REF).encode(), b"claims:\n  - "]),
        st.binary(max_size=40),
    ),
)


@settings(max_examples=100, deadline=None)
@given(data=EVIDENCE_BYTES, fast=st.booleans())
def test_arbitrary_bytes_load_or_raise_evidence_error(data: bytes, fast: bool) -> None:
    items = load.parse_file(data, "f.yaml", fast=fast)
    try:
        base = load.combine([items])
    except EvidenceError as exc:
        assert exc.problems and all(p.path == "f.yaml" and p.line >= 1 and p.column >= 1 for p in exc.problems)
        assert len(exc.problems) <= 2 * (load.MAX_PROBLEMS + 1)
        return
    # what loads can be written out: every text is valid Unicode
    fields = [value for item in (*base.topics, *base.references, *base.claims) for value in item]
    for text in (t for value in fields for t in (value if isinstance(value, tuple) else (value,))):
        if isinstance(text, str):
            text.encode("utf-8")


@settings(max_examples=100, deadline=None)
@given(
    text=st.text(st.characters(codec=None, exclude_categories=()), max_size=200)
    | st.lists(st.sampled_from(FRAGMENTS), max_size=40).map("".join),
    fast=st.booleans(),
)
def test_arbitrary_text_parses_or_gives_problems(text: str, fast: bool) -> None:
    value, problems = yamlsafe.parse(text, "f.yaml", fast=fast)
    assert value is None or not problems or all("duplicate key" in p.message for p in problems)


# --- libyaml and the pure-Python parser: the divergence the module docstring documents -------------------


@pytest.mark.parametrize(
    "text",
    ["slug:\ta\n", "slug: [x,\ty]\n", "{question: Z?}\n", "slug: |#\n  x\n"],
    ids=["tab-after-colon", "tab-in-flow", "question-mark-in-flow", "block-header-comment"],
)
def test_libyaml_accepts_forms_the_pure_parser_rejects(text: str) -> None:
    fast_value, fast_problems = yamlsafe.parse(text, "f.yaml", fast=True)
    pure_value, pure_problems = yamlsafe.parse(text, "f.yaml", fast=False)
    assert fast_problems == [] and fast_value is not None
    assert pure_value is None and pure_problems[0].message.startswith("YAML syntax error: ")


def test_a_bare_tag_on_an_empty_value_differs() -> None:
    assert yamlsafe.parse("a: !\n", "f.yaml", fast=True) == ({"a": ""}, [])
    assert yamlsafe.parse("a: !\n", "f.yaml", fast=False) == ({"a": None}, [])


def test_a_file_libyaml_rejects_is_read_by_the_pure_parser() -> None:
    # libyaml stops at a byte-order mark in mid-file; the pure parser reads it as part of a key
    text = "a: 1\n\ufeffb: 2\n"
    for fast in (True, False):
        assert yamlsafe.parse(text, "f.yaml", fast=fast) == ({"a": 1, "\ufeffb": 2}, [])
