"""The parsed-evidence cache: validated evidence per file and a per-topic index, in SQLite.

One cache file ("snapshot") per set of evidence roots, under the cache directory::

    base-<crc32 of key>.sqlite    file       path, stamp (size, mtime, ctime, inode), content hash
                                  topic, reference, claim    each file's parsed items (rows)
                                  topic_claim, claim_cite    the index a one-topic question uses
                                  meta       key (format, lms and loader versions, roots,
                                             size limit) and "checked" when the cross-file
                                             checks passed for exactly these files

Rules that keep it honest:

- Only files that parsed without a problem are stored; a file with problems is parsed
  (and reported) on every run.
- A file is reused when its stamp is unchanged and its mtime is older than the moment
  it was read by more than ``RACY_NS`` (else a same-tick edit could hide); otherwise its
  content hash decides. One changed file is parsed alone; the others come from here.
- The cross-file checks (``load.combine``) are skipped only when every file, in order,
  is the one the snapshot checked; any change, addition or removal runs them again.
- Snapshots are never modified: a new one is written to a temporary file and moved into
  place with ``os.replace``, so a reader never sees half a file and two writers never mix
  theirs. A snapshot that is corrupt, of another format, another lms version or another
  set of roots is ignored (and replaced when the load finishes).
- It stores parsed evidence, never rendered answers: every filter and format runs on it.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import time
import zlib
from collections.abc import Iterator, Sequence
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from lms_cli import __version__
from lms_cli.errors import EvidenceError, Problem
from lms_cli.load import (
    FileItems,
    Parsed,
    Stamp,
    combine,
    for_topic,
    gc_paused,
    parse_path,
    parse_paths,
    read_bytes,
    stamp_of,
)
from lms_cli.model import Claim, EvidenceBase, Location, Population, Rank, Reference, Section, Topic

if TYPE_CHECKING:
    import sqlite3

#: Bump when the tables or the row encoding change.
FORMAT = 1
#: "lms1": the SQLite application id that marks our files.
APPLICATION_ID = 0x6C6D7331
#: A file whose mtime is this close to the moment it was read may change again within the
#: same timestamp tick (2 s covers FAT; others are finer), so its content hash is checked.
RACY_NS = 2_000_000_000
#: Temporary files left by a writer that died are removed after this long.
STALE_TEMP_S = 3600
# Modules whose code decides what a parsed file becomes; their stamps are part of the key,
# so an edited validator (a development install) never trusts rows made by the old one.
_LOADER_MODULES = ("load.py", "yamlsafe.py", "model.py", "cache.py", "errors.py")

_SECTIONS = {s.value: s for s in Section}
_POPULATIONS = {p.value: p for p in Population}
_RANKS = {r.value: r for r in Rank}


@dataclass(slots=True)
class CacheStats:
    """What the last load did with the cache (for tests, benchmarks and --debug)."""

    reused: int = 0  # files whose parsed evidence came from the cache
    parsed: int = 0  # files parsed now
    verified: int = 0  # files read to compare their content hash with the cached one
    warm: bool = False  # the cross-file checks were skipped: every file was the checked one
    written: bool = False  # a new snapshot was written
    ignored: str | None = None  # why an existing snapshot was not used (corrupt, foreign)
    write_error: str | None = None  # why a snapshot could not be written (the load still succeeds)


class _Unusable(Exception):
    """The snapshot cannot be trusted: corrupt, or written for something else."""


# --- rows: one file's items as plain tuples (what is stored and what workers send) ---------

TopicRow = tuple[int, int, str, str, str, str]  # seq, line, slug, title, question, aliases (JSON)
ReferenceRow = tuple[int, int, str, str]  # seq, line, id, fields (JSON)
ClaimRow = tuple[int, int, str, str, str, str, str, str, str | None, str]
# seq, line, id, topics, section, statement, cites, population, reviewed, used (positions)


@dataclass(slots=True)
class FileRows:
    """One clean file's topics, references and claims, encoded for SQLite."""

    topics: list[TopicRow]
    references: list[ReferenceRow]
    claims: list[ClaimRow]


