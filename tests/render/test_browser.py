"""HTML pages in a real headless Chromium (Debian's `chromium`), loaded from file:// with the network cut off.

Every bundled topic's page and a report are loaded; from Chromium's rendered DOM
(--dump-dom) every citation must resolve to an entry of the reference list, the picture
must be there and nothing may point outside the page. Chromium runs behind a local proxy
that answers nothing, so any request the page made would be seen there (a canary page
without the CSP proves the trap works) and none can leave the machine. One topic is also
screenshotted at phone and desktop widths and printed to PDF.

Chromium is never downloaded here: when it is missing the tests skip, except under CI
(.ci/run installs it), where they fail.
"""

from __future__ import annotations

import datetime as dt
import os
import re
import shutil
import socket
import struct
import subprocess
import threading
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import NamedTuple

import pytest

from lms_cli import load
from lms_cli.compose import compose
from lms_cli.model import Filters, Query
from lms_cli.render import html as render_html
from lms_cli.report import compose_report, parse_spec
from lms_cli.select import select
from tests.conftest import BASE, DATA
from tests.render.html_dom import citations_resolve, external_urls, parse

SHOT_TOPIC = "first-line"
CANARY_HOST = "canary.invalid"
#: Chromium's own services, which it calls even with background networking disabled;
#: a page's request (the canary's, say) names any other host.
BROWSER_SERVICES = {
    "update.googleapis.com",
    "accounts.google.com",
    "clients2.google.com",
    "optimizationguide-pa.googleapis.com",
    "safebrowsingohttpgateway.googleapis.com",
}
PNG = b"\x89PNG\r\n\x1a\n"
TIMEOUT = 90


def chromium() -> str:
    """The chromium executable; under CI its absence is a failure, elsewhere a skip."""
    found = shutil.which("chromium") or shutil.which("chromium-browser")
    if found:
        return found
    if os.environ.get("CI", "").strip().lower() not in ("", "0", "false", "no"):
        pytest.fail("chromium is required under CI (.ci/run installs it); the browser tests cannot skip")
    pytest.skip("chromium is not installed (apt-get install chromium; CI installs it)")


