"""The snapshot Store: the same answers as the in-memory Store, from only the rows they need."""

from __future__ import annotations

import os
import random
import sqlite3
from pathlib import Path

import pytest

from lms_cli import load
from lms_cli.browse import detail, reference_rows, topic_rows
from lms_cli.load.cache import EvidenceCache
from lms_cli.load.snapshot import SnapshotStore
from lms_cli.model import EvidenceBase, Location
from lms_cli.resolve import TopicIndex, resolve
from lms_cli.store import MemoryStore, Store
from lms_cli.words import tokens
from tests.load.test_cache import at_rest, edit, settle, synthetic
from tests.test_resolve import MORE, QUESTIONS

CLAIMS = 600


def warm(roots: list[Path], cache: EvidenceCache) -> SnapshotStore:
    """A snapshot store over ``roots`` (loading once first when the cache is cold)."""
    files, problems = load.listing(roots)
    store = cache.store(roots, files, problems, load.MAX_FILE_BYTES)
    if store is None:
        load.load(roots, cache=cache)
        store = cache.store(roots, *load.listing(roots), load.MAX_FILE_BYTES)
    assert store is not None, cache.stats
    return store


@pytest.fixture(scope="module")
def synthetic_pair(tmp_path_factory: pytest.TempPathFactory) -> tuple[EvidenceBase, Path, Path]:
    tmp = tmp_path_factory.mktemp("snapshot")
    directory = synthetic(tmp, CLAIMS)
    return load.load([directory]), directory, tmp / "cache"


def queries(base: EvidenceBase, count: int, seed: int = 7) -> list[str]:
    """Questions and search words drawn from the base's own words, with typos and unknown words."""
    rng = random.Random(seed)
    words = sorted({w for c in base.claims for w in tokens(c.statement)})
    out = []
    for _ in range(count):
        picked = rng.sample(words, rng.randint(1, 4))
        if rng.random() < 0.2:
            w = picked[0]
            picked[0] = w[:-1] + ("x" if w[-1] != "x" else "y")  # a typo
        if rng.random() < 0.1:
            picked.append("zebra")
        out.append(" ".join(picked))
    return out


