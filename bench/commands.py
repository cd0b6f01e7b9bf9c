"""One benchmark case per command (issue 19): warm-cache medians as ratios to the import floor.

    python -m bench.commands [--sizes 1000,10000,100000] [--runs 5] [--budget 10]
                             [--only NAME,...] [--json FILE] [--out DIR]

Times real `lms` processes on the synthetic bases of bench/synth.py (as bench/run.py makes
them: `--no-bundled --evidence DIR`) against F, `python -c "import typer, rich.console,
yaml"`, and prints for every case and size the median wall time, its ratio to F, the target,
OK/OVER and the peak memory (max RSS of the lms process and its workers, from wait4); then
the growth factors from the smallest size to the largest. Targets are judged at 100,000
claims only, as in bench/run.py.

How it runs, so the figures compare:

- the cache is warm: each size starts with one `lms validate` that fills it and one
  `lms search` that indexes the claims' words (the first question or search on a base
  does that once, and stores it); every case then runs in rounds, interleaved with F,
  so machine noise hits both sides alike;
- a first round on a base of 100 claims compiles every module's bytecode (under
  bench/out/pycache, as an installed lms has it) and is not counted;
- each case runs ``--runs`` rounds at a size, fewer when its first run shows that they
  would take more than ``--budget`` seconds (at least one; the table prints how many);
- `ask-rich` draws on a pseudo-terminal 100 columns wide (COLUMNS=100, colour on, no
  pager) and is judged against `ask-markdown` of the same size, not against F.

The default run takes about five minutes on 2 CPUs (the slowest commands run once at
100,000 claims); the first one also generates the bases and fills their cache.

The rare search word is the number 357: numbers are the only low-frequency tokens of the
synthetic vocabulary (each of 1-400 is in about 0.9% of claims: 753 to 951 of the 100,000);
357 is the most frequent of them, 951 claims, so the case is the worst one under 1,000 hits.
The hit counts printed are the claims whose statement holds the word, counted in the files.
"""

from __future__ import annotations

import argparse
import fcntl
import json
import os
import pty
import re
import struct
import subprocess
import sys
import tempfile
import termios
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from bench import synth
from bench.run import FLOOR, OUT, TOPIC, Sample, base_dir, child_env
from bench.startup import lms_command

RARE = "357"
COMMON = "trabectedin"
QUESTION = "what is known about synthetic alias 7?"
MEMORY_TARGET = 60 * 2**20
RICH_TARGET = 2.0  # ask on a terminal vs ask --format markdown
JUDGED = 100_000
WARM_UP = 100  # claims of the base the bytecode warm-up round runs on
COLUMNS = 100


@dataclass(frozen=True)
class Case:
    """One command to time: its words for a base of N claims, and its target ratio to F."""

    name: str
    words: Callable[[int], list[str]]
    target: float | None = None  # at most this many times F at 100,000 claims (None: reported only)
    terminal: bool = False  # stdout is a pseudo-terminal (rich), else /dev/null (piped: Markdown)
    stderr: str | None = None  # text the command must print on stderr (the topic a question chose)
    word: str | None = None  # the searched word, whose hits are counted


def _claim_id(claims: int) -> str:
    return f"claim{claims // 2:07d}"


def _reference_id(claims: int) -> str:
    return f"ref{max(1, claims // synth.CLAIMS_PER_REFERENCE) // 2:06d}"


CASES = (
    Case("search-rare", lambda n: ["search", RARE], 2.0, word=RARE),
    Case("search-common", lambda n: ["search", COMMON], word=COMMON),
    Case("ask-words", lambda n: ["ask", QUESTION, "--best"], 1.6, stderr=f"({TOPIC})"),
    Case("topics", lambda n: ["topics"], 1.3),
    Case("show-claim", lambda n: ["show", _claim_id(n)], 1.3),
    Case("show-ref", lambda n: ["show", _reference_id(n)], 1.3),
    Case("cite", lambda n: ["cite", TOPIC], 1.3),
    Case("validate", lambda n: ["validate"], 1.3),
    Case("refs-list", lambda n: ["refs", "list"]),
    Case("ask-json", lambda n: ["ask", TOPIC, "--format", "json"], 1.3),
    Case("ask-markdown", lambda n: ["ask", TOPIC, "--format", "markdown"]),
    Case("ask-rich", lambda n: ["ask", TOPIC], terminal=True),
)
BY_NAME = {case.name: case for case in CASES}


def terminal_env(env: dict[str, str]) -> dict[str, str]:
    """The environment of a user's terminal: colour on, 100 columns, no pager."""
    env = dict(env)
    for name in ("NO_COLOR", "FORCE_COLOR", "LINES"):
        env.pop(name, None)
    env.update({"TERM": "xterm-256color", "COLUMNS": str(COLUMNS), "LMS_NO_PAGER": "1"})
    return env


