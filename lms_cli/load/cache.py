"""The parsed-evidence cache: validated evidence per file and a per-topic index, in SQLite.

One cache file ("snapshot") per set of evidence roots, in the cache directory::

    base-<crc32 of key>.sqlite
      meta         key (cache format, lms version, loader code, roots, size limit),
                   generation, and checked=yes when the cross-file checks passed for
                   exactly the files listed, in their order
      file         id, ord (load order), path, stamp (size, mtime, ctime, inode), hash
      topic, reference, claim    each file's parsed items, one row each
      topic_claim  (slug, file, seq): the claims of a topic, for a one-topic question
      uses         (file, kind, id): the distinct ids each file cites

How it stays honest:

- Only files that parsed without a problem are stored; a file with problems is parsed,
  and reported, on every run.
- A file is reused when its stamp is unchanged and its mtime is older, by more than
  ``RACY_NS``, than the moment it was read (else an edit in the same clock tick could go
  unseen); otherwise its content hash decides. A changed file is parsed alone.
- The cross-file checks (``links.link_problems``) are skipped only when every file, in
  order, is one the snapshot checked; after any change they run again over every file,
  fed from the stored rows.
- A snapshot is never modified once written. A new one is written to a temporary file (a
  copy of the old one, patched) and moved into place with ``os.replace``: readers never
  see half a file, and of two writers the last complete one wins. A snapshot that is
  corrupt or was written for another format, lms version or set of roots is ignored and
  replaced.
- It holds parsed evidence, never rendered answers: every filter and format runs on it.
"""

from __future__ import annotations

import os
import time
import zlib
from collections.abc import Iterator, Sequence
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from operator import itemgetter
from pathlib import Path
from typing import TYPE_CHECKING, Any, NamedTuple

from lms_cli import __version__
from lms_cli.errors import EvidenceError, Problem
from lms_cli.load.files import digest, read_bytes, stamp_of
from lms_cli.load.items import Definition, FileItems, Stamp, Use
from lms_cli.load.links import combine, definitions, for_topic, link_problems
from lms_cli.load.parse import Parsed, gc_paused, parse_paths
from lms_cli.load.rows import (
    CLAIM_COLUMNS,
    REFERENCE_COLUMNS,
    chunked,
    claim_of,
    encode,
    reference_of,
    topic_of,
    uses_of,
)
from lms_cli.model import (
    EvidenceBase,
    Location,
)

if TYPE_CHECKING:
    import sqlite3

    from lms_cli.load.snapshot import SnapshotStore, WordRow

#: Bump when the tables or the row encoding change.
FORMAT = 3
#: "lms1": the SQLite application id that marks our files.
APPLICATION_ID = 0x6C6D7331
#: A file whose mtime (or ctime) is this close to the moment it was read may change again
#: within the same timestamp tick (2 s covers FAT; others are finer): its hash is checked.
RACY_NS = 2_000_000_000
#: Temporary files left by a writer that died are removed after this long.
STALE_TEMP_S = 3600
#: Snapshots not used for this long (other roots, older lms versions) are removed.
UNUSED_SNAPSHOT_S = 30 * 24 * 3600
# Modules whose code decides what a file parses to; their stamps are part of the key, so an
# edited validator (in a development install) never trusts rows the old one made.
_LOADER_MODULES = ("model.py", "errors.py", "text.py", "words.py")  # with every module of lms_cli/load/


@dataclass(slots=True)
class CacheStats:
    """What the last load did with the cache (for tests, benchmarks and --debug)."""

    reused: int = 0  # files whose parsed evidence came from the cache
    parsed: int = 0  # files parsed now
    verified: int = 0  # files read to compare their content hash with the stored one
    warm: bool = False  # the cross-file checks were skipped: every file was a checked one
    written: bool = False  # a new snapshot was written
    ignored: str | None = None  # why an existing snapshot was not used (corrupt, foreign)
    write_error: str | None = None  # why no snapshot was written (the load still succeeds)


class _Unusable(Exception):
    """The snapshot cannot be trusted: corrupt, or written for something else."""


# --- snapshots -------------------------------------------------------------------------------

