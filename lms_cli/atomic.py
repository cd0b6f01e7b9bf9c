"""The one writer: a temporary file in the same folder, fsync, then a rename; and the one write policy.

Readers (and a crash, Ctrl-C or a full disk) see the old file or the new one, never a
part. Used by `report -o`, `refs add --to`, the services' record cache and the evidence
cache (which builds its SQLite snapshot in the temporary file).

The policy (``target``), the same for every file lms writes:

- an absent file is created; a regular file is replaced, unless it is read-only (no write
  permission bit: even root's lms leaves a 0444 file alone);
- a symbolic link to a regular file is written through: the file it points to (after
  every link in the chain) is replaced and the link is kept;
- anything else is refused: a directory, FIFO, device, socket, a dangling link or a loop;
- ``locked`` holds an exclusive ``fcntl`` lock on the folder while a read-modify-write
  runs, so concurrent `refs add` to one file queue instead of losing an entry.

Refusals are ``OutputError`` (exit 5) naming the path. Caches (``owned=True``) are lms's
own files in its own folder: whatever is in an entry's place (damage: a FIFO, a link) is
replaced by the rename, never opened and never followed.
"""

from __future__ import annotations

import contextlib
import errno
import os
import stat
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

from lms_cli.errors import OutputError

#: How long ``locked`` waits for another lms writing in the same folder.
LOCK_WAIT = 60.0

_KINDS = (
    (stat.S_ISDIR, "a directory"),
    (stat.S_ISFIFO, "a FIFO"),
    (stat.S_ISCHR, "a device"),
    (stat.S_ISBLK, "a device"),
    (stat.S_ISSOCK, "a socket"),
)


def target(path: Path) -> Path:
    """The file a write to ``path`` replaces, by the one policy; OutputError when refused."""
    try:
        info = path.lstat()
    except FileNotFoundError:
        return path
    except OSError as exc:
        raise _refused(path, exc.strerror or str(exc)) from None
    real = path
    if stat.S_ISLNK(info.st_mode):
        try:
            real = path.resolve(strict=True)
            info = real.stat()
        except (FileNotFoundError, RuntimeError, OSError):
            raise _refused(path, "a dangling link or a link loop (not a regular file)") from None
    if not stat.S_ISREG(info.st_mode):
        kind = next((name for test, name in _KINDS if test(info.st_mode)), "special")
        raise _refused(path, f"{kind}, not a regular file")
    if not info.st_mode & 0o222:
        raise _refused(path, "the file is read-only")
    return real


def _refused(path: Path, why: str) -> OutputError:
    return OutputError(f"cannot write {path}: {why}", "lms writes regular files only (or stdout, with -o -)")


@contextlib.contextmanager
def locked(path: Path, wait: float = LOCK_WAIT) -> Iterator[None]:
    """An exclusive lock on ``path``'s folder (held by the open folder, so no lock file is left).

    Where fcntl is missing (Windows) or the folder cannot be opened, nothing is locked.
    """
    try:
        import fcntl
    except ImportError:  # pragma: no cover - not on POSIX
        yield
        return
    try:
        fd = os.open(path.parent if str(path.parent) else ".", os.O_RDONLY)
    except OSError:
        yield  # the write itself will report the folder
        return
    try:
        give_up = time.monotonic() + wait
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except OSError as exc:
                if exc.errno not in (errno.EAGAIN, errno.EACCES, errno.EWOULDBLOCK):
                    break  # a file system without locks: go on unlocked
                if time.monotonic() > give_up:
                    raise OutputError(
                        f"cannot write {path}: another lms has been writing in {path.parent} for {wait:g} s",
                        "try again when it has finished",
                    ) from None
                time.sleep(0.02)
        yield
    finally:
        os.close(fd)  # releases the lock


@contextlib.contextmanager
def replacing(path: Path, *, durable: bool = True, keep_mode: bool = True, owned: bool = False) -> Iterator[Path]:
    """A temporary file beside ``path`` to fill; when the block ends cleanly it replaces ``path``.

    The temporary file is fsynced first unless ``durable=False`` (caches, which can be
    rebuilt). With ``keep_mode`` an existing file keeps its permissions and a new one gets
    the usual 0o666 less the umask. On any error, Ctrl-C included, the temporary file is
    removed and ``path`` is unchanged; the error propagates. ``path`` goes through the
    write policy (``target``) first: a link to a regular file is written through. ``owned``:
    a cache's own file, replaced whatever it is (see the module docstring).
    """
    if not owned:
        path = target(path)
    mode: int | None = None
    if keep_mode:
        try:
            mode = stat.S_IMODE(path.stat().st_mode)
        except FileNotFoundError:
            umask = os.umask(0)
            os.umask(umask)
            mode = 0o666 & ~umask
    fd, name = tempfile.mkstemp(
        prefix=f".{path.name}." if keep_mode else f"{path.name}.", suffix=".tmp", dir=path.parent
    )
    os.close(fd)
    tmp: str | None = name
    try:
        yield Path(name)
        if durable:
            with open(name, "rb") as handle:
                os.fsync(handle.fileno())
        if mode is not None:
            os.chmod(name, mode)
        os.replace(name, path)
        tmp = None
    finally:
        if tmp is not None:
            with contextlib.suppress(OSError):
                os.unlink(tmp)


def write_atomic(path: Path, data: bytes | str, *, durable: bool = True, owned: bool = False) -> None:
    """Replace ``path`` with ``data`` (text is written as UTF-8, line endings unchanged).

    An existing file keeps its permissions; a new one gets the usual 0o666 less the umask.
    ``durable=False`` skips the fsync (caches, which can be rebuilt). Raises OutputError,
    leaving the old file intact and no temporary file behind.
    """
    raw = data.encode("utf-8") if isinstance(data, str) else data
    try:
        with replacing(path, durable=durable, owned=owned) as tmp:
            tmp.write_bytes(raw)
    except OSError as exc:
        raise OutputError(
            f"cannot write {path}: {exc.strerror or exc}",
            "check that the folder exists and is writable; any old file is unchanged",
        ) from None
