"""Caches and written files under hostile conditions (issue 7): lms still answers, old files stay whole.

The parsed-evidence cache is an optimisation: a cache directory that is a file, cannot be
written, or holds a damaged snapshot must never change an answer or print a word. `refs
add --to` on a full disk must leave the old evidence file byte for byte.
"""

from __future__ import annotations

import os
import resource
import signal
import sqlite3
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from pytest_httpserver import HTTPServer

from tests.conftest import BASE, Invoke
from tests.services.test_client import esummary_handler

ASK = ["ask", "first-line", "--no-bundled", "-e", str(BASE)]


@pytest.fixture
def answer(invoke: Invoke) -> str:
    """The answer without any cache: what every damaged-cache run must print."""
    result = invoke(*ASK, "--no-cache")
    assert result.exit_code == 0 and result.stderr == ""
    return result.stdout


def asks_cleanly(invoke: Invoke, answer: str, env: dict[str, str] | None = None) -> None:
    result = invoke(*ASK, env=env)
    assert (result.exit_code, result.stderr) == (0, "")
    assert result.stdout == answer


def snapshots(cache: Path) -> list[Path]:
    return sorted((cache / "evidence").glob("base-*.sqlite"))


def test_cache_dir_that_is_a_file(invoke: Invoke, answer: str, tmp_path: Path) -> None:
    blocker = tmp_path / "not-a-dir"
    blocker.write_bytes(b"mine")
    asks_cleanly(invoke, answer, env={"LMS_CACHE_DIR": str(blocker)})
    assert blocker.read_bytes() == b"mine"


def test_cache_dir_that_cannot_be_written(invoke: Invoke, answer: str, tmp_path: Path) -> None:
    if os.geteuid() == 0:  # root writes through any mode bits; /proc refuses new directories to everyone
        place = Path("/proc/lms-cache")
    else:
        place = tmp_path / "ro"
        place.mkdir(mode=0o500)
    asks_cleanly(invoke, answer, env={"LMS_CACHE_DIR": str(place)})
    assert not (place / "evidence").exists()


def _garbage(path: Path) -> None:
    path.write_bytes(os.urandom(5000))


def _truncated(path: Path) -> None:
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])


def _empty(path: Path) -> None:
    path.write_bytes(b"")