_SCHEMA = """
CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE file (id INTEGER PRIMARY KEY, ord INTEGER NOT NULL, path TEXT NOT NULL UNIQUE,
    size INTEGER NOT NULL, mtime_ns INTEGER NOT NULL, ctime_ns INTEGER NOT NULL, ino INTEGER NOT NULL,
    digest TEXT NOT NULL, read_ns INTEGER NOT NULL);
CREATE TABLE topic (file INTEGER, seq INTEGER, line INTEGER, slug TEXT, title TEXT, question TEXT,
    aliases TEXT, pubmed TEXT, trials TEXT, PRIMARY KEY (file, seq)) WITHOUT ROWID;
CREATE TABLE reference (file INTEGER, seq INTEGER, line INTEGER, id TEXT, design TEXT, authors TEXT, title TEXT,
    journal TEXT, year INTEGER, volume TEXT, issue TEXT, pages TEXT, doi TEXT, pmid TEXT, pmcid TEXT, n INTEGER,
    findings TEXT, note TEXT, publication TEXT, meeting TEXT, abstract TEXT, nct TEXT, seen TEXT, checked TEXT,
    authors_partial INTEGER, PRIMARY KEY (file, seq)) WITHOUT ROWID;
CREATE TABLE claim (file INTEGER, seq INTEGER, line INTEGER, id TEXT, topics TEXT, section TEXT,
    statement TEXT, cites TEXT, population TEXT, reviewed TEXT, support TEXT, used TEXT,
    PRIMARY KEY (file, seq)) WITHOUT ROWID;
CREATE TABLE topic_claim (slug TEXT, file INTEGER, seq INTEGER, PRIMARY KEY (slug, file, seq)) WITHOUT ROWID;
CREATE TABLE uses (file INTEGER, kind TEXT, key TEXT, PRIMARY KEY (file, kind, key)) WITHOUT ROWID;
-- per file: how many claims cite each reference, and their topics in order of first citation
CREATE TABLE cites (ref TEXT, file INTEGER, claims INTEGER, topics TEXT, PRIMARY KEY (ref, file)) WITHOUT ROWID;
-- per file: how many claims each topic has
CREATE TABLE size (slug TEXT, file INTEGER, claims INTEGER, PRIMARY KEY (slug, file)) WITHOUT ROWID;
-- the whole snapshot's claims and distinct references per topic, counted when it is written
CREATE TABLE topic_size (slug TEXT PRIMARY KEY, claims INTEGER, refs INTEGER) WITHOUT ROWID;
-- the claims' words (words.tokens), written on first need: per word, file and topic, the
-- occurrences and the claims holding it (seqs: array of unsigned ints), and worded lists the
-- files whose words are stored
CREATE TABLE word (word TEXT, file INTEGER, slug TEXT, n INTEGER, seqs BLOB, PRIMARY KEY (word, file, slug))
    WITHOUT ROWID;
CREATE TABLE worded (file INTEGER PRIMARY KEY);
CREATE INDEX claim_id ON claim (id);
-- every column: a topic's references are then read from this index alone
CREATE INDEX reference_id ON reference (id, file, seq, line, design, authors, title, journal, year, volume, issue,
    pages, doi, pmid, pmcid, n, findings, note, publication, meeting, abstract, nct, seen, checked, authors_partial);
"""
_ITEM_TABLES = ("topic", "reference", "claim", "topic_claim", "uses", "cites", "size", "word", "worded")
_CLAIM_COLUMNS = "c.file, c.seq, c.line, " + ", ".join(f"c.{name}" for name in CLAIM_COLUMNS)
_REF_COLUMNS = ", ".join(REFERENCE_COLUMNS)


class _Entry(NamedTuple):
    """A stored file: its id, load position, stamp and hash, and when it was read."""

    id: int
    ord: int
    stamp: Stamp
    digest: str
    read_ns: int


def _sqlite_errors() -> tuple[type[Exception], ...]:
    import sqlite3

    return (sqlite3.Error, ValueError, KeyError, TypeError, IndexError)


def _racy(stamp: Stamp, read_ns: int, window: int) -> bool:
    return max(stamp[1], stamp[2]) + window >= read_ns


@contextmanager
def _corrupt_is_unusable() -> Iterator[None]:
    """Turn any error reading a snapshot (bad pages, bad rows) into _Unusable."""
    import sqlite3

    try:
        yield
    except (sqlite3.Error, ValueError, KeyError, TypeError, IndexError, StopIteration) as exc:
        raise _Unusable(f"corrupt: {exc}") from exc


def _uri(path: Path) -> str:
    from urllib.parse import quote  # not urllib.request: it costs 20 ms of imports

    # immutable: snapshots are replaced, never changed, so no locks or journals are needed
    return f"file:{quote(str(path.absolute()))}?mode=ro&immutable=1"


