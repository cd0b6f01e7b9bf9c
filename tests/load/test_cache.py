"""The parsed-evidence cache: same base as a fresh parse, per-file reuse, safe under damage and races."""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

from bench import synth
from lms_cli import load
from lms_cli.cli.common import Env, load_base
from lms_cli.errors import EvidenceError
from lms_cli.load.cache import EvidenceCache, iter_snapshots
from lms_cli.load.rows import decode, encode
from lms_cli.model import Claim, EvidenceBase, Filters, Location, Reference, Topic
from lms_cli.select import select
from tests.conftest import BASE, DATA, Invoke, write

ROOT = Path(__file__).parent.parent.parent


def settle(directory: Path) -> None:
    """Date every file an hour back, as an evidence base at rest is."""
    past = time.time() - 3600
    for path in directory.rglob("*.yaml"):
        os.utime(path, (past, past))


def at_rest(directory: Path) -> EvidenceCache:
    """A cache that trusts stamps at once (files here were all just written: their ctime is now)."""
    return EvidenceCache(directory, racy_ns=0)


def synthetic(tmp_path: Path, claims: int = 300) -> Path:
    directory = tmp_path / "base"
    synth.generate(directory, claims)  # 30 files, 30 topics
    settle(directory)
    return directory


def where(base: EvidenceBase) -> list[Location | None]:
    """Every item's location (model equality leaves it out)."""
    return [*(t.where for t in base.topics), *(r.where for r in base.references), *(c.where for c in base.claims)]


def stats(cache: EvidenceCache) -> tuple[int, int, bool]:
    return cache.stats.parsed, cache.stats.reused, cache.stats.warm


def messages(roots: list[Path], cache: EvidenceCache | None = None) -> list[str]:
    with pytest.raises(EvidenceError) as info:
        load.load(roots, cache=cache)
    return [str(p) for p in info.value.problems]


def edit(path: Path, old: str, new: str) -> None:
    text = path.read_text(encoding="utf-8")
    assert old in text
    path.write_text(text.replace(old, new, 1), encoding="utf-8")


# --- the same base, cold or warm ------------------------------------------------------------


def test_warm_load_equals_cold_load(tmp_path: Path) -> None:
    directory = synthetic(tmp_path)
    plain = load.load([directory])
    cache = at_rest(tmp_path / "cache")
    cold = load.load([directory], cache=cache)
    assert stats(cache) == (30, 0, False)
    assert cache.stats.written
    warm = load.load([directory], cache=cache)
    assert stats(cache) == (0, 30, True)
    assert not cache.stats.written
    assert cold == plain
    assert warm == plain
    assert where(warm) == where(plain)
    assert len(list(iter_snapshots(tmp_path / "cache"))) == 1


@pytest.mark.parametrize(
    "roots",
    [[BASE], [load.bundled_dir()], [BASE / "topics.yaml", BASE / "references.yaml", BASE / "claims.yaml"]],
    ids=["fixture", "bundled", "single-files"],
)
def test_real_bases_come_back_unchanged(tmp_path: Path, roots: list[Path]) -> None:
    plain = load.load(roots)
    cache = at_rest(tmp_path / "cache")
    load.load(roots, cache=cache)
    warm = load.load(roots, cache=cache)
    assert cache.stats.warm
    assert warm == plain
    assert where(warm) == where(plain)


def test_rows_round_trip_every_bundled_file() -> None:
    for path in load.iter_files(load.bundled_dir()):
        items = load.read_file(path)
        assert not items.problems, path
        back = decode(encode(items), str(path))
        assert back == items
        assert where(EvidenceBase(tuple(back.topics), tuple(back.references), tuple(back.claims))) == where(
            EvidenceBase(tuple(items.topics), tuple(items.references), tuple(items.claims))
        )
        assert back.refs_used == items.refs_used


def test_only_clean_files_are_encoded(tmp_path: Path) -> None:
    path = write(tmp_path / "bad.yaml", "claims:\n  - id: c1\n")
    items = load.read_file(path)
    assert items.problems
    with pytest.raises(ValueError, match="only files without problems"):
        encode(items)


def test_one_topic_view_matches_the_whole_base(tmp_path: Path) -> None:
    directory = synthetic(tmp_path)
    plain = load.load([directory])
    cache = at_rest(tmp_path / "cache")
    load.load([directory], cache=cache)
    for topic in plain.topics:
        view = load.load([directory], cache=cache, topic=topic.slug)
        assert cache.stats.warm
        assert view == load.for_topic(plain, topic.slug)
        assert where(view) == where(load.for_topic(plain, topic.slug))
        assert select(view, topic.slug, Filters()) == select(plain, topic.slug, Filters())
    unknown = load.load([directory], cache=cache, topic="no-such-topic")
    assert unknown.topics == plain.topics
    assert unknown.claims == ()
    assert unknown.references == ()