_REF_FIELDS = ("design", "authors", "title", "journal", "year", "volume", "issue", "pages", "doi", "pmid",
               "pmcid", "n", "findings", "note")


def encode(items: FileItems) -> FileRows:
    """Rows for a file that parsed without problems."""
    if items.problems:
        raise ValueError("only files without problems are cached")
    topics = [(i, _line(t.where), t.slug, t.title, t.question, json.dumps(t.aliases, ensure_ascii=False))
              for i, t in enumerate(items.topics)]
    references = []
    for i, r in enumerate(items.references):
        fields: dict[str, Any] = {}
        for name in _REF_FIELDS:
            value = getattr(r, name)
            if value is not None and value != ():
                fields[name] = value.value if name == "design" else value
        references.append((i, _line(r.where), r.id, json.dumps(fields, ensure_ascii=False)))
    used = iter(items.refs_used)
    claims: list[ClaimRow] = []
    for i, c in enumerate(items.claims):
        # refs_used lists, claim by claim, the position of each cited id then of each topic
        positions = []
        for expected_kind, keys in (("reference", c.cites), ("topic", c.topics)):
            for key in keys:
                kind, value, _path, line, col = next(used)
                if (kind, value) != (expected_kind, key):
                    raise ValueError("refs_used does not follow the claims")
                positions.append(f"{line} {col}")
        # ids and slugs match ID_RE/SLUG_RE (no spaces), so a space separates them safely
        claims.append((i, _line(c.where), c.id, " ".join(c.topics), c.section.value, c.statement,
                       " ".join(c.cites), c.population.value, c.reviewed.isoformat() if c.reviewed else None,
                       " ".join(positions)))
    if next(used, None) is not None:
        raise ValueError("refs_used has entries for no claim")
    return FileRows(topics, references, claims)


def _line(where: Location | None) -> int:
    assert where is not None
    return where.line


def _topic(row: Sequence[Any], where: Location) -> Topic:
    return Topic(row[0], row[1], row[2], tuple(json.loads(row[3])), where)


def _reference(ref_id: str, data: str, where: Location) -> Reference:
    fields = json.loads(data)
    fields["design"] = _RANKS[fields["design"]]
    fields["authors"] = tuple(fields["authors"])
    if "findings" in fields:
        fields["findings"] = tuple(fields["findings"])
    return Reference(id=ref_id, where=where, **fields)


def _claim(row: Sequence[Any], where: Location) -> Claim:
    claim_id, topics, section, statement, cites, population, reviewed = row
    return Claim(claim_id, tuple(topics.split(" ")), _SECTIONS[section], statement, tuple(cites.split(" ")),
                 _POPULATIONS[population], dt.date.fromisoformat(reviewed) if reviewed else None, where)


def decode(rows: FileRows, shown: str) -> FileItems:
    """The FileItems that ``rows`` encode, located in the file shown as ``shown``."""
    items = FileItems([], [], [], [], [])
    for _, line, *rest in rows.topics:
        items.topics.append(_topic(rest, Location(shown, line)))
    for _, line, ref_id, data in rows.references:
        items.references.append(_reference(ref_id, data, Location(shown, line)))
    for _, line, *fields, used in rows.claims:
        claim = _claim(fields, Location(shown, line))
        items.claims.append(claim)
        numbers = iter(int(n) for n in used.split())
        for kind, keys in (("reference", claim.cites), ("topic", claim.topics)):
            for key in keys:
                items.refs_used.append((kind, key, shown, next(numbers), next(numbers)))
    return items


# --- snapshots -------------------------------------------------------------------------------