#: (file position, place in the file, item): sorted by the first two.
_IN_LOAD_ORDER = itemgetter(0, 1)


class _Snapshot:
    """A read-only view of one snapshot file."""

    def __init__(self, conn: sqlite3.Connection, path: Path) -> None:
        self.conn = conn
        self.path = path
        self.entries: dict[str, _Entry] = {}
        self.checked = False
        self.generation = ""

    @classmethod
    def open(cls, path: Path, key: str) -> _Snapshot | None:
        """The snapshot at ``path`` if there is one; raise _Unusable if it is not ours."""
        import sqlite3

        if not path.is_file():
            return None
        with _corrupt_is_unusable():
            conn = sqlite3.connect(_uri(path), uri=True)
            # No memory map: mapped pages (and the kernel's read-ahead around them) count as the
            # process's memory, 40 MiB more at 100,000 claims, for no measurable gain in time.
        snap = cls(conn, path)
        try:
            with _corrupt_is_unusable():
                # 256 KiB of pages, not 2 MiB: an answer reads each claim's page once, and the
                # kernel caches the file anyway (a 27,371-claim search: -1.8 MiB, the same speed)
                conn.execute("PRAGMA cache_size = -256")
                (app_id,) = conn.execute("PRAGMA application_id").fetchone()
                (version,) = conn.execute("PRAGMA user_version").fetchone()
                if (app_id, version) != (APPLICATION_ID, FORMAT):
                    raise _Unusable("not an lms evidence cache of this format")
                meta = dict(conn.execute("SELECT key, value FROM meta"))
                if meta.get("key") != key:
                    raise _Unusable("written for other evidence roots or another lms version")
                snap.checked = meta.get("checked") == "yes"
                snap.generation = meta["generation"]
                for fid, order, fpath, size, mtime, ctime, ino, dig, read_ns in conn.execute(
                    "SELECT id, ord, path, size, mtime_ns, ctime_ns, ino, digest, read_ns FROM file"
                ):
                    snap.entries[fpath] = _Entry(fid, order, (size, mtime, ctime, ino), dig, read_ns)
        except BaseException:
            conn.close()
            raise
        return snap

    def close(self) -> None:
        self.conn.close()

    def in_order(self) -> list[str]:
        return sorted(self.entries, key=lambda p: self.entries[p].ord)

    def definitions(self, ids: dict[int, str]) -> dict[int, list[Definition]]:
        """The ids the files ``ids`` (file id -> shown path) define, file by file, in check order."""
        out: dict[int, list[Definition]] = {i: [] for i in ids}
        with _corrupt_is_unusable():
            for kind, sql in (
                ("topic", "SELECT file, slug, line FROM topic ORDER BY file, seq"),
                ("reference", "SELECT file, id, line FROM reference ORDER BY file, seq"),
                ("claim", "SELECT file, id, line FROM claim ORDER BY file, seq"),
            ):
                for fid, key, line in self.conn.execute(sql):
                    if fid in out:
                        out[fid].append((kind, key, ids[fid], line))
        return out

    def uses(self, ids: dict[int, str], known: dict[str, set[str]]) -> Iterator[Use]:
        """The citations in files ``ids`` that ``known`` does not cover, with their positions.

        The distinct ids each file cites are stored, so when all are known (the usual case)
        no claim is read at all.
        """
        with _corrupt_is_unusable():
            suspects = {
                fid
                for fid, kind, key in self.conn.execute("SELECT file, kind, key FROM uses")
                if fid in ids and key not in known[kind]
            }
            if not suspects:
                return
            for fid, *claim in self.conn.execute("SELECT file, id, topics, cites, used FROM claim ORDER BY file, seq"):
                if fid in suspects:
                    yield from uses_of(tuple(claim), ids[fid])

    def base(self, place: dict[int, tuple[int, str]], fresh: dict[int, FileItems], topic: str | None) -> EvidenceBase:
        """The base (or the part one topic needs, see ``load.for_topic``) of a checked set of files.

        ``place`` maps the stored files to use (snapshot id -> position in this load, shown
        path); ``fresh`` holds the files parsed now, by position. Items come out in load
        order: by file position, then by place in the file.
        """
        conn = self.conn
        slug = topic or ""
        with _corrupt_is_unusable(), gc_paused():
            topics = [
                (
                    place[fid][0],
                    seq,
                    topic_of(t_slug, title, question, aliases, pubmed, trials, Location(place[fid][1], line)),
                )
                for fid, seq, line, t_slug, title, question, aliases, pubmed, trials in conn.execute(
                    "SELECT file, seq, line, slug, title, question, aliases, pubmed, trials FROM topic"
                )
                if fid in place
            ]
            if topic is None:
                claim_rows = conn.execute(f"SELECT {_CLAIM_COLUMNS} FROM claim c")
            else:
                claim_rows = conn.execute(
                    f"SELECT {_CLAIM_COLUMNS} FROM topic_claim t JOIN claim c USING (file, seq) WHERE t.slug = ?",
                    (topic,),
                )
            claims = [
                (
                    place[fid][0],
                    seq,
                    claim_of(
                        cid,
                        c_topics,
                        section,
                        statement,
                        cites,
                        population,
                        reviewed,
                        support,
                        Location(place[fid][1], line),
                    ),
                )
                for fid, seq, line, cid, c_topics, section, statement, cites, population, reviewed, support in (
                    claim_rows
                )
                if fid in place
            ]
            for i, items in fresh.items():
                topics.extend((i, seq, t) for seq, t in enumerate(items.topics))
                claims.extend((i, seq, c) for seq, c in enumerate(items.claims) if topic is None or slug in c.topics)
            if topic is None:
                ref_rows = list(conn.execute(f"SELECT file, seq, line, {_REF_COLUMNS} FROM reference"))
                cited: set[str] | None = None
            else:
                cited = {ref for *_, claim in claims for ref in claim.cites}
                wanted = sorted(cited)
                ref_rows = []
                for chunk, marks in chunked(wanted):
                    ref_rows.extend(
                        conn.execute(
                            f"SELECT file, seq, line, {_REF_COLUMNS} FROM reference WHERE id IN ({marks})", chunk
                        )
                    )
            references = [
                (place[fid][0], seq, reference_of(ref, Location(place[fid][1], line)))
                for fid, seq, line, *ref in ref_rows
                if fid in place
            ]
            for i, items in fresh.items():
                references.extend(
                    (i, seq, r) for seq, r in enumerate(items.references) if cited is None or r.id in cited
                )
        for items_list in (topics, claims, references):
            items_list.sort(key=_IN_LOAD_ORDER)
        return EvidenceBase(
            tuple(t for *_, t in topics), tuple(r for *_, r in references), tuple(c for *_, c in claims)
        )