def test_topic_view_without_a_cache_is_the_same(tmp_path: Path) -> None:
    directory = synthetic(tmp_path)
    slug = synth.topic_slug(3)
    assert load.load([directory], topic=slug) == load.for_topic(load.load([directory]), slug)


# --- what is parsed again -------------------------------------------------------------------


def test_one_changed_file_is_parsed_alone(tmp_path: Path) -> None:
    directory = synthetic(tmp_path)
    cache = at_rest(tmp_path / "cache")
    load.load([directory], cache=cache)
    edit(directory / "f005.yaml", 'statement: "', 'statement: "Edited. ')
    changed = load.load([directory], cache=cache, topic=synth.topic_slug(5))
    assert stats(cache) == (1, 29, False)
    assert cache.stats.written
    plain = load.load([directory])
    assert changed == load.for_topic(plain, synth.topic_slug(5))
    assert any(c.statement.startswith("Edited.") for c in changed.claims)
    again = load.load([directory], cache=cache)
    assert (cache.stats.parsed, cache.stats.warm) == (0, True)
    assert again == plain
    assert where(again) == where(plain)


def test_added_and_removed_files(tmp_path: Path) -> None:
    directory = synthetic(tmp_path)
    cache = at_rest(tmp_path / "cache")
    load.load([directory], cache=cache)
    extra = write(
        directory / "f015b.yaml",
        "claims:\n  - id: extra-claim\n    topics: [synthetic-topic-01]\n    section: advance\n"
        "    statement: An added claim.\n    cites: [ref000001]\n",
    )
    with_extra = load.load([directory], cache=cache)
    assert stats(cache) == (1, 30, False)
    assert with_extra == load.load([directory])  # in path order, not in order of arrival
    extra.unlink()
    without = load.load([directory], cache=cache)
    assert stats(cache) == (0, 30, False)  # the checks run again over the remaining files
    assert without == load.load([directory])
    load.load([directory], cache=cache)
    assert cache.stats.warm


def test_a_stat_only_change_is_read_but_not_parsed(tmp_path: Path) -> None:
    directory = synthetic(tmp_path)
    cache = at_rest(tmp_path / "cache")
    load.load([directory], cache=cache)
    os.utime(directory / "f007.yaml", (time.time() - 100, time.time() - 100))
    load.load([directory], cache=cache)
    assert (cache.stats.parsed, cache.stats.verified, cache.stats.warm, cache.stats.written) == (0, 1, True, True)
    load.load([directory], cache=cache)
    assert (cache.stats.verified, cache.stats.written) == (0, False)  # the new stamp was stored


def test_an_edit_keeping_size_and_mtime_is_still_seen(tmp_path: Path) -> None:
    directory = synthetic(tmp_path)
    path = directory / "f009.yaml"
    cache = at_rest(tmp_path / "cache")
    load.load([directory], cache=cache)
    before = path.stat()
    text = path.read_text(encoding="utf-8")
    at = text.index('statement: "') + len('statement: "')
    path.write_text(text[:at] + ("Q" if text[at] != "Q" else "R") + text[at + 1 :], encoding="utf-8")
    os.utime(path, ns=(before.st_atime_ns, before.st_mtime_ns))
    assert path.stat().st_size == before.st_size
    changed = load.load([directory], cache=cache)
    assert cache.stats.parsed == 1
    assert changed == load.load([directory])


def test_a_just_written_file_is_checked_by_content(tmp_path: Path) -> None:
    directory = tmp_path / "fresh"
    write(directory / "a.yaml", (BASE / "topics.yaml").read_text(encoding="utf-8"))
    write(directory / "b.yaml", (BASE / "references.yaml").read_text(encoding="utf-8"))
    write(directory / "c.yaml", (BASE / "claims.yaml").read_text(encoding="utf-8"))
    cache = EvidenceCache(tmp_path / "cache")
    load.load([directory], cache=cache)
    # Read in the same second they were written: a later edit could keep every stamp,
    # so the next load compares contents instead of trusting them.
    load.load([directory], cache=cache)
    assert (cache.stats.verified, cache.stats.parsed, cache.stats.warm) == (3, 0, True)