def test_missing_chromium_fails_under_ci_and_skips_elsewhere(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(shutil, "which", lambda name: None)
    monkeypatch.setenv("CI", "true")
    with pytest.raises(pytest.fail.Exception):
        chromium()
    monkeypatch.setenv("CI", "")
    with pytest.raises(pytest.skip.Exception):
        chromium()


class Trap:
    """A proxy on 127.0.0.1 that records the first line of every request and answers nothing."""

    def __init__(self) -> None:
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(64)
        self.port = self.sock.getsockname()[1]
        self.seen: list[str] = []
        self._lock = threading.Lock()
        self._thread = threading.Thread(target=self._serve, daemon=True)
        self._thread.start()

    def _serve(self) -> None:
        while True:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return  # closed
            with conn:
                conn.settimeout(2)
                try:
                    line = conn.recv(4096).split(b"\r\n", 1)[0].decode("latin-1")
                except OSError:
                    line = "(no request line)"
            with self._lock:
                self.seen.append(line)

    def hosts(self) -> list[str]:
        """The host each request was for (CONNECT host:port, or an absolute http URL)."""
        with self._lock:
            lines = list(self.seen)
        out = []
        for line in lines:
            if not line:  # a connection opened and closed without a request (a preconnect) asked for nothing
                continue
            m = re.match(r"CONNECT ([^:\s]+)|[A-Z]+ https?://([^/:\s]+)", line)
            out.append((m[1] or m[2]) if m else line)
        return out

    def close(self) -> None:
        self.sock.close()


class Run(NamedTuple):
    page: Path
    returncode: int
    stdout: str
    stderr: str


class Pages(NamedTuple):
    """What Chromium made of every page, and what reached the trap."""

    dom: dict[str, Run]  # page name -> --dump-dom run
    expected: dict[str, int]  # page name -> number of citation links it must have
    shots: dict[int, Path]  # window width -> screenshot
    pdf: Path
    extra: list[Run]  # the screenshot and PDF runs
    hosts: list[str]


def _pages(out: Path) -> dict[str, tuple[str, int]]:
    """Every bundled topic's page and the fixture report, as (HTML, citation links expected)."""
    pages = {}
    base = load.load([load.bundled_dir()])
    for topic in base.topics:
        summary = compose(Query(topic.slug), select(base, topic.slug, Filters()))
        cites = sum(len(c.numbers) for p in summary.sections for c in p.claims)
        pages[topic.slug] = (render_html.render(summary), cites)
    spec = parse_spec((DATA / "report.yaml").read_bytes(), str(DATA / "report.yaml"))
    report = compose_report(spec, load.load([BASE]), dt.date(2026, 3, 1))
    cites = sum(len(c.numbers) for s in report.sections for p in s.parts for c in p.claims)
    pages["report"] = (render_html.report(report), cites)
    return pages


@pytest.fixture(scope="module")
def browser(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Pages]:
    exe = chromium()
    out = tmp_path_factory.mktemp("browser")
    trap = Trap()
    flags = [
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--disable-extensions",
        "--disable-default-apps",
        "--no-pings",
        "--hide-scrollbars",
        # the network is cut off twice: no name resolves, and everything goes to the trap
        "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1",
        f"--proxy-server=http://127.0.0.1:{trap.port}",
        "--proxy-bypass-list=<-loopback>",
    ]
    jobs: list[tuple[str, Path, list[str]]] = []
    expected = {}
    shots = {w: out / f"{SHOT_TOPIC}-{w}.png" for w in (390, 1280)}
    pdf = out / f"{SHOT_TOPIC}.pdf"
    for name, (text, cites) in _pages(out).items():
        path = out / f"{name}.html"
        path.write_text(text, encoding="utf-8")
        expected[name] = cites
        extra = ["--dump-dom"]
        if name == SHOT_TOPIC:  # one process dumps, screenshots and prints: each start costs a second
            extra += [
                "--window-size=390,2000",
                f"--screenshot={shots[390]}",
                "--no-pdf-header-footer",
                f"--print-to-pdf={pdf}",
            ]
        jobs.append((name, path, extra))
    jobs.append(("shot-1280", out / f"{SHOT_TOPIC}.html", ["--window-size=1280,2000", f"--screenshot={shots[1280]}"]))
    canary = out / "canary.html"  # no CSP: its image request must reach the trap
    canary.write_text(
        f'<!DOCTYPE html><html lang="en"><img src="http://{CANARY_HOST}/x.png" alt=""></html>', encoding="utf-8"
    )
    jobs.append(("canary", canary, ["--dump-dom"]))

    def run(job: tuple[str, Path, list[str]]) -> tuple[str, Run]:
        name, page, extra = job
        profile = out / f"profile-{name}"
        done = subprocess.run(
            [exe, *flags, f"--user-data-dir={profile}", *extra, page.as_uri()],
            capture_output=True,
            text=True,
            timeout=TIMEOUT,
            check=False,
        )
        return name, Run(page, done.returncode, done.stdout, done.stderr)

    with ThreadPoolExecutor(max_workers=4) as pool:
        results = dict(pool.map(run, jobs))
    trap.close()
    dom = {k: v for k, v in results.items() if not k.startswith("shot-")}
    yield Pages(dom, expected, shots, pdf, [results["shot-1280"], results[SHOT_TOPIC]], trap.hosts())


def test_every_citation_resolves_and_the_picture_is_there(browser: Pages) -> None:
    assert len(browser.expected) == len(load.load([load.bundled_dir()]).topics) + 1
    for name, cites in browser.expected.items():
        run = browser.dom[name]
        assert run.returncode == 0, (name, run.stderr[-2000:])
        page = parse(run.stdout)
        assert citations_resolve(page) == cites, name
        assert len(page.root.one("ol", "refs").all("li")) > 0, name
        svgs = page.root.all("svg")
        assert svgs, name
        for svg in svgs:
            title = [c for c in svg.children if not isinstance(c, str) and c.tag == "title"]
            assert len(title) == 1 and title[0].text().startswith("Picture of the evidence"), name
            assert svg.all(cls="m"), name
        assert len(page.root.all("h1")) == 1, name


def test_nothing_external_in_the_rendered_dom(browser: Pages) -> None:
    for name in browser.expected:
        assert external_urls(parse(browser.dom[name].stdout)) == [], name


def test_nothing_was_requested(browser: Pages) -> None:
    hosts = browser.hosts
    assert CANARY_HOST in hosts, hosts  # the trap sees what a page requests
    page_requests = [h for h in hosts if h not in BROWSER_SERVICES and h != CANARY_HOST]
    assert page_requests == []


def test_screenshots_and_pdf(browser: Pages) -> None:
    for run in browser.extra:
        assert run.returncode == 0, run.stderr[-2000:]
    for width, png in browser.shots.items():
        data = png.read_bytes()
        assert data[:8] == PNG
        assert data[12:16] == b"IHDR" and struct.unpack(">II", data[16:24]) == (width, 2000)
        assert len(data) > 50_000, (width, len(data))  # a blank page is about 12 kB
    data = browser.pdf.read_bytes()
    assert data[:5] == b"%PDF-" and data.rstrip().endswith(b"%%EOF")
    assert len(re.findall(rb"/Type\s*/Page(?![s\w])", data)) >= 2  # a long answer prints on several pages
    assert len(data) > 50_000
