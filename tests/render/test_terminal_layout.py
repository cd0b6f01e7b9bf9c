"""The terminal's own line layout draws exactly what Rich's layout draws, for any text.

``terminal.Hanging`` lays out bullets and references itself, and ``terminal.pieces`` writes
them without ``Console.print``; Rich's grid (``Hanging.rich()``) printed by Rich is the
reference every drawing here is compared with, character for character, codes included.
"""

from __future__ import annotations

import io
import re
from typing import Any, Literal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from rich._wrap import divide_line
from rich.console import Console, Group, RenderableType
from rich.rule import Rule
from rich.text import Text

from lms_cli import load
from lms_cli.compose import compose
from lms_cli.model import Filters, Query
from lms_cli.render import terminal
from lms_cli.render.terminal import Hanging
from lms_cli.select import select
from tests.conftest import BASE

STYLES = [None, "bold", "dim", "bold black on green", "bold white on grey37", "italic red", "link https://e.x"]
#: Words of one-cell characters, and the characters Rich measures otherwise or breaks at.
WORD = st.text(st.sampled_from("abcxyz019.,;:-()[]/=%\xe9\xdf\xb5\u2013\u2265"), min_size=1, max_size=14)
ODD = st.sampled_from(["\u4e2d\u6587", "e\u0301", "\U0001f600", "\u200b", "\t", "\xa0", "a" * 70, "  ", "[/]", ""])


Colour = Literal["no-color", "standard", "256", "truecolor"] | None


def console(width: int, colour: Colour) -> Console:
    """A console of ``width`` cells: no colour system, NO_COLOR, or a colour system."""
    if colour is None:
        return Console(file=io.StringIO(), width=width, highlight=False)
    if colour == "no-color":
        return Console(file=io.StringIO(), width=width, force_terminal=True, no_color=True, highlight=False)
    return Console(
        file=io.StringIO(), width=width, force_terminal=True, no_color=False, color_system=colour, highlight=False
    )


def same_links(text: str) -> str:
    """Rich numbers each link it draws anew: the numbers are not part of what is compared."""
    return re.sub(r"\x1b]8;id=\d+;", "\x1b]8;id=N;", text)


def by_rich(renderable: RenderableType, width: int, colour: Colour) -> str:
    """What Rich writes for ``renderable`` (every ``Hanging`` replaced by its Rich grid)."""
    if isinstance(renderable, Hanging):
        renderable = renderable.rich()
    elif isinstance(renderable, Group):
        renderable = Group(*(p.rich() if isinstance(p, Hanging) else p for p in renderable.renderables))
    return by_print(renderable, width, colour)


def by_pieces(renderable: RenderableType, width: int, colour: Colour) -> str:
    return same_links("".join(terminal.pieces(console(width, colour), renderable)))


def by_print(renderable: RenderableType, width: int, colour: Colour) -> str:
    c = console(width, colour)
    with c.capture() as captured:
        c.print(renderable)
    return same_links(captured.get())


@settings(max_examples=400, deadline=None)
@given(words=st.lists(st.tuples(WORD, st.integers(1, 3)), min_size=1, max_size=30), width=st.integers(1, 40))
def test_breaks_are_richs(words: list[tuple[str, int]], width: int) -> None:
    text = "".join(word + " " * spaces for word, spaces in words)
    found = terminal.breaks(text, width)
    if found is not None:
        assert found == divide_line(text, width)
    else:  # only when Rich would fold a word wider than the line
        assert max(len(word) for word, _ in words) > width


@st.composite
def bodies(draw: st.DrawFn) -> list[tuple[str, str | None]]:
    """(text, style) pieces: words, odd characters, spaces anywhere, styles on some."""
    pieces = []
    odd = draw(st.integers(0, 3)) == 0  # most bodies are laid out here, the others by Rich
    for _ in range(draw(st.integers(1, 12))):
        words = draw(st.lists(st.one_of(WORD, ODD) if odd else WORD, min_size=1, max_size=8))
        sep = draw(st.sampled_from([" ", " ", "  "]))
        pieces.append((sep.join(words) + draw(st.sampled_from(["", " ", "  "])), draw(st.sampled_from(STYLES))))
    return pieces


COLOURS: list[Colour] = [None, "no-color", "standard", "256", "truecolor"]


@settings(max_examples=500, deadline=None)
@given(
    body=bodies(),
    marker=st.sampled_from([None, "\u2022", " 1.", "613.", "\u4e2d"]),
    indent=st.integers(0, 2),
    width=st.integers(8, 130),
    colour=st.sampled_from(COLOURS),
    as_text=st.booleans(),
)
def test_a_hanging_part_draws_as_richs_grid(
    body: list[tuple[str, str | None]], marker: str | None, indent: int, width: int, colour: Colour, as_text: bool
) -> None:
    if as_text:
        text = Text()
        for piece, style in body:
            text.append(piece, style=style)
        part = Hanging(marker, text, indent)
    else:
        part = Hanging(marker, body, indent)
    expected = by_rich(part, width, colour)
    assert by_pieces(part, width, colour) == expected
    assert by_print(part, width, colour) == expected


def test_rich_options_it_cannot_follow_go_to_the_grid() -> None:
    part = Hanging("\u2022", [("rct", "bold"), (" a claim that goes on for a while and wraps", None)])
    options: list[dict[str, Any]] = [{"justify": "center"}, {"overflow": "ellipsis"}, {"no_wrap": True}]
    for kwargs in options:
        c, g = console(30, "truecolor"), console(30, "truecolor")
        with c.capture() as ours, g.capture() as theirs:
            c.print(part, **kwargs)
            g.print(part.rich(), **kwargs)
        assert ours.get() == theirs.get()
    styled_body = Text("centred and styled text that wraps", style="bold", justify="center")
    assert by_pieces(Hanging(None, styled_body), 20, "256") == by_rich(Hanging(None, styled_body), 20, "256")


def answers() -> dict[str, RenderableType]:
    base = load.load([BASE])
    return {
        slug: terminal.render(compose(Query(slug), select(base, slug, Filters())))
        for slug in [t.slug for t in base.topics]
    }


@pytest.mark.parametrize("colour", COLOURS)
@pytest.mark.parametrize("width", [40, 60, 80, 100, 120, 200])
def test_answers_draw_as_rich_draws_them(width: int, colour: Colour) -> None:
    for answer in answers().values():
        expected = by_rich(answer, width, colour)
        assert by_pieces(answer, width, colour) == expected
        assert by_print(answer, width, colour) == expected


def test_parts_rich_draws_keep_their_place() -> None:
    group = Group(
        Rule(Text("Heading", style="bold"), align="left"),
        Hanging("\u2022", [("rct", "bold"), (" one", None)]),
        Text("between", style="italic"),
        Hanging("\u2022", [("\u4e2d\u6587 wide", None)]),  # drawn by Rich's grid
        Hanging(None, [("last", "dim")]),
    )
    for colour in COLOURS:
        assert by_pieces(group, 50, colour) == by_rich(group, 50, colour)


def test_long_answers_come_in_pieces() -> None:
    bullets = [Hanging("\u2022", [(f"claim {i}", None)]) for i in range(terminal.PIECE * 3 + 5)]
    drawn = list(terminal.pieces(console(60, None), Group(Text("Title"), *bullets, Text("end"))))
    assert len(drawn) == 6  # the title, three full pieces, the rest, the closing line
    assert drawn[1].count("\n") == terminal.PIECE
    assert "".join(drawn) == by_rich(Group(Text("Title"), *bullets, Text("end")), 60, None)