_SCHEMA = """
CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE file (id INTEGER PRIMARY KEY, path TEXT NOT NULL UNIQUE, shown TEXT NOT NULL, size INTEGER NOT NULL,
                   mtime_ns INTEGER NOT NULL, ctime_ns INTEGER NOT NULL, ino INTEGER NOT NULL,
                   digest TEXT NOT NULL, read_ns INTEGER NOT NULL);
CREATE TABLE topic (file INTEGER, seq INTEGER, line INTEGER, slug TEXT, title TEXT, question TEXT,
                    aliases TEXT, PRIMARY KEY (file, seq)) WITHOUT ROWID;
CREATE TABLE reference (file INTEGER, seq INTEGER, line INTEGER, id TEXT, data TEXT,
                        PRIMARY KEY (file, seq)) WITHOUT ROWID;
CREATE TABLE claim (file INTEGER, seq INTEGER, line INTEGER, id TEXT, topics TEXT, section TEXT, statement TEXT,
                    cites TEXT, population TEXT, reviewed TEXT, used TEXT, PRIMARY KEY (file, seq)) WITHOUT ROWID;
CREATE TABLE topic_claim (slug TEXT, file INTEGER, seq INTEGER, PRIMARY KEY (slug, file, seq)) WITHOUT ROWID;
CREATE TABLE claim_cite (file INTEGER, seq INTEGER, ref TEXT, PRIMARY KEY (file, seq, ref)) WITHOUT ROWID;
"""
_INDEXES = "CREATE INDEX reference_id ON reference (id);"
_ITEM_TABLES = ("topic", "reference", "claim", "topic_claim", "claim_cite")


@dataclass(frozen=True, slots=True)
class _Entry:
    id: int
    stamp: Stamp
    digest: str
    read_ns: int


def _racy(stamp: Stamp, read_ns: int) -> bool:
    return max(stamp[1], stamp[2]) + RACY_NS >= read_ns


class _Snapshot:
    """A read-only view of one snapshot file."""

    def __init__(self, conn: sqlite3.Connection, path: Path) -> None:
        self.conn = conn
        self.path = path
        self.entries: dict[str, _Entry] = {}
        self.checked = False

    @classmethod
    def open(cls, path: Path, key: str) -> _Snapshot | None:
        """The snapshot at ``path`` if it exists and was written for ``key``; raise _Unusable if not ours."""
        import sqlite3
        from urllib.request import pathname2url

        if not path.is_file():
            return None
        # immutable: snapshots are replaced, never changed, so no locks or journals are needed
        conn = sqlite3.connect(f"file:{pathname2url(str(path))}?mode=ro&immutable=1", uri=True)
        snap = cls(conn, path)
        try:
            with _corrupt_is_unusable():
                (app_id,) = conn.execute("PRAGMA application_id").fetchone()
                (version,) = conn.execute("PRAGMA user_version").fetchone()
                if (app_id, version) != (APPLICATION_ID, FORMAT):
                    raise _Unusable("not an lms evidence cache of this format")
                meta = dict(conn.execute("SELECT key, value FROM meta"))
                if meta.get("key") != key:
                    raise _Unusable("written for other evidence roots or another lms version")
                snap.checked = meta.get("checked") == "yes"
                for fid, fpath, size, mtime, ctime, ino, dig, read_ns in conn.execute(
                    "SELECT id, path, size, mtime_ns, ctime_ns, ino, digest, read_ns FROM file"
                ):
                    snap.entries[fpath] = _Entry(fid, (size, mtime, ctime, ino), dig, read_ns)
        except BaseException:
            conn.close()
            raise
        return snap

    def close(self) -> None:
        self.conn.close()

    def rows(self, ids: Sequence[int]) -> dict[int, FileRows]:
        """The stored rows of the files with these ids."""
        wanted = set(ids)
        out = {i: FileRows([], [], []) for i in wanted}
        with _corrupt_is_unusable():
            for fid, *row in self.conn.execute(
                    "SELECT file, seq, line, slug, title, question, aliases FROM topic ORDER BY file, seq"):
                if fid in wanted:
                    out[fid].topics.append(tuple(row))
            for fid, *row in self.conn.execute(
                    "SELECT file, seq, line, id, data FROM reference ORDER BY file, seq"):
                if fid in wanted:
                    out[fid].references.append(tuple(row))
            for fid, *row in self.conn.execute(
                    "SELECT file, seq, line, id, topics, section, statement, cites, population, reviewed, used "
                    "FROM claim ORDER BY file, seq"):
                if fid in wanted:
                    out[fid].claims.append(tuple(row))
        return out

    def base(self, shown: Sequence[str], topic: str | None) -> EvidenceBase:
        """The checked base (or the part one topic needs), built from the stored rows only."""
        with _corrupt_is_unusable():
            topics = tuple(
                _topic(rest, Location(shown[fid], line))
                for fid, line, *rest in self.conn.execute(
                    "SELECT file, line, slug, title, question, aliases FROM topic ORDER BY file, seq")
            )
            if topic is None:
                ref_sql = "SELECT file, line, id, data FROM reference ORDER BY file, seq"
                claim_sql = ("SELECT file, line, id, topics, section, statement, cites, population, reviewed "
                             "FROM claim ORDER BY file, seq")
                args: tuple[str, ...] = ()
            else:
                ref_sql = ("SELECT file, line, id, data FROM reference WHERE id IN ("
                           " SELECT ref FROM topic_claim JOIN claim_cite USING (file, seq) WHERE slug = ?)"
                           " ORDER BY file, seq")
                claim_sql = ("SELECT c.file, c.line, c.id, c.topics, c.section, c.statement, c.cites, c.population,"
                             " c.reviewed FROM topic_claim t JOIN claim c USING (file, seq) WHERE t.slug = ?"
                             " ORDER BY t.file, t.seq")
                args = (topic,)
            references = tuple(_reference(ref_id, data, Location(shown[fid], line))
                               for fid, line, ref_id, data in self.conn.execute(ref_sql, args))
            claims = tuple(_claim(rest, Location(shown[fid], line))
                           for fid, line, *rest in self.conn.execute(claim_sql, args))
        return EvidenceBase(topics, references, claims)


