"""Parsing evidence files into checked items, in this process or in worker processes.

YAML modules are imported only when a file is actually parsed, so a warm start never loads them."""

from __future__ import annotations

import gc
import os
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, cast

from lms_cli.errors import Problem
from lms_cli.load import rows
from lms_cli.load.fields import SCHEMA, FieldError
from lms_cli.load.files import MAX_FILE_BYTES, digest, read_bytes
from lms_cli.load.items import FileItems, Stamp
from lms_cli.model import (
    Claim,
    Location,
    Reference,
    Topic,
)
from lms_cli.text import did_you_mean, kind_of, quote

if TYPE_CHECKING:
    from lms_cli.load.rows import FileRows
    from lms_cli.load.yamlsafe import LList, LMap


#: Most problems listed for one file: past that it is not evidence with typos, and listing
#: a million lines helps nobody (the rest are found once these are fixed).
MAX_PROBLEMS = 200


_SINGULAR = {"topics": "topic", "references": "reference", "claims": "claim"}


_STOPPED = f"stopped after {MAX_PROBLEMS} problems in this file"


def _full(problems: list[Problem], path: str, at: tuple[int, int]) -> bool:
    """True once MAX_PROBLEMS are listed; the first time, notes where listing stopped."""
    if len(problems) < MAX_PROBLEMS:
        return False
    if problems[-1].message != _STOPPED:
        problems.append(Problem(path, *at, _STOPPED))
    return True


def _entry(
    kind: str, item: LMap, path: str, problems: list[Problem]
) -> tuple[dict[str, Any], dict[str, tuple[int, int]], bool]:
    fields = SCHEMA[kind]
    out: dict[str, Any] = {}
    positions: dict[str, tuple[int, int]] = {}
    ok = True
    for key, value in item.items():
        at = item.key_pos[key]
        if _full(problems, path, at):
            return out, positions, False
        spec = fields.get(key)
        if spec is None:
            problems.append(
                Problem(path, *at, f"unknown field {quote(key)} in {_SINGULAR[kind]}{did_you_mean(key, fields)}")
            )
            ok = False
            continue
        vat = item.val_pos[key]
        try:
            if spec.many:
                if not isinstance(value, list):
                    raise FieldError(f"must be a list, not {kind_of(value)}")
                if not value:
                    raise FieldError("must not be an empty list")
                converted = []
                item_pos = cast("LList", value).item_pos  # every list yamlsafe builds is an LList
                for i, element in enumerate(value):
                    if _full(problems, path, item_pos[i]):
                        return out, positions, False
                    try:
                        converted.append(spec.check(element))
                    except FieldError as bad:
                        problems.append(Problem(path, *item_pos[i], f"{key}[{i + 1}] {bad}"))
                        ok = False
                out[key] = tuple(converted)
                positions[key] = vat
                for i, p in enumerate(item_pos):
                    positions[f"{key}#{i}"] = p
            else:
                out[key] = spec.check(value)
                positions[key] = vat
        except FieldError as bad:
            problems.append(Problem(path, *vat, f"field {key!r} {bad}"))
            ok = False
    for name, spec in fields.items():
        if spec.required and name not in item:
            problems.append(Problem(path, *item.pos, f"{_SINGULAR[kind]} is missing required field {name!r}"))
            ok = False
    return out, positions, ok


