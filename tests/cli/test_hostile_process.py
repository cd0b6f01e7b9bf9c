"""Process-level robustness: closed pipes, Ctrl-C, and files that cannot be written."""

from __future__ import annotations

import os
import resource
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.conftest import BASE, DATA, write

LMS = [sys.executable, "-m", "lms_cli"]


@pytest.mark.parametrize(
    "args",
    [
        ["ask", "spread-to-muscle"],
        ["ask", "can lms spread to muscle"],
        ["search", "lymph", "node"],
        ["topics"],
        ["show", "gladdy2013"],
        ["cite", "--all", "--format", "ris"],
        ["report", str(DATA / "report.yaml"), "--no-bundled", "-e", str(BASE)],
    ],
)
def test_closed_pipe_is_quiet(args: list[str]) -> None:
    # `yes`-style readers stop early; lms must not print BrokenPipeError or a traceback
    proc = subprocess.run(
        ["bash", "-c", " ".join(map(repr_shell, LMS + args)) + " | head -c 10 >/dev/null; echo ${PIPESTATUS[0]}"],
        capture_output=True,
        text=True,
        check=False,
    )
    chosen = "Answering: Can leiomyosarcoma spread to skeletal muscle? (spread-to-muscle)\n"
    assert proc.stderr.replace(chosen, "") == ""
    assert proc.stdout.strip() in ("0", "")


def repr_shell(word: str) -> str:
    return "'" + word.replace("'", "'\\''") + "'"


def test_ctrl_c_exits_130_with_one_line(tmp_path: Path) -> None:
    # A server that accepts connections and never answers keeps `refs verify` waiting.
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(16)
    port = listener.getsockname()[1]
    env = {
        **os.environ,
        "LMS_EUTILS_URL": f"http://127.0.0.1:{port}/",
        "LMS_CROSSREF_URL": f"http://127.0.0.1:{port}/",
        "LMS_CACHE_DIR": str(tmp_path / "cache"),
    }
    try:
        proc = subprocess.Popen(
            [*LMS, "refs", "verify", "--no-bundled", "-e", str(BASE)],
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:  # wait until the request is in flight
            listener.settimeout(0.1)
            try:
                conn, _ = listener.accept()
                break
            except TimeoutError:
                continue
        else:
            pytest.fail("lms never connected")
        proc.send_signal(signal.SIGINT)
        _, err = proc.communicate(timeout=10)
        conn.close()
    finally:
        listener.close()
    assert proc.returncode == 130
    assert err.splitlines()[-1] == "Interrupted."
    assert "Traceback" not in err


def _limit_file_size() -> None:  # in the child: files may not grow past 2 KiB, and the write fails
    signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
    resource.setrlimit(resource.RLIMIT_FSIZE, (2048, 2048))


def test_full_disk_keeps_the_old_report(tmp_path: Path) -> None:
    out = write(tmp_path / "out" / "report.md", "old report\n")
    proc = subprocess.run(
        [*LMS, "report", str(DATA / "report.yaml"), "--no-bundled", "-e", str(BASE), "-o", str(out)],
        capture_output=True,
        text=True,
        check=False,
        preexec_fn=_limit_file_size,
    )
    assert proc.returncode == 5, proc.stderr
    assert proc.stderr.startswith(f"Error: cannot write {out}: File too large\n")
    assert out.read_text(encoding="utf-8") == "old report\n"
    assert sorted(p.name for p in out.parent.iterdir()) == ["report.md"]  # no temporary file left


def test_unwritable_place_is_a_clear_error(tmp_path: Path) -> None:
    target = Path("/proc/lms-report.md") if os.geteuid() == 0 else tmp_path / "ro" / "r.md"
    if os.geteuid() != 0:
        target.parent.mkdir()
        target.parent.chmod(0o500)
    proc = subprocess.run(
        [*LMS, "report", str(DATA / "report.yaml"), "--no-bundled", "-e", str(BASE), "-o", str(target)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert proc.returncode == 5
    assert proc.stderr.startswith(f"Error: cannot write {target}: ")
    assert "Traceback" not in proc.stderr
