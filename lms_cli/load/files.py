"""Finding and reading evidence files: discovery, size limits, stamps, content hashes."""

from __future__ import annotations

import os
from collections.abc import Iterator, Sequence
from pathlib import Path
from stat import S_ISREG

from lms_cli.errors import Problem, UsageError
from lms_cli.load.items import FileItems, Stamp

#: Largest evidence file read, in bytes (LMS_MAX_FILE_BYTES overrides; checked by the CLI).
#: About 1,800 times the largest bundled file and 50 times a file of the 100,000-claim benchmark.
MAX_FILE_BYTES = 20 * 1024 * 1024


EXTENSIONS = (".yaml", ".yml")

#: Files and folders one evidence root may hold before discovery stops (a UsageError): a
#: base of 100,000 claims has ~500 files; `LMS_EVIDENCE=/` would otherwise walk everything.
MAX_VISITED = 200_000

#: Kernel pseudo-filesystems: never evidence, and walking them never ends (/proc/self/cwd...).
PSEUDO_ROOTS = ("/proc", "/sys", "/dev")


def _pseudo_devices() -> set[int]:
    out = set()
    try:
        system = os.stat("/").st_dev
    except OSError:  # pragma: no cover
        system = -1
    for root in PSEUDO_ROOTS:
        try:
            dev = os.stat(root).st_dev
        except OSError:
            continue
        if dev != system:  # a plain /dev folder on the root file system (a chroot) is not one
            out.add(dev)
    return out


def on_pseudo_filesystem(path: Path) -> bool:
    """True when ``path`` (links followed) lies in /proc, /sys or /dev."""
    try:
        real = path.resolve()
        dev = os.stat(real).st_dev
    except (OSError, RuntimeError):
        return False
    return dev in _pseudo_devices() or any(real.is_relative_to(r) for r in PSEUDO_ROOTS)


def bundled_dir() -> Path:
    """The evidence base shipped with lms (inside the wheel, or the repository's evidence/)."""
    package = Path(__file__).resolve().parent.parent  # lms_cli/
    packaged = package / "evidence"
    return packaged if packaged.is_dir() else package.parent / "evidence"


def sources(bundled: bool, user_dirs: Sequence[Path]) -> list[Path]:
    """The directories to load, in order: the bundled base, then the user's."""
    if not bundled and not user_dirs:
        raise UsageError("--no-bundled needs at least one --evidence PATH or LMS_EVIDENCE directory")
    roots = [bundled_dir()] if bundled else []
    for d in user_dirs:
        if not d.exists():
            raise UsageError(f"evidence path not found: {d}")
        if on_pseudo_filesystem(d):
            raise UsageError(f"evidence path {d} is on a pseudo-filesystem (/proc, /sys, /dev): not read")
        roots.append(d)
    return roots


def listing(roots: Sequence[Path]) -> tuple[list[Path], list[Problem]]:
    """Every evidence file under ``roots`` in load order, and a problem for each root without any."""
    files: list[Path] = []
    problems: list[Problem] = []
    for root in roots:
        found = list(iter_files(root))
        if not found:
            problems.append(Problem(str(root), 0, 0, "no .yaml or .yml evidence files here"))
        files.extend(found)
    return files, problems


def iter_files(root: Path) -> Iterator[Path]:
    """Every .yaml/.yml file under ``root`` (or ``root`` itself), sorted, symlink loops skipped."""
    if root.is_file():
        yield root
        return
    seen: set[tuple[int, int]] = set()
    found: list[Path] = []
    pseudo = _pseudo_devices()
    visited = 0
    for dirpath, dirnames, filenames in os.walk(root, followlinks=True):
        st = os.stat(dirpath)
        if (st.st_dev, st.st_ino) in seen or st.st_dev in pseudo:  # a loop, or a link into /proc
            dirnames[:] = []
            continue
        seen.add((st.st_dev, st.st_ino))
        visited += len(dirnames) + len(filenames)
        if visited > MAX_VISITED:
            raise UsageError(
                f"more than {MAX_VISITED} files and folders under {root}: stopped",
                "point --evidence or LMS_EVIDENCE at the folder that holds the evidence",
            )
        found.extend(Path(dirpath) / n for n in filenames if n.endswith(EXTENSIONS) and not n.startswith("."))
    yield from sorted(found, key=lambda p: p.relative_to(root).parts)


def stamp_of(st: os.stat_result) -> Stamp:
    """The stamp of a stat result."""
    return (st.st_size, st.st_mtime_ns, st.st_ctime_ns, st.st_ino)


def _problem_items(path: str, message: str) -> FileItems:
    return FileItems([], [], [], [Problem(path, 1, 1, message)], [])


def read_bytes(path: Path, shown: str, max_bytes: int) -> tuple[bytes | None, Stamp | None, FileItems | None]:
    """A file's bytes and stamp, or a FileItems holding why it cannot be read (too big, unreadable)."""
    try:
        # Non-blocking: opening a FIFO named x.yaml would otherwise wait for a writer forever.
        fd = os.open(path, os.O_RDONLY | _OPEN_FLAGS)
        with open(fd, "rb") as handle:
            st = os.fstat(fd)
            if not S_ISREG(st.st_mode):  # a FIFO, a device such as /dev/zero, a socket
                return None, None, _problem_items(shown, "cannot read file: not a regular file")
            if st.st_size > max_bytes:
                return None, None, _problem_items(shown, _too_big(st.st_size, max_bytes))
            data = handle.read(max_bytes + 1)  # it may have grown since fstat
    except OSError as exc:
        return None, None, _problem_items(shown, f"cannot read file: {exc.strerror or exc}")
    if len(data) > max_bytes:
        return None, None, _problem_items(shown, _too_big(len(data), max_bytes, "at least "))
    return data, stamp_of(st), None


_OPEN_FLAGS = getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_CLOEXEC", 0)


def _too_big(size: int, max_bytes: int, qualifier: str = "") -> str:
    return f"file is {qualifier}{size} bytes, over the limit of {max_bytes} (set LMS_MAX_FILE_BYTES to raise it)"


def digest(data: bytes) -> str:
    """The content hash the cache compares when a file's stamp cannot be trusted."""
    import hashlib

    return hashlib.blake2b(data, digest_size=20).hexdigest()
