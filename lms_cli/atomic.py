"""Atomic file writes: a temporary file in the same folder, fsync, then a rename.

Readers (and a crash, Ctrl-C or a full disk) see the old file or the new one, never a
part. Used by `report -o`, `refs add --to` and the caches.
"""

from __future__ import annotations

import contextlib
import os
import stat
import tempfile
from pathlib import Path

from lms_cli.errors import OutputError


def write_atomic(path: Path, data: bytes | str, *, durable: bool = True) -> None:
    """Replace ``path`` with ``data`` (text is written as UTF-8, line endings unchanged).

    An existing file keeps its permissions; a new one gets the usual 0o666 less the umask.
    ``durable=False`` skips the fsync (caches, which can be rebuilt). Raises OutputError,
    leaving the old file intact and no temporary file behind.
    """
    raw = data.encode("utf-8") if isinstance(data, str) else data
    tmp: str | None = None
    try:
        try:
            mode = stat.S_IMODE(path.stat().st_mode)
        except FileNotFoundError:
            umask = os.umask(0)
            os.umask(umask)
            mode = 0o666 & ~umask
        fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
        with os.fdopen(fd, "wb") as handle:
            handle.write(raw)
            handle.flush()
            if durable:
                os.fsync(handle.fileno())
        os.chmod(tmp, mode)
        os.replace(tmp, path)
        tmp = None
    except OSError as exc:
        raise OutputError(
            f"cannot write {path}: {exc.strerror or exc}",
            "check that the folder exists and is writable; any old file is unchanged",
        ) from None
    finally:  # also on Ctrl-C: the temporary file goes, the old file stays
        if tmp is not None:
            with contextlib.suppress(OSError):
                os.unlink(tmp)
