"""Plain-words questions resolve to topics; accuracy on a set of real-world phrasings."""

from __future__ import annotations

import pytest

from lms_cli import load
from lms_cli.errors import UsageError
from lms_cli.model import EvidenceBase
from lms_cli.resolve import CLOSE, TopicIndex, choose, resolve, tokens
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
        r = resolve(bundled, question, index)
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
    assert info.value.message == "no topic matches 'zebra crossing'"