class _Plan:
    """Where each listed file's items come from in this load."""

    __slots__ = ("fresh", "restamp", "reuse")

    def __init__(self) -> None:
        self.reuse: dict[int, _Entry] = {}  # file index -> its snapshot entry
        self.fresh: dict[int, Parsed] = {}  # file index -> parsed now
        self.restamp: dict[int, tuple[Stamp, int]] = {}  # reused, but with a newer stamp to store


class EvidenceCache:
    """A cache directory; ``load`` uses it, and ``stats`` says what the last load did."""

    def __init__(self, directory: Path, *, racy_ns: int = RACY_NS) -> None:
        self.directory = Path(directory)
        self.racy_ns = racy_ns  # tests use 0: "every file was written well before it was read"
        self.stats = CacheStats()

    def key(self, roots: Sequence[Path], max_bytes: int) -> str:
        """Everything besides the files themselves that decides what loading gives."""
        here = Path(__file__).parent.parent  # lms_cli/
        code: list[tuple[str, int | None, int | None]] = []
        names = [*_LOADER_MODULES, *sorted(f"load/{n}" for n in os.listdir(here / "load") if n.endswith(".py"))]
        for name in names:
            try:
                st = os.stat(here / name)
                code.append((name, st.st_size, st.st_mtime_ns))
            except OSError:
                code.append((name, None, None))
        # repr of plain values is stable, and spares a warm start the json import
        return repr((FORMAT, __version__, tuple(code), max_bytes, tuple((str(r), os.path.abspath(r)) for r in roots)))

    def path_for(self, key: str) -> Path:
        return self.directory / f"base-{zlib.crc32(key.encode()):08x}.sqlite"

    def load(
        self,
        roots: Sequence[Path],
        files: Sequence[Path],
        problems: list[Problem],
        max_bytes: int,
        *,
        topic: str | None = None,
        jobs: int | None = None,
    ) -> EvidenceBase:
        """Like ``load.load`` over ``files`` (already listed), reusing what the cache holds."""
        self.stats = CacheStats()
        key = self.key(roots, max_bytes)
        target = self.path_for(key)
        snap: _Snapshot | None = None
        try:
            snap = _Snapshot.open(target, key)
        except _Unusable as exc:
            self.stats.ignored = str(exc)
        try:
            return self._load(snap, key, target, files, problems, max_bytes, topic, jobs)
        except _Unusable as exc:  # corrupt rows found halfway: start again without the snapshot
            if snap is not None:
                snap.close()
                snap = None
            self.stats = CacheStats(ignored=str(exc))
            return self._load(None, key, target, files, problems, max_bytes, topic, jobs)
        finally:
            if snap is not None:
                snap.close()

    def _match(
        self,
        snap: _Snapshot | None,
        files: Sequence[Path],
        shown: Sequence[str],
        absolute: Sequence[str],
        max_bytes: int,
    ) -> tuple[_Plan, list[int]]:
        """Which files the snapshot holds unchanged (``plan.reuse``), and the indexes of the others."""
        plan = _Plan()
        entries = snap.entries if snap else {}
        to_parse: list[int] = []
        for i, path in enumerate(absolute):
            entry = entries.get(path)
            try:
                stamp = stamp_of(os.stat(path)) if entry else None
            except OSError:
                stamp = None  # parsing reports why it cannot be read
            if entry is None or stamp is None:
                to_parse.append(i)
                continue
            if stamp == entry.stamp and not _racy(stamp, entry.read_ns, self.racy_ns):
                plan.reuse[i] = entry
                continue
            # The stamp changed, or is too recent to trust: the content decides.
            read_ns = time.time_ns()
            data, now, failed = read_bytes(files[i], shown[i], max_bytes)
            self.stats.verified += 1
            if failed is not None or data is None or now is None:
                to_parse.append(i)
            elif digest(data) == entry.digest:
                plan.reuse[i] = entry
                if now != entry.stamp or not _racy(now, read_ns, self.racy_ns):
                    plan.restamp[i] = (now, read_ns)
            else:
                to_parse.append(i)  # read again there: in worker processes when many changed
        return plan, to_parse

    def _plan(
        self,
        snap: _Snapshot | None,
        files: Sequence[Path],
        shown: Sequence[str],
        absolute: Sequence[str],
        max_bytes: int,
        jobs: int | None,
    ) -> _Plan:
        plan, to_parse = self._match(snap, files, shown, absolute, max_bytes)
        for i, parsed in zip(to_parse, parse_paths([files[i] for i in to_parse], max_bytes, jobs), strict=True):
            plan.fresh[i] = parsed
        return plan

    def store(
        self, roots: Sequence[Path], files: Sequence[Path], problems: list[Problem], max_bytes: int
    ) -> SnapshotStore | None:
        """A Store over the snapshot when it holds exactly ``files``, unchanged and checked; else None
        (the caller then loads, which parses and stores what changed). Close it when done."""
        self.stats = CacheStats()
        key = self.key(roots, max_bytes)
        target = self.path_for(key)
        try:
            snap = _Snapshot.open(target, key)
        except _Unusable as exc:
            self.stats.ignored = str(exc)
            return None
        if snap is None:
            return None
        unusable: tuple[type[Exception], ...] = (_Unusable, *_sqlite_errors())
        try:
            shown = [str(f) for f in files]
            absolute = [os.path.abspath(f) for f in files]
            if problems or not snap.checked or snap.in_order() != absolute:
                snap.close()
                return None
            plan, changed = self._match(snap, files, shown, absolute, max_bytes)
            if changed:
                snap.close()
                return None
            self.stats.reused, self.stats.warm = len(plan.reuse), True
            # The words are added to the snapshot as it is on disk: this one, or the one that
            # records the new stamps (same rows, a generation of its own).
            current = snap.generation
            if plan.restamp:
                current = self._write(target, key, snap, plan, absolute, checked=True) or current
            else:
                _mark_used(target)
            from lms_cli.load.snapshot import SnapshotDamaged, SnapshotStore

            place = {plan.reuse[i].id: (i, shown[i]) for i in plan.reuse}
            opened = snap

            def save_words(rows: list[WordRow], fids: list[int]) -> None:
                self._add_words(target, current, rows, fids)

            def part(topic: str) -> EvidenceBase:
                try:
                    return opened.base(place, {}, topic)
                except _Unusable as exc:
                    raise SnapshotDamaged(str(exc)) from exc

            return SnapshotStore(snap.conn, place, part, save_words, close=snap.close)
        except unusable:
            snap.close()
            return None
        except BaseException:
            snap.close()
            raise

    def discard(self, roots: Sequence[Path], max_bytes: int, why: str) -> None:
        """Remove the snapshot for ``roots`` (found damaged); the next load writes a new one."""
        self.stats.ignored = why
        with suppress(OSError):
            os.unlink(self.path_for(self.key(roots, max_bytes)))

    def _add_words(self, target: Path, generation: str, rows: list[WordRow], fids: list[int]) -> None:
        """A new snapshot: the one at ``target`` (when it is still ``generation``) with the words
        of files ``fids`` added. Never raises."""
        import shutil
        import sqlite3

        from lms_cli.atomic import replacing

        try:
            with replacing(target, keep_mode=False, owned=True) as temp:
                shutil.copyfile(target, temp)
                conn = sqlite3.connect(temp, isolation_level=None)
                try:
                    conn.execute("PRAGMA journal_mode = OFF")
                    conn.execute("PRAGMA synchronous = OFF")
                    conn.execute("BEGIN")
                    (copied,) = conn.execute("SELECT value FROM meta WHERE key = 'generation'").fetchone()
                    if copied != generation:
                        raise _Unusable("the cache changed while this load ran; left to the other writer")
                    conn.executemany("INSERT OR IGNORE INTO word VALUES (?, ?, ?, ?, ?)", sorted(rows))
                    conn.executemany("INSERT OR IGNORE INTO worded VALUES (?)", [(f,) for f in fids])
                    conn.execute("UPDATE meta SET value = ? WHERE key = 'generation'", (os.urandom(8).hex(),))
                    conn.execute("COMMIT")
                finally:
                    conn.close()
            self.stats.written = True
        except (OSError, sqlite3.Error, ValueError, _Unusable) as exc:
            self.stats.write_error = str(exc)

    def _load(
        self,
        snap: _Snapshot | None,
        key: str,
        target: Path,
        files: Sequence[Path],
        problems: list[Problem],
        max_bytes: int,
        topic: str | None,
        jobs: int | None,
    ) -> EvidenceBase:
        shown = [str(f) for f in files]
        absolute = [os.path.abspath(f) for f in files]
        plan = self._plan(snap, files, shown, absolute, max_bytes, jobs)
        self.stats.reused, self.stats.parsed = len(plan.reuse), len(plan.fresh)
        if snap is None or not plan.reuse:
            # Nothing to reuse: check the parsed files as load.load does, then store them.
            with gc_paused():
                parts = [plan.fresh[i].file_items() for i in range(len(files))]
                try:
                    base = combine(parts, problems)
                except EvidenceError:
                    self._write(target, key, None, plan, absolute, checked=False)
                    raise
            self._write(target, key, None, plan, absolute, checked=True)
            return for_topic(base, topic) if topic is not None else base
        by_id = {plan.reuse[i].id: shown[i] for i in plan.reuse}
        place = {plan.reuse[i].id: (i, shown[i]) for i in plan.reuse}
        if snap.checked and not problems and not plan.fresh and snap.in_order() == list(absolute):
            # Exactly the files the snapshot checked, in the same order: its verdict stands.
            self.stats.warm = True
            if plan.restamp:
                self._write(target, key, snap, plan, absolute, checked=True)
            else:
                _mark_used(target)
            return snap.base(place, {}, topic)
        fresh = self._check(snap, plan, shown, problems, by_id, target, key, absolute)
        # The answer comes from the rows just checked, whether or not the new snapshot is written.
        self._write(target, key, snap, plan, absolute, checked=True)
        return snap.base(place, fresh, topic)

    def _check(
        self,
        snap: _Snapshot,
        plan: _Plan,
        shown: Sequence[str],
        problems: list[Problem],
        by_id: dict[int, str],
        target: Path,
        key: str,
        absolute: Sequence[str],
    ) -> dict[int, FileItems]:
        """Run the cross-file checks over stored and freshly parsed files; raise EvidenceError.

        Returns the fresh files' items by position.
        """
        found = list(problems)
        stored = snap.definitions(by_id)
        fresh_items = {i: p.file_items() for i, p in plan.fresh.items()}
        for items in fresh_items.values():
            found.extend(items.problems)

        def defined() -> Iterator[Definition]:
            for i in range(len(shown)):
                if i in plan.reuse:
                    yield from stored[plan.reuse[i].id]
                else:
                    yield from definitions(fresh_items[i])

        def uses(known: dict[str, set[str]]) -> Iterator[Use]:
            for items in fresh_items.values():
                yield from items.refs_used
            yield from snap.uses(by_id, known)

        found.extend(link_problems(defined(), uses, (bad for items in fresh_items.values() for bad in items.invalid)))
        if found:
            self._write(target, key, snap, plan, absolute, checked=False)
            raise EvidenceError(found)
        return fresh_items

    def _write(
        self, target: Path, key: str, snap: _Snapshot | None, plan: _Plan, absolute: Sequence[str], *, checked: bool
    ) -> str | None:
        """Write a new snapshot beside ``target`` and move it into place; its generation, or None.

        Never raises: a cache that cannot be written only makes the next load slower.
        """
        import shutil
        import sqlite3

        from lms_cli.atomic import replacing

        try:
            self.directory.mkdir(parents=True, exist_ok=True)
            _remove_stale(self.directory)
            with replacing(target, keep_mode=False, owned=True) as temp:  # durable before it becomes visible
                if snap is not None and plan.reuse:
                    shutil.copyfile(snap.path, temp)  # then patched: most rows stay as they are
                conn = sqlite3.connect(temp, isolation_level=None)
                try:
                    conn.execute("PRAGMA journal_mode = OFF")  # a temporary file: a failed write is deleted
                    conn.execute("PRAGMA synchronous = OFF")
                    conn.execute("BEGIN")
                    generation = os.urandom(8).hex()
                    if snap is not None and plan.reuse:
                        (copied,) = conn.execute("SELECT value FROM meta WHERE key = 'generation'").fetchone()
                        if copied != snap.generation:  # another process replaced it since this load read it
                            raise _Unusable("the cache changed while this load ran; left to the other writer")
                        _patch(conn, plan, absolute, checked, generation)
                    else:
                        _create(conn, key, plan, absolute, checked, generation)
                    _count(conn)
                    conn.execute("COMMIT")
                finally:
                    conn.close()
            self.stats.written = True
            return generation
        except (OSError, sqlite3.Error, ValueError, _Unusable) as exc:
            self.stats.write_error = str(exc)
            return None