def measure(cmd: list[str], env: dict[str, str], sample: Sample, terminal: bool = False) -> str:
    """Run ``cmd`` once (it must succeed), record its wall time and peak RSS; return its stderr.

    With ``terminal`` its stdout is a pseudo-terminal that this process reads as fast as the
    command writes, as a terminal would; the command must draw colour on it.
    """
    with tempfile.TemporaryFile() as err:
        if terminal:
            master, slave = pty.openpty()
            fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", 50, COLUMNS, 0, 0))
            start = time.perf_counter()
            proc = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=slave, stderr=err, env=env)
            os.close(slave)
            drawn = b""
            try:
                while data := os.read(master, 1 << 16):
                    if len(drawn) < 4096:
                        drawn += data
            except OSError:  # EIO: the command closed its terminal
                pass
            _, status, usage = os.wait4(proc.pid, 0)
            elapsed = time.perf_counter() - start
            os.close(master)
        else:
            start = time.perf_counter()
            proc = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=err, env=env)
            _, status, usage = os.wait4(proc.pid, 0)
            elapsed = time.perf_counter() - start
            drawn = b"\x1b["
        err.seek(0)
        stderr = err.read().decode(errors="replace")
    code = os.waitstatus_to_exitcode(status)
    if code != 0:
        raise SystemExit(f"failed ({code}): {' '.join(cmd)}\n{stderr}")
    if b"\x1b[" not in drawn:
        raise SystemExit(f"no colour drawn on the terminal: {' '.join(cmd)}\n{drawn[:200]!r}")
    sample.times.append(elapsed)
    sample.rss.append(usage.ru_maxrss * 1024)  # KiB on Linux
    return stderr


def count_hits(directory: Path, word: str) -> int:
    """How many claims of a synthetic base hold ``word`` in their statement (lowercase, [a-z0-9]+ words)."""
    statement = re.compile(r'^    statement: (".*")$', re.MULTILINE)
    hits = 0
    for path in sorted(directory.glob("*.yaml")):
        for match in statement.finditer(path.read_text(encoding="utf-8")):
            hits += word in re.findall(r"[a-z0-9]+", json.loads(match.group(1)).lower())
    return hits


@dataclass
class Row:
    """One case at one size: its sample, and the floor sample it is compared with."""

    case: Case
    claims: int
    sample: Sample
    floor: float
    hits: int | None = None
    markdown: float | None = None  # ask-rich only: the median of ask-markdown at this size

    @property
    def ratio(self) -> float:
        return self.sample.median / self.floor

    def verdict(self) -> str:
        if self.claims != JUDGED:
            return "-"
        over = []
        if self.case.target is not None and self.ratio > self.case.target:
            over.append("time")
        if self.case.terminal and self.markdown is not None and self.sample.median / self.markdown > RICH_TARGET:
            over.append("time")
        if self.sample.peak > MEMORY_TARGET:
            over.append("mem")
        return "OVER " + "+".join(over) if over else "OK"

    def target(self) -> str:
        if self.case.terminal:
            return f"<= {RICH_TARGET} md"
        return f"<= {self.case.target} F" if self.case.target is not None else "-"


def run_size(
    cases: list[Case], claims: int, directory: Path, lms: list[str], env: dict[str, str], runs: int, budget: float
) -> list[Row]:
    """Every case at one size, warm, interleaved with F; each case's rounds cut to fit ``budget``."""
    tty_env = terminal_env(env)
    evidence = ["--no-bundled", "--evidence", str(directory)]
    commands = {case.name: [*lms, *case.words(claims), *evidence] for case in cases}
    measure([*lms, "validate", *evidence], env, Sample())  # fills the cache
    measure([*lms, "search", "trabectedin", *evidence], env, Sample())  # indexes the claims' words once
    floor = Sample()
    samples = {case.name: Sample() for case in cases}
    rounds = dict.fromkeys(samples, runs)
    for turn in range(runs):
        measure(FLOOR, env, floor)
        for case in cases:
            if turn >= rounds[case.name]:
                continue
            sample = samples[case.name]
            stderr = measure(commands[case.name], tty_env if case.terminal else env, sample, case.terminal)
            if case.stderr is not None and case.stderr not in stderr:
                raise SystemExit(f"{case.name}: expected {case.stderr!r} on stderr, got:\n{stderr}")
            if turn == 0:
                rounds[case.name] = max(1, min(runs, int(budget / sample.times[0])))
    rows = [Row(case, claims, samples[case.name], floor.median) for case in cases]
    for row in rows:
        if row.case.word is not None:
            row.hits = count_hits(directory, row.case.word)
        if row.case.terminal and "ask-markdown" in samples:
            row.markdown = samples["ask-markdown"].median
    return rows


