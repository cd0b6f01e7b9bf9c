"""HTML render benchmark: HTML vs Markdown render time for the largest bundled answer.

Prints the ratio of medians (HTML / Markdown), timed in one process and interleaved run by
run so machine noise hits both sides alike; each sample renders the same composed Summary
``--loops`` times. The largest answer is the topic whose Markdown is longest. Target
(issue 15): at most 1.5.

    python -m bench.html [--runs 31] [--loops 20]
"""

from __future__ import annotations

import argparse
import statistics
import time
from collections.abc import Callable

from lms_cli import load
from lms_cli.compose import compose
from lms_cli.model import Filters, Query, Summary
from lms_cli.render import html, markdown
from lms_cli.select import select

TARGET = 1.5


def largest_answer() -> Summary:
    """The bundled topic with the longest Markdown answer."""
    base = load.load([load.bundled_dir()])
    summaries = [compose(Query(t.slug), select(base, t.slug, Filters())) for t in base.topics]
    return max(summaries, key=lambda s: len(markdown.render(s)))


def sample(render: Callable[[Summary], str], summary: Summary, loops: int) -> float:
    start = time.perf_counter()
    for _ in range(loops):
        render(summary)
    return (time.perf_counter() - start) / loops


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=31)
    parser.add_argument("--loops", type=int, default=20)
    args = parser.parse_args()
    summary = largest_answer()
    md_render: Callable[[Summary], str] = markdown.render
    sample(md_render, summary, args.loops)  # warm-up: first calls fill caches (regexes, enums)
    sample(html.render, summary, args.loops)
    t_md, t_html = [], []
    for _ in range(args.runs):
        t_md.append(sample(md_render, summary, args.loops))
        t_html.append(sample(html.render, summary, args.loops))
    md_s, html_s = statistics.median(t_md), statistics.median(t_html)
    ratio = html_s / md_s
    print(
        f"largest bundled answer: {summary.topic.slug} ({len(summary.references)} references, "
        f"{sum(len(p.claims) for p in summary.sections)} claims)"
    )
    print(f"markdown {md_s * 1e6:.0f} us, html {html_s * 1e6:.0f} us (median of {args.runs} interleaved runs)")
    print(f"ratio html/markdown: {ratio:.2f} (target <= {TARGET}) {'OK' if ratio <= TARGET else 'OVER'}")


if __name__ == "__main__":
    main()