def _create(
    conn: sqlite3.Connection, key: str, plan: _Plan, absolute: Sequence[str], checked: bool, generation: str
) -> None:
    conn.execute(f"PRAGMA application_id = {APPLICATION_ID}")
    conn.execute(f"PRAGMA user_version = {FORMAT}")
    for statement in _SCHEMA.split(";"):
        if statement.strip():
            conn.execute(statement)
    conn.executemany(
        "INSERT INTO meta VALUES (?, ?)",
        [("key", key), ("generation", generation), ("checked", "yes" if checked else "no")],
    )
    _insert(conn, {i: (i, plan.fresh[i]) for i in plan.fresh}, absolute)


def _patch(conn: sqlite3.Connection, plan: _Plan, absolute: Sequence[str], checked: bool, generation: str) -> None:
    keep = {entry.id for entry in plan.reuse.values()}
    gone = [fid for (fid,) in conn.execute("SELECT id FROM file") if fid not in keep]
    for chunk, marks in chunked(gone):
        for table in _ITEM_TABLES:
            conn.execute(f"DELETE FROM {table} WHERE file IN ({marks})", chunk)
        conn.execute(f"DELETE FROM file WHERE id IN ({marks})", chunk)
    (top,) = conn.execute("SELECT COALESCE(MAX(id), -1) FROM file").fetchone()
    for i, entry in plan.reuse.items():
        stamp, read_ns = plan.restamp.get(i, (entry.stamp, entry.read_ns))
        conn.execute(
            "UPDATE file SET ord = ?, size = ?, mtime_ns = ?, ctime_ns = ?, ino = ?, read_ns = ? WHERE id = ?",
            (i, *stamp, read_ns, entry.id),
        )
    new_ids = {}
    for n, i in enumerate(sorted(plan.fresh)):
        new_ids[i] = (top + 1 + n, plan.fresh[i])
    _insert(conn, new_ids, absolute)
    conn.executemany(
        "INSERT OR REPLACE INTO meta VALUES (?, ?)",
        [("generation", generation), ("checked", "yes" if checked else "no")],
    )


