"""Env.emit and Env.write: large output is written in slices and pieces, never copied whole."""

from __future__ import annotations

import io

from lms_cli import load
from lms_cli.cli.common import WRITE_CHUNK, Env
from lms_cli.compose import compose
from lms_cli.model import Filters, Query
from lms_cli.render import Format, markdown, pick
from lms_cli.select import select


class Recording(io.StringIO):
    """A stdout that keeps the size of every write."""

    def __init__(self, encoding: str = "utf-8") -> None:
        super().__init__()
        self.sizes: list[int] = []
        self._encoding = encoding

    @property
    def encoding(self) -> str:  # type: ignore[override]
        return self._encoding

    def write(self, text: str) -> int:
        self.sizes.append(len(text))
        return super().write(text)


def test_a_long_text_is_written_in_slices_with_every_character() -> None:
    out = Recording("cp1252")
    text = ("a" * (WRITE_CHUNK - 1) + "中é") * 3 + "z"  # a character it cannot encode on every boundary
    Env(out, io.StringIO(), {}).write(text)
    assert out.getvalue() == text.encode("cp1252", "replace").decode("cp1252")
    assert max(out.sizes) <= WRITE_CHUNK and len(out.sizes) == 4


def test_a_markdown_answer_is_written_a_section_at_a_time() -> None:
    base = load.load([load.bundled_dir()])
    summary = compose(Query("first-line"), select(base, "first-line", Filters()))
    out = Recording()
    Env(out, io.StringIO(), {}).emit(pick(Format.MARKDOWN).streamed(summary))
    assert out.getvalue() == markdown.render(summary)
    assert len(out.sizes) == len(summary.sections) + 2  # the title, each section, the rest


def test_json_and_terminal_streams_are_their_renders() -> None:
    base = load.load([load.bundled_dir()])
    summary = compose(Query("first-line"), select(base, "first-line", Filters()))
    assert "".join(pick(Format.JSON).streamed(summary)) == pick(Format.JSON).render(summary)
    assert pick(Format.RICH).streamed is pick(Format.RICH).render
