"""A Store read from a warm cache snapshot: each answer reads only the rows it needs.

``EvidenceCache.store`` opens one when every evidence file is unchanged and was checked
(otherwise the caller loads the base and uses a ``MemoryStore``). Its answers equal those
of a ``MemoryStore`` over the same base; tests compare the two on every command.

The claims' words are indexed the first time a question or a search needs them (the cold
load does not pay for them): the words of files not yet indexed are computed from their
stored claims, used at once, and written into a new snapshot for the next run.
"""

from __future__ import annotations

import functools
from array import array
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from typing import TYPE_CHECKING, Any, ParamSpec, TypeVar

from lms_cli.load.rows import CLAIM_COLUMNS, REFERENCE_COLUMNS, chunked, claim_of, reference_of, topic_of
from lms_cli.model import Claim, EvidenceBase, Location, Reference
from lms_cli.store import Cited, Key, Lexicon, Size, Totals
from lms_cli.words import tokens

if TYPE_CHECKING:
    import sqlite3

#: A word row: (word, file id, topic slug, occurrences, seqs of the claims holding it).
WordRow = tuple[str, int, str, int, bytes]

_CLAIM = "seq, line, " + ", ".join(CLAIM_COLUMNS)
_REF = "seq, line, " + ", ".join(REFERENCE_COLUMNS)


def word_rows(fid: int, claims: Iterable[tuple[int, str, str]]) -> list[WordRow]:
    """The word rows of one file from its claims' (seq, statement, topics)."""
    from collections import Counter

    counts: dict[tuple[str, str], int] = {}
    holders: dict[tuple[str, str], list[int]] = {}
    for seq, statement, topics in claims:
        words = Counter(tokens(statement)).items()
        for slug in topics.split(" "):
            for word, n in words:
                key = (word, slug)
                if key in counts:
                    counts[key] += n
                    holders[key].append(seq)
                else:
                    counts[key] = n
                    holders[key] = [seq]
    return [(w, fid, slug, n, array("I", holders[w, slug]).tobytes()) for (w, slug), n in sorted(counts.items())]


class SnapshotDamaged(Exception):
    """A snapshot row could not be read (damaged pages or rows): the caller loads afresh instead."""


_T = TypeVar("_T")
_P = ParamSpec("_P")


def _reading(method: Callable[_P, _T]) -> Callable[_P, _T]:
    """Any failure to read or decode rows becomes SnapshotDamaged."""
    import sqlite3

    @functools.wraps(method)
    def run(*args: _P.args, **kwargs: _P.kwargs) -> _T:
        try:
            return method(*args, **kwargs)
        except SnapshotDamaged:
            raise
        except (sqlite3.Error, ValueError, KeyError, TypeError, IndexError, StopIteration) as exc:
            raise SnapshotDamaged(str(exc)) from exc

    return run


class SnapshotLexicon:
    """Word statistics read from the snapshot, word by word (and from ``extra`` for files not indexed)."""

    def __init__(self, store: SnapshotStore, extra: Sequence[WordRow]) -> None:
        self._store = store
        self._extra: dict[str, list[WordRow]] = {}
        for row in extra:
            self._extra.setdefault(row[0], []).append(row)
        self._rows: dict[str, list[WordRow]] = {}
        self._holders: dict[str, dict[Key, tuple[str, ...]]] = {}

    def _word(self, word: str) -> list[WordRow]:
        if word not in self._rows:
            rows = self._store.query("SELECT word, file, slug, n, seqs FROM word WHERE word = ?", (word,))
            self._rows[word] = [*rows, *self._extra.get(word, ())]
        return self._rows[word]

    @_reading
    def vocabulary(self) -> Iterable[str]:
        words = {w for (w,) in self._store.query("SELECT DISTINCT word FROM word")}
        return words | set(self._extra)

    @_reading
    def has(self, word: str) -> bool:
        return bool(self._word(word))

    @_reading
    def topic_counts(self, word: str) -> Mapping[str, int]:
        out: dict[str, int] = {}
        for _, _, slug, n, _ in self._word(word):
            out[slug] = out.get(slug, 0) + n
        return out

    @_reading
    def holders(self, word: str) -> Mapping[Key, tuple[str, ...]]:
        if word not in self._holders:
            order = self._store.order
            found: dict[Key, tuple[str, ...]] = {}
            for _, fid, slug, _, seqs in self._word(word):
                position = order[fid]
                held = array("I")
                held.frombytes(seqs)
                for seq in held:
                    key = (position, seq)
                    found[key] = (*found.get(key, ()), slug)
            self._holders[word] = found
        return self._holders[word]

    @_reading
    def claims(self, keys: Sequence[Key]) -> list[Claim]:
        return self._store.claims_at(keys)


