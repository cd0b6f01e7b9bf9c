"""Filtering claims by topic, rank, year and population."""

from __future__ import annotations

import pytest

from lms_cli import load
from lms_cli.errors import NoResultsError, UsageError
from lms_cli.model import EvidenceBase, Filters, Population, Rank
from lms_cli.select import select
from tests.conftest import BASE


@pytest.fixture(scope="module")
def base() -> EvidenceBase:
    return load.load([BASE])


def ids(base: EvidenceBase, slug: str, filters: Filters) -> list[tuple[str, list[str]]]:
    return [(c.id, [r.id for r in refs]) for c, refs in select(base, slug, filters).claims]


def test_topic_keeps_file_order(base: EvidenceBase) -> None:
    assert ids(base, "first-line", Filters()) == [
        ("fl-answer", ["judson2014", "pautier2022"]),
        ("fl-kp-pfs", ["pautier2022"]),
        ("fl-kp-ifos", ["judson2014"]),
        ("fl-uterine", ["pautier2022"]),
        ("rec-liver", ["mizoshiri2018", "gladdy2013"]),
    ]


def test_min_rank_drops_weaker_references_then_empty_claims(base: EvidenceBase) -> None:
    kept = ids(base, "first-line", Filters(min_rank=Rank.RETROSPECTIVE))
    assert ("rec-liver", ["gladdy2013"]) in kept
    kept = ids(base, "first-line", Filters(min_rank=Rank.RCT))
    assert [c for c, _ in kept] == ["fl-answer", "fl-kp-pfs", "fl-kp-ifos", "fl-uterine"]


def test_since_is_inclusive(base: EvidenceBase) -> None:
    assert ids(base, "first-line", Filters(since=2022)) == [
        ("fl-answer", ["pautier2022"]),
        ("fl-kp-pfs", ["pautier2022"]),
        ("fl-uterine", ["pautier2022"]),
    ]


def test_population_keeps_all_and_matching(base: EvidenceBase) -> None:
    assert "fl-uterine" in [c for c, _ in ids(base, "first-line", Filters(population=Population.UTERINE))]
    assert "fl-uterine" not in [c for c, _ in ids(base, "first-line", Filters(population=Population.EXTRA_UTERINE))]


def test_the_filter_that_emptied_the_list_is_named(base: EvidenceBase) -> None:
    with pytest.raises(NoResultsError) as info:
        select(base, "recurrence", Filters(population=Population.UTERINE, min_rank=Rank.RCT))
    # rec-answer is extra-uterine; rec-liver (all patients) survives --population, not --min-rank
    assert info.value.message == "no claims left for 'recurrence': --min-rank rct removed the last 1 claim"
    with pytest.raises(NoResultsError) as info:
        select(base, "recurrence", Filters(min_rank=Rank.RCT, since=2000))
    assert info.value.message == "no claims left for 'recurrence': --min-rank rct removed the last 2 claims"
    with pytest.raises(NoResultsError) as info:
        select(base, "first-line", Filters(min_rank=Rank.RCT, since=2023))
    assert info.value.message == "no claims left for 'first-line': --since 2023 removed the last 4 claims"


def test_unknown_topic_suggests_close_slugs(base: EvidenceBase) -> None:
    with pytest.raises(UsageError) as info:
        select(base, "first-lines", Filters())
    assert info.value.message == "unknown topic 'first-lines'"
    assert info.value.hint == "did you mean: first-line?"