@contextmanager
def _corrupt_is_unusable() -> Iterator[None]:
    """Turn any error reading a snapshot (bad pages, bad rows) into _Unusable."""
    import sqlite3

    try:
        yield
    except (sqlite3.Error, ValueError, KeyError, TypeError, IndexError) as exc:
        raise _Unusable(f"corrupt: {exc}") from exc


@dataclass(slots=True)
class _Plan:
    """Where each file's items come from in this load."""

    reuse: dict[int, int]  # file index -> snapshot file id
    fresh: dict[int, Parsed]  # file index -> parsed now
    stamps: dict[int, tuple[Stamp, int]]  # reused files whose stored stamp is out of date


class EvidenceCache:
    """The cache directory; ``load`` uses it, ``stats`` says what the last load did."""

    def __init__(self, directory: Path) -> None:
        self.directory = Path(directory)
        self.stats = CacheStats()

    # the key: everything besides the files themselves that decides what loading gives
    def key(self, roots: Sequence[Path], max_bytes: int) -> str:
        here = Path(__file__).parent
        code = []
        for name in _LOADER_MODULES:
            try:
                st = os.stat(here / name)
                code.append([name, st.st_size, st.st_mtime_ns])
            except OSError:
                code.append([name, None, None])
        return json.dumps({
            "format": FORMAT,
            "lms": __version__,
            "code": code,
            "max_bytes": max_bytes,
            "roots": [[str(r), os.path.abspath(r)] for r in roots],
        }, sort_keys=True)

    def path_for(self, key: str) -> Path:
        return self.directory / f"base-{zlib.crc32(key.encode()):08x}.sqlite"

    def load(self, roots: Sequence[Path], files: Sequence[Path], problems: list[Problem], max_bytes: int,
             *, topic: str | None = None, jobs: int | None = None) -> EvidenceBase:
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
        except _Unusable as exc:  # found corrupt rows halfway: start again without the snapshot
            if snap is not None:
                snap.close()
                snap = None
            self.stats = CacheStats(ignored=str(exc))
            return self._load(None, key, target, files, problems, max_bytes, topic, jobs)
        finally:
            if snap is not None:
                snap.close()

    def _plan(self, snap: _Snapshot | None, files: Sequence[Path], shown: Sequence[str],
              absolute: Sequence[str], max_bytes: int, jobs: int | None) -> _Plan:
        plan = _Plan({}, {}, {})
        entries = snap.entries if snap else {}
        to_parse: list[int] = []
        for i, path in enumerate(absolute):
            entry = entries.get(path)
            if entry is None:
                to_parse.append(i)
                continue
            try:
                stamp = stamp_of(os.stat(path))
            except OSError:
                to_parse.append(i)  # parsing reports why it cannot be read
                continue
            if stamp == entry.stamp and not _racy(stamp, entry.read_ns):
                plan.reuse[i] = entry.id
                continue
            # The stamp changed, or cannot be trusted: the content decides.
            from lms_cli.load import digest

            read_ns = time.time_ns()
            data, now, failed = read_bytes(files[i], shown[i], max_bytes)
            self.stats.verified += 1
            if failed is not None or data is None or now is None:
                to_parse.append(i)
                continue
            if digest(data) == entry.digest:
                plan.reuse[i] = entry.id
                if now != entry.stamp or not _racy(now, read_ns):
                    plan.stamps[i] = (now, read_ns)
            else:
                with gc_paused():
                    plan.fresh[i] = parse_path(files[i], shown[i], max_bytes, data, now, read_ns)
        for i, parsed in zip(to_parse, parse_paths([files[i] for i in to_parse], max_bytes, jobs), strict=True):
            plan.fresh[i] = parsed
        return plan

    def _load(self, snap: _Snapshot | None, key: str, target: Path, files: Sequence[Path],
              problems: list[Problem], max_bytes: int, topic: str | None, jobs: int | None) -> EvidenceBase:
        shown = [str(f) for f in files]
        absolute = [os.path.abspath(f) for f in files]
        plan = self._plan(snap, files, shown, absolute, max_bytes, jobs)
        self.stats.reused, self.stats.parsed = len(plan.reuse), len(plan.fresh)
        if (snap is not None and snap.checked and not problems and not plan.fresh
                and len(snap.entries) == len(files)
                and all(plan.reuse.get(i) == i for i in range(len(files)))):
            # Exactly the files the snapshot checked, in the same order: its verdict stands.
            self.stats.warm = True
            base = snap.base(shown, topic)
            if plan.stamps:
                self._write(target, key, snap, plan, shown, absolute, checked=True)
            return base
        old_rows = snap.rows(sorted(set(plan.reuse.values()))) if snap else {}
        with gc_paused():
            parts = [decode(old_rows[plan.reuse[i]], shown[i]) if i in plan.reuse else plan.fresh[i].file_items()
                     for i in range(len(files))]
            try:
                base = combine(parts, problems)
            except EvidenceError:
                self._write(target, key, snap, plan, shown, absolute, checked=False)
                raise
        self._write(target, key, snap, plan, shown, absolute, checked=True)
        return for_topic(base, topic) if topic is not None else base

    def _write(self, target: Path, key: str, snap: _Snapshot | None, plan: _Plan, shown: Sequence[str],
               absolute: Sequence[str], *, checked: bool) -> None:
        """Write a new snapshot beside ``target`` and move it into place; never raise."""
        import sqlite3
        import tempfile

        temp: str | None = None
        try:
            self.directory.mkdir(parents=True, exist_ok=True)
            _remove_stale_temps(self.directory)
            fd, temp = tempfile.mkstemp(prefix=target.name + ".", suffix=".tmp", dir=self.directory)
            os.close(fd)
            conn = sqlite3.connect(temp, isolation_level=None)
            try:
                _fill(conn, key, snap, plan, shown, absolute, checked)
            finally:
                conn.close()
            with open(temp, "rb") as handle:  # durable before it becomes visible
                os.fsync(handle.fileno())
            os.replace(temp, target)
            temp = None
            self.stats.written = True
        except (OSError, sqlite3.Error, ValueError) as exc:
            self.stats.write_error = str(exc)
        finally:
            if temp is not None:
                with suppress(OSError):
                    os.unlink(temp)


