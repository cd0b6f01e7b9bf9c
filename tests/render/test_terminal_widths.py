"""Rich renderings at the widths people use: exact output, hanging indents, no word broken."""

from __future__ import annotations

import io
import re

import pytest
from rich.console import Console, RenderableType

from lms_cli import load
from lms_cli.browse import detail, reference_rows, topic_rows
from lms_cli.compose import compose
from lms_cli.model import Filters, Query
from lms_cli.render import terminal
from lms_cli.select import select
from tests.conftest import BASE, DATA

GOLDEN = DATA / "golden" / "rich"
WIDTHS = (60, 80, 120)


def draw(renderable: RenderableType, width: int) -> str:
    out = io.StringIO()
    Console(file=out, width=width, no_color=True, highlight=False).print(renderable)
    return out.getvalue()


def renderings() -> dict[str, RenderableType]:
    base = load.load([BASE])
    return {
        "ask": terminal.render(compose(Query("first-line"), select(base, "first-line", Filters()))),
        "show-reference": terminal.detail(detail(base, "pautier2022")),
        "show-claim": terminal.detail(detail(base, "rec-liver")),
        "show-topic": terminal.detail(detail(base, "recurrence")),
        "topics": terminal.topics(topic_rows(base)),
        "refs-list": terminal.references(reference_rows(base)),
    }


@pytest.mark.parametrize("width", WIDTHS)
@pytest.mark.parametrize("name", ["ask", "show-reference", "show-claim", "show-topic", "topics", "refs-list"])
def test_exact_output(name: str, width: int) -> None:
    text = draw(renderings()[name], width)
    assert text == (GOLDEN / f"{name}-{width}.txt").read_text(encoding="utf-8")


@pytest.mark.parametrize("width", WIDTHS)
def test_no_line_is_wider_than_the_terminal_and_no_word_is_split(width: int) -> None:
    words = set(re.findall(r"[A-Za-z]{4,}", " ".join(draw(r, 1000) for r in renderings().values())))
    for renderable in renderings().values():
        lines = draw(renderable, width).splitlines()
        assert max(len(line.rstrip()) for line in lines) <= width
        for line in lines:
            for piece in re.findall(r"[A-Za-z]{4,}", line):
                assert piece in words, f"{piece!r} is a broken word at width {width}"


def test_wrapped_bullets_hang_under_their_text() -> None:
    lines = draw(renderings()["ask"], 60).splitlines()
    first = next(i for i, line in enumerate(lines) if line.startswith(" • rct Adding trabectedin"))
    assert lines[first + 1].startswith("   ")  # under the text, not under the bullet
    ref = next(i for i, line in enumerate(lines) if line.startswith(" 1. rct Judson"))
    assert lines[ref + 1].startswith("    ")