def _scribbled(path: Path) -> None:  # a valid header, then damaged pages
    data = bytearray(path.read_bytes())
    data[len(data) // 2 : len(data) // 2 + 4096] = b"\xff" * 4096
    path.write_bytes(bytes(data))


def _foreign(path: Path) -> None:  # somebody else's SQLite database under our name
    path.unlink()
    with sqlite3.connect(path) as conn:
        conn.execute("CREATE TABLE meta (key TEXT, value TEXT)")
        conn.execute("INSERT INTO meta VALUES ('key', 'x')")
    conn.close()


def _bad_rows(path: Path) -> None:  # ours, but a row names a section that does not exist
    with sqlite3.connect(path) as conn:
        conn.execute("UPDATE claim SET section = 'nonsense'")
    conn.close()


def _fifo(path: Path) -> None:
    path.unlink()
    os.mkfifo(path)


@pytest.mark.parametrize(
    "damage",
    [_garbage, _truncated, _empty, _scribbled, _foreign, _bad_rows, _fifo],
    ids=lambda f: f.__name__.strip("_"),
)
def test_damaged_snapshot_is_replaced_silently(
    invoke: Invoke, answer: str, tmp_path: Path, damage: Callable[[Path], None]
) -> None:
    asks_cleanly(invoke, answer)
    (snapshot,) = snapshots(tmp_path / "cache")
    damage(snapshot)
    asks_cleanly(invoke, answer)
    (again,) = snapshots(tmp_path / "cache")
    assert again.is_file()
    with sqlite3.connect(again) as conn:  # written anew, whole
        assert conn.execute("PRAGMA integrity_check").fetchone() == ("ok",)
        assert conn.execute("SELECT count(*) FROM claim WHERE section = 'nonsense'").fetchone() == (0,)
    conn.close()
    asks_cleanly(invoke, answer)


def test_a_directory_in_place_of_the_snapshot(invoke: Invoke, answer: str, tmp_path: Path) -> None:
    asks_cleanly(invoke, answer)
    (snapshot,) = snapshots(tmp_path / "cache")
    snapshot.unlink()
    (snapshot / "inside").mkdir(parents=True)
    asks_cleanly(invoke, answer)
    assert (snapshot / "inside").is_dir()
    assert sorted(p.name for p in snapshot.parent.iterdir()) == [snapshot.name]  # no temporary file left


def _limit_file_size() -> None:  # in the child: files may not grow past 2 KiB, and the write fails
    signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
    resource.setrlimit(resource.RLIMIT_FSIZE, (2048, 2048))


LMS = [sys.executable, "-m", "lms_cli"]


def test_full_disk_under_the_cache_still_answers(answer: str, tmp_path: Path) -> None:
    env = {**os.environ, "LMS_CACHE_DIR": str(tmp_path / "cache")}
    proc = subprocess.run(
        [*LMS, *ASK, "--format", "markdown"],
        capture_output=True,
        text=True,
        check=False,
        env=env,
        preexec_fn=_limit_file_size,
        timeout=60,
    )
    assert (proc.returncode, proc.stderr) == (0, "")
    assert proc.stdout == answer
    assert [p.name for p in (tmp_path / "cache" / "evidence").iterdir()] == []  # nothing half-written


# --- refs add --to on a full disk --------------------------------------------------------------------


@pytest.fixture
def http() -> Iterator[HTTPServer]:
    server = HTTPServer(host="127.0.0.1", port=0)
    server.expect_request("/esummary.fcgi").respond_with_handler(esummary_handler)
    server.start()
    yield server
    server.clear()
    server.stop()


def test_refs_add_on_a_full_disk_keeps_the_old_file(http: HTTPServer, tmp_path: Path) -> None:
    # under the 2 KiB limit now; with the new entry it would be over it
    old = (
        "# my additions\n" + "# " + "padding " * 200 + "\ntopics:\n  - {slug: extra, title: Extra, question: Extra?}\n"
    ).encode()
    assert 1500 < len(old) < 2048
    target = tmp_path / "mine" / "refs.yaml"
    target.parent.mkdir()
    target.write_bytes(old)
    env = {
        **os.environ,
        "LMS_EUTILS_URL": http.url_for("/"),
        "LMS_CROSSREF_URL": http.url_for("/"),
        "LMS_EMAIL": "me@example.org",
        "LMS_CACHE_DIR": str(tmp_path / "cache"),
    }
    proc = subprocess.run(
        [*LMS, "refs", "add", "39990001", "--to", str(target), "--no-bundled", "-e", str(BASE), "--no-cache"],
        capture_output=True,
        text=True,
        check=False,
        env=env,
        preexec_fn=_limit_file_size,
        timeout=60,
    )
    assert proc.returncode == 5, proc.stderr
    assert proc.stderr == (
        f"Error: cannot write {target}: File too large\n"
        "Hint: check that the folder exists and is writable; any old file is unchanged\n"
    )
    assert proc.stdout == ""
    assert target.read_bytes() == old
    assert [p.name for p in target.parent.iterdir()] == ["refs.yaml"]  # no temporary file left
    # and with room on the disk the same command works: the failure was the disk's
    roomy = subprocess.run(
        [*LMS, "refs", "add", "39990001", "--to", str(target), "--no-bundled", "-e", str(BASE), "--no-cache"],
        capture_output=True,
        text=True,
        check=False,
        env=env,
        timeout=60,
    )
    assert roomy.returncode == 0, roomy.stderr
    assert target.read_bytes().startswith(old)
