"""text.Pattern: compiled on first use, the same answers as re; and lms compiles none at start-up."""

from __future__ import annotations

import re
import subprocess
import sys

import pytest

from lms_cli.text import Pattern

CASES = [
    (r"^[a-z0-9]+(?:-[a-z0-9]+)*$", 0, ["spread-to-muscle", "Spread", "a--b", ""]),
    (r"(?i)(?:^|\s)and(?:\s|$)", 0, ["Smith AND Jones", "andersen", " and "]),
    ("[\u0080-\u009f\u2028]", 0, ["a\u2028b", "plain", "\x85"]),
    (r"x+", re.IGNORECASE, ["XXy", "y", "axXa"]),
]


@pytest.mark.parametrize(("source", "flags", "texts"), CASES)
def test_a_pattern_answers_as_re_does(source: str, flags: int, texts: list[str]) -> None:
    lazy, compiled = Pattern(source, flags), re.compile(source, flags)
    assert lazy._compiled is None and lazy.pattern == source
    for text in texts:
        for method in ("match", "fullmatch", "search"):
            ours, theirs = getattr(lazy, method)(text), getattr(compiled, method)(text)
            assert (ours and ours.span()) == (theirs and theirs.span())
        assert lazy.sub("_", text) == compiled.sub("_", text)
        assert lazy.sub(lambda m: f"<{m[0]}>", text) == compiled.sub(lambda m: f"<{m[0]}>", text)
    assert lazy.compiled is lazy.compiled  # compiled once


def test_starting_lms_compiles_none_of_its_own_patterns() -> None:
    """The modules every command imports (and a JSON answer's) compile none of lms's regular
    expressions: each is a Pattern, compiled when used. (Markdown's own are compiled with it:
    every Markdown answer uses them.)"""
    probe = (
        "import re, sys, traceback\n"
        "seen = []\n"
        "real = re._compile\n"
        "def spy(pattern, flags):\n"
        "    caller = [f.filename for f in traceback.extract_stack()[:-1] if '/re/' not in f.filename][-1]\n"
        "    seen.extend([caller] if '/lms_cli/' in caller else [])\n"
        "    return real(pattern, flags)\n"
        "re._compile = spy\n"
        "import lms_cli.cli.app, lms_cli.load.cache, lms_cli.render.json\n"
        "import lms_cli.compose, lms_cli.select, lms_cli.cite, lms_cli.browse\n"
        "print(sorted(set(seen)))\n"
    )
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"
