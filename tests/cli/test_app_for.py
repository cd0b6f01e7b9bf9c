"""`app_for`: a run builds only the command it runs, and answers exactly as the whole app."""

from __future__ import annotations

import pytest
import typer.main
from typer.core import TyperGroup, TyperOption
from typer.testing import CliRunner

from lms_cli.cli.app import GLOBAL_FLAGS, GLOBAL_VALUED, app, app_for, command_word


def group(command: object) -> TyperGroup:
    assert isinstance(command, TyperGroup)
    return command


WHOLE = group(typer.main.get_command(app))
NAMES = sorted(WHOLE.commands)
REFS = group(WHOLE.commands["refs"])


def test_the_global_options_are_the_callbacks() -> None:
    """A new option of ``lms`` itself must be taught to ``command_word``, or it would not
    skip its value and would take it for the command."""
    params = [p for p in WHOLE.params if not p.is_eager]  # --version, completion: they end the run
    assert len(params) < len(WHOLE.params)
    flags = {o for p in params if isinstance(p, TyperOption) and p.is_flag for o in p.opts}
    valued = {o for p in params for o in p.opts} - flags
    assert (frozenset(flags), frozenset(valued)) == (GLOBAL_FLAGS, GLOBAL_VALUED)


@pytest.mark.parametrize(
    ("args", "word"),
    [
        (["ask", "x"], "ask"),
        (["--no-pager", "--color", "never", "show", "x"], "show"),
        (["--color=always", "refs", "list"], "refs"),
        (["--color", "ask"], None),  # "ask" is the colour here
        (["--help", "ask"], None),
        (["-V"], None),
        (["--bogus", "ask"], None),
        ([], None),
    ],
)
def test_command_word(args: list[str], word: str | None) -> None:
    assert command_word(args) == word


@pytest.mark.parametrize("name", NAMES)
def test_one_command_is_built(name: str) -> None:
    built = group(typer.main.get_command(app_for([name, "--help"])))
    assert list(built.commands) == [name]
    assert [p.name for p in built.commands[name].params] == [p.name for p in WHOLE.commands[name].params]


def test_what_it_cannot_name_gets_the_whole_app(monkeypatch: pytest.MonkeyPatch) -> None:
    assert app_for(["--help"]) is app
    assert app_for(["nosuch", "x"]) is app
    monkeypatch.setenv("_LMS_COMPLETE", "bash_complete")
    assert app_for(["ask", "x"]) is app


RUNS = [
    *([name, "--help"] for name in NAMES),
    *(["refs", name, "--help"] for name in sorted(REFS.commands)),
    ["ask"],  # a missing argument
    ["ask", "spread-to-muscle", "--format", "nope"],
    ["ask", "spread-to-muscle", "--bogus"],
    ["--color", "never", "--no-pager", "ask", "spread-to-muscle"],
    ["ask", "spread-to-muscle", "--format", "json"],
    ["refs", "nosuch"],
    ["refs"],
    ["show", "no-such-thing"],
]


@pytest.mark.parametrize("args", RUNS, ids=" ".join)
def test_it_answers_as_the_whole_app(args: list[str]) -> None:
    assert app_for(args) is not app
    one = CliRunner().invoke(app_for(args), args)
    whole = CliRunner().invoke(app, args)
    assert (one.exit_code, one.stdout, one.stderr) == (whole.exit_code, whole.stdout, whole.stderr)
    assert one.stdout or one.stderr
