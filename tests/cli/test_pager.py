"""Output taller than the terminal goes through a pager, as git and gh do; never when piped."""

from __future__ import annotations

import io
import os
import stat
from collections.abc import Iterator
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


class Drawn:
    """A part drawn last; it says whether it was drawn at all."""

    def __init__(self) -> None:
        self.drawn = False

    def __rich_console__(self, console: object, options: object) -> Iterator[Text]:
        self.drawn = True
        yield Text("the end")


def test_the_pager_gets_what_is_drawn_and_quitting_it_stops_the_drawing(tmp_path: Path, screen: None) -> None:
    from rich.console import Group

    from lms_cli.render import terminal

    pager, got = fake_pager(tmp_path)
    bullets = [terminal.Hanging("\u2022", [(f"claim {i} of many", None)]) for i in range(200)]
    last = Drawn()
    Env(Terminal(), io.StringIO(), {"LMS_PAGER": pager}).print_rich(Group(*bullets, last))
    assert last.drawn
    assert got.read_text(encoding="utf-8") == terminal.draw(Group(*bullets, Text("the end")), 60)

    many = [terminal.Hanging("\u2022", [(f"claim {i} of very many", None)]) for i in range(20_000)]  # 560 kB
    last = Drawn()
    out = Terminal()
    Env(out, io.StringIO(), {"LMS_PAGER": "sh -c 'head -c 1000 > /dev/null'"}).print_rich(Group(*many, last))
    assert not last.drawn  # the pager read a screenful and quit: the rest was never drawn
    assert out.getvalue() == ""


def test_color_option_keeps_or_drops_colour(invoke: Invoke, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    args = ["ask", "spread-to-muscle", "--format", "rich"]
    piped = invoke(*args)
    assert piped.exit_code == 0 and "\x1b[" not in piped.stdout  # no terminal: plain text
    always = invoke("--color", "always", *args)
    assert always.exit_code == 0 and "\x1b[1;4m" in always.stdout  # for `| less -R`
    never = invoke("--color", "never", *args, env={"FORCE_COLOR": "1"})
    assert never.exit_code == 0 and "\x1b[" not in never.stdout
    assert [line.rstrip() for line in never.stdout.splitlines()] == [
        line.rstrip() for line in piped.stdout.splitlines()
    ]
    # through the pager too
    pager, got = fake_pager(tmp_path)
    monkeypatch.setenv("LINES", "10")
    from lms_cli.cli.common import OPTIONS

    monkeypatch.setattr(OPTIONS, "color", False)
    Env(Terminal(), io.StringIO(), {"LMS_PAGER": pager}).print_rich(Text("x\n" * 40, style="bold"))
    assert "\x1b[" not in got.read_text(encoding="utf-8")
    monkeypatch.setattr(OPTIONS, "color", None)
    Env(Terminal(), io.StringIO(), {"LMS_PAGER": pager}).print_rich(Text("x\n" * 40, style="bold"))
    assert "\x1b[1m" in got.read_text(encoding="utf-8")
