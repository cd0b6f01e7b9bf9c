"""Evidence directories -> a validated EvidenceBase; every problem reported as FILE:LINE:COL.

Parsing is the slow step (PyYAML); ``load(..., cache=DIR)`` hands unchanged files to
``lms_cli.cache`` instead, and large bases are parsed by worker processes. YAML modules
are imported only when a file is actually parsed, so a warm start never loads them.
"""

from __future__ import annotations

import datetime as dt
import gc
import os
import re
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from enum import Enum
from pathlib import Path
from stat import S_ISREG
from typing import TYPE_CHECKING, Any, cast

from lms_cli.errors import EvidenceError, Problem, UsageError
from lms_cli.model import (
    YEAR_MAX,
    YEAR_MIN,
    Claim,
    EvidenceBase,
    Location,
    Population,
    Publication,
    Rank,
    Reference,
    Section,
    Seen,
    Support,
    Topic,
)

if TYPE_CHECKING:
    from lms_cli.cache import EvidenceCache, FileRows
    from lms_cli.yamlsafe import LList, LMap

#: Largest evidence file read, in bytes (LMS_MAX_FILE_BYTES overrides; checked by the CLI).
#: About 1,800 times the largest bundled file and 50 times a file of the 100,000-claim benchmark.
MAX_FILE_BYTES = 20 * 1024 * 1024
#: Most problems listed for one file: past that it is not evidence with typos, and listing
#: a million lines helps nobody (the rest are found once these are fixed).
MAX_PROBLEMS = 200

ID_RE = re.compile(r"^[a-z0-9]+(?:[-_.][a-z0-9]+)*$")
SLUG_RE = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")
DOI_RE = re.compile(r"^10\.\d{4,9}/\S+$")
PMID_RE = re.compile(r"^[1-9]\d{0,8}$")
PMCID_RE = re.compile(r"^PMC\d+$")
NCT_RE = re.compile(r"^NCT\d{8}$")
EXTENSIONS = (".yaml", ".yml")


def bundled_dir() -> Path:
    """The evidence base shipped with lms (inside the wheel, or the repository's evidence/)."""
    here = Path(__file__).resolve().parent
    packaged = here / "evidence"
    return packaged if packaged.is_dir() else here.parent / "evidence"


# --- field checkers: each returns the converted value or raises FieldError(message) ---------


class FieldError(Exception):
    """A field value is unusable; the message reads after the field's name."""


def _quote(text: str, limit: int = 60) -> str:
    """``repr(text)``, shortened: a message quoting a megabyte-long value helps nobody."""
    return repr(text if len(text) <= limit else text[:limit] + "…")


def text_field(value: Any) -> str:
    """One line of text: whitespace folded, no lone surrogates, not empty."""
    if not isinstance(value, str) or isinstance(value, bool):
        raise FieldError(f"must be text, not {kind_of(value)}")
    if not value.isascii():
        try:
            value.encode("utf-8")
        except UnicodeEncodeError:
            from lms_cli.yamlsafe import join_surrogates

            value, lone = join_surrogates(value)
            if lone is not None:
                raise FieldError(f"holds a lone surrogate U+{ord(value[lone]):04X} (character {lone + 1}), "
                                 "which is not text; write the character itself") from None
    text = " ".join(value.split())
    if not text:
        raise FieldError("must not be empty")
    return text


def _pattern(regex: re.Pattern[str], what: str) -> Callable[[Any], str]:
    def check(value: Any) -> str:
        text = text_field(value)
        if not regex.match(text):
            raise FieldError(f"{_quote(text)} is not {what}")
        return text

    return check


def _text_or_number(value: Any) -> str:
    if isinstance(value, int) and not isinstance(value, bool):
        return str(value)
    return text_field(value)


def _pmid(value: Any) -> str:
    text = _text_or_number(value)
    if not PMID_RE.match(text):
        raise FieldError(f"{_quote(text)} is not a PMID (digits only)")
    return text