def test_parsing_in_worker_processes_gives_the_same_base(tmp_path: Path) -> None:
    directory = synthetic(tmp_path, claims=400)
    serial = load.load([directory], jobs=1)
    parallel = load.load([directory], jobs=2)
    assert parallel == serial
    assert where(parallel) == where(serial)
    cache = at_rest(tmp_path / "cache")
    assert load.load([directory], cache=cache, jobs=2) == serial
    warm = load.load([directory], cache=cache, jobs=2)
    assert cache.stats.warm
    assert where(warm) == where(serial)


# --- validation is never hidden ---------------------------------------------------------------


def test_cross_file_errors_are_found_with_a_warm_cache(tmp_path: Path) -> None:
    directory = synthetic(tmp_path)
    cache = at_rest(tmp_path / "cache")
    load.load([directory], cache=cache)
    # a new file citing an unknown reference, redefining an id and naming an unknown topic
    write(
        directory / "zz.yaml",
        "references:\n  - id: claim0000003\n    design: rct\n    authors: [A B]\n    title: T\n"
        '    journal: J\n    year: 2020\n    pmid: "123"\n'
        "claims:\n  - id: z1\n    topics: [synthetic-topic-99]\n    section: answer\n    statement: S.\n"
        "    cites: [ref999999]\n",
    )
    cached = messages([directory], cache)
    assert cached == messages([directory])
    assert any("duplicate id 'claim0000003' (reference); first defined at" in m for m in cached)
    assert any("unknown reference 'ref999999'" in m for m in cached)
    assert any("unknown topic 'synthetic-topic-99'" in m for m in cached)


def test_removing_a_file_exposes_citations_in_cached_files(tmp_path: Path) -> None:
    directory = synthetic(tmp_path)
    cache = at_rest(tmp_path / "cache")
    load.load([directory], cache=cache)
    (directory / "f000.yaml").unlink()  # defines topic 00 and a reference, both used elsewhere
    cached = messages([directory], cache)
    assert cache.stats.parsed == 0  # every remaining file came from the cache
    assert cached == messages([directory])
    assert cached
    assert all("unknown" in m and "f000.yaml" not in m for m in cached)


def test_a_file_with_problems_is_parsed_and_reported_every_time(tmp_path: Path) -> None:
    directory = synthetic(tmp_path)
    cache = at_rest(tmp_path / "cache")
    load.load([directory], cache=cache)
    edit(directory / "f004.yaml", "section: ", "sektion: ")
    for _ in range(2):
        found = messages([directory], cache)
        assert (cache.stats.parsed, cache.stats.reused) == (1, 29)
        assert found == messages([directory])
        assert any("unknown field 'sektion' in claim (did you mean 'section'?)" in m for m in found)
    edit(directory / "f004.yaml", "sektion: ", "section: ")
    assert load.load([directory], cache=cache) == load.load([directory])
    load.load([directory], cache=cache)
    assert cache.stats.warm


def test_an_edited_loader_does_not_trust_old_rows(tmp_path: Path) -> None:
    cache = at_rest(tmp_path / "cache")
    key = cache.key([BASE], load.MAX_FILE_BYTES)
    assert key != cache.key([BASE], 100)
    assert key != cache.key([BASE, BASE], load.MAX_FILE_BYTES)
    assert "load/parse.py" in key and "load/yamlsafe.py" in key  # the loader's own files are part of it


# --- damage, races, and no cache at all ---------------------------------------------------------


