"""Shared fixtures; pins the environment before Typer or Rich are imported."""

from __future__ import annotations

import os

# Pinned before Typer/Rich are imported so help and rich output do not depend on the host.
os.environ["NO_COLOR"] = "1"
os.environ["COLUMNS"] = "100"
os.environ["TERMINAL_WIDTH"] = "100"
os.environ.pop("LMS_EVIDENCE", None)
os.environ.pop("FORCE_COLOR", None)

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from pytest_httpserver import HTTPServer
from typer.testing import CliRunner, Result

from lms_cli.cli.app import app_for

DATA = Path(__file__).parent / "data"
BASE = DATA / "base"

Invoke = Callable[..., Result]


@pytest.fixture(autouse=True)
def _isolated_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.delenv("LMS_EVIDENCE", raising=False)
    monkeypatch.setenv("LMS_CACHE_DIR", str(tmp_path / "cache"))


@pytest.fixture(scope="module")
def server() -> Iterator[HTTPServer]:
    """A real HTTP server on 127.0.0.1 (a free port) for the network clients' tests."""
    srv = HTTPServer(host="127.0.0.1", port=0, threaded=True)
    srv.start()
    yield srv
    srv.clear()
    srv.stop()


@pytest.fixture
def invoke() -> Invoke:
    """Run the CLI in-process as the console script does (``app_for``: only the command run is
    built); stdout and stderr are captured separately."""

    def run(*args: str, env: dict[str, str] | None = None) -> Result:
        return CliRunner().invoke(app_for(args), list(args), env=env)

    return run


@pytest.fixture
def fixture_args() -> list[str]:
    """Options that point a command at the small fixture base only."""
    return ["--no-bundled", "--evidence", str(BASE)]


def write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    """Report the question set's top-1 accuracy (issue: shown in the test output)."""
    from tests import test_resolve

    result = getattr(test_resolve, "ACCURACY", {})
    if result:
        terminalreporter.write_line(
            f"question resolution: top-1 accuracy {result['accuracy']:.1%} on {result['total']} questions"
        )
        misses = result["misses"]
        assert isinstance(misses, list)
        for miss in misses:
            terminalreporter.write_line(f"  miss: {miss}")
    if "more_inside" in result:
        inside, outside = result["more_counts"]
        terminalreporter.write_line(
            f"new phrasings: right topic {result['more_inside']:.1%} of {inside} in-scope questions; "
            f"refused {result['more_outside']:.1%} of {outside} out-of-scope ones"
        )
