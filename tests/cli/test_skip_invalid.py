"""--skip-invalid: one bad file of the user's no longer blocks the rest, and is named."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.conftest import Invoke, write

BAD = """claims:
  - id: bad-claim
    topics: [no-such-topic]
    section: answer
    statement: "A claim about a topic nobody defined."
    cites: [no-such-ref]
"""
# Valid alone, but it cites a reference that only the bad file defines.
LEANS = """claims:
  - id: leaning-claim
    topics: [spread-to-muscle]
    section: key-point
    statement: "A claim whose only source sits in a file with problems."
    cites: [user-ref]
"""
DEFINES = """references:
  - id: user-ref
    design: retrospective
    authors: ["Doe J"]
    title: "A study"
    journal: "J Test"
    year: 2020
    doi: "10.1000/test.1"
    seen: [publisher]
    checked: 2026-12-01
    bogus_field: 1
"""


@pytest.mark.parametrize(
    "args",
    [
        ["ask", "spread-to-muscle", "--format", "markdown"],
        ["ask", "can lms spread to muscle", "--format", "json"],
        ["search", "trabectedin"],
        ["topics", "--format", "markdown"],
        ["show", "spread-to-muscle", "--format", "markdown"],
        ["refs", "list", "--format", "json"],
        ["cite", "first-line"],
    ],
    ids=lambda a: " ".join(a[:2]),
)
def test_a_bad_user_file_blocks_until_skipped(invoke: Invoke, tmp_path: Path, args: list[str]) -> None:
    bad = write(tmp_path / "mine" / "bad.yaml", BAD)
    blocked = invoke(*args, "--evidence", str(bad.parent))
    assert blocked.exit_code == 3 and blocked.stdout == ""
    assert f"{bad}:3:14: unknown topic 'no-such-topic'" in blocked.stderr
    assert "add --skip-invalid to use the other files" in blocked.stderr
    skipped = invoke(*args, "--evidence", str(bad.parent), "--skip-invalid")
    bundled = invoke(*args)
    assert skipped.exit_code == bundled.exit_code == 0
    assert skipped.stdout == bundled.stdout  # the bundled base, as if the file were not there
    assert f"Warning: left out 1 invalid evidence file: {bad}\n" in skipped.stderr


def test_a_file_leaning_on_a_skipped_one_is_left_out_too(invoke: Invoke, tmp_path: Path) -> None:
    mine = tmp_path / "mine"
    write(mine / "a-defines.yaml", DEFINES)
    write(mine / "b-leans.yaml", LEANS)
    result = invoke("ask", "spread-to-muscle", "--format", "json", "--evidence", str(mine), "--skip-invalid")
    assert result.exit_code == 0, result.stderr
    assert "leaning-claim" not in result.stdout and "user-ref" not in result.stdout
    assert f"left out 2 invalid evidence files: {mine / 'a-defines.yaml'}, {mine / 'b-leans.yaml'}" in result.stderr


def test_nothing_left_is_an_error(invoke: Invoke, tmp_path: Path) -> None:
    bad = write(tmp_path / "mine" / "bad.yaml", BAD)
    result = invoke("topics", "--no-bundled", "--evidence", str(bad.parent), "--skip-invalid")
    assert result.exit_code == 3 and result.stdout == ""
    assert "every evidence file has problems: none is left to use" in result.stderr


def test_off_by_default_and_validate_still_lists_every_problem(invoke: Invoke, tmp_path: Path) -> None:
    bad = write(tmp_path / "mine" / "bad.yaml", BAD)
    result = invoke("validate", "--evidence", str(bad.parent))
    assert result.exit_code == 3
    assert "unknown topic 'no-such-topic'" in result.stderr and "unknown reference 'no-such-ref'" in result.stderr
