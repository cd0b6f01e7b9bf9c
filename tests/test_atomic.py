"""atomic: the one write policy (regular files only, read-only respected, links, a lock), through both commands."""

from __future__ import annotations

import contextlib
import json
import os
import socket
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from pytest_httpserver import HTTPServer
from werkzeug import Request, Response

from lms_cli.atomic import write_atomic
from lms_cli.errors import ExitCode, OutputError
from tests.conftest import BASE, DATA, Invoke, write

SPEC = DATA / "report.yaml"


@pytest.fixture
def http(server: HTTPServer) -> Iterator[HTTPServer]:
    server.clear()
    yield server
    server.clear()


def record(pmid: str, surname: str) -> dict[str, object]:
    return {
        "uid": pmid,
        "title": f"A trial by {surname}.",
        "authors": [{"name": f"{surname} A"}],
        "source": "J Test",
        "fulljournalname": "Journal of Tests",
        "pubdate": "2020",
        "articleids": [{"idtype": "pubmed", "value": pmid}],
        "pubtype": ["Journal Article"],
    }


def answer(request: Request) -> Response:
    ids = request.args["id"].split(",")
    result: dict[str, object] = {"uids": ids}
    for i in ids:
        result[i] = record(i, "Name" + "abcdefghijklmnopqrstuvwxyz"[int(i) % 26])
    return Response(json.dumps({"result": result}), content_type="application/json")


def env_for(http: HTTPServer) -> dict[str, str]:
    return {"LMS_EUTILS_URL": http.url_for("/"), "LMS_CROSSREF_URL": http.url_for("/"), "LMS_EMAIL": "t@example.org"}


def report(invoke: Invoke, fixture_args: list[str], out: Path) -> tuple[int, str]:
    result = invoke("report", str(SPEC), "-o", str(out), *fixture_args)
    return result.exit_code, result.stderr


def add(invoke: Invoke, fixture_args: list[str], http: HTTPServer, to: Path, pmid: str = "90000001") -> tuple[int, str]:
    result = invoke("refs", "add", pmid, "--to", str(to), "--design", "rct", *fixture_args, env=env_for(http))
    return result.exit_code, result.stderr


def special_files(tmp_path: Path) -> dict[str, Path]:
    fifo = tmp_path / "fifo"
    os.mkfifo(fifo)
    sock_path = tmp_path / "sock"
    sock = socket.socket(socket.AF_UNIX)
    sock.bind(str(sock_path))
    sock.close()
    device = tmp_path / "null-link"
    device.symlink_to("/dev/null")
    dangling = tmp_path / "dangling"
    dangling.symlink_to(tmp_path / "nowhere")
    return {"FIFO": fifo, "socket": sock_path, "device": device, "dangling link": dangling}


@pytest.mark.parametrize("kind", ["FIFO", "socket", "device", "dangling link"])
def test_special_files_are_refused_by_both_commands(
    invoke: Invoke, fixture_args: list[str], http: HTTPServer, tmp_path: Path, kind: str
) -> None:
    http.expect_request("/esummary.fcgi").respond_with_handler(answer)
    target = special_files(tmp_path)[kind]
    for code, stderr in (report(invoke, fixture_args, target), add(invoke, fixture_args, http, target)):
        assert code == ExitCode.OUTPUT, stderr
        assert stderr.startswith(f"Error: cannot write {target}: "), stderr
    assert target.is_symlink() or not target.is_file()  # left as it was
    assert sorted(p.name for p in tmp_path.iterdir() if p.name != "cache") == ["dangling", "fifo", "null-link", "sock"]


def test_a_read_only_file_is_refused_by_both_commands(
    invoke: Invoke, fixture_args: list[str], http: HTTPServer, tmp_path: Path
) -> None:
    http.expect_request("/esummary.fcgi").respond_with_handler(answer)
    target = write(tmp_path / "ro.yaml", "references: []\n")
    target.chmod(0o444)
    for code, stderr in (report(invoke, fixture_args, target), add(invoke, fixture_args, http, target)):
        assert code == ExitCode.OUTPUT, stderr
        assert stderr.startswith(f"Error: cannot write {target}: the file is read-only"), stderr
    assert target.read_text(encoding="utf-8") == "references: []\n"


def test_a_link_to_a_regular_file_is_written_through_by_both_commands(
    invoke: Invoke, fixture_args: list[str], http: HTTPServer, tmp_path: Path
) -> None:
    http.expect_request("/esummary.fcgi").respond_with_handler(answer)
    real = write(tmp_path / "real" / "out.yaml", "")
    link = tmp_path / "link.yaml"
    link.symlink_to(real)
    assert report(invoke, fixture_args, link)[0] == 0
    assert link.is_symlink() and real.read_text(encoding="utf-8").startswith("#")
    write(real, "")
    assert add(invoke, fixture_args, http, link)[0] == 0
    assert link.is_symlink() and "90000001" in real.read_text(encoding="utf-8")


def test_write_atomic_refuses_a_directory_link(tmp_path: Path) -> None:
    (tmp_path / "d").mkdir()
    (tmp_path / "l").symlink_to(tmp_path / "d")
    with pytest.raises(OutputError, match="not a regular file"):
        write_atomic(tmp_path / "l", "x")


ADD_CHILD = [sys.executable, "-m", "lms_cli", "refs", "add", "--design", "rct", "--no-bundled", "--evidence", str(BASE)]


def test_ten_concurrent_adds_to_one_file_keep_every_entry(http: HTTPServer, tmp_path: Path) -> None:
    arrived = threading.Barrier(10, timeout=30)

    def together(request: Request) -> Response:
        with contextlib.suppress(threading.BrokenBarrierError):
            arrived.wait()  # every process has its record at the same moment: they all write at once
        return answer(request)

    http.expect_request("/esummary.fcgi").respond_with_handler(together)
    target = write(tmp_path / "refs.yaml", "references:\n")
    env = {**os.environ, **env_for(http), "LMS_CACHE_DIR": str(tmp_path / "cache")}
    pmids = [str(90000000 + i) for i in range(10)]
    procs = [
        subprocess.Popen([*ADD_CHILD, p, "--to", str(target)], env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        for p in pmids
    ]
    outs = [p.communicate(timeout=120) for p in procs]
    assert [p.returncode for p in procs] == [0] * 10, [e.decode() for _, e in outs]
    text = target.read_text(encoding="utf-8")
    assert [p for p in pmids if f'pmid: "{p}"' not in text] == []


def test_a_cache_entry_is_replaced_never_followed(tmp_path: Path) -> None:
    outside = write(tmp_path / "precious.txt", "mine\n")
    entry = tmp_path / "cache" / "entry.json"
    entry.parent.mkdir()
    entry.symlink_to(outside)
    write_atomic(entry, "{}", durable=False, owned=True)
    assert not entry.is_symlink() and entry.read_text(encoding="utf-8") == "{}"
    assert outside.read_text(encoding="utf-8") == "mine\n"