def parse_file(data: bytes, path: str, *, fast: bool = True) -> FileItems:
    """Validate the fields of one evidence file (cross-file checks come later)."""
    from lms_cli.load import yamlsafe
    from lms_cli.load.yamlsafe import LList, LMap

    result = FileItems([], [], [], [], [])
    text, problem = yamlsafe.decode(data, path)
    if problem:
        result.problems.append(problem)
        return result
    assert text is not None
    root, problems = yamlsafe.parse(text, path, fast=fast)
    if root is None and problems:
        # The parser's reader says "unacceptable character" without a line: say where.
        bad = yamlsafe.unprintable(text, path)
        if bad is not None:
            problems = [bad]
    result.problems.extend(problems)
    if root is None:
        if not problems:
            result.problems.append(Problem(path, 1, 1, "file is empty: expected topics, references or claims"))
        return result
    if not isinstance(root, LMap):
        result.problems.append(
            Problem(path, 1, 1, f"file must be a mapping with topics, references or claims, not {kind_of(root)}")
        )
        return result
    for key in root:
        if key not in SCHEMA:
            if _full(result.problems, path, root.key_pos[key]):
                return result
            result.problems.append(
                Problem(
                    path,
                    *root.key_pos[key],
                    f"unknown top-level key {quote(key)}{did_you_mean(key, SCHEMA)}; "
                    "expected topics, references or claims",
                )
            )
    for kind in SCHEMA:
        if kind not in root:
            continue
        items = root[kind]
        if not isinstance(items, LList):
            result.problems.append(Problem(path, *root.val_pos[kind], f"{kind!r} must be a list, not {kind_of(items)}"))
            continue
        for i, item in enumerate(items):
            at = items.item_pos[i]
            if _full(result.problems, path, at):
                return result
            if not isinstance(item, LMap):
                result.problems.append(
                    Problem(path, *at, f"each of {kind} must be a mapping of fields, not {kind_of(item)}")
                )
                continue
            fields, pos, ok = _entry(kind, item, path, result.problems)
            # Citations of a half-valid claim are still checked, so one run finds everything.
            for j, ref_id in enumerate(fields.get("cites", ()) if kind == "claims" else ()):
                result.refs_used.append(("reference", ref_id, path, *pos[f"cites#{j}"]))
            for j, slug in enumerate(fields.get("topics", ()) if kind == "claims" else ()):
                result.refs_used.append(("topic", slug, path, *pos[f"topics#{j}"]))
            singular = _SINGULAR[kind]
            item_id: str | None = fields.get("slug" if kind == "topics" else "id")
            if not ok:
                if item_id is not None:
                    result.invalid.append((singular, item_id))
                continue
            where = Location(path, item.pos[0])
            if kind == "topics":
                result.topics.append(Topic(where=where, **fields))
            elif kind == "references":
                if "doi" not in fields and "pmid" not in fields:
                    result.problems.append(Problem(path, *item.pos, "reference needs a doi or a pmid"))
                    result.invalid.append((singular, fields["id"]))
                    continue
                result.references.append(Reference(where=where, **fields))
            else:
                result.claims.append(Claim(where=where, **fields))
    return result


def read_file(path: Path, max_bytes: int = MAX_FILE_BYTES) -> FileItems:
    """Read and validate one file; unreadable and oversized files become problems."""
    shown = str(path)
    data, _, failed = read_bytes(path, shown, max_bytes)
    if failed is not None:
        return failed
    assert data is not None
    return parse_file(data, shown)


@dataclass
class Parsed:
    """One file as parsed now, with what the cache needs to recognise it later.

    ``items`` is None when a worker process sent the file's cache rows instead (a clean
    file); ``digest`` and ``stamp`` are None when the file could not be read.
    """

    shown: str
    items: FileItems | None
    stamp: Stamp | None
    read_ns: int
    digest: str | None
    rows: FileRows | None = None

    def file_items(self) -> FileItems:
        if self.items is None:
            assert self.rows is not None
            self.items = rows.decode(self.rows, self.shown)
        return self.items


def parse_path(path: Path, shown: str, max_bytes: int) -> Parsed:
    """Read and parse one file, noting its stamp and content hash."""
    read_ns = time.time_ns()  # before reading: a write after this instant is a later version
    data, stamp, failed = read_bytes(path, shown, max_bytes)
    if failed is not None:
        return Parsed(shown, failed, None, read_ns, None)
    assert data is not None
    return Parsed(shown, parse_file(data, shown), stamp, read_ns, digest(data))


def _parse_in_worker(job: tuple[str, str, int]) -> Parsed:
    path, shown, max_bytes = job
    with gc_paused():
        parsed = parse_path(Path(path), shown, max_bytes)
        items = parsed.items
        if items is not None and not items.problems and parsed.digest is not None:
            # Plain tuples cross the process boundary faster than model objects, and
            # they are what the cache stores anyway.
            try:
                parsed.rows = rows.encode(items)
            except ValueError:  # not storable: send the objects
                return parsed
            parsed.items = None
    return parsed


