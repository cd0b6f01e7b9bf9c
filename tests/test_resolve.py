"""Plain-words questions resolve to topics; accuracy on a set of real-world phrasings."""

from __future__ import annotations

import pytest

from lms_cli import load
from lms_cli.errors import UsageError
from lms_cli.model import EvidenceBase
from lms_cli.resolve import CLOSE, MIN_SCORE, Resolution, TopicIndex, choose, resolve, tokens
from tests.conftest import DATA

QUESTIONS = [
    tuple(line.split("\t"))
    for line in (DATA / "questions.tsv").read_text(encoding="utf-8").splitlines()
    if line and not line.startswith("#")
]
ACCURACY: dict[str, object] = {}


@pytest.fixture(scope="module")
def bundled() -> EvidenceBase:
    return load.load([load.bundled_dir()])


def test_tokens_normalise_forms_and_synonyms() -> None:
    assert tokens("Can LMS spread to muscles?") == ["metastasis", "muscle"]
    assert tokens("metastases of uLMS to soft tissue") == ["metastasis", "uterine", "muscle"]
    assert tokens("treatment of soft-tissue sarcomas, 1st line") == ["therapy", "sarcoma", "firstline"]
    assert tokens("Tumour's size") == ["tumor", "size"]


def test_exact_slug_wins(bundled: EvidenceBase) -> None:
    r = resolve(bundled, "first-line")
    assert r.exact and r.topic is not None and r.topic.slug == "first-line"
    assert resolve(bundled, "Spread to muscle").topic is not None


def test_question_set_accuracy(bundled: EvidenceBase) -> None:
    assert len(QUESTIONS) >= 40
    index = TopicIndex(bundled)
    misses = []
    for question, expected in QUESTIONS:
        r = resolve(index, question)
        got = r.topic.slug if r.topic else "(close: " + ", ".join(c.topic.slug for c in r.ranked[:2]) + ")"
        if got != expected:
            misses.append(f"{question!r}: expected {expected}, got {got}")
    accuracy = 1 - len(misses) / len(QUESTIONS)
    ACCURACY.update(total=len(QUESTIONS), accuracy=accuracy, misses=misses)
    assert accuracy >= 0.9, "\n".join(misses)


def test_typos_are_corrected(bundled: EvidenceBase) -> None:
    r = resolve(bundled, "frist line chemo")
    assert r.topic is not None and r.topic.slug == "first-line"
    assert ("frist", "first") in r.corrections


def test_ambiguous_query_lists_then_best_answers(bundled: EvidenceBase) -> None:
    r = resolve(bundled, "chemotherapy")  # first-line and later-line both are about it
    assert r.topic is None
    assert len(r.ranked) >= 2 and r.ranked[1].score >= CLOSE * r.ranked[0].score
    with pytest.raises(UsageError) as info:
        choose(r, bundled)
    assert "matches several topics" in info.value.message
    assert "first-line" in info.value.message and "later-line" in info.value.message
    assert choose(r, bundled, best=True).slug == r.ranked[0].topic.slug


def test_nothing_matches(bundled: EvidenceBase) -> None:
    r = resolve(bundled, "zebra crossing")
    with pytest.raises(UsageError) as info:
        choose(r, bundled)
    assert info.value.message == "not covered: the base has nothing on: zebra, crossing"


MORE = [
    tuple(line.split("\t"))
    for line in (DATA / "questions-more.tsv").read_text(encoding="utf-8").splitlines()
    if line and not line.startswith("#")
]


def _refused(r: Resolution) -> bool:
    return bool(r.uncovered or r.other_disease) or not any(c.score >= MIN_SCORE for c in r.ranked)


def test_new_phrasings_and_out_of_scope_questions(bundled: EvidenceBase) -> None:
    inside = [(q, e) for q, e in MORE if e != "-"]
    outside = [q for q, e in MORE if e == "-"]
    assert len(inside) >= 40 and len(outside) >= 40
    index = TopicIndex(bundled)
    misses = [q for q, e in inside if (r := resolve(index, q)).topic is None or r.topic.slug != e]
    answered = [q for q in outside if not _refused(resolve(index, q))]
    ACCURACY.update(
        more_inside=1 - len(misses) / len(inside),
        more_outside=1 - len(answered) / len(outside),
        more_counts=(len(inside), len(outside)),
        more_misses=misses,
        more_answered=answered,
    )
    assert 1 - len(misses) / len(inside) >= 0.9, misses
    assert 1 - len(answered) / len(outside) >= 0.9, answered


def test_not_covered_names_the_missing_words(bundled: EvidenceBase) -> None:
    r = resolve(bundled, "does lms spread to the brain")
    assert r.topic is None and r.uncovered == ("brain",)
    with pytest.raises(UsageError) as info:
        choose(r, bundled, best=True)  # --best does not answer what the base does not cover
    assert info.value.message == "not covered: the base has nothing on: brain"
    other = resolve(bundled, "first line treatment for liposarcoma")
    assert other.other_disease == "liposarcoma"
    assert resolve(bundled, "liposarcoma vs leiomyosarcoma eribulin").other_disease is None  # names LMS too
    assert resolve(bundled, "what is leiomyosarcoma").topic is not None
    bare = resolve(bundled, "leiomyosarcoma?")  # naming only the disease asks about the disease
    assert bare.topic is not None and bare.topic.slug == "about-lms" and bare.uncovered == ()


def test_a_claim_elsewhere_holding_every_word_is_pointed_at(bundled: EvidenceBase) -> None:
    index = TopicIndex(bundled)
    claim = next(c for c in bundled.claims if len(c.topics) == 1 and c.topics[0] == "uterine-lms")
    words = sorted(set(tokens(claim.statement)))[:2]
    holder = index.holding(words)
    assert holder is not None and set(words) <= set(tokens(holder.statement))
    first = next(c for c in bundled.claims if set(words) <= set(tokens(c.statement)))
    assert holder == first  # the first holder in load order
    assert index.holding(["zebra", "crossing"]) is None
