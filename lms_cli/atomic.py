"""The one writer: a temporary file in the same folder, fsync, then a rename.

Readers (and a crash, Ctrl-C or a full disk) see the old file or the new one, never a
part. Used by `report -o`, `refs add --to`, the services' record cache and the evidence
cache (which builds its SQLite snapshot in the temporary file).
"""

from __future__ import annotations

import contextlib
import os
import stat
import tempfile
from collections.abc import Iterator
from pathlib import Path

from lms_cli.errors import OutputError


@contextlib.contextmanager
def replacing(path: Path, *, durable: bool = True, keep_mode: bool = True) -> Iterator[Path]:
    """A temporary file beside ``path`` to fill; when the block ends cleanly it replaces ``path``.

    The temporary file is fsynced first unless ``durable=False`` (caches, which can be
    rebuilt). With ``keep_mode`` an existing file keeps its permissions and a new one gets
    the usual 0o666 less the umask. On any error, Ctrl-C included, the temporary file is
    removed and ``path`` is unchanged; the error propagates.
    """
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


def write_atomic(path: Path, data: bytes | str, *, durable: bool = True) -> None:
    """Replace ``path`` with ``data`` (text is written as UTF-8, line endings unchanged).

    An existing file keeps its permissions; a new one gets the usual 0o666 less the umask.
    ``durable=False`` skips the fsync (caches, which can be rebuilt). Raises OutputError,
    leaving the old file intact and no temporary file behind.
    """
    raw = data.encode("utf-8") if isinstance(data, str) else data
    try:
        with replacing(path, durable=durable) as tmp:
            tmp.write_bytes(raw)
    except OSError as exc:
        raise OutputError(
            f"cannot write {path}: {exc.strerror or exc}",
            "check that the folder exists and is writable; any old file is unchanged",
        ) from None