#: Parse in worker processes when the files to parse total at least this many bytes.
PARALLEL_BYTES = 3 * 1024 * 1024


def workers(paths: Sequence[Path], jobs: int | None) -> int:
    """How many processes should parse ``paths``: ``jobs`` if given, else by size and CPUs."""
    if jobs is not None:
        return max(1, min(jobs, len(paths)))
    try:
        cpus = len(os.sched_getaffinity(0))
    except AttributeError:  # pragma: no cover - not on Linux
        cpus = os.cpu_count() or 1
    if cpus < 2 or len(paths) < 2:
        return 1
    total = 0
    for path in paths:
        try:
            total += os.stat(path).st_size
        except OSError:
            continue
    return min(cpus, len(paths)) if total >= PARALLEL_BYTES else 1


def parse_paths(paths: Sequence[Path], max_bytes: int, jobs: int | None = None) -> list[Parsed]:
    """Parse files, in order; big sets are shared between this process and worker processes."""
    count = workers(paths, jobs)
    if count <= 1:
        with gc_paused():
            return [parse_path(p, str(p), max_bytes) for p in paths]
    import multiprocessing
    import threading
    from concurrent.futures import Future, ProcessPoolExecutor

    sizes = []
    for path in paths:
        try:
            sizes.append(os.stat(path).st_size)
        except OSError:
            sizes.append(0)
    # Balance by bytes; this process takes a share too rather than idling while it waits.
    shares: list[list[int]] = [[] for _ in range(count)]
    loads = [0] * count
    for i in sorted(range(len(paths)), key=lambda i: -sizes[i]):
        least = loads.index(min(loads))
        shares[least].append(i)
        loads[least] += sizes[i]
    # fork is cheap (nothing is re-imported) but unsafe once threads run; spawn otherwise.
    methods = multiprocessing.get_all_start_methods()
    method = "fork" if "fork" in methods and threading.active_count() == 1 else "spawn"
    results: dict[int, Parsed] = {}
    pool = ProcessPoolExecutor(
        count - 1, mp_context=multiprocessing.get_context(method), initializer=_quiet_worker, initargs=(os.getpid(),)
    )
    try:
        pending: list[tuple[int, Future[Parsed]]] = [
            (i, pool.submit(_parse_in_worker, (str(paths[i]), str(paths[i]), max_bytes)))
            for share in shares[1:]
            for i in share
        ]
        with gc_paused():
            for i in shares[0]:
                results[i] = parse_path(paths[i], str(paths[i]), max_bytes)
        for i, future in pending:
            results[i] = future.result()
    except BaseException:
        # Ctrl-C: stop at once instead of waiting for the queued files
        pool.shutdown(wait=False, cancel_futures=True)
        raise
    pool.shutdown()
    return [results[i] for i in range(len(paths))]


#: How often a worker checks that its parent is alive (where the kernel cannot tell it).
PARENT_CHECK = 0.25


def _quiet_worker(parent: int) -> None:
    """Ctrl-C is the parent's to handle: a worker would print a traceback for it.

    A worker ends with its parent, whatever ended the parent (SIGTERM, SIGHUP, SIGKILL):
    on Linux the kernel sends it SIGTERM (PR_SET_PDEATHSIG); everywhere a daemon thread
    checks every ``PARENT_CHECK`` seconds that the parent is still there.
    """
    import signal
    import threading
    import time

    signal.signal(signal.SIGINT, signal.SIG_IGN)
    try:
        import ctypes

        ctypes.CDLL(None, use_errno=True).prctl(1, int(signal.SIGTERM))  # PR_SET_PDEATHSIG
    except (OSError, AttributeError):  # not Linux
        pass
    if os.getppid() != parent:  # the parent died before the line above
        os._exit(1)

    def watch() -> None:
        while os.getppid() == parent:
            time.sleep(PARENT_CHECK)
        os._exit(1)

    threading.Thread(target=watch, name="lms-parent-watch", daemon=True).start()


@contextmanager
def gc_paused() -> Iterator[None]:
    """Pause the cyclic garbage collector while building many acyclic objects.

    Parsing allocates millions of dicts, lists and dataclasses that form no cycles; the
    collector's repeated full passes over them cost a fifth of a cold load at 10^5 claims.
    """
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()