def _year(value: Any) -> int:
    if not isinstance(value, int) or isinstance(value, bool):
        raise FieldError(f"must be a year like 2014, not {kind_of(value)}")
    if not YEAR_MIN <= value <= YEAR_MAX:
        raise FieldError(f"{value} is not a plausible publication year")
    return value


def _count(value: Any) -> int:
    if not isinstance(value, int) or isinstance(value, bool) or value < 1:
        shown = value if isinstance(value, int) and not isinstance(value, bool) else None
        raise FieldError(f"must be a positive whole number, not {shown if shown is not None else _shown(value)}")
    return value


def date_field(value: Any) -> dt.date:
    """A calendar date (YAML date or ISO text), without a time."""
    if isinstance(value, dt.datetime):
        raise FieldError("must be a date like 2026-11-27, without a time")
    if isinstance(value, dt.date):
        return value
    if isinstance(value, str):
        try:
            return dt.date.fromisoformat(value.strip())
        except ValueError:
            pass
    raise FieldError(f"must be a date like 2026-11-27, not {_shown(value)}")


def _flag(value: Any) -> bool:
    if isinstance(value, bool):
        return value
    raise FieldError(f"must be true or false, not {kind_of(value)}")


def _choice(enum: type[Enum]) -> Callable[[Any], Any]:
    names = [m.value for m in enum]

    def check(value: Any) -> Any:
        text = text_field(value)
        for member in enum:
            if member.value == text:
                return member
        hint = did_you_mean(text, names)
        raise FieldError(f"{_quote(text)} is not one of {', '.join(names)}{hint}")

    return check


def _shown(value: Any) -> str:
    """Text quoted (shortened), anything else by its kind."""
    return _quote(value) if isinstance(value, str) else kind_of(value)


def kind_of(value: Any) -> str:
    """How a wrong value is named in messages ("a list", "the number 3")."""
    if value is None:
        return "empty"
    if isinstance(value, dict):
        return "a mapping"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, bool):
        return "true/false"
    if isinstance(value, (int, float)):
        return f"the number {value}"
    if isinstance(value, dt.date):
        return "a date"
    return type(value).__name__


def did_you_mean(word: str, options: Iterable[str]) -> str:
    """' (did you mean 'x'?)' for the closest option, or ''."""
    import difflib

    close = difflib.get_close_matches(word, list(options), n=1, cutoff=0.6)
    return f" (did you mean {close[0]!r}?)" if close else ""


@dataclass(frozen=True)
class _Field:
    """One evidence field: its checker and the JSON Schema of one value (one table serves both)."""

    check: Callable[[Any], Any]
    schema: dict[str, Any]
    required: bool = False
    many: bool = False  # a non-empty list of `check` values

    def json_schema(self) -> dict[str, Any]:
        return {"type": "array", "items": self.schema, "minItems": 1} if self.many else self.schema


_TEXT: dict[str, Any] = {"type": "string", "minLength": 1}
_TEXT_OR_NUMBER: dict[str, Any] = {"type": ["string", "integer"]}


def _like(regex: re.Pattern[str]) -> dict[str, Any]:
    return {"type": "string", "pattern": regex.pattern}


def _enum(values: type[Enum]) -> dict[str, Any]:
    return {"enum": [v.value for v in values]}


def _pick(enum: type[Enum]) -> _Field:
    return _Field(_choice(enum), _enum(enum))


_id = _Field(_pattern(ID_RE, "a valid id (lowercase letters, digits, '-', '_', '.')"), _like(ID_RE))
_slug = _Field(_pattern(SLUG_RE, "a kebab-case slug"), _like(SLUG_RE))
_text = _Field(text_field, _TEXT)
_DATE: dict[str, Any] = {"type": "string", "format": "date"}


def _req(field: _Field, *, many: bool = False) -> _Field:
    return _Field(field.check, field.schema, required=True, many=many)