def _damage(snapshot: Path, how: str) -> None:
    if how == "garbage":
        snapshot.write_bytes(b"this is not a database\n" * 100)
    elif how == "truncated":
        data = snapshot.read_bytes()
        snapshot.write_bytes(data[: len(data) // 2])
    elif how == "empty":
        snapshot.write_bytes(b"")
    elif how == "foreign":
        snapshot.unlink()
        conn = sqlite3.connect(snapshot)
        conn.execute("CREATE TABLE notes (body TEXT)")
        conn.commit()
        conn.close()
    else:
        conn = sqlite3.connect(snapshot)
        if how == "old-format":
            conn.execute("PRAGMA user_version = 999")
        elif how == "other-key":
            conn.execute("UPDATE meta SET value = 'something else' WHERE key = 'key'")
        elif how == "bad-rows":
            conn.execute("UPDATE claim SET section = 'nonsense'")
        elif how == "missing-table":
            conn.execute("DROP TABLE topic_claim")
        conn.commit()
        conn.close()


@pytest.mark.parametrize(
    "how", ["garbage", "truncated", "empty", "foreign", "old-format", "other-key", "bad-rows", "missing-table"]
)
def test_a_damaged_or_foreign_cache_is_ignored_and_rebuilt(tmp_path: Path, how: str) -> None:
    directory = synthetic(tmp_path)
    cache = at_rest(tmp_path / "cache")
    plain = load.load([directory])
    load.load([directory], cache=cache)
    (snapshot,) = iter_snapshots(tmp_path / "cache")
    _damage(snapshot, how)
    slug = synth.topic_slug(4)
    assert load.load([directory], cache=cache, topic=slug) == load.for_topic(plain, slug)
    assert cache.stats.ignored
    assert cache.stats.written
    assert load.load([directory], cache=cache) == plain
    assert cache.stats.warm
    assert cache.stats.ignored is None


def test_leftover_temporary_files_do_not_matter(tmp_path: Path) -> None:
    directory = synthetic(tmp_path)
    cache_dir = tmp_path / "cache"
    cache = EvidenceCache(cache_dir)
    load.load([directory], cache=cache)
    (snapshot,) = iter_snapshots(cache_dir)
    stale = write(cache_dir / f"{snapshot.name}.dead.tmp", "half a snapshot")
    os.utime(stale, (time.time() - 7200, time.time() - 7200))
    recent = write(cache_dir / f"{snapshot.name}.busy.tmp", "another writer, still writing")
    edit(directory / "f001.yaml", 'statement: "', 'statement: "Changed. ')
    assert load.load([directory], cache=cache) == load.load([directory])
    assert not stale.exists()  # its writer is long gone
    assert recent.exists()


def test_an_unwritable_cache_only_costs_time(tmp_path: Path) -> None:
    directory = synthetic(tmp_path)
    blocked = write(tmp_path / "cache", "a file where the cache directory should be")
    cache = EvidenceCache(blocked / "evidence")
    assert load.load([directory], cache=cache) == load.load([directory])
    assert cache.stats.write_error
    assert not cache.stats.written


_WORKER = """
import sys
from pathlib import Path
from lms_cli import load
from lms_cli.load.cache import EvidenceCache
directory, cache_dir, mine, expected = Path(sys.argv[1]), Path(sys.argv[2]), Path(sys.argv[3]), int(sys.argv[4])
cache = EvidenceCache(cache_dir)
while not (cache_dir.parent / "go").exists():  # start together, so that writes overlap
    pass
for round in range(10):
    text = mine.read_text(encoding="utf-8").rstrip("\\n").rsplit("\\n# round", 1)[0]
    temp = mine.with_suffix(".part")  # an editor's atomic save: others never read half a file
    temp.write_text(text + f"\\n# round {round}\\n", encoding="utf-8")
    temp.replace(mine)
    base = load.load([directory], cache=cache)
    assert len(base.claims) == expected, (len(base.claims), expected)
print("ok")
"""


def test_concurrent_loads_never_leave_a_broken_cache(tmp_path: Path) -> None:
    directory = synthetic(tmp_path)
    expected = load.load([directory])
    cache_dir = tmp_path / "cache"
    procs = [
        subprocess.Popen(
            [
                sys.executable,
                "-c",
                _WORKER,
                str(directory),
                str(cache_dir),
                str(directory / f"f{n:03d}.yaml"),
                str(len(expected.claims)),
            ],
            cwd=ROOT,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for n in (2, 11, 17, 23)
    ]
    (tmp_path / "go").touch()
    for proc in procs:
        out, err = proc.communicate(timeout=60)
        assert proc.returncode == 0, err
        assert out.strip() == "ok"
    cache = EvidenceCache(cache_dir)
    final = load.load([directory], cache=cache)
    assert cache.stats.ignored is None
    assert final == load.load([directory])
    assert where(final) == where(load.load([directory]))
    assert len(list(iter_snapshots(cache_dir))) == 1
    assert not list(cache_dir.glob("*.tmp"))


def test_a_writer_that_lost_the_race_leaves_the_winner_alone(tmp_path: Path) -> None:
    from lms_cli.load.cache import _Snapshot

    directory = synthetic(tmp_path)
    mine, theirs = at_rest(tmp_path / "cache"), at_rest(tmp_path / "cache")
    load.load([directory], cache=mine)
    key = mine.key([directory], load.MAX_FILE_BYTES)
    stale = _Snapshot.open(mine.path_for(key), key)  # what a slow load read at its start
    assert stale is not None
    edit(directory / "f003.yaml", 'statement: "', 'statement: "Theirs. ')
    load.load([directory], cache=theirs)  # meanwhile another process stored a newer snapshot
    assert theirs.stats.written
    try:
        edit(directory / "f004.yaml", 'statement: "', 'statement: "Mine. ')
        files, problems = load.listing([directory])
        # the slow load finishes: its answer is right, but it does not overwrite the newer snapshot
        assert mine._load(stale, key, mine.path_for(key), files, problems, load.MAX_FILE_BYTES, None, 1) == load.load(
            [directory]
        )
        assert mine.stats.write_error == "the cache changed while this load ran; left to the other writer"
    finally:
        stale.close()
    after = load.load([directory], cache=theirs)
    assert after == load.load([directory])
    assert (theirs.stats.parsed, theirs.stats.reused) == (1, 29)  # only f004 is new to the stored snapshot


# --- the command line ---------------------------------------------------------------------------


def test_no_cache_writes_nothing(invoke: Invoke, fixture_args: list[str], tmp_path: Path) -> None:
    cache_dir = tmp_path / "cli-cache"
    env = {"LMS_CACHE_DIR": str(cache_dir)}
    uncached = invoke("ask", "first-line", "--format", "markdown", *fixture_args, "--no-cache", env=env)
    assert uncached.exit_code == 0, uncached.stderr
    assert not cache_dir.exists()
    cached = invoke("ask", "first-line", "--format", "markdown", *fixture_args, env=env)
    assert cached.exit_code == 0, cached.stderr
    assert len(list(iter_snapshots(cache_dir / "evidence"))) == 1
    warm = invoke("ask", "first-line", "--format", "markdown", *fixture_args, env=env)
    assert cached.stdout == uncached.stdout == warm.stdout
    assert warm.stderr == uncached.stderr
    # --no-cache does not read it either: a broken one is neither noticed nor repaired
    (snapshot,) = iter_snapshots(cache_dir / "evidence")
    snapshot.write_bytes(b"broken")
    again = invoke("ask", "first-line", "--format", "markdown", *fixture_args, "--no-cache", env=env)
    assert again.stdout == uncached.stdout
    assert snapshot.read_bytes() == b"broken"


def test_cli_reports_evidence_errors_through_a_warm_cache(invoke: Invoke, tmp_path: Path) -> None:
    directory = tmp_path / "ev"
    for name in ("topics.yaml", "references.yaml", "claims.yaml"):
        write(directory / name, (BASE / name).read_text(encoding="utf-8"))
    settle(directory)
    args = ["--no-bundled", "--evidence", str(directory)]
    assert invoke("validate", *args).exit_code == 0
    edit(directory / "claims.yaml", "cites: [pautier2022]", "cites: [pautier2023]")
    result = invoke("validate", *args)
    assert result.exit_code == 3
    assert "unknown reference 'pautier2023' (did you mean 'pautier2022'?)" in result.stderr
    assert result.stdout == ""


def test_load_base_narrows_to_a_topic_only_for_a_slug(tmp_path: Path) -> None:
    env = Env(sys.stdout, sys.stderr, {"LMS_CACHE_DIR": str(tmp_path / "cache")})
    whole = load.load([BASE])
    narrowed = load_base(env, [BASE], True, topic="recurrence")
    assert narrowed == load.for_topic(whole, "recurrence")
    assert len(narrowed.claims) < len(whole.claims)
    # plain words are resolved against the whole base, so they get all of it
    assert load_base(env, [BASE], True, topic="how often does it recur") == whole
    assert load_base(env, [BASE], True, no_cache=True, topic="recurrence") == whole


def test_every_field_of_the_table_survives_the_cache(tmp_path: Path) -> None:
    directory = DATA / "full"
    plain = load.load([directory])
    fields = {kind: set(spec) for kind, spec in load.SCHEMA.items()}
    items: dict[str, Topic | Reference | Claim] = {
        "topics": plain.topics[0],
        "references": plain.references[0],
        "claims": plain.claims[0],
    }
    for kind, item in items.items():
        defaults = type(item)._field_defaults
        unset = {name for name in fields[kind] if name in defaults and getattr(item, name) == defaults[name]}
        assert unset == set(), f"the fixture leaves {kind} fields at their default: {unset}"
    cache = at_rest(tmp_path / "cache")
    load.load([directory], cache=cache)
    warm = load.load([directory], cache=cache)
    assert cache.stats.warm
    assert warm == plain
