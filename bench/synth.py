"""Synthetic evidence bases in the evidence format, for benchmarks and scale tests.

A base of N claims has 50 topics and 100 files (fewer when N is tiny), one reference per
40 claims, and the shape of the bundled base: statements of 100-370 characters (mean
about 235), 1.8 citations and 1.07 topics per claim, references with authors, title,
journal, ids and findings. Claims of a topic live in that topic's two files and cite
mostly (90%) that topic's references, as in a hand-curated base.

    python -m bench.synth OUT_DIR --claims 10000
"""

from __future__ import annotations

import argparse
import json
import random
from pathlib import Path

TOPICS = 50
FILES = 100
CLAIMS_PER_REFERENCE = 40
SECOND_TOPIC = 0.07  # share of claims about a second topic, as in the bundled base

_VOCABULARY = (
    "leiomyosarcoma metastasis metastatic uterine extra-uterine retroperitoneal soft tissue "
    "skeletal muscle lung liver bone recurrence survival progression-free overall median "
    "months years patients cohort trial randomised phase doxorubicin trabectedin gemcitabine "
    "docetaxel dacarbazine pazopanib eribulin ifosfamide olaratumab resection surgery margin "
    "radiotherapy imaging staging biopsy grade size mitotic necrosis histology response rate "
    "hazard ratio confidence interval significant not benefit toxicity neutropenia fatigue "
    "first-line second-line later-line subgroup analysis registry database series case report "
    "guideline consensus recommendation evidence low moderate high rare common uncommon"
)
_WORDS = _VOCABULARY.split()
_SECTIONS = ("answer", "key-point", "key-point", "key-point", "advance", "implication", "implication")
_DESIGNS = (
    "guideline",
    "meta-analysis",
    "rct",
    "prospective",
    "retrospective",
    "case-series",
    "review",
    "expert-opinion",
)
_JOURNALS = (
    "Lancet Oncol",
    "J Clin Oncol",
    "Ann Oncol",
    "Cancer",
    "Gynecol Oncol",
    "Eur J Cancer",
    "Ann Surg Oncol",
    "Clin Sarcoma Res",
)
_SURNAMES = (
    "Judson",
    "Pautier",
    "Italiano",
    "Gladdy",
    "Singer",
    "Demetri",
    "Blay",
    "Casali",
    "Gronchi",
    "Verweij",
    "Hensley",
    "Maki",
    "Tap",
    "Jones",
    "Benjamin",
    "Bui",
)


def _words(rng: random.Random, low: int, high: int) -> str:
    """Plain words and numbers, between ``low`` and ``high`` characters long."""
    target = rng.randint(low, high)
    out: list[str] = []
    length = 0
    while length < target:
        word = rng.choice(_WORDS) if rng.random() > 0.12 else f"{rng.randint(1, 400)}%"
        out.append(word)
        length += len(word) + 1
    text = " ".join(out)[:high].rstrip(" -")
    return text[0].upper() + text[1:] + "."


def _q(text: str) -> str:
    """A double-quoted YAML scalar (JSON strings are valid YAML)."""
    return json.dumps(text, ensure_ascii=False)


def topic_slug(t: int) -> str:
    return f"synthetic-topic-{t:02d}"