def _many(field: _Field) -> _Field:
    return _Field(field.check, field.schema, many=True)


#: Every field of every kind of item: the validator and ``lms schema`` both read this table.
SCHEMA: dict[str, dict[str, _Field]] = {
    "topics": {
        "slug": _req(_slug),
        "title": _req(_text),
        "question": _req(_text),
        "aliases": _many(_text),
        "pubmed": _text,
        "trials": _text,
    },
    "references": {
        "id": _req(_id),
        "design": _req(_pick(Rank)),
        "authors": _req(_text, many=True),
        "title": _req(_text),
        "journal": _req(_text),
        "year": _Field(_year, {"type": "integer", "minimum": YEAR_MIN, "maximum": YEAR_MAX}, required=True),
        "volume": _Field(_text_or_number, _TEXT_OR_NUMBER),
        "issue": _Field(_text_or_number, _TEXT_OR_NUMBER),
        "pages": _Field(_text_or_number, _TEXT_OR_NUMBER),
        "doi": _Field(_pattern(DOI_RE, "a DOI like 10.1000/xyz (no https://doi.org/)"), _like(DOI_RE)),
        "pmid": _Field(_pmid, {"type": ["string", "integer"], "pattern": PMID_RE.pattern}),
        "pmcid": _Field(_pattern(PMCID_RE, "a PMCID like PMC1234567"), _like(PMCID_RE)),
        "n": _Field(_count, {"type": "integer", "minimum": 1}),
        "findings": _many(_text),
        "note": _text,
        "publication": _pick(Publication),
        "meeting": _text,
        "abstract": _Field(_text_or_number, _TEXT_OR_NUMBER),
        "nct": _Field(_pattern(NCT_RE, "a registry id like NCT01234567"), _like(NCT_RE), many=True),
        "seen": _many(_pick(Seen)),
        "checked": _Field(date_field, _DATE),
        "authors_partial": _Field(_flag, {"type": "boolean"}),
    },
    "claims": {
        "id": _req(_id),
        "topics": _req(_slug, many=True),
        "section": _req(_pick(Section)),
        "statement": _req(_text),
        "cites": _req(_id, many=True),
        "population": _pick(Population),
        "reviewed": _Field(date_field, _DATE),
        "support": _pick(Support),
    },
}

_SINGULAR = {"topics": "topic", "references": "reference", "claims": "claim"}


# --- one file ---------------------------------------------------------------------------


@dataclass
class FileItems:
    """What one file defined, in file order, with the problems found in it alone."""

    topics: list[Topic]
    references: list[Reference]
    claims: list[Claim]
    problems: list[Problem]
    # (kind, id, path, line, col) of every cited id, for cross-file checks
    refs_used: list[tuple[str, str, str, int, int]]


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
                Problem(path, *at, f"unknown field {_quote(key)} in {_SINGULAR[kind]}{did_you_mean(key, fields)}")
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
    from lms_cli import yamlsafe
    from lms_cli.yamlsafe import LList, LMap

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
                Problem(path, *root.key_pos[key],
                        f"unknown top-level key {_quote(key)}{did_you_mean(key, SCHEMA)}; "
                        "expected topics, references or claims")
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
            if not ok:
                continue
            where = Location(path, item.pos[0])
            if kind == "topics":
                result.topics.append(Topic(where=where, **fields))
            elif kind == "references":
                if "doi" not in fields and "pmid" not in fields:
                    result.problems.append(Problem(path, *item.pos, "reference needs a doi or a pmid"))
                    continue
                result.references.append(Reference(where=where, **fields))
            else:
                result.claims.append(Claim(where=where, **fields))
    return result


# --- directories and the whole base ------------------------------------------------------


