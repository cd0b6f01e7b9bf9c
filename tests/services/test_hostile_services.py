"""services: hostile and broken servers on 127.0.0.1 (caps, deadlines, redirects, shapes, identities)."""

from __future__ import annotations

import gzip
import json
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from pytest_httpserver import HTTPServer
from werkzeug import Request, Response

from lms_cli.errors import ExitCode
from lms_cli.services.http import Failure, redact
from lms_cli.services.records import LookupState
from tests.conftest import Invoke
from tests.services.test_client import RECORDS, crossref_json, esummary_answer, make_client

Handler = Callable[[socket.socket], None]


class RawServer:
    """A raw TCP server in a thread: each connection gets ``handler``; counts what it sent."""

    def __init__(self, handler: Handler) -> None:
        self.handler = handler
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(8)
        self.sock.settimeout(0.2)
        self.port: int = self.sock.getsockname()[1]
        self.stop = threading.Event()
        self.sent = 0
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()

    def url(self, path: str = "/") -> str:
        return f"http://127.0.0.1:{self.port}{path}"

    def _serve(self) -> None:
        while not self.stop.is_set():
            try:
                conn, _ = self.sock.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            with conn:
                conn.settimeout(5)
                try:
                    conn.recv(65536)
                    self.handler(conn)
                except OSError:
                    pass

    def send(self, conn: socket.socket, data: bytes) -> None:
        conn.sendall(data)
        self.sent += len(data)

    def close(self) -> None:
        self.stop.set()
        self.sock.close()
        self.thread.join(5)


@pytest.fixture
def raw() -> Iterator[Callable[[Handler], RawServer]]:
    made: list[RawServer] = []

    def start(handler: Handler) -> RawServer:
        made.append(RawServer(handler))
        return made[-1]

    yield start
    for s in made:
        s.close()


@pytest.fixture
def http(server: HTTPServer) -> Iterator[HTTPServer]:
    server.clear()
    yield server
    server.clear()


HEAD = b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nConnection: close\r\n"


# --- size cap -------------------------------------------------------------------------------


def test_an_endless_body_stops_at_the_reply_cap(raw: Callable[[Handler], RawServer]) -> None:
    def endless(conn: socket.socket) -> None:
        server.send(conn, HEAD + b"\r\n" + b'{"result": "')
        chunk = b"x" * 65536
        while not server.stop.is_set() and server.sent < 64 * 2**20:
            server.send(conn, chunk)

    server = raw(endless)
    client = make_client_raw(server, max_reply_bytes=2**20)
    with client:
        got = client.esummary(["23354568"])["23354568"]
    assert got.state is LookupState.FAILED
    assert got.detail == f"PubMed sent a reply larger than 1 MiB at {server.url('/esummary.fcgi')}"
    assert server.sent < 16 * 2**20  # the client hung up long before the server's 64 MiB


# The peak resident size of the child (VmHWM: ru_maxrss would carry the parent's across exec).
BOMB_CHILD = """
import json, sys
from lms_cli.services.client import Client, Config
def peak():
    line = next(x for x in open("/proc/self/status") if x.startswith("VmHWM:"))
    return int(line.split()[1])
before = peak()
with Client(Config(eutils_url=sys.argv[1], ncbi_rate=1000.0, timeout=20.0)) as c:
    got = c.esummary(["23354568"])["23354568"]
print(json.dumps({"grown_kib": peak() - before, "state": got.state.value, "detail": got.detail}))
"""


def test_a_gzip_bomb_is_capped_while_it_is_decompressed(http: HTTPServer) -> None:
    # 256 MiB of JSON-ish zeros in ~250 KiB of gzip; the default cap is 16 MiB.
    bomb = gzip.compress(b'{"result": "' + b"0" * (256 * 2**20), compresslevel=9)
    http.expect_request("/esummary.fcgi").respond_with_data(
        bomb, headers={"Content-Encoding": "gzip"}, content_type="application/json"
    )
    out = subprocess.run(
        [sys.executable, "-c", BOMB_CHILD, http.url_for("/")], capture_output=True, text=True, timeout=60, check=True
    )
    got = json.loads(out.stdout)
    print(f"gzip bomb: the child grew by {got['grown_kib']} KiB")
    assert got["state"] == "failed"
    assert got["detail"].startswith("PubMed sent a reply larger than 16 MiB")
    assert got["grown_kib"] < 64 * 1024, got  # the cap plus working space, never the 256 MiB


# --- deadlines ------------------------------------------------------------------------------


