"""Environment and process hazards: workers that outlive their parent, pseudo-filesystems, unbounded walks."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from bench import synth

LMS = [sys.executable, "-m", "lms_cli"]


def group_members(pgid: int) -> list[int]:
    """Live (not zombie) processes of a process group, found in /proc."""
    out = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        fields = stat.rsplit(")", 1)[1].split()
        state, pgrp = fields[0], int(fields[2])
        if pgrp == pgid and state != "Z":
            out.append(int(entry.name))
    return out


def children_of(pid: int) -> list[int]:
    out = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            if int(fields[1]) == pid:
                out.append(int(entry.name))
    return out


@pytest.fixture(scope="module")
def big_base(tmp_path_factory: pytest.TempPathFactory) -> Path:
    directory = tmp_path_factory.mktemp("big")
    synth.generate(directory, 40_000)  # ~16 MiB: parsed by worker processes (over PARALLEL_BYTES)
    return directory


@pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="needs /proc")
@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGHUP])
def test_workers_end_with_their_parent(big_base: Path, tmp_path: Path, sig: signal.Signals) -> None:
    env = {**os.environ, "LMS_CACHE_DIR": str(tmp_path / "cache")}
    proc = subprocess.Popen(
        [*LMS, "topics", "--no-cache", "--no-bundled", "-e", str(big_base)],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,  # its own process group: every worker is found by the group id
    )
    try:
        workers: list[int] = []
        for _ in range(400):  # up to 20 s for the workers to start
            workers = children_of(proc.pid)
            if workers:
                break
            time.sleep(0.05)
        assert workers, "no worker process started"
        time.sleep(0.3)  # the workers are parsing
        os.kill(proc.pid, sig)
        proc.wait(30)
        left = group_members(proc.pid)
        for _ in range(40):  # a worker notices within its 0.25 s check
            if not left:
                break
            time.sleep(0.05)
            left = group_members(proc.pid)
        assert left == [], f"workers {left} outlived their parent"
    finally:
        if proc.poll() is None:
            proc.kill()
        for pid in group_members(proc.pid):
            os.kill(pid, signal.SIGKILL)


@pytest.mark.parametrize("root", ["/proc", "/sys", "/dev", "/proc/self"])
def test_pseudo_filesystems_are_refused_as_evidence(root: str) -> None:
    from lms_cli import load
    from lms_cli.errors import UsageError

    if not Path(root).exists():
        pytest.skip(f"no {root} here")
    with pytest.raises(UsageError, match=f"{root} is on a pseudo-filesystem"):
        load.sources(False, [Path(root)])


def test_a_link_into_a_pseudo_filesystem_is_not_walked(tmp_path: Path) -> None:
    from lms_cli import load

    if not Path("/proc/self").exists():
        pytest.skip("needs /proc")
    (tmp_path / "e.yaml").write_text("topics: []\n", encoding="utf-8")
    (tmp_path / "proc").symlink_to("/proc")
    assert list(load.iter_files(tmp_path)) == [tmp_path / "e.yaml"]


def test_discovery_stops_at_its_cap(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from lms_cli.errors import UsageError
    from lms_cli.load import files

    for i in range(30):
        (tmp_path / f"d{i}").mkdir()
        (tmp_path / f"d{i}" / "x.txt").write_text("", encoding="utf-8")
    monkeypatch.setattr(files, "MAX_VISITED", 40)
    with pytest.raises(UsageError, match=r"more than 40 files and folders under .*: stopped"):
        list(files.iter_files(tmp_path))
    monkeypatch.setattr(files, "MAX_VISITED", 100)
    assert list(files.iter_files(tmp_path)) == []
