"""Each command answers the same from a warm cache (the snapshot's rows) as from a fresh load."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from lms_cli import load
from tests.conftest import Invoke

BUNDLED = load.load([load.bundled_dir()])
COMMANDS = [
    ["ask", "can lms spread to muscle", "--format", "markdown"],
    ["ask", "wat chemo first for advanced lms", "--best", "--format", "json"],
    ["ask", "does lms spread to the brain"],
    ["search", "trabectedin", "--format", "json"],
    ["search", "lung", "metastasectomy", "--min-rank", "rct"],
    ["search", "zebra"],
    ["topics", "--format", "markdown"],
    ["show", BUNDLED.claims[40].id, "--format", "markdown"],
    ["show", BUNDLED.references[7].id, "--format", "json"],
    ["show", f"pmid:{next(r.pmid for r in BUNDLED.references if r.pmid)}"],
    ["show", "no-such-thing"],
    ["refs", "list", "--format", "json"],
    ["refs", "list", "--topic", "first-line", "--format", "markdown"],
    ["cite", "spread-to-muscle", "-f", "bibtex"],
    ["cite", "what chemo first", "-f", "ris"],
    ["cite", "--all", "--min-rank", "rct"],
    ["validate"],
]


@pytest.mark.parametrize("args", COMMANDS, ids=lambda a: " ".join(a)[:40])
def test_warm_cache_answers_like_a_fresh_load(invoke: Invoke, tmp_path: Path, args: list[str]) -> None:
    fresh = invoke(*args, "--no-cache")
    env = {"LMS_CACHE_DIR": str(tmp_path / "warm")}
    invoke(*args, env=env)  # fills the cache
    warm = invoke(*args, env=env)
    assert (warm.exit_code, warm.stdout, warm.stderr) == (fresh.exit_code, fresh.stdout, fresh.stderr)
    assert fresh.exit_code in (0, 1, 2), fresh.stderr


def test_questions_and_search_use_the_stored_words(invoke: Invoke, tmp_path: Path) -> None:
    env = {"LMS_CACHE_DIR": str(tmp_path)}
    assert invoke("validate", env=env).exit_code == 0  # a cold load stores the claims, not their words
    (snapshot,) = (tmp_path / "evidence").glob("base-*.sqlite")
    count = "SELECT COUNT(*) FROM worded"
    assert sqlite3.connect(snapshot).execute(count).fetchone() == (0,)
    assert invoke("search", "trabectedin", env=env).exit_code == 0  # read from the snapshot, words indexed
    (snapshot,) = (tmp_path / "evidence").glob("base-*.sqlite")
    (indexed,) = sqlite3.connect(snapshot).execute(count).fetchone()
    assert indexed == len(load.listing([load.bundled_dir()])[0])