def _insert(conn: sqlite3.Connection, parsed: dict[int, tuple[int, Parsed]], absolute: Sequence[str]) -> None:
    """Store freshly parsed files (index -> (file id, Parsed)); files with problems are left out."""
    files: list[tuple[Any, ...]] = []
    topic_rows: list[tuple[Any, ...]] = []
    ref_rows: list[tuple[Any, ...]] = []
    claim_rows: list[tuple[Any, ...]] = []
    topic_claims: list[tuple[str, int, int]] = []
    uses: set[tuple[int, str, str]] = set()
    cites: list[tuple[str, int, int, str]] = []
    sizes: list[tuple[str, int, int]] = []
    for i, (fid, p) in parsed.items():
        if p.digest is None or p.stamp is None:
            continue
        rows = p.rows
        if rows is None:
            items = p.file_items()
            if items.problems:
                continue  # a file with problems is parsed, and reported, every time
            try:
                rows = encode(items)
            except ValueError:  # text the rows cannot hold faithfully: parsed every time instead
                continue
        files.append((fid, i, absolute[i], *p.stamp, p.digest, p.read_ns))
        topic_rows.extend((fid, *r) for r in rows.topics)
        ref_rows.extend((fid, *r) for r in rows.references)
        cited: dict[str, tuple[list[int], dict[str, None]]] = {}
        size: dict[str, int] = {}
        for r in rows.claims:
            claim_rows.append((fid, *r))
            slugs = r[3].split(" ")
            for slug in slugs:
                topic_claims.append((slug, fid, r[0]))
                uses.add((fid, "topic", slug))
                size[slug] = size.get(slug, 0) + 1
            for ref in r[6].split(" "):
                uses.add((fid, "reference", ref))
                count, topics = cited.setdefault(ref, ([0], {}))
                count[0] += 1
                topics.update(dict.fromkeys(slugs))
        cites.extend((ref, fid, count[0], " ".join(topics)) for ref, (count, topics) in cited.items())
        sizes.extend((slug, fid, n) for slug, n in size.items())
    conn.executemany("INSERT INTO file VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)", files)
    conn.executemany(f"INSERT INTO topic VALUES ({', '.join('?' * 9)})", topic_rows)
    conn.executemany(f"INSERT INTO reference VALUES ({', '.join('?' * 25)})", ref_rows)
    conn.executemany(f"INSERT INTO claim VALUES ({', '.join('?' * 12)})", claim_rows)
    # in key order, so each insert appends to the b-tree instead of splitting pages
    topic_claims.sort()
    conn.executemany("INSERT OR IGNORE INTO topic_claim VALUES (?, ?, ?)", topic_claims)
    conn.executemany("INSERT INTO uses VALUES (?, ?, ?)", sorted(uses))
    conn.executemany("INSERT OR IGNORE INTO cites VALUES (?, ?, ?, ?)", sorted(cites))
    conn.executemany("INSERT INTO size VALUES (?, ?, ?)", sorted(sizes))


