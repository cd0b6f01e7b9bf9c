"""Output taller than the terminal goes through a pager, as git and gh do; never when piped."""

from __future__ import annotations

import io
import os
import stat
from pathlib import Path

import pytest
from rich.text import Text

from lms_cli.cli.common import Env
from tests.conftest import Invoke


class Terminal(io.StringIO):
    """A stdout that says it is a terminal."""

    def isatty(self) -> bool:
        return True


def fake_pager(tmp_path: Path) -> tuple[str, Path]:
    """A pager script that saves what it is given (and the arguments it got)."""
    got = tmp_path / "paged.txt"
    script = tmp_path / "pager.sh"
    script.write_text(f'#!/bin/sh\necho "$@" > {got}.args\ncat > {got}\n', encoding="utf-8")
    script.chmod(script.stat().st_mode | stat.S_IXUSR)
    return str(script), got


@pytest.fixture
def screen(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("COLUMNS", "60")
    monkeypatch.setenv("LINES", "10")


def tall(lines: int = 40) -> Text:
    return Text("\n".join(f"line {i}" for i in range(lines)))


def test_taller_than_the_screen_goes_to_the_pager(tmp_path: Path, screen: None) -> None:
    pager, got = fake_pager(tmp_path)
    out = Terminal()
    Env(out, io.StringIO(), {"LMS_PAGER": f"{pager} -R"}).print_rich(tall())
    assert out.getvalue() == ""
    assert got.read_text(encoding="utf-8").splitlines()[:2] == ["line 0", "line 1"]
    assert Path(f"{got}.args").read_text(encoding="utf-8").strip() == "-R"


def test_pager_order_and_defaults(tmp_path: Path) -> None:
    assert Env(Terminal(), io.StringIO(), {"LMS_PAGER": "a", "PAGER": "b"}).pager() == ["a"]
    assert Env(Terminal(), io.StringIO(), {"PAGER": "most -s"}).pager() == ["most", "-s"]
    assert Env(Terminal(), io.StringIO(), {}).pager() == ["less", "-FRX"]
    assert Env(Terminal(), io.StringIO(), {"LMS_PAGER": ""}).pager() is None
    assert Env(Terminal(), io.StringIO(), {"LMS_NO_PAGER": "1"}).pager() is None
    assert Env(io.StringIO(), io.StringIO(), {}).pager() is None  # piped: never


def test_short_output_and_a_missing_pager_print_directly(tmp_path: Path, screen: None) -> None:
    pager, got = fake_pager(tmp_path)
    out = Terminal()
    Env(out, io.StringIO(), {"LMS_PAGER": pager}).print_rich(tall(3))
    assert out.getvalue().splitlines() == ["line 0", "line 1", "line 2"] and not got.exists()
    missing = Terminal()
    Env(missing, io.StringIO(), {"LMS_PAGER": str(tmp_path / "no-such-pager")}).print_rich(tall())
    assert missing.getvalue().startswith("line 0\n")


def test_no_pager_option_reaches_the_environment(invoke: Invoke, monkeypatch: pytest.MonkeyPatch) -> None:
    seen: list[bool] = []
    real = Env.current

    def spy() -> Env:
        env = real()
        seen.append(env.environ.get("LMS_NO_PAGER") == "1")
        return env

    monkeypatch.setattr(Env, "current", staticmethod(spy))
    assert invoke("--no-pager", "topics", "-f", "json").exit_code == 0
    assert invoke("topics", "-f", "json").exit_code == 0
    assert seen == [True, False]
    assert "LMS_NO_PAGER" not in os.environ