def print_rows(rows: list[Row], floor: float) -> None:
    print(f"F (import typer, rich.console, yaml): {floor * 1000:.1f} ms")
    print(
        f"{'command':<14} {'claims':>8} {'runs':>4} {'median ms':>10} {'x F':>7} {'target':>10}"
        f" {'verdict':>14} {'peak MiB':>9}"
    )
    for row in rows:
        note = ""
        if row.hits is not None:
            note = f"  {row.hits:,} hits"
        if row.markdown is not None:
            note = f"  {row.sample.median / row.markdown:.2f} x ask-markdown"
        print(
            f"{row.case.name:<14} {row.claims:>8,} {len(row.sample.times):>4} {row.sample.median * 1000:>10.1f}"
            f" {row.ratio:>7.2f} {row.target():>10} {row.verdict():>14} {row.sample.peak / 2**20:>9.1f}{note}",
            flush=True,
        )


def growth(table: dict[int, list[Row]], sizes: list[int]) -> dict[str, dict[str, float]]:
    """Each case's ratio to F and peak memory at the largest size over the smallest."""
    first = {row.case.name: row for row in table[sizes[0]]}
    factors: dict[str, dict[str, float]] = {}
    print(f"\n== growth from {sizes[0]:,} to {sizes[-1]:,} claims (ratio to F, peak memory, hits)")
    for row in table[sizes[-1]]:
        small = first[row.case.name]
        factor = {"ratio": row.ratio / small.ratio, "peak": row.sample.peak / small.sample.peak}
        line = f"{row.case.name:<14} ratio x{factor['ratio']:6.1f}   peak x{factor['peak']:5.1f}"
        if row.hits is not None and small.hits:
            factor["hits"] = row.hits / small.hits
            line += f"   hits x{factor['hits']:6.1f} ({small.hits:,} -> {row.hits:,})"
        factors[row.case.name] = factor
        print(line)
    return factors


def per_hit(rows: list[Row]) -> float | None:
    """Milliseconds per 1,000 hits more: (common - rare) / (its hits - rare's hits), or None."""
    found = {row.case.name: row for row in rows}
    rare, common = found.get("search-rare"), found.get("search-common")
    if rare is None or common is None or rare.hits is None or common.hits is None or common.hits == rare.hits:
        return None
    return (common.sample.median - rare.sample.median) * 1e6 / (common.hits - rare.hits)


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--sizes", default="1000,10000,100000", help="claims of each base, comma-separated")
    parser.add_argument("--runs", type=int, default=5, help="rounds per case and size (at most)")
    parser.add_argument("--budget", type=float, default=10.0, help="seconds a case may take at one size")
    parser.add_argument("--only", help="comma-separated case names: " + ", ".join(BY_NAME))
    parser.add_argument("--json", type=Path, help="also write the figures to this file")
    parser.add_argument("--out", type=Path, default=OUT, help="where the bases, cache and bytecode live")
    args = parser.parse_args()
    sizes = [int(s) for s in args.sizes.split(",")]
    if min(sizes) < WARM_UP:
        parser.error(f"sizes start at {WARM_UP} claims (a base needs {TOPIC})")
    names = args.only.split(",") if args.only else list(BY_NAME)
    unknown = [n for n in names if n not in BY_NAME]
    if unknown:
        parser.error(f"unknown case {unknown[0]!r}; cases: {', '.join(BY_NAME)}")
    if "ask-rich" in names and "ask-markdown" not in names:
        names.append("ask-markdown")  # ask-rich is judged against it
    cases = [case for case in CASES if case.name in names]

    began = time.perf_counter()
    env = child_env()
    env["PYTHONPYCACHEPREFIX"] = str(args.out / "pycache")
    env["LMS_CACHE_DIR"] = str(args.out / "cache-commands")
    lms = lms_command()
    run_size(cases, WARM_UP, base_dir(WARM_UP, args.out), lms, env, 1, 0.0)  # bytecode, not counted

    table: dict[int, list[Row]] = {}
    results: dict[str, object] = {
        "python": sys.version.split()[0],
        "cpus": os.cpu_count(),
        "rare": RARE,
        "common": COMMON,
        "question": QUESTION,
        "memory_target_bytes": MEMORY_TARGET,
    }
    figures: dict[str, dict[str, object]] = {}
    for claims in sizes:
        print(f"\n== {claims:,} claims")
        rows = run_size(cases, claims, base_dir(claims, args.out), lms, env, args.runs, args.budget)
        table[claims] = rows
        print_rows(rows, rows[0].floor)
        cost = per_hit(rows)
        if cost is not None:
            print(f"search-common minus search-rare: {cost:+.1f} ms per 1,000 hits more")
        figures[str(claims)] = {
            "floor_s": rows[0].floor,
            "search_ms_per_1000_hits": cost,
            **{
                row.case.name: {
                    "median_s": row.sample.median,
                    "times_s": row.sample.times,
                    "ratio": row.ratio,
                    "target": row.target(),
                    "verdict": row.verdict(),
                    "peak_bytes": row.sample.peak,
                    "hits": row.hits,
                    "over_markdown": row.sample.median / row.markdown if row.markdown else None,
                }
                for row in rows
            },
        }
    results["sizes"] = figures
    if len(sizes) > 1:
        results["growth"] = growth(table, sizes)
    print(f"\n{time.perf_counter() - began:.0f} s in all")
    if args.json:
        args.json.write_text(json.dumps(results, indent=2) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
