"""Small text helpers shared by every layer: plurals, quoting, naming values, close matches."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable, Iterable
from typing import Any


class Pattern:
    """A regular expression compiled the first time it is used, with the methods lms uses.

    Compiling one costs 0.1-1 ms (those with Unicode ranges the most), all of them together
    about 5 ms of every start, and most runs use few: the loader's field checks only parse
    files, the citation formats only export. ``pattern`` is the source, as on ``re.Pattern``.
    """

    __slots__ = ("_compiled", "flags", "pattern")

    def __init__(self, pattern: str, flags: int = 0) -> None:
        self.pattern, self.flags = pattern, flags
        self._compiled: re.Pattern[str] | None = None

    @property
    def compiled(self) -> re.Pattern[str]:
        if self._compiled is None:
            self._compiled = re.compile(self.pattern, self.flags)
        return self._compiled

    def match(self, string: str) -> re.Match[str] | None:
        return self.compiled.match(string)

    def fullmatch(self, string: str) -> re.Match[str] | None:
        return self.compiled.fullmatch(string)

    def search(self, string: str) -> re.Match[str] | None:
        return self.compiled.search(string)

    def sub(self, repl: str | Callable[[re.Match[str]], str], string: str) -> str:
        return self.compiled.sub(repl, string)

    def __repr__(self) -> str:
        return f"Pattern({self.pattern!r})"


def plural(count: int, word: str, many: str | None = None) -> str:
    """``"1 claim"``, ``"2 claims"`` (``many`` for irregular plurals)."""
    return f"{count} {word if count == 1 else (many or word + 's')}"


def quote(text: str, limit: int = 60) -> str:
    """``repr(text)``, shortened: a message quoting a megabyte-long value helps nobody."""
    return repr(text if len(text) <= limit else text[:limit] + "…")


def kind_of(value: Any) -> str:
    """How a wrong value is named in messages ("a list", "the number 3")."""
    if value is None:
        return "empty"
    if isinstance(value, dict):
        return "a mapping"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, bool):
        return "true/false"
    if isinstance(value, (int, float)):
        return f"the number {value}"
    if isinstance(value, dt.date):
        return "a date"
    if isinstance(value, str):
        return "text"
    return "a value of another kind"


def close_matches(word: str, options: Iterable[str], n: int = 3, cutoff: float = 0.6) -> list[str]:
    """The options closest to ``word``, best first (difflib's ratio, at least ``cutoff``)."""
    import difflib

    return difflib.get_close_matches(word, list(options), n=n, cutoff=cutoff)


def did_you_mean(word: str, options: Iterable[str]) -> str:
    """' (did you mean 'x'?)' for the closest option, or ''."""
    close = close_matches(word, options, n=1)
    return f" (did you mean {close[0]!r}?)" if close else ""


#: C0/C1 control characters (ESC starts terminal sequences); tab and newline are folded elsewhere.
_CONTROL = Pattern(r"[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")


def clean(text: str) -> str:
    """Evidence text made safe for a terminal or document: no control characters, one line."""
    if text.isprintable():  # the common case, checked in C: no control or line-break characters
        return text.strip()
    return " ".join(_CONTROL.sub("", text).split())


# Bidirectional controls (U+202A-U+202E, U+2066-U+2069, marks), C1 controls and the line and
# paragraph separators: valid in JSON, but they reorder or break what a terminal or editor
# shows. Escaped as \uXXXX; every other character keeps its UTF-8 bytes.
_JSON_INVISIBLE = Pattern("[\u0080-\u009f\u061c\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069]")


def json_safe(text: str) -> str:
    """JSON text with bidi and C1 control characters escaped (they occur only inside strings)."""
    return _JSON_INVISIBLE.sub(lambda m: f"\\u{ord(m[0]):04x}", text)