def same_answers(memory: Store, snapshot: Store, base: EvidenceBase, asked: list[str]) -> None:
    """Every read a command makes gives the same answer from both stores."""
    assert snapshot.topics == memory.topics
    assert snapshot.totals() == memory.totals()
    assert snapshot.sizes() == memory.sizes()
    assert snapshot.cited() == memory.cited()
    assert snapshot.references() == memory.references()
    assert [r.where for r in snapshot.references()] == [r.where for r in memory.references()]
    assert snapshot.ids() == memory.ids()
    assert topic_rows(snapshot) == topic_rows(memory)
    assert reference_rows(snapshot) == reference_rows(memory)
    for t in base.topics:
        part = snapshot.part(topic=t.slug)
        assert part == memory.part(topic=t.slug) == load.for_topic(base, t.slug)
        assert detail(snapshot, t.slug) == detail(memory, t.slug)
    ids = [c.id for c in base.claims[:: max(1, len(base.claims) // 25)]] + [r.id for r in base.references[:10]]
    for item_id in ids:
        assert detail(snapshot, item_id) == detail(memory, item_id)
        assert [c.where for c in detail(snapshot, item_id).claims] == [c.where for c in detail(memory, item_id).claims]
    mem_index = TopicIndex(memory.topics, memory.lexicon())
    snap_index = TopicIndex(snapshot.topics, snapshot.lexicon())
    for text in asked:
        assert resolve(snap_index, text) == resolve(mem_index, text), text
        found = snapshot.lexicon().claims(snap_index.search(text))
        assert found == memory.lexicon().claims(mem_index.search(text)), text


def test_snapshot_answers_equal_memory_answers(synthetic_pair: tuple[EvidenceBase, Path, Path]) -> None:
    base, directory, cache_dir = synthetic_pair
    store = warm([directory], at_rest(cache_dir))
    try:
        same_answers(MemoryStore(base), store, base, queries(base, 150))
    finally:
        store.close()


def test_bundled_questions_resolve_the_same_from_the_snapshot(tmp_path: Path) -> None:
    bundled = load.load([load.bundled_dir()])
    store = warm([load.bundled_dir()], at_rest(tmp_path))
    try:
        asked = [q for q, _ in QUESTIONS] + [q for q, _ in MORE] + queries(bundled, 60)
        same_answers(MemoryStore(bundled), store, bundled, asked)
    finally:
        store.close()


def test_answers_read_only_their_rows(synthetic_pair: tuple[EvidenceBase, Path, Path]) -> None:
    base, directory, cache_dir = synthetic_pair
    store = warm([directory], at_rest(cache_dir))
    try:
        store.lexicon()  # index the words once (the first question of a base pays for it)
        start = store.reads
        claim = base.claims[len(base.claims) // 2]
        assert detail(store, claim.id).item == claim
        assert store.reads - start <= 1 + len(claim.cites)  # the claim, then each reference
        statements: list[str] = []
        store.conn.set_trace_callback(statements.append)
        topic_rows(store)
        reference_rows(store)
        assert store.totals().claims == len(base.claims)
        store.conn.set_trace_callback(None)
        assert statements and not [q for q in statements if "FROM claim" in q]  # counts, never a claim row
        # a search reads its words' rows and the claims it found, not the base
        rare = min(
            {w for c in base.claims for w in tokens(c.statement)},
            key=lambda w: (len(store.lexicon().holders(w)), w),
        )
        hits = len(store.lexicon().holders(rare))
        index = TopicIndex(store.topics, store.lexicon())
        start = store.reads
        keys = index.search(rare)
        part = store.part(keys=keys)
        assert len(part.claims) == hits
        assert store.reads - start <= hits + len(part.references) + 120  # + the word's rows
    finally:
        store.close()


def test_words_are_indexed_once_and_follow_edits(tmp_path: Path) -> None:
    directory = synthetic(tmp_path, 300)
    cache = at_rest(tmp_path / "cache")
    store = warm([directory], cache)
    try:
        assert not cache.stats.written
        store.lexicon()
        assert cache.stats.written  # the words were stored for the next run
    finally:
        store.close()
    store = warm([directory], cache)
    try:
        start = store.reads
        lexicon = store.lexicon()
        assert store.reads - start == len(list(directory.glob("*.yaml")))  # only the list of indexed files
        assert not lexicon.has("zebrafish")
    finally:
        store.close()
    target = sorted(directory.glob("*.yaml"))[3]
    edit(target, 'statement: "', 'statement: "Zebrafish ')
    settle(directory)
    warm([directory], cache).close()  # the edit is parsed and stored (without its words)
    store = warm([directory], cache)
    try:
        keys = TopicIndex(store.topics, store.lexicon()).search("zebrafish")
        found = store.part(keys=keys).claims
        assert len(found) == 1 and found[0].where == Location(str(target), found[0].where.line)
        assert "zebrafish" in found[0].statement.lower()
    finally:
        store.close()


def test_a_changed_file_gives_no_snapshot_store(tmp_path: Path) -> None:
    directory = synthetic(tmp_path, 300)
    cache = at_rest(tmp_path / "cache")
    warm([directory], cache).close()
    target = sorted(directory.glob("*.yaml"))[0]
    edit(target, 'statement: "', 'statement: "Changed ')
    settle(directory)
    files, problems = load.listing([directory])
    assert cache.store([directory], files, problems, load.MAX_FILE_BYTES) is None

    def kind(store: Store) -> tuple[type, bool]:
        claims = store.part(topic=store.topics[0].slug).claims
        return type(store), any(c.statement.startswith("Changed ") for c in claims)

    assert load.with_store([directory], kind, cache=cache) == (MemoryStore, True)  # loads, and so sees the edit
    assert load.with_store([directory], kind, cache=cache) == (SnapshotStore, True)


def test_a_damaged_snapshot_is_removed_and_the_answer_loaded(tmp_path: Path) -> None:
    directory = synthetic(tmp_path, 300)
    cache = at_rest(tmp_path / "cache")
    warm([directory], cache).close()
    (snapshot,) = (tmp_path / "cache").glob("base-*.sqlite")
    conn = sqlite3.connect(snapshot)
    conn.execute("UPDATE claim SET section = 'bogus'")  # rows the decoder cannot read
    conn.commit()
    conn.close()
    fresh = load.load([directory])
    seen: list[type] = []

    def answer(store: Store) -> EvidenceBase:
        seen.append(type(store))
        return store.part(topic=fresh.topics[1].slug)

    assert load.with_store([directory], answer, cache=cache) == load.for_topic(fresh, fresh.topics[1].slug)
    assert seen == [SnapshotStore, MemoryStore] and cache.stats.written  # found damaged, loaded, rewritten
    seen.clear()
    load.with_store([directory], answer, cache=cache)
    assert seen == [SnapshotStore]


def test_words_are_stored_after_the_stamps_are_renewed(tmp_path: Path) -> None:
    directory = synthetic(tmp_path, 300)
    cache = at_rest(tmp_path / "cache")
    warm([directory], cache).close()
    for path in directory.glob("*.yaml"):  # touched, not changed: the stamps are renewed
        os.utime(path, (path.stat().st_atime, path.stat().st_mtime - 60))
    store = warm([directory], cache)
    try:
        assert cache.stats.written  # the new stamps, in a snapshot of its own
        store.lexicon()
        assert cache.stats.write_error is None
    finally:
        store.close()
    (snapshot,) = (tmp_path / "cache").glob("base-*.sqlite")
    (indexed,) = sqlite3.connect(snapshot).execute("SELECT COUNT(*) FROM worded").fetchone()
    assert indexed == len(list(directory.glob("*.yaml")))


def test_a_closed_store_lets_go_of_its_words_without_the_cyclic_collector(tmp_path: Path) -> None:
    """The lexicon and the store refer to each other; the console script runs without the
    cyclic collector, so closing the store must break that cycle (a search's word rows and
    holders were kept to the end of the run: 5 MiB at 27,000 hits)."""
    import gc
    import weakref

    directory = synthetic(tmp_path, 300)
    cache = at_rest(tmp_path / "cache")
    store = warm([directory], cache)
    lexicon = store.lexicon()
    assert TopicIndex(store.topics, lexicon).search("trabectedin")
    gone = weakref.ref(lexicon), weakref.ref(store)
    gc.disable()
    try:
        store.close()
        del store, lexicon
        assert [ref() for ref in gone] == [None, None]
    finally:
        gc.enable()


def test_claims_share_the_ids_they_name(synthetic_pair: tuple[EvidenceBase, Path, Path]) -> None:
    """One string per reference id and topic slug, not one per claim naming it."""
    _, directory, cache_dir = synthetic_pair
    store = warm([directory], EvidenceCache(cache_dir))
    try:
        claims = store.part(topic=store.topics[0].slug).claims
    finally:
        store.close()
    by_text: dict[str, set[int]] = {}
    for c in claims:
        for name in (*c.cites, *c.topics):
            by_text.setdefault(name, set()).add(id(name))
    assert len(claims) > len(by_text) > 1
    assert all(len(ids) == 1 for ids in by_text.values())


@pytest.mark.parametrize("count", [0, 1, 7, 8, 9, 64, 65, 255, 899, 900, 901, 2000])
def test_in_lists_are_padded_to_a_few_lengths(count: int) -> None:
    from lms_cli.load.rows import CHUNK, IN_LENGTHS, chunked

    values = list(range(count))
    runs = list(chunked(values))
    assert [v for chunk, _ in runs for v in chunk if v is not None] == values
    for chunk, marks in runs:
        assert len(chunk) in IN_LENGTHS and marks == ",".join("?" * len(chunk))
        assert len(chunk) <= CHUNK
    assert len(runs) == -(-count // CHUNK)
