"""Output that survives its terminal: odd encodings, full or closed stdout, absurd widths (real processes)."""

from __future__ import annotations

import json
import os
import pty
import re
import select
import subprocess
import sys
from pathlib import Path

import pytest

from lms_cli import load

LMS = [sys.executable, "-m", "lms_cli"]
TOPICS = [t.slug for t in load.load(load.sources(True, [])).topics]


def run(args: list[str], tmp_path: Path, **env: str) -> subprocess.CompletedProcess[bytes]:
    full = {**os.environ, "LMS_CACHE_DIR": str(tmp_path / "cache"), **env}
    return subprocess.run(LMS + args, capture_output=True, env=full, timeout=60, check=False)


def test_the_bundled_base_has_17_topics() -> None:
    assert len(TOPICS) == 17


@pytest.mark.parametrize("fmt", ["markdown", "rich", "json"])
def test_a_cp1252_stdout_replaces_what_it_cannot_encode(tmp_path: Path, fmt: str) -> None:
    # One process per topic would take 17 starts: a child runs every topic through the real app.
    script = f"""
import sys
from lms_cli.cli.app import app
codes = []
for slug in {TOPICS!r}:
    try:
        app(["ask", slug, "-f", {fmt!r}], standalone_mode=False)
        codes.append(0)
    except SystemExit as exc:
        codes.append(exc.code)
print("CODES", codes, file=sys.stderr)
"""
    proc = subprocess.run(
        [sys.executable, "-c", script],
        capture_output=True,
        env={**os.environ, "PYTHONIOENCODING": "cp1252", "LMS_CACHE_DIR": str(tmp_path / "cache")},
        timeout=120,
        check=False,
    )
    err = proc.stderr.decode("cp1252", "replace")
    assert "Traceback" not in err and "UnicodeEncodeError" not in err, err[-2000:]
    assert f"CODES {[0] * 17}" in err
    assert proc.returncode == 0
    assert proc.stdout.decode("cp1252").count("leiomyosarcoma") >= 17


def test_cp1252_in_a_real_command(tmp_path: Path) -> None:
    proc = run(["cite", "--all", "--format", "csl-json"], tmp_path, PYTHONIOENCODING="cp1252")
    assert (proc.returncode, proc.stderr) == (0, b"")
    json.loads(proc.stdout.decode("cp1252"))  # still valid JSON (characters cp1252 lacks became ?)


def test_a_full_stdout_is_one_line_and_exit_5(tmp_path: Path) -> None:
    with open("/dev/full", "w") as full:
        proc = subprocess.run(
            [*LMS, "cite", "--all", "--format", "ris"],
            stdout=full,
            stderr=subprocess.PIPE,
            env={**os.environ, "LMS_CACHE_DIR": str(tmp_path / "cache")},
            timeout=60,
            check=False,
        )
    assert proc.returncode == 5
    assert proc.stderr.decode() == "Error: cannot write to standard output: No space left on device\n"


def test_a_closed_stdout_is_one_line_and_exit_5(tmp_path: Path) -> None:
    proc = subprocess.run(
        ["bash", "-c", '"$@" >&-', "lms", *LMS, "topics"],
        capture_output=True,
        env={**os.environ, "LMS_CACHE_DIR": str(tmp_path / "cache")},
        timeout=60,
        check=False,
    )
    assert proc.returncode == 5
    assert proc.stderr.decode() == "Error: cannot write to standard output: it is closed\n"


def on_a_terminal(args: list[str], tmp_path: Path, columns: str) -> str:
    master, slave = pty.openpty()
    env = {
        **os.environ,
        "COLUMNS": columns,
        "LMS_CACHE_DIR": str(tmp_path / "cache"),
        "TERM": "xterm",
        "LMS_NO_PAGER": "1",
    }  # the width is under test here, not the pager
    env.pop("TERMINAL_WIDTH", None)
    proc = subprocess.Popen(LMS + args, stdout=slave, stderr=subprocess.PIPE, env=env)
    os.close(slave)
    out = b""
    while True:
        ready, _, _ = select.select([master], [], [], 30)
        if not ready:
            break
        try:
            chunk = os.read(master, 65536)
        except OSError:  # the child closed the terminal
            break
        if not chunk:
            break
        out += chunk
    proc.wait(30)
    os.close(master)
    assert proc.stderr is not None
    err = proc.stderr.read()
    proc.stderr.close()
    assert proc.returncode == 0, err
    return out.decode("utf-8", "replace")


@pytest.mark.parametrize("columns", ["0", "1"])
def test_a_tiny_terminal_width_gets_the_minimum(tmp_path: Path, columns: str) -> None:
    out = re.sub(r"\x1b\[[0-9;]*m", "", on_a_terminal(["ask", "spread-to-muscle"], tmp_path, columns))
    lines = [line for line in out.replace("\r\n", "\n").split("\n") if line.strip()]
    assert len(lines) > 20, out[:500]
    assert max(len(line) for line in lines) == 40
    assert "skeletal" in out.replace("\n", " ").replace("\r", "")
