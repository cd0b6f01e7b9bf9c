"""Requests `lms refs verify` makes for the bundled base, counted by a fake server on 127.0.0.1.

Starts a local server that answers as ESummary, the PMC ID converter and Crossref do (both
`/works/{doi}` and `/works?filter=doi:...`), with records made from the bundled references
themselves, then runs `lms refs verify` against it twice with a fresh cache (cold, then
warm) and prints the requests each run made, by endpoint. It runs once with a converter that
knows none of the DOI-only references' DOIs and once with one that knows them all: the real
share lies between.

    python -m bench.verify_requests [--checkout DIR]

`lms` runs as `python -m lms_cli` from this checkout, or from DIR (another checkout of the
project, e.g. an older commit exported with `git archive`) to count that code's requests.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import threading
from collections import Counter
from collections.abc import Mapping
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

from lms_cli import load
from lms_cli.model import Reference


def esummary_record(ref: Reference, pmid: str) -> dict[str, Any]:
    """The ESummary record of ``ref`` under ``pmid``."""
    ids = [{"idtype": "pubmed", "value": pmid}] + ([{"idtype": "doi", "value": ref.doi}] if ref.doi else [])
    return {
        "uid": pmid,
        "pubdate": f"{ref.year} Jan",
        "source": ref.journal,
        "fulljournalname": ref.journal,
        "title": ref.title + ".",
        "authors": [{"name": a} for a in ref.named_authors],
        "pubtype": ["Journal Article"],
        "articleids": ids,
    }


def crossref_work(ref: Reference) -> dict[str, Any]:
    """The Crossref work (a `message`) of ``ref``."""
    family, _, initials = ref.named_authors[0].rpartition(" ")
    return {
        "DOI": ref.doi,
        "title": [ref.title],
        "container-title": [ref.journal],
        "author": [{"family": family or initials, "given": " ".join(initials) if family else "", "sequence": "first"}],
        "issued": {"date-parts": [[ref.year]]},
    }


class Services:
    """What the fake server knows, and the requests it was sent."""

    def __init__(self, refs: tuple[Reference, ...], pmc_knows_all: bool) -> None:
        doi_only = [r for r in refs if r.doi and not r.pmid]
        self.via = {r.doi: str(38000000 + i) for i, r in enumerate(doi_only) if r.doi and pmc_knows_all}
        self.records = {r.pmid: esummary_record(r, r.pmid) for r in refs if r.pmid}
        self.records.update({p: esummary_record(r, p) for r in doi_only if (p := self.via.get(r.doi or ""))})
        self.works = {(r.doi or "").casefold(): crossref_work(r) for r in doi_only}
        self.log: Counter[str] = Counter()
        self.lock = threading.Lock()

    def answer(self, path: str, query: Mapping[str, list[str]]) -> tuple[int, Any]:
        with self.lock:
            self.log["/works/{doi}" if path.startswith("/works/") else path] += 1
        if path == "/esummary.fcgi":
            ids = query["id"][0].split(",")
            result: dict[str, Any] = {"uids": ids}
            for i in ids:
                result[i] = self.records.get(i) or {"uid": i, "error": "cannot get document summary"}
            return 200, {"header": {"type": "esummary"}, "result": result}
        if path == "/idconv/":
            records = []
            for i in query["ids"][0].split(","):
                pmid = self.via.get(i)
                records.append({"requested-id": i, **({"pmid": int(pmid)} if pmid else {"status": "error"})})
            return 200, {"status": "ok", "records": records}
        if path == "/works":
            asked = [f.split(":", 1)[1] for f in query["filter"][0].split(",")]
            items = [w for d in asked if (w := self.works.get(d.casefold()))]
            return 200, {"status": "ok", "message": {"total-results": len(items), "items": items}}
        if path.startswith("/works/"):
            work = self.works.get(unquote(path.removeprefix("/works/")).casefold())
            return (200, {"status": "ok", "message": work}) if work else (404, None)
        return 404, None


def serve(services: Services) -> ThreadingHTTPServer:
    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            self.reply(parse_qs(urlsplit(self.path).query))

        def do_POST(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            self.reply(parse_qs(self.rfile.read(length).decode()))

        def reply(self, query: Mapping[str, list[str]]) -> None:
            status, body = services.answer(urlsplit(self.path).path, query)
            data = json.dumps(body).encode() if body is not None else b"not found"
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def log_message(self, format: str, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


ROOT = Path(__file__).resolve().parent.parent


def run_verify(root: str, cache: Path, checkout: Path) -> int:
    env = {
        **os.environ,
        "PYTHONPATH": str(checkout),
        "LMS_EUTILS_URL": root,
        "LMS_CROSSREF_URL": root,
        "LMS_IDCONV_URL": root + "idconv/",
        "LMS_EMAIL": "bench@example.org",
        "LMS_CACHE_DIR": str(cache),
        "NO_COLOR": "1",
    }
    env.pop("NCBI_API_KEY", None)
    done = subprocess.run(
        [sys.executable, "-m", "lms_cli", "refs", "verify", "--format", "json"],
        env=env,
        cwd=checkout,
        capture_output=True,
        text=True,
        check=False,
    )
    if done.returncode != 0:
        sys.exit(f"lms refs verify exited {done.returncode}: {done.stderr.strip()}")
    summary: dict[str, int] = json.loads(done.stdout)["summary"]
    return summary["verified"]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--checkout", type=Path, default=ROOT, help="the checkout whose lms runs (default: this one)")
    checkout = parser.parse_args().checkout.resolve()
    refs = tuple(load.load([load.bundled_dir()]).references)
    doi_only = sum(1 for r in refs if r.doi and not r.pmid)
    print(f"bundled base: {len(refs)} references, {len(refs) - doi_only} with a PMID, {doi_only} DOI-only")
    for pmc_knows_all in (False, True):
        services = Services(refs, pmc_knows_all)
        server = serve(services)
        root = f"http://127.0.0.1:{server.server_address[1]}/"
        with tempfile.TemporaryDirectory() as tmp:
            counts = []
            for _ in ("cold", "warm"):
                services.log.clear()
                verified = run_verify(root, Path(tmp) / "cache", checkout)
                counts.append((sum(services.log.values()), dict(services.log), verified))
        server.shutdown()
        server.server_close()
        known = "all" if pmc_knows_all else "none"
        for label, (total, by_path, verified) in zip(("cold", "warm"), counts, strict=True):
            paths = ", ".join(f"{p} {n}" for p, n in sorted(by_path.items())) or "-"
            print(f"PMC knows {known:>4} of the DOIs, {label}: {total:>2} requests ({paths}); {verified} verified")


if __name__ == "__main__":
    main()