def iter_files(root: Path) -> Iterator[Path]:
    """Every .yaml/.yml file under ``root`` (or ``root`` itself), sorted, symlink loops skipped."""
    if root.is_file():
        yield root
        return
    seen: set[tuple[int, int]] = set()
    found: list[Path] = []
    for dirpath, dirnames, filenames in os.walk(root, followlinks=True):
        st = os.stat(dirpath)
        if (st.st_dev, st.st_ino) in seen:
            dirnames[:] = []
            continue
        seen.add((st.st_dev, st.st_ino))
        found.extend(Path(dirpath) / n for n in filenames if n.endswith(EXTENSIONS) and not n.startswith("."))
    yield from sorted(found, key=lambda p: p.relative_to(root).parts)


Stamp = tuple[int, int, int, int]
"""What ``os.stat`` says of a file that changes when it is edited: size, mtime, ctime, inode."""


def stamp_of(st: os.stat_result) -> Stamp:
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


def read_file(path: Path, max_bytes: int = MAX_FILE_BYTES) -> FileItems:
    """Read and validate one file; unreadable and oversized files become problems."""
    shown = str(path)
    data, _, failed = read_bytes(path, shown, max_bytes)
    if failed is not None:
        return failed
    assert data is not None
    return parse_file(data, shown)


