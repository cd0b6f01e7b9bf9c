"""Every benchmark of issue 6 in one command; prints medians and the ratios against targets.

    python -m bench.run [--runs 7] [--big-runs 5] [--sizes 1000,10000,100000] [--json FILE]

Generates synthetic bases (bench/synth.py) under bench/out/ once, then times real `lms`
processes against their floors, interleaved run by run so machine noise hits both sides
alike, and reports medians:

1. bundled base, warm cache: `lms ask spread-to-muscle --format markdown` vs
   `python -c "import typer, rich.console, yaml"`                        target <= 1.3
2. 100,000 claims, warm cache: `lms ask TOPIC` vs the same floor          target <= 1.5
3. 100,000 claims, cold (--no-cache, full validation) vs `yaml.load(...,
   CSafeLoader)` of the same files in one process                        target <= 1.3
4. 100,000 claims, one file of 100 edited, cache warm otherwise, vs cold target <= 0.2
5. peak memory (max RSS of the lms process and its workers, from wait4) at each size
and how cold, first (cold, filling the cache), warm and one-file-edited times grow from
1,000 to 100,000 claims. Targets are judged at 100,000 claims only.

Child processes may write bytecode (under bench/out/pycache) as an installed lms would
have it; the cache lives in bench/out/cache, emptied at the start.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from bench import synth
from bench.startup import lms_command

OUT = Path(__file__).resolve().parent / "out"
TOPIC = "synthetic-topic-07"
EDITED = "f050.yaml"
FLOOR = [sys.executable, "-c", "import typer, rich.console, yaml"]
YAML_FLOOR = (
    "import sys, yaml\n"
    "from pathlib import Path\n"
    "for p in sorted(Path(sys.argv[1]).glob('*.yaml')):\n"
    "    yaml.load(p.read_bytes(), Loader=yaml.CSafeLoader)\n"
)


@dataclass
class Sample:
    """Wall times (s) and peak memory (bytes) of one command over several runs."""

    times: list[float] = field(default_factory=list)
    rss: list[int] = field(default_factory=list)

    @property
    def median(self) -> float:
        return statistics.median(self.times)

    @property
    def peak(self) -> int:
        return max(self.rss)


def child_env() -> dict[str, str]:
    env = dict(os.environ)
    env.pop("PYTHONDONTWRITEBYTECODE", None)  # an installed lms has compiled bytecode
    env["PYTHONPYCACHEPREFIX"] = str(OUT / "pycache")
    env["LMS_CACHE_DIR"] = str(OUT / "cache")
    env.pop("LMS_EVIDENCE", None)
    return env


def run(cmd: list[str], env: dict[str, str], sample: Sample | None = None) -> float:
    """Run ``cmd`` to completion (it must succeed); record its wall time and peak RSS."""
    start = time.perf_counter()
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env=env)
    assert proc.stderr is not None
    err = proc.stderr.read()
    _, status, usage = os.wait4(proc.pid, 0)
    elapsed = time.perf_counter() - start
    proc.returncode = os.waitstatus_to_exitcode(status)
    proc.stderr.close()
    if proc.returncode != 0:
        raise SystemExit(f"failed ({proc.returncode}): {' '.join(cmd)}\n{err.decode(errors='replace')}")
    if sample is not None:
        sample.times.append(elapsed)
        sample.rss.append(usage.ru_maxrss * 1024)  # KiB on Linux
    return elapsed


def step(cmd: list[str], env: dict[str, str]) -> Callable[[Sample], None]:
    """A benchmark step that runs ``cmd`` once into a sample."""

    def go(sample: Sample) -> None:
        run(cmd, env, sample)

    return go


def interleave(runs: int, steps: dict[str, Callable[[Sample], None]]) -> dict[str, Sample]:
    """Run each step once per round, ``runs`` rounds (after one warm-up round)."""
    samples = {name: Sample() for name in steps}
    for step in steps.values():
        step(Sample())
    for _ in range(runs):
        for name, step in steps.items():
            step(samples[name])
    return samples


def base_dir(claims: int, out: Path = OUT) -> Path:
    """A synthetic base of ``claims`` claims under ``out``, generated on first use."""
    directory = out / f"base-{claims}"
    stamp = directory / ".params"
    params = json.dumps({"claims": claims, "seed": 6, "generator": synth.__doc__})
    if not (stamp.is_file() and stamp.read_text() == params):
        shutil.rmtree(directory, ignore_errors=True)
        synth.generate(directory, claims)
        stamp.write_text(params)
    return directory


def edit(directory: Path) -> None:
    """Change one file's content (a comment line), as an editor would."""
    path = directory / EDITED
    lines = path.read_text(encoding="utf-8").splitlines(keepends=True)
    count = int(lines[-1].split()[-1]) + 1 if lines[-1].startswith("# bench edit ") else 0
    if count:
        lines.pop()
    path.write_text("".join(lines) + f"# bench edit {count}\n", encoding="utf-8")