def test_a_trickling_server_fails_at_the_request_deadline(raw: Callable[[Handler], RawServer]) -> None:
    def trickle(conn: socket.socket) -> None:
        server.send(conn, HEAD + b"Content-Length: 1000\r\n\r\n")
        for _ in range(1000):  # 1,000 bytes, one every 0.1 s: 100 s in all
            if server.stop.is_set():
                return
            server.send(conn, b" ")
            time.sleep(0.1)

    server = raw(trickle)
    client = make_client_raw(server, deadline=1.0, timeout=0.5)  # not retried: it would trickle again
    with client:
        got = client.esummary(["23354568"])["23354568"]
    assert got.state is LookupState.FAILED
    assert got.detail == f"PubMed could not be reached at {server.url('/esummary.fcgi')}: no full answer within 1 s"
    assert server.sent - len(HEAD) < 100  # the reads each came within the per-read timeout


def test_the_command_deadline_stops_further_requests(http: HTTPServer) -> None:
    http.expect_request("/esummary.fcgi").respond_with_json(esummary_answer(["23354568"]))
    with make_client(http, command_deadline=0.0) as client:
        got = client.esummary(["23354568"])["23354568"]
    assert got.state is LookupState.FAILED
    assert got.detail == "PubMed was not asked: the command's deadline of 0 s has passed"
    assert len(http.log) == 0


# --- redirects and credentials ------------------------------------------------------------


def test_a_redirect_to_another_host_is_refused(http: HTTPServer) -> None:
    http.expect_request("/esummary.fcgi").respond_with_data(
        "", status=302, headers={"Location": "http://localhost:1/steal"}
    )
    with make_client(http, email="me@example.org") as client:
        got = client.esummary(["23354568"])["23354568"]
    assert got.state is LookupState.FAILED
    assert got.detail == (
        f"PubMed could not be reached at {http.url_for('/esummary.fcgi')}: "
        "refused a redirect to another host (localhost)"
    )
    assert len(http.log) == 1


def test_a_redirect_on_the_same_host_is_followed(http: HTTPServer) -> None:
    http.expect_request("/esummary.fcgi").respond_with_data("", status=301, headers={"Location": "/v2/esummary.fcgi"})
    http.expect_request("/v2/esummary.fcgi").respond_with_json(esummary_answer(["23354568"]))
    with make_client(http) as client:
        got = client.esummary(["23354568"])["23354568"]
    assert got.state is LookupState.FOUND
    assert [r.path for r, _ in http.log] == ["/esummary.fcgi", "/v2/esummary.fcgi"]


def test_credentials_in_a_url_are_never_shown(raw: Callable[[Handler], RawServer]) -> None:
    server = raw(lambda conn: None)  # hangs up at once
    url = f"http://alice:s3cret@127.0.0.1:{server.port}/eutils/"
    client = make_client_raw(server, eutils_url=url, connect_retries=0)
    with client:
        got = client.esummary(["23354568"])["23354568"]
    assert got.state is LookupState.FAILED
    assert got.detail is not None and "s3cret" not in got.detail and "alice" not in got.detail
    assert got.detail.startswith(f"PubMed could not be reached at http://127.0.0.1:{server.port}/eutils/esummary.fcgi")
    assert redact("see https://u:p@x.org/a and http://v@y.org") == "see https://x.org/a and http://y.org"
    assert Failure("at ftp://me:pw@h/").detail == "at ftp://h/"


def test_refs_verify_never_echoes_credentials(invoke: Invoke, fixture_args: list[str]) -> None:
    bad = "http://bob:hunter2@[::1"
    result = invoke("refs", "verify", *fixture_args, env={"LMS_CROSSREF_URL": bad})
    assert result.exit_code == ExitCode.USAGE
    assert "hunter2" not in result.stderr and "bob" not in result.stderr


# --- shapes ---------------------------------------------------------------------------------


def test_json_nested_100000_deep_is_a_malformed_reply(http: HTTPServer) -> None:
    http.expect_request("/esummary.fcgi").respond_with_data("[" * 100_000 + "]" * 100_000)
    with make_client(http) as client:
        got = client.esummary(["23354568"])["23354568"]
    assert got.state is LookupState.FAILED
    assert got.detail == "malformed reply from PubMed: JSON nested deeper than 64 (HTTP 200, /esummary.fcgi)"


def test_json_nested_65_deep_is_a_malformed_reply(http: HTTPServer) -> None:
    http.expect_request("/works/10.1/x").respond_with_data('{"message": ' + "[" * 64 + "]" * 64 + "}")
    with make_client(http) as client:
        got = client.crossref("10.1/x")
    assert got.state is LookupState.FAILED
    assert got.detail == "malformed reply from Crossref: JSON nested deeper than 64 (HTTP 200, /works/10.1/x)"


def with_fields(pmid: str, **fields: Any) -> dict[str, Any]:
    return {**RECORDS[pmid], **fields}


