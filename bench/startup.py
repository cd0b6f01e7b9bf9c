"""Start-up benchmark: `lms ask spread-to-muscle --format markdown` vs importing its floor.

Prints the ratio of median wall times, runs interleaved in one process so machine noise
hits both sides alike. Target (issue 6): at most 1.3.

    python bench/startup.py [--runs 21]
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path


def lms_command() -> list[str]:
    script = Path(sys.executable).with_name("lms")
    found = str(script) if script.exists() else shutil.which("lms")
    return [found] if found else [sys.executable, "-m", "lms_cli"]


def timed(cmd: list[str], env: dict[str, str]) -> float:
    start = time.perf_counter()
    subprocess.run(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=True, env=env)
    return time.perf_counter() - start


def compare(a: list[str], b: list[str], runs: int, env: dict[str, str]) -> tuple[float, float]:
    """Median wall time of a and b, interleaved, after one warm-up run of each."""
    timed(a, env)
    timed(b, env)
    ta, tb = [], []
    for _ in range(runs):
        ta.append(timed(a, env))
        tb.append(timed(b, env))
    return statistics.median(ta), statistics.median(tb)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=21)
    args = parser.parse_args()
    env = dict(os.environ)
    # An installed lms has compiled bytecode (pip compiles on install); let the runs keep theirs.
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    env["PYTHONPYCACHEPREFIX"] = str(Path(__file__).resolve().parent / "out" / "pycache")
    ask = [*lms_command(), "ask", "spread-to-muscle", "--format", "markdown"]
    floor = [sys.executable, "-c", "import typer, rich.console, yaml"]
    t_ask, t_floor = compare(ask, floor, args.runs, env)
    print(f"lms ask (bundled base): median {t_ask * 1000:.1f} ms")
    print(f"import floor:           median {t_floor * 1000:.1f} ms")
    print(f"ratio: {t_ask / t_floor:.2f}  (target <= 1.3)")


if __name__ == "__main__":
    main()
