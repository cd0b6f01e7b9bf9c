"""Rich renderer: rank badges, and evidence text that is never interpreted as markup."""

from __future__ import annotations

import io
import json
from pathlib import Path

from rich.console import Console

from lms_cli import load
from lms_cli.compose import compose
from lms_cli.model import Filters, Query
from lms_cli.render import terminal
from lms_cli.select import select
from tests.conftest import BASE, write


def draw(tmp_path: Path, statement: str, color: bool = False) -> str:
    write(
        tmp_path / "e.yaml",
        (BASE / "references.yaml").read_text()
        + (
            "topics:\n  - {slug: t, title: T, question: 'Q?'}\n"
            f"claims:\n  - id: c\n    topics: [t]\n    section: key-point\n    statement: {json.dumps(statement)}\n"
            "    cites: [judson2014]\n"
        ),
    )
    base = load.load([tmp_path])
    out = io.StringIO()
    console = Console(file=out, width=200, force_terminal=color, no_color=not color, highlight=False)
    console.print(terminal.render(compose(Query("t"), select(base, "t", Filters()))))
    return out.getvalue()


def test_markup_and_escapes_come_out_literally(tmp_path: Path) -> None:
    text = draw(tmp_path, "[bold]x[/bold] [/] [link=http://e.x]y[/link] \x1b[2J end.")
    assert "rct [bold]x[/bold] [/] [link=http://e.x]y[/link] [2J end [1]." in text
    assert "\x1b" not in text


def test_badges_and_reference_list(tmp_path: Path) -> None:
    text = draw(tmp_path, "A claim.")
    assert "• rct A claim [1]." in text
    assert " 1. rct Judson I, Verweij J, Gelderblom H, et al." in text
    assert "Ranks, strongest first: guideline > meta-analysis > rct" in text
    assert text.rstrip().endswith("Summary of published evidence, not medical advice.")


def test_colour_only_when_asked(tmp_path: Path) -> None:
    assert "\x1b[" in draw(tmp_path, "A claim.", color=True)
    assert "\x1b[" not in draw(tmp_path, "A claim.", color=False)


def test_a_10_mb_claim_is_cut_on_a_terminal(tmp_path: Path) -> None:
    statement = ("word " * 2_000_000).strip() + "."  # 10 MB: Rich took 68 s to wrap it
    text = draw(tmp_path, statement)
    assert len(text) < 4 * terminal.MAX_TEXT
    assert f"cut at {terminal.MAX_TEXT:,} characters" in text