def _fill(conn: sqlite3.Connection, key: str, snap: _Snapshot | None, plan: _Plan, shown: Sequence[str],
          absolute: Sequence[str], checked: bool) -> None:
    from urllib.request import pathname2url

    conn.execute(f"PRAGMA application_id = {APPLICATION_ID}")
    conn.execute(f"PRAGMA user_version = {FORMAT}")
    conn.execute("PRAGMA journal_mode = OFF")  # a temporary file: a failed write is deleted
    conn.execute("PRAGMA synchronous = OFF")
    conn.execute("BEGIN")
    for statement in _SCHEMA.split(";"):
        if statement.strip():
            conn.execute(statement)
    if plan.reuse and snap is not None:
        conn.execute("ATTACH DATABASE ? AS old",
                     (f"file:{pathname2url(str(snap.path))}?mode=ro&immutable=1",))
    files = []
    topic_rows: list[tuple[Any, ...]] = []
    ref_rows: list[tuple[Any, ...]] = []
    claim_rows: list[tuple[Any, ...]] = []
    topic_claims: list[tuple[str, int, int]] = []
    claim_cites: list[tuple[int, int, str]] = []
    for i, path in enumerate(absolute):
        if i in plan.reuse:
            old = plan.reuse[i]
            entry = snap.entries[path] if snap else None
            assert entry is not None
            stamp, read_ns = plan.stamps.get(i, (entry.stamp, entry.read_ns))
            files.append((i, path, shown[i], *stamp, entry.digest, read_ns))
            for table in _ITEM_TABLES:
                columns = _columns(conn, table)
                rest = ", ".join(c for c in columns if c != "file")
                conn.execute(f"INSERT INTO main.{table} (file, {rest}) SELECT ?, {rest} FROM old.{table} "
                             f"WHERE file = ?", (i, old))
            continue
        parsed = plan.fresh.get(i)
        if parsed is None or parsed.digest is None or parsed.stamp is None:
            continue
        rows = parsed.rows
        if rows is None:
            items = parsed.file_items()
            if items.problems:
                continue  # files with problems are parsed, and reported, every time
            rows = encode(items)
        files.append((i, path, shown[i], *parsed.stamp, parsed.digest, parsed.read_ns))
        topic_rows.extend((i, *r) for r in rows.topics)
        ref_rows.extend((i, *r) for r in rows.references)
        for r in rows.claims:
            claim_rows.append((i, *r))
            topic_claims.extend((slug, i, r[0]) for slug in r[3].split(" "))
            claim_cites.extend((i, r[0], ref) for ref in r[6].split(" "))
    conn.executemany("INSERT INTO file VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)", files)
    conn.executemany("INSERT INTO topic VALUES (?, ?, ?, ?, ?, ?, ?)", topic_rows)
    conn.executemany("INSERT INTO reference VALUES (?, ?, ?, ?, ?)", ref_rows)
    conn.executemany("INSERT INTO claim VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", claim_rows)
    conn.executemany("INSERT OR IGNORE INTO topic_claim VALUES (?, ?, ?)", topic_claims)
    conn.executemany("INSERT OR IGNORE INTO claim_cite VALUES (?, ?, ?)", claim_cites)
    conn.execute(_INDEXES)
    conn.executemany("INSERT INTO meta VALUES (?, ?)", [("key", key), ("checked", "yes" if checked else "no")])
    conn.execute("COMMIT")
    if plan.reuse and snap is not None:
        conn.execute("DETACH DATABASE old")


def _columns(conn: sqlite3.Connection, table: str) -> list[str]:
    return [row[1] for row in conn.execute(f"PRAGMA main.table_info({table})")]


def _remove_stale_temps(directory: Path) -> None:
    cutoff = time.time() - STALE_TEMP_S
    for entry in os.scandir(directory):
        if entry.name.endswith(".tmp"):
            with suppress(OSError):
                if entry.stat().st_mtime < cutoff:
                    os.unlink(entry.path)


def iter_snapshots(directory: Path) -> Iterator[Path]:
    """The snapshot files in a cache directory (for tests and tools)."""
    if directory.is_dir():
        yield from sorted(directory.glob("base-*.sqlite"))