class SnapshotStore:
    """A Store over an open snapshot whose files are, in order, exactly the evidence files."""

    def __init__(
        self,
        conn: sqlite3.Connection,
        place: dict[int, tuple[int, str]],
        base: Callable[[str], EvidenceBase],
        save_words: Callable[[list[WordRow], list[int]], None],
        *,
        close: Callable[[], None],
    ) -> None:
        self._close = close
        self.conn = conn
        self.place = place  # file id -> (position in this load, shown path)
        self.order = {fid: pos for fid, (pos, _) in place.items()}
        self._by_position = {pos: fid for fid, (pos, _) in place.items()}
        self._base = base
        self._save_words = save_words
        self._lexicon: SnapshotLexicon | None = None
        self.reads = 0  # rows read, for tests that prove an answer reads only what it needs
        self.topics = tuple(
            t
            for _, _, t in sorted(
                (place[fid][0], seq, topic_of(slug, title, q, aliases, pubmed, trials, self._at(fid, line)))
                for fid, seq, line, slug, title, q, aliases, pubmed, trials in self.query(
                    "SELECT file, seq, line, slug, title, question, aliases, pubmed, trials FROM topic"
                )
            )
        )

    def close(self) -> None:
        """Close the snapshot, and let go of the word rows read: the lexicon and the store
        refer to each other, and the console script runs without the cyclic collector."""
        self._lexicon = None
        self._close()

    def query(self, sql: str, params: Sequence[Any] = ()) -> Iterator[Any]:
        """The rows of one query, counted in ``reads``."""
        for row in self.conn.execute(sql, params):
            self.reads += 1
            yield row

    def _at(self, fid: int, line: int) -> Location:
        return Location(self.place[fid][1], line)

    def _claim(self, fid: int, row: Sequence[Any]) -> Claim:
        _, line, cid, topics, section, statement, cites, population, reviewed, support = row
        return claim_of(cid, topics, section, statement, cites, population, reviewed, support, self._at(fid, line))

    def _reference(self, fid: int, row: Sequence[Any]) -> Reference:
        return reference_of(row[2:], self._at(fid, row[1]))

    @_reading
    def lexicon(self) -> Lexicon:
        if self._lexicon is None:
            indexed = {fid for (fid,) in self.query("SELECT file FROM worded")}
            missing = sorted(fid for fid in self.place if fid not in indexed)
            extra: list[WordRow] = []
            for fid in missing:
                claims = self.query("SELECT seq, statement, topics FROM claim WHERE file = ? ORDER BY seq", (fid,))
                extra.extend(word_rows(fid, claims))
            if missing:
                self._save_words(extra, missing)  # never raises: the next run indexes them again
            self._lexicon = SnapshotLexicon(self, extra)
        return self._lexicon

    @_reading
    def claims_at(self, keys: Sequence[Key]) -> list[Claim]:
        """The claims with these keys, in the order given."""
        by_file: dict[int, list[int]] = {}
        for pos, seq in keys:
            by_file.setdefault(self._by_position[pos], []).append(seq)
        found: dict[Key, Claim] = {}
        for fid, seqs in by_file.items():
            for chunk, marks in chunked(seqs):
                for row in self.query(f"SELECT {_CLAIM} FROM claim WHERE file = ? AND seq IN ({marks})", (fid, *chunk)):
                    found[self.order[fid], row[0]] = self._claim(fid, row)
        return [found[k] for k in keys]

    @_reading
    def part(self, *, topic: str | None = None, keys: Sequence[Key] | None = None) -> EvidenceBase:
        if keys is None:
            return self._base(topic or "")
        claims = tuple(self.claims_at(keys))
        return EvidenceBase(self.topics, self._references_of(claims), claims)

    def _references_of(self, claims: Iterable[Claim]) -> tuple[Reference, ...]:
        wanted = sorted({r for c in claims for r in c.cites})
        found = []
        for chunk, marks in chunked(wanted):
            for fid, *row in self.query(f"SELECT file, {_REF} FROM reference WHERE id IN ({marks})", chunk):
                found.append((self.order[fid], row[0], self._reference(fid, row)))
        return tuple(r for *_, r in sorted(found, key=lambda item: item[:2]))

    @_reading
    def claim(self, claim_id: str) -> Claim | None:
        rows = sorted(
            (
                (self.order[fid], row)
                for fid, *row in self.query(f"SELECT file, {_CLAIM} FROM claim WHERE id = ?", (claim_id,))
            ),
            key=lambda item: (item[0], item[1][0]),
        )
        if not rows:
            return None
        pos, row = rows[0]
        return self._claim(self._by_position[pos], row)

    @_reading
    def reference(self, ref_id: str) -> Reference | None:
        rows = sorted(
            (self.order[fid], row[0], fid, row)
            for fid, *row in self.query(f"SELECT file, {_REF} FROM reference WHERE id = ?", (ref_id,))
        )
        return self._reference(rows[0][2], rows[0][3]) if rows else None

    @_reading
    def references(self) -> tuple[Reference, ...]:
        rows = sorted(
            (self.order[fid], row[0], fid, row) for fid, *row in self.query(f"SELECT file, {_REF} FROM reference")
        )
        return tuple(self._reference(fid, row) for _, _, fid, row in rows)

    @_reading
    def citing(self, ref_id: str) -> tuple[Claim, ...]:
        files = sorted(
            (self.order[fid], fid) for (fid,) in self.query("SELECT file FROM cites WHERE ref = ?", (ref_id,))
        )
        out = []
        for _, fid in files:
            # instr() leaves most rows in SQLite; the split checks the id exactly
            sql = f"SELECT {_CLAIM} FROM claim WHERE file = ? AND instr(' ' || cites || ' ', ?) ORDER BY seq"
            for row in self.query(sql, (fid, f" {ref_id} ")):
                if ref_id in row[6].split(" "):
                    out.append(self._claim(fid, row))
        return tuple(out)

    @_reading
    def cited(self) -> dict[str, Cited]:
        claims: dict[str, int] = {}
        topics: dict[str, dict[str, None]] = {}
        rows = sorted(
            (self.order[fid], ref, n, t) for ref, fid, n, t in self.query("SELECT ref, file, claims, topics FROM cites")
        )
        for _, ref, n, t in rows:
            claims[ref] = claims.get(ref, 0) + n
            topics.setdefault(ref, {}).update(dict.fromkeys(t.split(" ")))
        return {r: Cited(n, tuple(topics[r])) for r, n in claims.items()}

    @_reading
    def sizes(self) -> dict[str, Size]:
        stored = {slug: Size(n, refs) for slug, n, refs in self.query("SELECT slug, claims, refs FROM topic_size")}
        return {t.slug: stored.get(t.slug, Size(0, 0)) for t in self.topics}

    @_reading
    def totals(self) -> Totals:
        (stored,) = next(self.query("SELECT value FROM meta WHERE key = 'totals'"))
        topics, references, claims = (int(n) for n in stored.split())
        return Totals(topics, references, claims)

    @_reading
    def ids(self) -> list[str]:
        refs = sorted((self.order[f], s, i) for f, s, i in self.query("SELECT file, seq, id FROM reference"))
        claims = sorted((self.order[f], s, i) for f, s, i in self.query("SELECT file, seq, id FROM claim"))
        return [t.slug for t in self.topics] + [i for *_, i in refs] + [i for *_, i in claims]