def generate(directory: Path, claims: int, seed: int = 6) -> list[Path]:
    """Write a synthetic base of ``claims`` claims into ``directory``; return its files in order."""
    rng = random.Random(seed)
    files = max(1, min(FILES, claims // 10))
    topics = min(TOPICS, files)
    references = max(1, claims // CLAIMS_PER_REFERENCE)

    def file_topic(f: int) -> int:
        return f * topics // files

    ref_file = [r * files // references for r in range(references)]
    pools: dict[int, list[int]] = {}
    for r, f in enumerate(ref_file):
        pools.setdefault(file_topic(f), []).append(r)
    every = list(range(references))

    chunks: list[list[str]] = [[] for _ in range(files)]
    for t in range(topics):
        f = next(f for f in range(files) if file_topic(f) == t)
        chunks[f].append(
            "topics:\n"
            f"  - slug: {topic_slug(t)}\n"
            f"    title: {_q('Synthetic topic ' + str(t) + ': ' + _words(rng, 20, 60))}\n"
            f"    question: {_q('What is known about synthetic question ' + str(t) + '?')}\n"
            f"    aliases: [{_q('synthetic alias ' + str(t))}]\n\n"
        )
    by_file_refs: list[list[str]] = [[] for _ in range(files)]
    for r in range(references):
        authors = [
            f"{rng.choice(_SURNAMES)} {rng.choice('ABCDEFGHJKLMNPRS')}{rng.choice('ABCDJKLMR')}"
            for _ in range(rng.choice((3, 6)))
        ]
        if rng.random() < 0.7:
            authors.append("et al.")
        findings = "\n".join(f"      - {_q(_words(rng, 60, 160))}" for _ in range(rng.randint(1, 4)))
        first = rng.randint(1, 2000)
        by_file_refs[ref_file[r]].append(
            f"  - id: ref{r:06d}\n"
            f"    design: {rng.choice(_DESIGNS)}\n"
            f"    authors: [{', '.join(_q(a) for a in authors)}]\n"
            f"    title: {_q(_words(rng, 60, 180))}\n"
            f"    journal: {rng.choice(_JOURNALS)}\n"
            f"    year: {rng.randint(1995, 2026)}\n"
            f'    volume: "{rng.randint(1, 140)}"\n'
            f'    issue: "{rng.randint(1, 12)}"\n'
            f'    pages: "{first}-{first + rng.randint(2, 14)}"\n'
            f"    doi: 10.{rng.randint(1000, 9999)}/synthetic.{r}\n"
            f'    pmid: "{30_000_000 + r}"\n'
            f"    n: {rng.randint(8, 4000)}\n"
            f"    findings:\n{findings}\n"
            f"    note: {_q('Synthetic reference for benchmarks; ' + _words(rng, 30, 90))}\n\n"
        )
    by_file_claims: list[list[str]] = [[] for _ in range(files)]
    for c in range(claims):
        f = c * files // claims
        t = file_topic(f)
        slugs = [topic_slug(t)]
        if topics > 1 and rng.random() < SECOND_TOPIC:
            other = rng.randrange(topics - 1)
            slugs.append(topic_slug(other if other < t else other + 1))
        pool = pools.get(t) or every
        cites: list[int] = []
        for _ in range(rng.choice((1, 1, 2, 2, 3))):
            r = rng.choice(pool) if rng.random() < 0.9 else rng.choice(every)
            if r not in cites:
                cites.append(r)
        population = rng.choices(("", "uterine", "extra-uterine"), (7, 2, 1))[0]
        lines = [
            f"  - id: claim{c:07d}",
            f"    topics: [{', '.join(slugs)}]",
            f"    section: {rng.choice(_SECTIONS)}",
            f"    statement: {_q(_words(rng, 100, 370))}",
            f"    cites: [{', '.join(f'ref{r:06d}' for r in cites)}]",
        ]
        if population:
            lines.append(f"    population: {population}")
        if rng.random() < 0.5:
            lines.append(f"    reviewed: 2026-{rng.randint(1, 12):02d}-{rng.randint(1, 28):02d}")
        by_file_claims[f].append("\n".join(lines) + "\n\n")

    directory.mkdir(parents=True, exist_ok=True)
    written = []
    for f in range(files):
        parts = [f"# Synthetic evidence file {f} of {files} (generated by bench/synth.py; not real evidence).\n"]
        parts.extend(chunks[f])
        if by_file_refs[f]:
            parts.append("references:\n" + "".join(by_file_refs[f]))
        if by_file_claims[f]:
            parts.append("claims:\n" + "".join(by_file_claims[f]))
        path = directory / f"f{f:03d}.yaml"
        path.write_text("".join(parts), encoding="utf-8")
        written.append(path)
    return written


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("out", type=Path)
    parser.add_argument("--claims", type=int, default=10_000)
    parser.add_argument("--seed", type=int, default=6)
    args = parser.parse_args()
    files = generate(args.out, args.claims, args.seed)
    print(f"wrote {args.claims} claims in {len(files)} files under {args.out}")


if __name__ == "__main__":
    main()
