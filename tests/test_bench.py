"""The per-command benchmark: it runs and prints its rows, and its hit counts are lms's own."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from bench import commands, synth
from tests.conftest import Invoke

ROOT = Path(__file__).parent.parent


def test_hit_counts_are_the_claims_lms_search_finds(tmp_path: Path, invoke: Invoke) -> None:
    directory = tmp_path / "base"
    synth.generate(directory, 1000)
    for word in (commands.RARE, commands.COMMON):
        result = invoke("search", word, "--no-bundled", "--evidence", str(directory), "--format", "json")
        assert result.exit_code == 0, result.stderr
        found = {claim["id"] for section in json.loads(result.stdout)["sections"] for claim in section["claims"]}
        assert commands.count_hits(directory, word) == len(found) > 0


def test_a_small_run_prints_a_row_per_case_and_writes_the_figures(tmp_path: Path) -> None:
    figures = tmp_path / "figures.json"
    args = ["--sizes", "1000", "--runs", "1", "--only", "topics,ask-rich", "--out", str(tmp_path / "out")]
    done = subprocess.run(
        [sys.executable, "-m", "bench.commands", *args, "--json", str(figures)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    rows = [line.split() for line in done.stdout.splitlines() if line.split()[:2] == ["topics", "1,000"]]
    assert len(rows) == 1 and rows[0][2] == "1", done.stdout  # one run of topics at 1,000 claims
    assert "x ask-markdown" in done.stdout  # ask on the terminal was drawn and compared with Markdown
    size = json.loads(figures.read_text(encoding="utf-8"))["sizes"]["1000"]
    assert set(size) >= {"topics", "ask-rich", "ask-markdown"}
    assert size["topics"]["median_s"] > 0 and size["topics"]["peak_bytes"] > 0
    assert size["ask-rich"]["over_markdown"] > 0