@pytest.mark.parametrize(
    "fields",
    [{"authors": 5}, {"articleids": "doi"}, {"pubtype": 7}, {"articleids": {"a": 1}}, {"authors": None, "title": 3}],
)
def test_esummary_records_of_the_wrong_shape_are_malformed(http: HTTPServer, fields: dict[str, Any]) -> None:
    record = with_fields("23354568", **fields)
    http.expect_request("/esummary.fcgi").respond_with_json(esummary_answer(["23354568"], {"23354568": record}))
    with make_client(http) as client:
        got = client.esummary(["23354568"])["23354568"]
    assert got.state is LookupState.FAILED
    assert got.detail is not None and got.detail.startswith("malformed reply from PubMed: the record for PMID 23354568")


@pytest.mark.parametrize(
    "fields", [{"author": 5}, {"author": "Smith"}, {"updated-by": 3}, {"title": {"a": 1}}, {"author": [{"family": 5}]}]
)
def test_crossref_works_of_the_wrong_shape_are_malformed(http: HTTPServer, fields: dict[str, Any]) -> None:
    body = crossref_json("pautier2015")
    body["message"].update(fields)
    doi = body["message"]["DOI"]
    http.expect_request(f"/works/{doi}").respond_with_json(body)
    with make_client(http) as client:
        got = client.crossref(doi)
    if fields == {"author": [{"family": 5}]}:  # a number where a name goes is read as text
        assert got.state is LookupState.FOUND
        return
    assert got.state is LookupState.FAILED
    assert got.detail is not None and got.detail.startswith(f"malformed reply from Crossref: the record for DOI {doi}")


def test_a_record_under_another_pmid_is_refused(http: HTTPServer) -> None:
    other = with_fields("35835135")  # uid 35835135, sent as the answer for 23354568
    http.expect_request("/esummary.fcgi").respond_with_json(esummary_answer(["23354568"], {"23354568": other}))
    with make_client(http) as client:
        got = client.esummary(["23354568"])["23354568"]
    assert got.state is LookupState.FAILED
    assert got.detail == "malformed reply from PubMed: asked for PMID 23354568, sent the record of PMID 35835135"


def test_a_work_under_another_doi_is_refused(http: HTTPServer) -> None:
    http.expect_request("/works/10.1/asked").respond_with_json(crossref_json("pautier2015"))
    with make_client(http) as client:
        got = client.crossref("10.1/asked")
    assert got.state is LookupState.FAILED
    assert got.detail is not None
    assert got.detail.startswith("malformed reply from Crossref: asked for DOI 10.1/asked, sent the record of DOI 10.")


def test_refs_add_refuses_a_record_of_another_paper(
    invoke: Invoke, fixture_args: list[str], http: HTTPServer, tmp_path: Path
) -> None:
    other = with_fields("35835135")

    def answer(request: Request) -> Response:
        return Response(json.dumps(esummary_answer(["23354568"], {"23354568": other})), content_type="application/json")

    http.expect_request("/esummary.fcgi").respond_with_handler(answer)
    target = tmp_path / "refs.yaml"
    env = {"LMS_EUTILS_URL": http.url_for("/"), "LMS_CROSSREF_URL": http.url_for("/"), "LMS_EMAIL": "t@example.org"}
    result = invoke("refs", "add", "23354568", "--to", str(target), "--design", "rct", *fixture_args, env=env)
    assert result.exit_code == ExitCode.SERVICE, result.stderr
    assert "asked for PMID 23354568, sent the record of PMID 35835135" in result.stderr
    assert not target.exists()


def test_malformed_records_exit_4_from_verify(invoke: Invoke, fixture_args: list[str], http: HTTPServer) -> None:
    def answer(request: Request) -> Response:
        ids = request.args["id"].split(",")
        records = {i: {**RECORDS.get(i, {"uid": i, "title": "t"}), "authors": 5} for i in ids}
        return Response(json.dumps(esummary_answer(ids, records)), content_type="application/json")

    http.expect_request("/esummary.fcgi").respond_with_handler(answer)
    http.expect_request("/idconv/").respond_with_json({"records": []})
    env = {"LMS_EUTILS_URL": http.url_for("/"), "LMS_CROSSREF_URL": http.url_for("/"), "LMS_EMAIL": "t@example.org"}
    result = invoke("refs", "verify", "-f", "json", *fixture_args, env=env)
    assert result.exit_code == ExitCode.SERVICE, result.stderr
    assert "malformed reply from PubMed" in result.stderr


def make_client_raw(server: RawServer, **config: Any) -> Any:
    from lms_cli.services.client import Client, Config

    settings: dict[str, Any] = {
        "eutils_url": server.url("/"),
        "crossref_url": server.url("/"),
        "ncbi_rate": 1000.0,
        "crossref_rate": 1000.0,
        "backoff": 0.01,
        "timeout": 2.0,
    }
    settings.update(config)
    return Client(Config(**settings), sleep=lambda s: None)