def digest(data: bytes) -> str:
    """The content hash the cache compares when a file's stamp cannot be trusted."""
    import hashlib

    return hashlib.blake2b(data, digest_size=20).hexdigest()


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
            from lms_cli import cache

            assert self.rows is not None
            self.items = cache.decode(self.rows, self.shown)
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
            from lms_cli import cache

            # Plain tuples cross the process boundary faster than model objects, and
            # they are what the cache stores anyway.
            try:
                parsed.rows = cache.encode(items)
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
    pool = ProcessPoolExecutor(count - 1, mp_context=multiprocessing.get_context(method), initializer=_quiet_worker)
    try:
        pending: list[tuple[int, Future[Parsed]]] = [
            (i, pool.submit(_parse_in_worker, (str(paths[i]), str(paths[i]), max_bytes)))
            for share in shares[1:] for i in share
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


def _quiet_worker() -> None:
    """Ctrl-C is the parent's to handle: a worker would print a traceback for it."""
    import signal

    signal.signal(signal.SIGINT, signal.SIG_IGN)


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


def sources(bundled: bool, user_dirs: Sequence[Path]) -> list[Path]:
    """The directories to load, in order: the bundled base, then the user's."""
    if not bundled and not user_dirs:
        raise UsageError("--no-bundled needs at least one --evidence PATH or LMS_EVIDENCE directory")
    roots = [bundled_dir()] if bundled else []
    for d in user_dirs:
        if not d.exists():
            raise UsageError(f"evidence path not found: {d}")
        roots.append(d)
    return roots


def listing(roots: Sequence[Path]) -> tuple[list[Path], list[Problem]]:
    """Every evidence file under ``roots`` in load order, and a problem for each root without any."""
    files: list[Path] = []
    problems: list[Problem] = []
    for root in roots:
        found = list(iter_files(root))
        if not found:
            problems.append(Problem(str(root), 1, 1, "no .yaml or .yml evidence files here"))
        files.extend(found)
    return files, problems


def load(
    roots: Sequence[Path],
    max_bytes: int = MAX_FILE_BYTES,
    reader: Callable[[Path, int], FileItems] | None = None,
    *,
    cache: EvidenceCache | Path | None = None,
    topic: str | None = None,
    jobs: int | None = None,
) -> EvidenceBase:
    """Load and cross-check every evidence file under ``roots``; raise EvidenceError on problems.

    ``cache``: an EvidenceCache or its directory; unchanged files are then not parsed
    again (a custom ``reader`` is never cached). ``topic``: return only what that topic's
    summary needs (see ``for_topic``) -- with a warm cache, only that is read. ``jobs``:
    worker processes for parsing (default: by size and CPU count).
    """
    files, problems = listing(roots)
    if cache is not None and reader is None:
        from lms_cli.cache import EvidenceCache

        store = cache if isinstance(cache, EvidenceCache) else EvidenceCache(Path(cache))
        return store.load(roots, files, problems, max_bytes, topic=topic, jobs=jobs)
    with gc_paused():
        if reader is not None:
            parts = [reader(f, max_bytes) for f in files]
        else:
            parts = [p.file_items() for p in parse_paths(files, max_bytes, jobs)]
        base = combine(parts, problems)
    return for_topic(base, topic) if topic is not None else base


def for_topic(base: EvidenceBase, slug: str) -> EvidenceBase:
    """The part of a validated base one topic's summary needs.

    Every topic (so an unknown slug still gets suggestions), the claims about ``slug``
    and the references they cite, each in base order: ``select`` on ``slug`` gives the
    same result as on the whole base.
    """
    claims = tuple(c for c in base.claims if slug in c.topics)
    cited = {r for c in claims for r in c.cites}
    return EvidenceBase(base.topics, tuple(r for r in base.references if r.id in cited), claims)


Definition = tuple[str, str, str, int]
"""An id as the cross-file checks see it: kind (topic/reference/claim), id, path, line."""
Use = tuple[str, str, str, int, int]
"""A cited id: kind (reference/topic), id, path, line, column."""


def definitions(part: FileItems) -> Iterator[Definition]:
    """The ids one file defines, in the order the cross-file checks take them."""
    for kind, items in (("topic", part.topics), ("reference", part.references), ("claim", part.claims)):
        for item in items:
            where = item.where
            assert where is not None
            yield kind, item.slug if isinstance(item, Topic) else item.id, where.path, where.line


def link_problems(defined: Iterable[Definition], uses: Callable[[dict[str, set[str]]], Iterable[Use]]) -> list[Problem]:
    """The cross-file rules: every id is defined once; every cited reference and topic exists.

    ``defined`` in load order (the first definition of an id wins); ``uses(known)`` gives
    the citations to check once every id is known -- a caller may leave out citations it
    already knows are in ``known`` (the cache does), never others.
    """
    problems: list[Problem] = []
    per_file: dict[str, int] = {}

    def listed(path: str, line: int, col: int) -> bool:
        # At most MAX_PROBLEMS per file, as in parse_file, then one line saying so; the
        # message (and its "did you mean", a scan of every id) is made only when listed.
        count = per_file.get(path, 0)
        per_file[path] = count + 1
        if count == MAX_PROBLEMS:
            problems.append(Problem(path, line, col, f"stopped after {MAX_PROBLEMS} problems with ids in this file"))
        return count < MAX_PROBLEMS

    seen: dict[str, tuple[str, int]] = {}
    known: dict[str, set[str]] = {"topic": set(), "reference": set(), "claim": set()}
    for kind, key, path, line in defined:
        first = seen.get(key)
        if first is not None:
            if listed(path, line, 1):
                problems.append(
                    Problem(path, line, 1, f"duplicate id {key!r} ({kind}); first defined at {first[0]}:{first[1]}")
                )
            continue
        seen[key] = (path, line)
        known[kind].add(key)
    for kind, key, path, line, col in uses(known):
        if key not in known[kind] and listed(path, line, col):
            problems.append(Problem(path, line, col, f"unknown {kind} {key!r}{did_you_mean(key, known[kind])}"))
    return problems


def combine(parts: Sequence[FileItems], problems: list[Problem] | None = None) -> EvidenceBase:
    """Join per-file results, checking ids are unique and every citation resolves."""
    problems = list(problems or [])
    for part in parts:
        problems.extend(part.problems)
    problems.extend(link_problems(
        (d for part in parts for d in definitions(part)),
        lambda known: (u for part in parts for u in part.refs_used),
    ))
    if problems:
        raise EvidenceError(problems)
    return EvidenceBase(
        tuple(t for part in parts for t in part.topics),
        tuple(r for part in parts for r in part.references),
        tuple(c for part in parts for c in part.claims),
    )
