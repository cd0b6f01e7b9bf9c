"""Evidence directories -> a validated EvidenceBase; every problem reported as FILE:LINE:COL.

The steps, one module each: ``files`` finds and reads evidence files; ``yamlsafe`` builds
positioned YAML; ``fields`` is the one table of fields that checks values (and generates the
JSON Schema); ``parse`` turns a file into checked items; ``links`` applies the cross-file rules
and joins files into a base; ``rows`` and ``cache`` keep parsed files in SQLite so unchanged
files are not parsed again.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, TypeVar

from lms_cli.errors import Problem
from lms_cli.load.fields import ID_RE, SCHEMA, SLUG_RE, FieldError, date_field, json_schema, text_field
from lms_cli.load.files import MAX_FILE_BYTES, bundled_dir, iter_files, listing, read_bytes, sources, stamp_of
from lms_cli.load.items import FileItems
from lms_cli.load.links import combine, for_topic
from lms_cli.load.parse import MAX_PROBLEMS, gc_paused, parse_file, parse_paths, read_file
from lms_cli.model import EvidenceBase

if TYPE_CHECKING:
    from lms_cli.load.cache import EvidenceCache
    from lms_cli.store import Store

T = TypeVar("T")

__all__ = [
    "ID_RE",
    "MAX_FILE_BYTES",
    "MAX_PROBLEMS",
    "SCHEMA",
    "SLUG_RE",
    "FieldError",
    "bundled_dir",
    "combine",
    "date_field",
    "for_topic",
    "iter_files",
    "json_schema",
    "listing",
    "load",
    "parse_file",
    "read_bytes",
    "read_file",
    "sources",
    "stamp_of",
    "text_field",
    "with_store",
]


def load(
    roots: Sequence[Path],
    max_bytes: int = MAX_FILE_BYTES,
    reader: Callable[[Path, int], FileItems] | None = None,
    *,
    cache: EvidenceCache | Path | None = None,
    topic: str | None = None,
    jobs: int | None = None,
    skip: Collection[str] = (),
) -> EvidenceBase:
    """Load and cross-check every evidence file under ``roots``; raise EvidenceError on problems.

    ``cache``: an EvidenceCache or its directory; unchanged files are then not parsed
    again (a custom ``reader`` is never cached). ``topic``: return only what that topic's
    summary needs (see ``for_topic``) -- with a warm cache, only that is read. ``jobs``:
    worker processes for parsing (default: by size and CPU count). ``skip``: files (as
    problems name them) to leave out, for ``--skip-invalid``.
    """
    files, problems = _listing(roots, skip)
    if cache is not None and reader is None:
        from lms_cli.load.cache import EvidenceCache

        store = cache if isinstance(cache, EvidenceCache) else EvidenceCache(Path(cache))
        return store.load(roots, files, problems, max_bytes, topic=topic, jobs=jobs)
    with gc_paused():
        if reader is not None:
            parts = [reader(f, max_bytes) for f in files]
        else:
            parts = [p.file_items() for p in parse_paths(files, max_bytes, jobs)]
        base = combine(parts, problems)
    return for_topic(base, topic) if topic is not None else base


def with_store(
    roots: Sequence[Path],
    answer: Callable[[Store], T],
    max_bytes: int = MAX_FILE_BYTES,
    *,
    cache: EvidenceCache | Path | None = None,
    jobs: int | None = None,
    skip: Collection[str] = (),
) -> T:
    """``answer`` applied to the base under ``roots`` as a Store: read row by row from the cache
    when every file is unchanged and checked, else loaded (which refreshes the cache) into a
    MemoryStore. A snapshot found damaged while answering is removed and the base loaded afresh."""
    if cache is not None:
        from lms_cli.load.cache import EvidenceCache
        from lms_cli.load.snapshot import SnapshotDamaged

        evidence_cache = cache if isinstance(cache, EvidenceCache) else EvidenceCache(Path(cache))
        files, problems = _listing(roots, skip)
        snapshot = evidence_cache.store(roots, files, problems, max_bytes)
        if snapshot is not None:
            try:
                return answer(snapshot)
            except SnapshotDamaged as exc:
                evidence_cache.discard(roots, max_bytes, f"damaged: {exc}")
            finally:
                snapshot.close()
        cache = evidence_cache
    from lms_cli.store import MemoryStore

    return answer(MemoryStore(load(roots, max_bytes, cache=cache, jobs=jobs, skip=skip)))


def _listing(roots: Sequence[Path], skip: Collection[str]) -> tuple[list[Path], list[Problem]]:
    files, problems = listing(roots)
    if skip:
        kept = [f for f in files if str(f) not in skip]
        problems = [p for p in problems if p.path not in skip]
        if files and not kept:
            from lms_cli.errors import EvidenceError

            why = "every evidence file has problems: none is left to use"
            raise EvidenceError([Problem(str(roots[0]), 0, 0, why)], "run `lms validate` to list them")
        files = kept
    return files, problems