def _count(conn: sqlite3.Connection) -> None:
    """Store how many topics, references and claims the snapshot holds, and each topic's claims
    and distinct references: ``validate`` and ``topics`` of a warm base read these rows alone."""
    counts = [conn.execute(f"SELECT COUNT(*) FROM {table}").fetchone()[0] for table in ("topic", "reference", "claim")]
    conn.execute("INSERT OR REPLACE INTO meta VALUES ('totals', ?)", (" ".join(map(str, counts)),))
    refs: dict[str, set[str]] = {}
    for ref, topics in conn.execute("SELECT ref, topics FROM cites"):
        for slug in topics.split(" "):
            refs.setdefault(slug, set()).add(ref)
    conn.execute("DELETE FROM topic_size")
    conn.executemany(
        "INSERT INTO topic_size VALUES (?, ?, ?)",
        [
            (slug, claims, len(refs.get(slug, ())))
            for slug, claims in conn.execute("SELECT slug, SUM(claims) FROM size GROUP BY slug")
        ],
    )


def _remove_stale(directory: Path) -> None:
    """Remove temporary files of writers that died, and snapshots nobody has used for long."""
    now = time.time()
    for entry in os.scandir(directory):
        if entry.name.endswith(".tmp"):
            limit = STALE_TEMP_S
        elif entry.name.startswith("base-") and entry.name.endswith(".sqlite"):
            limit = UNUSED_SNAPSHOT_S
        else:
            continue
        with suppress(OSError):
            if entry.stat().st_mtime < now - limit:
                os.unlink(entry.path)


def _mark_used(snapshot: Path) -> None:
    """Keep a snapshot in use from looking unused (its mtime is refreshed once a day at most)."""
    with suppress(OSError):
        if snapshot.stat().st_mtime < time.time() - 24 * 3600:
            os.utime(snapshot)


def iter_snapshots(directory: Path) -> Iterator[Path]:
    """The snapshot files in a cache directory, by name."""
    if directory.is_dir():
        yield from sorted(directory.glob("base-*.sqlite"))