def ms(seconds: float) -> str:
    return f"{seconds * 1000:8.1f} ms"


def mib(size: int) -> str:
    return f"{size / 2**20:7.1f} MiB"


def verdict(ratio: float, target: float, judged: bool = True) -> str:
    if not judged:
        return f"{ratio:5.2f}"
    return f"{ratio:5.2f}  (target <= {target}: {'met' if ratio <= target else 'NOT MET'})"


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--runs", type=int, default=11, help="rounds for quick commands")
    parser.add_argument("--big-runs", type=int, default=5, help="rounds for cold runs at 100,000 claims")
    parser.add_argument("--sizes", default="1000,10000,100000")
    parser.add_argument("--json", type=Path, help="also write the figures to this file")
    args = parser.parse_args()
    sizes = [int(s) for s in args.sizes.split(",")]
    env = child_env()
    shutil.rmtree(OUT / "cache", ignore_errors=True)
    lms = lms_command()
    results: dict[str, object] = {"python": sys.version.split()[0], "cpus": os.cpu_count()}

    print("== 1. bundled base, warm cache: lms ask vs import floor")
    ask = [*lms, "ask", "spread-to-muscle", "--format", "markdown"]
    s = interleave(args.runs, {"ask": step(ask, env), "floor": step(FLOOR, env)})
    ratio1 = s["ask"].median / s["floor"].median
    print(f"lms ask {ms(s['ask'].median)}   floor {ms(s['floor'].median)}   ratio {verdict(ratio1, 1.3)}")
    results["bundled"] = {"ask_s": s["ask"].median, "floor_s": s["floor"].median, "ratio": ratio1}

    growth: dict[int, dict[str, float]] = {}
    for claims in sizes:
        directory = base_dir(claims)
        big = claims >= 100_000
        rounds = args.big_runs if big else args.runs
        common = ["ask", TOPIC, "--no-bundled", "--evidence", str(directory), "--format", "markdown"]
        cold_cmd = [*lms, *common, "--no-cache"]
        warm_cmd = [*lms, *common]
        yaml_cmd = [sys.executable, "-c", YAML_FLOOR, str(directory)]
        print(f"\n== {claims:,} claims in {directory.relative_to(OUT.parent.parent)}")
        run(warm_cmd, env)  # fill the cache

        def touched(sample: Sample, cmd: list[str] = warm_cmd, d: Path = directory) -> None:
            edit(d)
            run(cmd, env, sample)

        def first(sample: Sample, cmd: list[str] = warm_cmd) -> None:
            shutil.rmtree(OUT / "cache", ignore_errors=True)
            run(cmd, env, sample)

        s = interleave(
            rounds, {"cold": step(cold_cmd, env), "yaml": step(yaml_cmd, env), "first": first, "touched": touched}
        )
        warm = interleave(args.runs, {"warm": step(warm_cmd, env), "floor": step(FLOOR, env)})
        s.update(warm)
        cold_ratio = s["cold"].median / s["yaml"].median
        touched_ratio = s["touched"].median / s["cold"].median
        warm_ratio = s["warm"].median / s["floor"].median
        judged = claims == 100_000
        print(f"cold (--no-cache)       {ms(s['cold'].median)}   peak {mib(s['cold'].peak)}")
        print(f"yaml.load CSafeLoader   {ms(s['yaml'].median)}   cold / yaml    {verdict(cold_ratio, 1.3, judged)}")
        print(f"first run, fills cache  {ms(s['first'].median)}   peak {mib(s['first'].peak)}")
        print(
            f"one file edited         {ms(s['touched'].median)}   peak {mib(s['touched'].peak)}"
            f"   edited / cold  {verdict(touched_ratio, 0.2, judged)}"
        )
        print(
            f"warm cache              {ms(s['warm'].median)}   peak {mib(s['warm'].peak)}"
            f"   warm / floor   {verdict(warm_ratio, 1.5, judged)}"
        )
        print(f"import floor            {ms(s['floor'].median)}")
        names = ("cold", "yaml", "first", "touched", "warm", "floor")
        growth[claims] = {name: s[name].median for name in names}
        growth[claims].update({f"{name}_peak_bytes": float(s[name].peak) for name in names})
        growth[claims].update(
            {"cold_over_yaml": cold_ratio, "touched_over_cold": touched_ratio, "warm_over_floor": warm_ratio}
        )
    results["sizes"] = growth

    if len(sizes) > 1:
        print("\n== growth (median seconds; x = factor from the previous size)")
        previous: dict[str, float] | None = None
        for claims in sizes:
            row = growth[claims]
            cells = []
            for name in ("cold", "first", "touched", "warm"):
                factor = f" x{row[name] / previous[name]:5.1f}" if previous else "       "
                cells.append(f"{name} {row[name]:7.3f}{factor}")
            print(f"{claims:>7,}: " + "   ".join(cells))
            previous = row
    if args.json:
        args.json.write_text(json.dumps(results, indent=2) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
